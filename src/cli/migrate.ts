import type { Command } from 'commander';
import { formatBytes } from '../config/units.js';
import { ExitCode } from '../errors.js';
import { parseEngines } from '../sessions/engines.js';
import type { SessionStore } from '../sessions/stores/types.js';
import type { SessionOutcome, TransferResult } from '../sessions/transfer.js';
import type { Config } from '../config/config.js';
import { confirmDestructive } from './confirm.js';
import { assertDistinctEnds, openSessionStore, parseLayout, parseStoreWord, requireStoreSettings, type StoreWord } from './session-stores.js';
import { storeOf } from '../sessions/stores/registry.js';
import { action, addOutputOptions, addSettingOptions, concurrencyOption, engineOption, sessionOption, skipMessagesOption, storeTimeoutOption, yesOption } from './options.js';
import type { Reporter } from './reporter.js';
import { addHelp } from './help.js';
import { progressLine, transferSummary, transferTable } from './transfer-table.js';
import { countSessions } from './metrics.js';
import { Progress, transferProgress } from './progress.js';

interface MigrateFlags {
  session?: string[];
  engine?: string[];
  overwrite?: boolean;
  move?: boolean;
  force?: boolean;
  dryRun?: boolean;
  skipMessages?: boolean;
  yes?: boolean;
  concurrency?: number;
  timeout?: number;
  webjsLayout?: string;
}


const SAFETY = 'WAHA must be stopped before migrating, and a session must never run in two places (same keys on two servers: "Stream Errored (conflict)", "Bad MAC").';

export function registerMigrate(program: Command): void {
  const command = program
    .command('migrate')
    .description("copy sessions between the local store and MongoDB in exactly WAHA's layouts, verified before anything is committed")
    .argument('<source>', 'local, mongo or postgres (pg)')
    .argument('<target>', 'local, mongo or postgres (pg); not the source')
    .addOption(sessionOption('only this session (repeatable; default: every session of the source)'))
    .addOption(engineOption())
    .option('--overwrite', 'replace sessions that exist in the target with different content (after the new copy verified)')
    .option('--move', 'remove each session from the source once its copy is verified and committed')
    .option('--force', 'copy sessions that look in use (files changed in the last 60 s, a browser lock)')
    .option('--dry-run', 'plan only: show what would happen and the totals, write nothing')
    .addOption(skipMessagesOption())
    .addOption(yesOption('confirm --overwrite/--move without asking (needed without a terminal)'))
    .addOption(concurrencyOption('sessions copied at once', 4))
    .option('--webjs-layout <layout>', 'WEBJS folders written locally: plus (webjs/<name>/session-<name>) or core (webjs/default/session-<name>); default: what the target uses, else plus')
    .addOption(storeTimeoutOption());
  addSettingOptions(command, ['sessions', 'mongo', 'postgres', 'target']);
  addOutputOptions(command);
  addHelp(command, `
What is copied, per session: the config (.waha.session.config.json <-> sessions document), me and
session_worker (waha.sqlite3 <-> collections), and the auth:
  NOWEB  key files <-> auth collection ({key, data, type:'kv'}, legacy single document read too),
         store.sqlite3 <-> store collections; every key name must convert both ways exactly
  WEBJS  Chromium profile (what RemoteAuth keeps) <-> GridFS bucket auth, RemoteAuth-<name>.zip
  GOWS   gows.db <-> the same tables in waha_<session ns>_<slug> (PostgreSQL), row by row with each
         dialect's types, verified per table (row count and a canonical digest); skipped for MongoDB
  WPP    skipped for MongoDB (WAHA cannot use it there)
Each copy is written to staging, read back and compared by SHA-256 with the source, then committed.
A session already in the target is skipped (identical, or exists: use --overwrite).
${SAFETY}
Exit codes: 0 every session done or skipped, 3 some failed, 1 none could be done, 2 usage, 130 interrupted
(what was committed stays; run again to continue).`, [
    ['copy every session from the local store into MongoDB', 'waha-storage migrate local mongo'],
    ['what a copy would do, writing nothing', 'waha-storage migrate local mongo --dry-run'],
    ['move two sessions back (each leaves MongoDB once its copy is verified)', 'waha-storage migrate mongo local --move -s alpha -s beta --yes'],
  ]);
  command.action(action<MigrateFlags>(async ({ options, config, reporter, signal, metrics }, sourceWord: string, targetWord: string) => {
    const source = parseStoreWord(sourceWord, 'source store');
    const target = parseStoreWord(targetWord, 'target store');
    const layout = parseLayout(options.webjsLayout);
    const engines = parseEngines(options.engine);
    // mongo -> mongo, postgres -> postgres: another server (--to-*-url) or other namespaces
    if (source === target) await assertDistinctEnds(config, source, engines, options.timeout ?? 5000);
    if ((options.overwrite || options.move) && !options.dryRun) {
      const what = [options.move ? 'remove each session from the source after it is copied' : '', options.overwrite ? `replace sessions that already exist in ${target}` : '']
        .filter(Boolean).join(' and ');
      await confirmDestructive(reporter, { question: `Migrate ${source} -> ${target} and ${what}?`, yes: options.yes, what: 'migrate' });
    }
    const folder = storeOf(source).folder?.(config.sessions) ?? storeOf(target).folder?.(config.sessions);
    if (folder) reporter.pathsRelativeTo(folder);
    const stores = await openStores(config, source, target, layout, options.timeout ?? 5000);
    const progress = await Progress.start(reporter, { title: `migrating ${source} -> ${target}`, unit: 'sessions' });
    let result: TransferResult;
    try {
      const { transfer } = await import('../sessions/transfer.js');
      result = await transfer({
        source: stores.source,
        target: stores.target,
        engines,
        names: options.session,
        overwrite: options.overwrite,
        move: options.move,
        force: options.force,
        dryRun: options.dryRun,
        scope: { skipMessages: options.skipMessages },
        concurrency: options.concurrency ?? 4,
        signal,
        onProgress: transferProgress(progress, {
          dryRun: options.dryRun,
          onOutcome: (outcome) => { if (!reporter.stderrIsTTY || !reporter.color) reporter.info(progressLine(outcome)); },
        }),
      });
    } finally {
      progress.stop();
      await Promise.allSettled([stores.source.close(), stores.target.close()]);
    }
    render(result, { source, target, dryRun: Boolean(options.dryRun) }, reporter);
    countSessions(metrics, result.summary, options.dryRun ? 'planned' : 'copied');
    process.exitCode = exitCodeOf(result);
  }));
}

