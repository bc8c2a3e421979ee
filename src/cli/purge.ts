import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { formatBytes } from '../config/units.js';
import { ExitCode, OperationError, UsageError } from '../errors.js';
import { parseEngines } from '../sessions/engines.js';
import type { PurgeItem, PurgeResult, PurgeStore } from '../sessions/purge.js';
import { passphraseFor } from './backup.js';
import { openSessionStore, parseStoreWord, type StoreWord } from './session-stores.js';
import { storeOf } from '../sessions/stores/registry.js';
import { isPurgeable } from '../sessions/stores/types.js';
import { confirmDestructive } from './confirm.js';
import { action, addOutputOptions, addSettingOptions, engineOption, sessionOption, storeTimeoutOption, yesOption } from './options.js';
import type { Reporter } from './reporter.js';
import { addHelp } from './help.js';
import { plural } from '../util/plural.js';
import { countSessions } from './metrics.js';

interface PurgeFlags {
  session?: string[];
  all?: boolean;
  engine?: string[];
  logout?: boolean;
  backup?: string;
  encrypt?: boolean;
  passphraseFile?: string;
  force?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  timeout?: number;
}

const TOOL = { name: 'waha-storage', version: (createRequire(import.meta.url)('../../package.json') as { version: string }).version };

export function registerPurge(program: Command): void {
  const command = program
    .command('purge')
    .description("remove sessions from a store exactly as WAHA's delete does (or, with --logout, as its logout does)")
    .argument('<store>', 'local, mongo or postgres (pg)')
    .addOption(sessionOption('this session (repeatable)'))
    .option('--all', 'every session of the store (of the --engine ones)')
    .addOption(engineOption())
    .option('--logout', "WAHA's logout instead of delete: the auth and me go, the config and session_worker stay")
    .option('--backup <file>', 'first back up exactly these sessions into this archive and verify it; purge nothing if that fails')
    .option('--encrypt', 'encrypt the --backup archive with age')
    .option('--passphrase-file <path>', 'passphrase for --encrypt (else WAHA_STORAGE_BACKUP_PASSPHRASE or a prompt)')
    .option('--force', 'let --backup copy sessions that look in use')
    .option('--dry-run', 'show what would be removed and the totals; remove nothing')
    .addOption(yesOption('do not ask (needed without a terminal)'))
    .addOption(storeTimeoutOption());
  addSettingOptions(command, ['sessions', 'mongo', 'postgres']);
  addOutputOptions(command);
  addHelp(command, `
delete (default)  local: the session folder and its me / session_worker rows in waha.sqlite3
                  mongo: the database waha_<ns>_<slug> and its sessions, me, session_worker documents
--logout          local: everything in the session folder except .waha.session.* and the me row
                  mongo: the database waha_<ns>_<slug> and the me document (sessions, session_worker stay)
A session name that is not in the store is an error (exit 2) and nothing is purged.
Before anything is removed, everything that can fail is checked (waha.sqlite3 opens writable and
unlocked, the folders can be removed, MongoDB answers): a problem there is exit 1 and nothing is
removed. A session that still fails half-way is reported with what of it is gone and what stays.
Exit codes: 0 done (or nothing to purge), 3 some sessions failed, 1 the backup failed (nothing purged)
or nothing could be purged, 2 usage (also: no terminal and no --yes), 130 interrupted.`, [
    ['what deleting two sessions would remove, removing nothing', 'waha-storage purge local -s alpha -s beta --dry-run'],
    ['log a session out in MongoDB, after backing it up', 'waha-storage purge mongo -s alpha --logout --backup alpha.tar.gz --yes'],
    ['every NOWEB session of the local store, from a script', 'waha-storage purge local --all --engine NOWEB --yes'],
  ]);
  command.action(action<PurgeFlags>(async ({ options, config, reporter, signal, metrics }, storeWord: string) => {
    const word = parseStoreWord(storeWord);
    if (options.all && options.session?.length) throw new UsageError('--all and --session exclude each other', { hint: 'give either --all or one or more --session <name>' });
    if (!options.all && !options.session?.length) throw new UsageError('purge needs --session <name> (repeatable) or --all', { hint: 'say which sessions to remove' });
    if (options.encrypt && !options.backup) throw new UsageError('--encrypt applies to --backup <file>', { hint: 'add --backup <file>' });
    const engines = parseEngines(options.engine);
    const mode = options.logout ? 'logout' : 'delete';
    const { inspect } = await import('../sessions/inspect.js');
    const { planPurge, planned, preflight, purge } = await import('../sessions/purge.js');
    const { inspectedStores } = await import('../sessions/selection.js');
    const inspectOptions = { store: word, sessions: config.sessions, engines, names: options.session, concurrency: 4, mongoTimeoutMs: options.timeout ?? 5000 };
    const folder = storeOf(word).folder?.(config.sessions);
    if (folder) reporter.pathsRelativeTo(folder);
    const inspected = await inspect(inspectOptions);
    const items = await planPurge(inspected.sessions, options.session, await inspectedStores(inspectOptions));
    const totals = { bytes: items.reduce((sum, item) => sum + item.bytes, 0) };
    if (items.length === 0) {
      countSessions(metrics, { done: 0, failed: 0, planned: 0, skipped: 0, bytes: 0 }, options.dryRun ? 'planned' : 'removed');
      render({ mode, sessions: [], summary: { sessions: 0, done: 0, failed: 0, planned: 0, skipped: 0, entries: 0, bytes: 0 } }, reporter, { store: word, dryRun: Boolean(options.dryRun), backup: null });
      return;
    }
    if (options.backup) {
      const { checkOutputPath } = await import('../sessions/stores/archive/backup.js');
      checkOutputPath(options.backup, { flag: '--backup' });
    }
    const store = await openSessionStore(config, word, options.timeout ?? 5000);
    if (!isPurgeable(store)) {
      await store.close().catch(() => {});
      throw new UsageError(`purge does not support ${word}`, { hint: 'purge a store WAHA runs on' });
    }
    const target: PurgeStore = store;
    try {
      // everything that can fail is checked before the question, the backup and the first removal
      await preflight(target, items, mode);
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
    if (options.dryRun) {
      await store.close().catch(() => {});
      countSessions(metrics, planned(items, mode).summary, 'planned');
      render(planned(items, mode), reporter, { store: word, dryRun: true, backup: options.backup ?? null });
      return;
    }
    if (reporter.interactive && !options.yes && !reporter.json) showPlan(items, reporter);
    const verb = mode === 'logout' ? 'Log out (remove the auth of)' : 'Delete';
    let backupSummary: { file: string; sessions: number } | null = null;
    let result: PurgeResult;
    try {
      await confirmDestructive(reporter, {
        question: `${verb} ${plural(items.length, 'session')} (${formatBytes(totals.bytes)}) in ${word}: ${items.slice(0, 5).map((item) => item.name).join(', ')}${items.length > 5 ? ', ...' : ''}?`,
        yes: options.yes,
        what: 'purge',
      });
      if (options.backup) backupSummary = await backupFirst(options, config, word, items, engines, reporter, signal);
      await preflight(target, items, mode); // again: the answer and the backup took time
      result = await purge(target, items, mode, { signal });
    } finally {
      await store.close().catch(() => {});
    }
    countSessions(metrics, result.summary, 'removed');
    render(result, reporter, { store: word, dryRun: false, backup: backupSummary, interrupted: signal.aborted, selected: items.length });
    if (signal.aborted) process.exitCode = ExitCode.interrupted;
    else if (result.summary.failed) process.exitCode = result.summary.done ? ExitCode.partial : ExitCode.failed;
  }));
}

async function backupFirst(options: PurgeFlags, config: Parameters<typeof openSessionStore>[0], word: StoreWord, items: PurgeItem[], engines: ReturnType<typeof parseEngines>, reporter: Reporter, signal: AbortSignal) {
  const file = options.backup!;
  const { backup, checkOutputPath } = await import('../sessions/stores/archive/backup.js');
  checkOutputPath(file, { flag: '--backup' });
  const passphrase = options.encrypt ? await passphraseFor(options, reporter, { confirm: true }) : undefined;
  const source = await openSessionStore(config, word, options.timeout ?? 5000);
  let result;
  try {
    result = await backup({
      source, output: { kind: 'file', path: file }, engines, names: [...new Set(items.map((item) => item.name))], force: options.force, passphrase, tool: TOOL, signal,
    });
  } catch (error) {
    throw new OperationError(`The backup before purging failed: ${(error as Error).message}; nothing was purged`, { hint: 'fix the backup first (or purge without --backup)' });
  } finally {
    await source.close().catch(() => {});
  }
  const failed = result.sessions.filter((session) => session.status !== 'done');
  if (result.interrupted) throw new OperationError('The backup before purging was interrupted; nothing was purged');
  if (failed.length || !result.verified || result.verified.problems.length || result.sessions.length !== items.length) {
    const first = failed[0];
    // not a backup of exactly these sessions: do not leave it looking like one
    await import('node:fs/promises').then(({ rm }) => rm(file, { force: true }));
    throw new OperationError(`The backup before purging is incomplete${first ? ` (${first.name}: ${first.reason}${first.message ? `: ${first.message}` : ''})` : ''}; nothing was purged`, {
      hint: 'fix that session (or use --force for sessions in use) and run again',
    });
  }
  reporter.info(`backed up ${plural(result.sessions.length, 'session')} to ${file} and verified it`);
  return { file, sessions: result.sessions.length };
}

function showPlan(items: PurgeItem[], reporter: Reporter): void {
  reporter.table(
    [{ header: 'engine' }, { header: 'session', fit: 'wrap', min: 8 }, { header: 'logged in' }, { header: 'phone', fit: 'wrap', min: 12 }, { header: 'entries', align: 'right' }, { header: 'size', align: 'right' }],
    items.map((item) => [item.engine ?? '?', item.name, reporter.loggedIn(item.loggedIn), item.phone ?? '', item.entries, formatBytes(item.bytes)]),
  );
}

function render(result: PurgeResult, reporter: Reporter, context: { store: string; dryRun: boolean; backup: object | string | null; interrupted?: boolean; selected?: number }): void {
  const interrupted = Boolean(context.interrupted);
  // after an interrupt, sessions[] holds exactly the ones removed (or failed); the rest were not touched
  const untouched = interrupted ? Math.max(0, (context.selected ?? result.sessions.length) - result.sessions.length) : 0;
  if (reporter.json) {
    reporter.document({ store: context.store, mode: result.mode, dryRun: context.dryRun, interrupted, backup: context.backup, sessions: result.sessions, summary: { ...result.summary, ...(interrupted ? { untouched } : {}) } });
    return;
  }
  if (interrupted) reporter.warn(`interrupted: ${plural(result.summary.done, 'session')} ${result.summary.done === 1 ? 'was' : 'were'} ${result.mode === 'logout' ? 'logged out' : 'deleted'} (listed below), ${untouched} ${untouched === 1 ? 'was' : 'were'} not touched; run the same command again to continue`);
  if (result.sessions.length === 0) {
    reporter.line('No sessions to purge.');
    return;
  }
  reporter.table(
    [
      { header: 'engine' }, { header: 'session', fit: 'wrap', min: 8 }, { header: 'logged in' }, { header: 'phone', fit: 'wrap', min: 12, drop: 2 },
      { header: 'status', fit: 'wrap', min: 16 }, { header: 'entries', align: 'right', drop: 1 }, { header: 'size', align: 'right' },
    ],
    result.sessions.map((session) => [
      session.engine ?? '?', session.name, reporter.loggedIn(session.loggedIn), session.phone ?? '',
      session.status + (session.message ? `: ${session.message}` : ''), session.entries, formatBytes(session.bytes),
    ]),
  );
  const { summary } = result;
  const what = result.mode === 'logout' ? 'logged out' : 'deleted';
  reporter.line(context.dryRun
    ? `${plural(summary.sessions, 'session')} would be ${what} (${plural(summary.entries, 'entry')}, ${formatBytes(summary.bytes)}) in ${context.store}; nothing was changed (dry run)`
    : `${plural(summary.sessions, 'session')}: ${summary.done} ${what}, ${summary.failed} failed (${plural(summary.entries, 'entry')}, ${formatBytes(summary.bytes)}) in ${context.store}`);
}
