import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { redactObject } from '../config/redact.js';
import { formatBytes } from '../config/units.js';
import { ExitCode } from '../errors.js';
import { parseEngines } from '../sessions/engines.js';
import { problem } from '../sessions/problems.js';
import type { InspectResult, SessionReport } from '../sessions/report.js';
import { parseStoreWord, requireSessionsDir } from './session-stores.js';
import { action, addOutputOptions, addSettingOptions, concurrencyOption, engineOption, sessionOption, storeTimeoutOption } from './options.js';
import { errorBody } from './errors.js';
import type { Reporter } from './reporter.js';
import { addHelp } from './help.js';
import { plural } from '../util/plural.js';

interface InspectFlags {
  session?: string[];
  engine?: string[];
  concurrency?: number;
  timeout?: number;
}

export function registerInspect(program: Command): void {
  const command = program
    .command('inspect')
    .description('show the sessions in the local store and/or MongoDB: engine, login, phone, worker, size, problems')
    .argument('[store]', 'local, mongo or postgres (pg) (default: local, plus mongo and postgres when their URLs are configured)')
    .addOption(sessionOption('only this session (repeatable); one session shows the detail view'))
    .addOption(engineOption())
    .addOption(concurrencyOption('sessions read at once', 8))
    .addOption(storeTimeoutOption());
  addSettingOptions(command, ['sessions', 'mongo', 'postgres']);
  addOutputOptions(command);
  addHelp(command, `
A list of every session (one --session: its detail view, with the keys by category and the hints). On a narrow terminal, cells wrap and the least needed columns (last change, worker, entries, store) are left out; --json has every field.
Problems are listed by code (creds-corrupt, creds-missing, temp-files, browser-running, invalid-name, no-auth, slug-collision, ...), each with a hint.
Exit codes: 0 listed (problems found are not a failure), 3 a store could not be read (the others are listed), 2 usage.`, [
    ['every session of the local store and, when a MongoDB URL is set, of MongoDB', 'waha-storage inspect'],
    ['one session in detail', 'waha-storage inspect local --session default'],
    ['the NOWEB sessions in MongoDB, as JSON', 'waha-storage inspect mongo --engine NOWEB --json'],
  ]);
  command.action(action<InspectFlags>(async ({ options, config, reporter, metrics, signal }, store?: string) => {
    if (store === undefined) metrics.setStore('all');
    reporter.pathsRelativeTo(config.sessions.sessionsDir);
    const { inspect } = await import('../sessions/inspect.js');
    const { inspectedStores, requireNamed } = await import('../sessions/selection.js');
    const inspectOptions = {
      store: store === undefined ? undefined : parseStoreWord(store),
      sessions: config.sessions,
      engines: parseEngines(options.engine),
      names: options.session,
      concurrency: options.concurrency ?? 8,
      mongoTimeoutMs: options.timeout ?? 5000,
      onNote: (text: string) => reporter.info(text),
      signal,
    };
    // WAHA creates ./.sessions on its first session: the default folder missing is "no sessions", any other is a typo
    const { sessionsDir, mongoUrl } = config.sessions;
    if (store === undefined && !mongoUrl && !config.sessions.postgresUrl && config.source('sessionsDir').source === 'default' && !existsSync(sessionsDir)) {
      reporter.info(`no sessions dir at ${sessionsDir} (the default); no sessions`);
      await requireNamed([], options.session, { description: `local (${sessionsDir})` });
      render({ sessions: [], problems: [] }, options, reporter);
      return;
    }
    const word = store === undefined ? undefined : parseStoreWord(store);
    if ((word === undefined || word === 'local') && config.source('sessionsDir').source !== 'default') requireSessionsDir(sessionsDir, { mustExist: true });
    const spinner = await reporter.spinner('reading sessions');
    let result: InspectResult;
    try {
      result = await inspect(inspectOptions);
    } finally {
      spinner.stop();
    }
    await requireNamed(result.sessions, options.session, await inspectedStores(inspectOptions));
    render(result, options, reporter);
    metrics.count('logged_in', result.sessions.filter((session) => session.loggedIn === true).length);
    metrics.count('logged_out', result.sessions.filter((session) => session.loggedIn === false).length);
    metrics.count('unknown', result.sessions.filter((session) => session.loggedIn === null).length);
    metrics.bytes('stored', result.sessions.reduce((sum, session) => sum + (session.bytes ?? 0), 0));
  }));
}

function render(result: InspectResult, options: InspectFlags, reporter: Reporter): void {
  const failed = (result.failedStores ?? []).map((failure) => ({ store: failure.store, ...errorBody(failure.error) }));
  if (failed.length) process.exitCode = ExitCode.partial;
  if (reporter.json) {
    reporter.document({
      sessions: result.sessions.map((session) => ({ ...session, config: redactObject(session.config) })),
      problems: [
        ...result.problems,
        ...failed.map(({ store, message, hint }) => ({ code: 'store-unreachable', store, message, hint: hint ?? problem('store-unreachable', '').hint })),
      ],
      ...(failed[0] ? { error: { code: failed[0].code, message: failed[0].message, hint: failed[0].hint, exitCode: ExitCode.partial } } : {}),
    });
    return;
  }
  for (const { store, message, hint } of failed) reporter.error(`${store} not listed: ${message}${hint ? ` (${hint})` : ''}`);
  const single = options.session?.length === 1 && result.sessions.length > 0;
  if (single) {
    for (const session of result.sessions) renderDetail(session, reporter);
  } else if (result.sessions.length === 0) {
    reporter.line('No sessions found.');
  } else {
    renderTable(result.sessions, reporter);
  }
  if (!single && options.session?.length && result.sessions.length === 0) reporter.warn(`no session named ${options.session.join(', ')}`);
  for (const item of result.problems) reporter.line(`${reporter.paint('yellow', '!')} ${item.message} (${item.hint})`);
}