async function openStores(config: Config, source: StoreWord, target: StoreWord, layout: 'plus' | 'core' | undefined, timeoutMs: number): Promise<{ source: SessionStore; target: SessionStore }> {
  // Cheap checks first: a missing URL or an unwritable local target stop the run before any connection.
  requireStoreSettings(config, source);
  requireStoreSettings(config, target, 'target');
  await storeOf(target).checkTarget?.(config.sessions);
  storeOf(source).checkSource?.(config.sessions);
  const opened = await openSessionStore(config, source, timeoutMs, layout);
  try {
    return { source: opened, target: await openSessionStore(config, target, timeoutMs, layout, 'target') };
  } catch (error) {
    await opened.close().catch(() => {});
    throw error;
  }
}

function exitCodeOf(result: TransferResult): number {
  if (result.interrupted) return ExitCode.interrupted;
  const { failed, done, skipped, planned } = result.summary;
  if (failed === 0) return ExitCode.ok;
  return done + skipped + planned > 0 ? ExitCode.partial : ExitCode.failed;
}

function render(result: TransferResult, context: { source: StoreWord; target: StoreWord; dryRun: boolean }, reporter: Reporter): void {
  if (reporter.json) {
    reporter.document({
      source: context.source,
      target: context.target,
      dryRun: context.dryRun,
      interrupted: result.interrupted,
      ...(result.stopped ? { stopped: result.stopped } : {}),
      sessions: result.sessions,
      summary: result.summary,
      notes: [SAFETY],
    });
    return;
  }
  if (result.sessions.length === 0) reporter.line('No sessions to migrate.');
  else {
    transferTable(result.sessions, reporter);
  }
  reporter.line(`${transferSummary(result.summary, context.dryRun ? 'would copy' : 'copied')} ${context.source} -> ${context.target}`);
  if (result.interrupted) reporter.warn('interrupted: committed sessions stay; run the same command again to continue');
  if (result.stopped) reporter.error(`stopped: ${result.stopped.message}; ${result.stopped.hint ?? 'run again'}`);
  reporter.info(SAFETY);
}

