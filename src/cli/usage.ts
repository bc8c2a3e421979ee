import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { formatBytes } from '../config/units.js';
import type { Config } from '../config/config.js';
import { ExitCode } from '../errors.js';
import { parseEngines } from '../sessions/engines.js';
import type { PartName, SessionUsage, UsageResult } from '../usage/index.js';
import { PARTS } from '../usage/parts.js';
import { parseStoreWord, requireSessionsDir, requireStoreSettings, type StoreWord } from './session-stores.js';
import { action, addOutputOptions, addSettingOptions, concurrencyOption, engineOption, sessionOption, storeTimeoutOption } from './options.js';
import type { Reporter } from './reporter.js';
import { addHelp } from './help.js';
import { displayWidth, shortenMiddle } from './text.js';
import { plural } from '../util/plural.js';

interface UsageFlags {
  session?: string[];
  engine?: string[];
  concurrency?: number;
  timeout?: number;
}

/** What each part is called in the table and the legend. */
const PART_TITLES: Record<PartName, string> = {
  auth: 'auth',
  messages: 'messages',
  store: 'store',
  cache: 'cache',
  media: 'media',
  other: 'other',
};

/** A distinct glyph per part, for a terminal without colour; with colour every part is a block in its colour. */
export const PART_GLYPHS: Record<PartName, string> = { auth: '#', messages: '=', store: '+', cache: '~', media: '*', other: '.' };
const PART_COLOURS: Record<PartName, number> = { auth: 31, messages: 33, store: 36, cache: 32, media: 35, other: 90 };
const BLOCK = '█';

export function registerUsage(program: Command): void {
  const command = program
    .command('usage')
    .description('show where the space goes: per session, the bytes and rows of auth, message history, the other store tables, WEBJS cache and media')
    .argument('[store]', "local, mongo or postgres (pg) (default: the store WAHA uses: mongo when its URL is set, else postgres when its URL is set, else local)")
    .addOption(sessionOption('only this session (repeatable); one session shows each part with its tables'))
    .addOption(engineOption())
    .addOption(concurrencyOption('sessions measured at once', 4))
    .addOption(storeTimeoutOption());
  addSettingOptions(command, ['sessions', 'mongo', 'postgres']);
  addOutputOptions(command);
  addHelp(command, `
Parts: auth (what keeps the session logged in: never delete it), messages (NOWEB store "messages", GOWS "gows_messages": what "messages prune" deletes), store (the other store tables: contacts, chats, groups, labels, lid map, ...), cache (the rest of a local WEBJS profile), media (PostgreSQL media in the session's database), other (the config, SQLite free pages and WAL files, a database's own catalogs, anything WAHA does not write).
Sources: local file sizes and SQLite's dbstat (store.sqlite3, gows.db); MongoDB $collStats (else collStats); PostgreSQL pg_total_relation_size and pg_database_size. Row counts from statistics (MongoDB, PostgreSQL reltuples) are marked estimated in --json.
Read only: SQLite files are never opened for writing (no -wal or -shm appears), so it runs beside a running WAHA.
Sessions are sorted biggest first, with totals; on a terminal a bar per session shows its parts, scaled to the terminal's width.
Exit codes: 0 measured, 3 some sessions could not be measured (the others are listed), 1 the store could not be read, 2 usage.`, [
    ['the store WAHA uses, biggest sessions first', 'waha-storage usage'],
    ['one session, each part with its tables', 'waha-storage usage local --session default'],
    ['the GOWS sessions in PostgreSQL, as JSON', 'waha-storage usage postgres --engine GOWS --json'],
    ['the message history of every session, in bytes', "waha-storage usage --json | jq '.sessions[] | {name, messages: .parts.messages.bytes}'"],
  ]);
  command.action(action<UsageFlags>(async ({ options, config, reporter, metrics, signal }, store?: string) => {
    const word = store === undefined ? defaultStore(config) : parseStoreWord(store);
    if (store === undefined) metrics.setStore(word);
    requireStoreSettings(config, word);
    reporter.pathsRelativeTo(config.sessions.sessionsDir);
    const engines = parseEngines(options.engine);
    const { sessionsDir } = config.sessions;
    const { usage } = await import('../usage/index.js');
    const { inspectedStores, requireNamed } = await import('../sessions/selection.js');
    const { storeOf } = await import('../sessions/stores/registry.js');
    if (word === 'local') {
      // WAHA creates ./.sessions on its first session: the default folder missing is "no sessions", any other is a typo
      if (config.source('sessionsDir').source === 'default' && !existsSync(sessionsDir)) {
        reporter.info(`no sessions dir at ${sessionsDir} (the default); no sessions`);
        await requireNamed([], options.session, { description: `local (${sessionsDir})` });
        render(emptyResult(word, storeOf(word).location(config.sessions)), options, reporter);
        return;
      }
      requireSessionsDir(sessionsDir, { mustExist: true });
    }
    const spinner = await reporter.spinner(`measuring the sessions in ${word}`);
    let done = 0;
    let total: number | undefined;
    let result: UsageResult;
    try {
      result = await usage({
        store: word,
        sessions: config.sessions,
        engines,
        names: options.session,
        concurrency: options.concurrency ?? 4,
        timeoutMs: options.timeout ?? 5000,
        signal,
        onListed: (count) => { total = count; },
        onSession: (name) => { done++; spinner.update(`measured ${done}${total === undefined ? '' : ` of ${total}`} sessions (${name})`); },
      });
    } finally {
      spinner.stop();
    }
    await requireNamed(result.sessions, options.session, await inspectedStores({
      store: word, sessions: config.sessions, engines, names: options.session, concurrency: 4, mongoTimeoutMs: options.timeout ?? 5000,
    }));
    render(result, options, reporter);
    metrics.count('measured', result.sessions.length);
    for (const part of PARTS) metrics.bytes(part, result.totals.parts[part].bytes);
  }));
}