function renderTable(sessions: SessionReport[], reporter: Reporter): void {
  reporter.table(
    [
      { header: 'engine' }, { header: 'session', fit: 'wrap', min: 8 }, { header: 'store', drop: 4 }, { header: 'logged in' },
      { header: 'phone / push name', fit: 'wrap', min: 12 }, { header: 'worker', fit: 'wrap', min: 6, drop: 2 },
      { header: 'entries', align: 'right', drop: 3 }, { header: 'size', align: 'right' }, { header: 'last change', fit: 'wrap', drop: 1 },
      { header: 'problems', fit: 'wrap', min: 10 },
    ],
    sessions.map((session) => [
      session.engine ?? '?',
      session.name,
      session.store,
      reporter.loggedIn(session.loggedIn),
      session.me ? `${session.me.id}${session.me.pushName ? ` / ${session.me.pushName}` : ''}` : session.details.account ?? '',
      session.worker === null ? '-' : session.worker === '' ? '(default)' : session.worker,
      session.entries,
      session.bytes === null ? '?' : formatBytes(session.bytes),
      session.lastChange ? session.lastChange.replace('T', ' ').slice(0, 19) : '',
      session.problems.map((item) => item.code).join(', '),
    ]),
  );
  const loggedIn = sessions.filter((session) => session.loggedIn).length;
  const withProblems = sessions.filter((session) => session.problems.length).length;
  reporter.line(`${plural(sessions.length, 'session')}, ${loggedIn} logged in, ${withProblems} with problems`);
}

function renderDetail(session: SessionReport, reporter: Reporter): void {
  const rows: [string, string][] = [
    ['session', session.name],
    ['engine', session.engine ?? 'unknown'],
    ['store', `${session.store} (${session.details.location})`],
    ['logged in', reporter.loggedIn(session.loggedIn)],
    ['me', session.me ? `${session.me.id}${session.me.pushName ? ` (${session.me.pushName})` : ''}` : 'none'],
    ['account', session.details.account ?? 'none in the auth data'],
    ['worker', session.worker === null ? 'none (WAHA will not restart it on boot)' : session.worker || '(default worker)'],
    ['entries', String(session.entries)],
    ['size', session.bytes === null ? 'unknown' : `${formatBytes(session.bytes)} (${session.bytes} bytes)`],
    ['last change', session.lastChange ?? 'unknown'],
  ];
  const details = session.details;
  if (details.layout) rows.push(['layout', details.layout === 'plus' ? 'plus (webjs/<name>/session-<name>)' : 'core (webjs/default/session-<name>)']);
  if (details.authBytes !== undefined) rows.push(['auth', formatBytes(details.authBytes)]);
  if (details.cacheBytes !== undefined) rows.push(['cache', formatBytes(details.cacheBytes)]);
  if (details.formats) rows.push(['auth formats', details.formats.join(' + ') || 'none']);
  if (details.revisions !== undefined) rows.push(['zip revisions', String(details.revisions)]);
  if (details.nowebStore !== undefined) rows.push(['NOWEB store', details.nowebStore ? 'present' : 'none']);
  if (details.devices !== undefined) rows.push(['devices', String(details.devices)]);
  if (details.keysByCategory) {
    for (const [category, count] of Object.entries(details.keysByCategory).sort()) rows.push([`  keys: ${category}`, String(count)]);
  }
  rows.push(['config', summariseConfig(session.config)]);
  reporter.table([], rows);
  if (session.problems.length === 0) reporter.line('No problems found.');
  for (const item of session.problems) {
    reporter.line(`${reporter.paint('yellow', '!')} ${item.code}: ${item.message}`);
    reporter.line(`  hint: ${item.hint}`);
  }
}

function summariseConfig(config: Record<string, unknown> | null): string {
  if (!config) return 'none';
  const parts: string[] = [];
  const webhooks = config.webhooks;
  if (Array.isArray(webhooks)) parts.push(plural(webhooks.length, 'webhook'));
  if (config.proxy) parts.push('proxy');
  if (config.metadata && typeof config.metadata === 'object') parts.push(`metadata: ${Object.keys(config.metadata).join(', ')}`);
  const store = (config.noweb as { store?: { enabled?: boolean } } | undefined)?.store;
  if (store?.enabled) parts.push('NOWEB store enabled');
  if (config.debug) parts.push('debug');
  const other = Object.keys(config).filter((key) => !['webhooks', 'proxy', 'metadata', 'noweb', 'debug'].includes(key));
  if (other.length) parts.push(`also: ${other.join(', ')}`);
  return parts.join('; ') || '{}';
}
