import { createReadStream, existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { formatBytes } from '../config/units.js';
import { ExitCode, UsageError } from '../errors.js';
import { parseEngines, type Engine } from '../sessions/engines.js';
import type { DiffResult, SessionDiff, SessionSide } from '../sessions/diff.js';
import type { SessionStore } from '../sessions/stores/types.js';
import { passphraseFor } from './backup.js';
import { action, addOutputOptions, addSettingOptions, concurrencyOption, engineOption, sessionOption, storeTimeoutOption } from './options.js';
import type { Reporter } from './reporter.js';
import { addHelp } from './help.js';
import { plural } from '../util/plural.js';
import { openSessionStore } from './session-stores.js';
import { findStore, STORES, storeWordsText } from '../sessions/stores/registry.js';

interface DiffFlags {
  session?: string[];
  engine?: string[];
  passphraseFile?: string;
  timeout?: number;
  concurrency?: number;
}

export function registerDiff(program: Command): void {
  const diff = program
    .command('diff')
    .description('compare the sessions of two stores or archives entry by entry: same, changed (which entries; logged in before and after), missing, extra')
    .argument('<a>', 'local, mongo, postgres (pg), or an archive file (before, e.g. the backup made before an upgrade)')
    .argument('<b>', 'local, mongo, postgres (pg), or an archive file (after)')
    .addOption(sessionOption('only this session (repeatable; default: every session on either side)'))
    .addOption(engineOption())
    .option('--passphrase-file <path>', 'passphrase of encrypted archives (first line; also WAHA_STORAGE_BACKUP_PASSPHRASE, or a prompt on a terminal)')
    .addOption(concurrencyOption('sessions compared at once', 4))
    .addOption(storeTimeoutOption());
  addSettingOptions(diff, ['sessions', 'mongo', 'postgres']);
  addOutputOptions(diff);
  addHelp(diff, `
Each session is read from both sides and compared by the transfer engine's digests of its entries
(config, me, worker, auth keys, profile files, store rows). An archive is checked whole first.
  same        identical on both sides
  changed     in both, with entries that differ (listed), and the logged-in state on each side
  missing     in a, not in b          extra   in b, not in a
After WAHA has run, "changed" with logged in yes -> yes is normal (WAHA rewrites keys as it works);
what matters is "missing" and a login lost (yes -> no).
Exit codes: 0 every session the same, 3 differences found, 1 a side cannot be read, 2 usage, 130 interrupted.`, [
    ['what an upgrade of WAHA changed', 'waha-storage diff before-upgrade.tar.gz local'],
    ['whether a migration carried every entry', 'waha-storage diff local mongo'],
    ['one session, every differing entry listed', 'waha-storage diff backup.tar.gz mongo -s alpha --verbose'],
  ]);
  diff.action(action<DiffFlags>(async ({ options, config, reporter, signal, metrics }, a: string, b: string) => {
    const engines = parseEngines(options.engine);
    const sides: SessionStore[] = [];
    const spinner = await reporter.spinner(`comparing ${a} with ${b}`);
    let result: DiffResult;
    try {
      const folder = [a, b].map((word) => findStore(word)?.folder?.(config.sessions)).find(Boolean);
      if (folder) reporter.pathsRelativeTo(folder);
      for (const word of [a, b]) sides.push(await openSide(word, { config, options, engines, reporter, signal }));
      const { diffStores } = await import('../sessions/diff.js');
      result = await diffStores({ a: sides[0]!, b: sides[1]!, engines, names: options.session, concurrency: options.concurrency, signal });
    } finally {
      spinner.stop();
      await Promise.allSettled(sides.map((side) => side.close()));
    }
    render(result, { a, b }, reporter);
    for (const status of ['same', 'changed', 'missing', 'extra', 'unreadable'] as const) metrics.count(status, result.summary[status]);
    metrics.count('lost_login', result.summary.lostLogin);
    const { sessions, same } = result.summary;
    process.exitCode = result.interrupted ? ExitCode.interrupted : sessions === same ? ExitCode.ok : ExitCode.partial;
  }));
}

async function openSide(word: string, context: { config: Config; options: DiffFlags; engines: Engine[]; reporter: Reporter; signal: AbortSignal }): Promise<SessionStore> {
  const store = findStore(word);
  if (store) return openSessionStore(context.config, store.word, context.options.timeout ?? 5000);
  if (!existsSync(word)) throw new UsageError(`"${word}" is neither a store (${STORES.map((each) => each.word).join(', ')}) nor an archive file`, { hint: `give ${storeWordsText()}, or the path of an archive (./local for a file named local)` });
  if (statSync(word).isDirectory()) throw new UsageError(`${word} is a folder, not an archive`, { hint: 'give local (with --sessions-dir) for a sessions folder, or an archive file' });
  const { ArchiveSource } = await import('../sessions/stores/archive/source.js');
  return ArchiveSource.open(createReadStream(word), {
    where: word,
    passphrase: () => passphraseFor(context.options, context.reporter, { confirm: false }),
    names: context.options.session,
    engines: context.engines,
    signal: context.signal,
  });
}

function render(result: DiffResult, sides: { a: string; b: string }, reporter: Reporter): void {
  const { summary } = result;
  if (reporter.json) {
    reporter.document({ a: sides.a, b: sides.b, interrupted: result.interrupted, sessions: result.sessions, summary });
    return;
  }
  if (result.sessions.length === 0) reporter.line('No sessions on either side.');
  else {
    reporter.table([
      { header: 'engine' }, { header: 'session', fit: 'wrap', min: 8 }, { header: 'status' }, { header: 'logged in', fit: 'wrap', min: 9 },
      { header: 'entries', fit: 'wrap', min: 7, drop: 1 }, { header: 'what differs', fit: 'wrap', min: 16 },
    ], result.sessions.map((session) => [
      session.engine ?? '?',
      session.name,
      statusText(session, reporter),
      loginText(session, reporter),
      `${session.a?.entries ?? '-'} -> ${session.b?.entries ?? '-'}`,
      changeText(session, reporter.verbose),
    ]));
  }
  reporter.line(`${sides.a} -> ${sides.b}: ${plural(summary.sessions, 'session')}: ${summary.same} same, ${summary.changed} changed, ${summary.missing} missing, ${summary.extra} extra` +
    `${summary.unreadable ? `, ${summary.unreadable} unreadable` : ''}${summary.lostLogin ? `; ${summary.lostLogin} lost ${summary.lostLogin === 1 ? 'its' : 'their'} login` : ''}`);
  if (result.interrupted) reporter.warn('interrupted: the comparison is incomplete');
}

function statusText(session: SessionDiff, reporter: Reporter): string {
  const colour = session.status === 'same' ? 'green' : session.status === 'changed' && !session.lostLogin ? 'yellow' : 'red';
  return reporter.paint(colour, session.status);
}

function login(side: SessionSide | null): string {
  if (!side) return '-';
  return side.loggedIn === null ? 'unknown' : side.loggedIn ? 'yes' : 'no';
}

function loginText(session: SessionDiff, reporter: Reporter): string {
  const text = `${login(session.a)} -> ${login(session.b)}`;
  return session.lostLogin ? reporter.paint('red', text) : text;
}

function changeText(session: SessionDiff, verbose: boolean): string {
  if (session.message) return session.message;
  if (session.status === 'missing') return `not in b (${formatBytes(session.a?.bytes ?? 0)})`;
  if (session.status === 'extra') return `not in a (${formatBytes(session.b?.bytes ?? 0)})`;
  if (session.status === 'same') return '';
  const { differs, missing, extra } = session.changes;
  const counts = [differs && `${differs} differ`, missing && `${missing} gone`, extra && `${extra} new`].filter(Boolean).join(', ');
  const shown = verbose ? session.entries : session.entries.slice(0, 3);
  const total = differs + missing + extra;
  const sign = { differs: '~', missing: '-', extra: '+' } as const;
  return `${counts}: ${shown.map((entry) => `${sign[entry.change]}${entry.id}`).join(' ')}${total > shown.length ? ' ...' : ''}`;
}