/** The store WAHA itself uses (waha-facts §2.1): MongoDB's URL wins over PostgreSQL's, which wins over the local folder. */
export function defaultStore(config: Config): StoreWord {
  if (config.sessions.mongoUrl) return 'mongo';
  if (config.sessions.postgresUrl) return 'postgres';
  return 'local';
}

function emptyResult(store: StoreWord, location: string): UsageResult {
  const parts = Object.fromEntries(PARTS.map((part) => [part, { bytes: 0, rows: 0, estimated: false }])) as UsageResult['totals']['parts'];
  return { store, location, sessions: [], totals: { sessions: 0, bytes: 0, parts }, notes: [], problems: [] };
}

/** Sessions whose figures are incomplete: a file or database that could not be read. */
function unmeasured(result: UsageResult): SessionUsage[] {
  return result.sessions.filter((session) => session.problems.some((item) => item.code === 'unreadable' || item.code === 'sqlite-unreadable'));
}

function render(result: UsageResult, options: UsageFlags, reporter: Reporter): void {
  const failed = unmeasured(result);
  if (failed.length) process.exitCode = ExitCode.partial;
  const failure = failed.length
    ? { code: 'partial', message: `${plural(failed.length, 'session')} could not be measured in full: ${failed.map((session) => session.name).join(', ')}`, hint: 'see each session\'s problems', exitCode: ExitCode.partial }
    : undefined;
  if (reporter.json) {
    reporter.document({ ...result, ...(failure ? { error: failure } : {}) });
    return;
  }
  const single = options.session?.length === 1 && result.sessions.length === 1;
  if (result.sessions.length === 0) reporter.line('No sessions found.');
  else if (single) renderDetail(result.sessions[0]!, reporter);
  else renderTable(result, reporter);
  if (!single && result.sessions.length && reporter.stdoutIsTTY) {
    reporter.line();
    for (const line of usageBars(result.sessions, { width: reporter.width, color: reporter.color })) reporter.line(line);
  }
  for (const note of result.notes) reporter.info(`note: ${note}`);
  for (const session of result.sessions) {
    for (const item of session.problems) reporter.line(`${reporter.paint('yellow', '!')} ${session.name}: ${item.message} (${item.hint})`);
  }
  for (const item of result.problems) reporter.line(`${reporter.paint('yellow', '!')} ${item.message} (${item.hint})`);
  if (failure) reporter.error(failure.message);
}

function size(bytes: number | null): string {
  return bytes === null ? '?' : formatBytes(bytes);
}

/** The parts any session has (a column of zeros says nothing); auth always. */
function shownParts(result: UsageResult): PartName[] {
  return PARTS.filter((part) => part === 'auth' || result.sessions.some((session) => (session.parts[part].bytes ?? 1) > 0));
}

function renderTable(result: UsageResult, reporter: Reporter): void {
  const parts = shownParts(result);
  const rows = result.sessions.map((session) => [
    session.name, session.engine ?? '?', size(session.bytes), ...parts.map((part) => size(session.parts[part].bytes)),
  ]);
  rows.push(['total', '', size(result.totals.bytes), ...parts.map((part) => size(result.totals.parts[part].bytes))]);
  reporter.table([
    { header: 'session', fit: 'middle', min: 8 }, { header: 'engine', drop: 1 }, { header: 'size', align: 'right' },
    ...parts.map((part) => ({ header: PART_TITLES[part], align: 'right' as const, ...(part === 'other' ? { drop: 2 } : {}) })),
  ], rows);
  reporter.line(`${plural(result.totals.sessions, 'session')}, ${size(result.totals.bytes)} in ${result.store} (${result.location})`);
}

function renderDetail(session: SessionUsage, reporter: Reporter): void {
  reporter.line(`${session.name} (${session.engine ?? 'engine unknown'}) in ${session.location}: ${size(session.bytes)} (${session.bytes} bytes), from ${session.sources.join(', ') || 'nothing'}`);
  const rows: string[][] = [];
  for (const part of PARTS) {
    const usage = session.parts[part];
    if (usage.bytes === 0 && !usage.rows && !usage.tables) continue;
    rows.push([PART_TITLES[part], '', size(usage.bytes), count(usage.rows, usage.unit, usage.estimated)]);
    for (const [table, figures] of Object.entries(usage.tables ?? {})) {
      rows.push(['', table, size(figures.bytes), count(figures.rows, null, figures.estimated)]);
    }
  }
  if (!rows.length) {
    reporter.line('Nothing stored.');
    return;
  }
  reporter.table([{ header: 'part' }, { header: 'table', fit: 'middle', min: 10 }, { header: 'size', align: 'right' }, { header: 'rows', align: 'right' }], rows);
}

function count(rows: number | null, unit: string | null, estimated: boolean): string {
  if (rows === null) return '';
  return `${estimated ? '~' : ''}${rows.toLocaleString('en-US')}${unit && unit !== 'rows' ? ` ${unit}` : ''}`;
}

/**
 * One line per session: its name, its size and a bar of its parts, the biggest session's bar as wide
 * as the terminal allows, the others to scale; then a legend. Without colour each part has its own glyph.
 */
export function usageBars(sessions: readonly SessionUsage[], options: { width: number; color: boolean }): string[] {
  const biggest = Math.max(0, ...sessions.map((session) => session.bytes));
  const nameWidth = Math.min(Math.max(...sessions.map((session) => displayWidth(session.name))), Math.max(8, Math.floor(options.width / 4)));
  const sizes = sessions.map((session) => size(session.bytes));
  const sizeWidth = Math.max(...sizes.map((text) => text.length));
  const barWidth = options.width - nameWidth - sizeWidth - 2;
  if (barWidth < 4 || biggest === 0) return [];
  const used = new Set<PartName>();
  const lines = sessions.map((session, index) => {
    const name = shortenMiddle(session.name, nameWidth);
    const length = session.bytes > 0 ? Math.max(1, Math.round((session.bytes / biggest) * barWidth)) : 0;
    const segments = shares(PARTS.map((part) => session.parts[part].bytes ?? 0), length);
    const bar = PARTS.map((part, i) => {
      if (!segments[i]) return '';
      used.add(part);
      return glyphs(part, segments[i]!, options.color);
    }).join('');
    return `${name}${' '.repeat(nameWidth - displayWidth(name))} ${sizes[index]!.padStart(sizeWidth)} ${bar}`.trimEnd();
  });
  const legend = PARTS.filter((part) => used.has(part)).map((part) => `${glyphs(part, 1, options.color)} ${PART_TITLES[part]}`).join('  ');
  return [...lines, '', legend];
}

function glyphs(part: PartName, length: number, color: boolean): string {
  if (!color) return PART_GLYPHS[part].repeat(length);
  return `\u001b[${PART_COLOURS[part]}m${BLOCK.repeat(length)}\u001b[0m`;
}

/** `length` cells shared out by the values (largest remainder), summing to `length`. */
export function shares(values: readonly number[], length: number): number[] {
  const sum = values.reduce((total, value) => total + value, 0);
  if (sum <= 0 || length <= 0) return values.map(() => 0);
  const exact = values.map((value) => (value / sum) * length);
  const cells = exact.map(Math.floor);
  let left = length - cells.reduce((total, value) => total + value, 0);
  const order = exact.map((value, index) => ({ index, rest: value - Math.floor(value) })).sort((a, b) => b.rest - a.rest);
  for (const { index } of order) {
    if (left <= 0) break;
    cells[index]!++;
    left--;
  }
  return cells;
}
