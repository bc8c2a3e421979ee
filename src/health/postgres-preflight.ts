/**
 * PostgreSQL preflight (issue #12 item 5), with --extended next to `postgresql` and
 * `postgresql.permissions`, for the failures WAHA users meet on PostgreSQL:
 * - `postgresql.collation`: template1 or a waha_* database records a collation version the OS no
 *   longer provides ("template database "template1" has a collation version mismatch", waha#1380, #1446);
 * - `postgresql.connections`: max_connections too low for the pools WAHA opens ("sorry, too many
 *   clients already", waha#1017; WAHA's docs advise 3000);
 * - `postgresql.orphans`: `waha_<ns>_<slug>` databases no session_config row accounts for (deleted
 *   sessions, a changed namespace); a row without a database is a logged-out session, not a problem.
 * Names come from the store's layout (layout.ts), never from parsing database names.
 */
import type { Client } from 'pg';
import { redact } from '../config/redact.js';
import { ENGINES, namespacesFor, type Engine } from '../sessions/engines.js';
import { mainDatabase } from '../sessions/names.js';
import { databasesOf, OLD_PREFIX, STAGING_PREFIX, truncateIdentifier, WAHA_CONNECTION } from '../sessions/stores/postgres/layout.js';
import { otherNamespaces, tableExists } from '../sessions/stores/postgres/foreign-mains.js';
import { formatBytes } from '../config/units.js';
import { plural } from '../util/plural.js';
import { PostgresServer, quoteIdent, serverVersion } from '../util/postgres.js';
import { postgresDown, type PostgresCheckOptions } from './postgres.js';
import type { CheckDetail } from './result.js';
import { CheckTimeout, withTimeout } from './timeout.js';

export interface PreflightOptions extends PostgresCheckOptions {
  namespace?: string;
  sessionNamespace?: string;
  /** Sessions WAHA will run, when given (--expected-sessions); else the session_config rows. */
  expectedSessions?: number;
  /** WAHA_MEDIA_STORAGE=POSTGRESQL on this same server: one more pool per session and per process. */
  mediaOnServer?: boolean;
}

const GRACE_MS = 250;
/** First PostgreSQL that records a database's collation version (pg_database.datcollversion). */
const DATABASE_COLLATION_VERSION = 150000;
const SHOWN = 5;
/** This run's connections (the checks run side by side): not counted as others' use of max_connections. */
const APPLICATION = 'waha-storage health';

// ---------------------------------------------------------------------------------------------
// postgresql.collation

export interface CollationRow {
  database: string;
  /** pg_database.datcollversion: what the database was created (or last refreshed) with. */
  recorded: string | null;
  /** pg_database_collation_actual_version(oid): what the OS's library provides now. */
  actual: string | null;
  /** Why the actual version could not be read (the locale is gone). */
  error?: string;
  /** pg_database.datcollate (libc) or the ICU locale: what to install when its version cannot be determined. */
  locale?: string;
}

export interface CollationProblem {
  database: string;
  recorded: string;
  actual: string | null;
  problem: 'mismatch' | 'undeterminable';
  locale?: string;
}

/** The databases whose recorded collation version is not the library's (pure: the server's answer in, problems out). */
export function collationProblems(rows: readonly CollationRow[]): CollationProblem[] {
  const problems: CollationProblem[] = [];
  for (const row of rows) {
    if (row.recorded === null) continue; // nothing recorded (C, C.UTF-8, POSIX, or older than 15): nothing can mismatch
    const base = { database: row.database, recorded: row.recorded, ...(row.locale ? { locale: row.locale } : {}) };
    if (row.actual === null || row.error) problems.push({ ...base, actual: null, problem: 'undeterminable' });
    else if (row.actual !== row.recorded) problems.push({ ...base, actual: row.actual, problem: 'mismatch' });
  }
  return problems;
}

/**
 * What to run, in PostgreSQL's order: rebuild what uses the collation, then record the library's
 * version. A version that cannot be determined cannot be recorded (the server refuses "invalid
 * collation version change"): the locale has to come back first.
 */
export function refreshCollationHint(problems: readonly CollationProblem[]): string {
  const parts: string[] = [];
  const mismatched = problems.filter((item) => item.problem === 'mismatch');
  const undeterminable = problems.filter((item) => item.problem === 'undeterminable');
  if (mismatched.length) {
    const steps = mismatched.slice(0, SHOWN).map(({ database }) =>
      `connect to ${quoteIdent(database)} and run REINDEX DATABASE ${quoteIdent(database)}; then ALTER DATABASE ${quoteIdent(database)} REFRESH COLLATION VERSION`);
    const more = mismatched.length > SHOWN ? `; the same for the ${mismatched.length - SHOWN} others in "databases"` : '';
    parts.push(`as a superuser: ${steps.join('; ')}${more} (PostgreSQL's advice; WAHA's maintainer gives the same for template1, waha#1446)`);
  }
  if (undeterminable.length) {
    const locales = [...new Set(undeterminable.map((item) => item.locale ?? 'its locale'))].join(', ');
    const shown = undeterminable.slice(0, SHOWN).map(({ database }) => `'${database.replace(/'/g, "''")}'`).join(', ');
    parts.push(`${mismatched.length ? 'and for' : 'for'} ${undeterminable.map((item) => item.database).slice(0, SHOWN).join(', ')}: install the locale ${locales} on the server's OS and restart PostgreSQL, then REINDEX and REFRESH as above; ` +
      `if the OS has it and still gives no version, REFRESH COLLATION VERSION refuses ("invalid collation version change") and only a superuser's ` +
      `UPDATE pg_database SET datcollversion = NULL WHERE datname IN (${shown}) clears the recorded one (after a REINDEX)`);
  }
  return parts.join('; ');
}

export function collationDetail(rows: readonly CollationRow[], version: number): CheckDetail {
  const checked = rows.length;
  if (version < DATABASE_COLLATION_VERSION) {
    return { status: 'up', checked: 0, message: `PostgreSQL ${major(version)} does not record database collation versions (15 does): nothing to compare` };
  }
  const problems = collationProblems(rows);
  if (!problems.length) {
    const recorded = rows.filter((row) => row.recorded !== null).length;
    return { status: 'up', checked, message: `${plural(checked, 'database')} (template1 and waha_*): ${recorded ? `${recorded} with a recorded collation version, all current` : 'none records a collation version (C / C.UTF-8 locales have none)'}` };
  }
  const words = problems.slice(0, SHOWN).map((item) => item.problem === 'mismatch'
    ? `${item.database} was created with collation version ${item.recorded}, the OS provides ${item.actual}`
    : `${item.database} records collation version ${item.recorded}, but the OS gives no version for ${item.locale ?? 'its locale'} (the locale is gone, or no longer versioned)`);
  return {
    status: 'down',
    reason: 'collation-version',
    checked,
    databases: problems,
    detail: `${words.join('; ')}${problems.length > SHOWN ? ` and ${problems.length - SHOWN} more` : ''}` +
      (problems.some((item) => item.database === 'template1') ? ' (WAHA\'s CREATE DATABASE fails on this template: new sessions cannot start)' : ''),
    hint: refreshCollationHint(problems),
  };
}

export async function checkPostgresCollation(options: PostgresCheckOptions): Promise<CheckDetail> {
  return run(options, 2, async (client) => {
    const version = await serverVersion(client);
    if (version < DATABASE_COLLATION_VERSION) return collationDetail([], version);
    const { rows } = await client.query<{ oid: number; datname: string; datcollversion: string | null; locale: string }>(
      // the ICU locale's column is daticulocale in 15-16, datlocale from 17: read through jsonb, whichever exists
      "SELECT d.oid, d.datname, d.datcollversion, CASE WHEN d.datlocprovider = 'c' THEN d.datcollate " +
      "ELSE coalesce(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale') END AS locale FROM pg_database d " +
      "WHERE d.datname = 'template1' OR d.datname LIKE 'waha\\_%' ORDER BY d.datname");
    const collation: CollationRow[] = [];
    for (const row of rows) {
      const entry: CollationRow = { database: row.datname, recorded: row.datcollversion, actual: null, locale: row.locale };
      if (row.datcollversion !== null) {
        // one database whose locale is gone must not hide the others
        try {
          const actual = await client.query<{ version: string | null }>('SELECT pg_database_collation_actual_version($1) AS version', [row.oid]);
          entry.actual = actual.rows[0]?.version ?? null;
        } catch (error) {
          entry.error = redact(messageOf(error));
        }
      }
      collation.push(entry);
    }
    return collationDetail(collation, version);
  });
}

// ---------------------------------------------------------------------------------------------
// postgresql.connections

/** Every Knex pool WAHA opens has `pool: {min: 0, max: 10}` (postgres.md §1.1, PsqlStore.ts). */
export const POOL_MAX = 10;

/**
 * The pools a running session opens on the session server, by engine (WAHA Plus 2025.6 factories):
 * NOWEB `Session/Auth` + `Session/Storage`; WEBJS `Session/Auth` (RemoteAuth); WPP its `files` auth
 * pool [I]; GOWS connects itself (`application_name=GOWS`, Go's database/sql: its size is not WAHA's,
 * counted as one pool of 10 [I]). With PostgreSQL media on the same server: one `Media - Session` pool more.
 */
export const SESSION_POOLS: Record<Engine, number> = { NOWEB: 2, WEBJS: 1, WPP: 1, GOWS: 1 };
/** Per WAHA process: `Manager` (CREATE/DROP DATABASE) and `Sessions` (waha_<ns>); media adds its own `Media` one. */
export const PROCESS_POOLS = 2;

export interface ConnectionSettings {
  maxConnections: number;
  superuserReserved: number;
  /** reserved_connections (PostgreSQL 16+), 0 before. */
  reserved: number;
  /** Client connections now, not WAHA's and not this check's. */
  otherConnections: number;
  /** WAHA's own connections now (they are part of what WAHA needs, not extra). */
  wahaConnections: number;
}

export interface ExpectedSessions {
  /** Sessions by engine (`unknown`: the engine cannot be told; counted as the most demanding one). */
  byEngine: Partial<Record<Engine | 'unknown', number>>;
  /** WAHA processes (one per engine found; at least one). */
  processes: number;
  source: 'session_config' | 'expected-sessions';
}

export function connectionsNeeded(expected: ExpectedSessions, mediaOnServer: boolean): number {
  const media = mediaOnServer ? 1 : 0;
  const most = Math.max(...Object.values(SESSION_POOLS));
  let pools = expected.processes * (PROCESS_POOLS + media);
  for (const [engine, count] of Object.entries(expected.byEngine)) {
    pools += (count ?? 0) * ((engine === 'unknown' ? most : SESSION_POOLS[engine as Engine]) + media);
  }
  return pools * POOL_MAX;
}

export function connectionsDetail(settings: ConnectionSettings, expected: ExpectedSessions, mediaOnServer: boolean): CheckDetail {
  const needed = connectionsNeeded(expected, mediaOnServer);
  const available = settings.maxConnections - settings.superuserReserved - settings.reserved - settings.otherConnections;
  const sessions = Object.values(expected.byEngine).reduce((sum, count) => sum + (count ?? 0), 0);
  const fields = {
    maxConnections: settings.maxConnections,
    reserved: settings.superuserReserved + settings.reserved,
    otherConnections: settings.otherConnections,
    wahaConnections: settings.wahaConnections,
    // not `sessions`: the human summary reads that field as sessions.integrity's count
    sessionsExpected: sessions,
    sessionsFrom: expected.source,
    byEngine: expected.byEngine,
    needed,
    available,
  };
  const whose = expected.source === 'expected-sessions' ? '--expected-sessions' : 'session_config';
  const sum = `${plural(sessions, 'session')} (${whose}): WAHA's pools may open up to ${needed} connections (${POOL_MAX} a pool); ` +
    `max_connections ${settings.maxConnections} leaves ${available} (${fields.reserved} reserved, ${settings.otherConnections} used by others)`;
  if (needed <= available) return { status: 'up', ...fields, message: sum };
  const target = Math.max(3000, Math.ceil((needed + fields.reserved + settings.otherConnections) / 100) * 100);
  return {
    status: 'down',
    reason: 'max-connections',
    ...fields,
    detail: `${sum}: WAHA will fail with "sorry, too many clients already" (waha#1017)`,
    hint: `raise max_connections (read only at server start): ALTER SYSTEM SET max_connections = ${target}; then restart PostgreSQL ` +
      `(or max_connections = ${target} in postgresql.conf, or -c max_connections=${target} in the container's command; WAHA's docs advise 3000)`,
  };
}

export async function checkPostgresConnections(options: PreflightOptions): Promise<CheckDetail> {
  return run(options, 3, async (client, server) => {
    const { rows } = await client.query<{ max: number; su: number; reserved: number; others: string; waha: string }>(`
      SELECT current_setting('max_connections')::int AS max,
             current_setting('superuser_reserved_connections')::int AS su,
             coalesce(current_setting('reserved_connections', true), '0')::int AS reserved,
             count(*) FILTER (WHERE NOT coalesce(${WAHA_CONNECTION} OR application_name = '${APPLICATION}', false)) AS others,
             count(*) FILTER (WHERE ${WAHA_CONNECTION}) AS waha
        FROM pg_stat_activity WHERE backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL)`);
    const row = rows[0]!;
    const settings: ConnectionSettings = {
      maxConnections: row.max, superuserReserved: row.su, reserved: row.reserved,
      otherConnections: Number(row.others), wahaConnections: Number(row.waha),
    };
    const counted = await countSessions(client, server, options);
    const expected: ExpectedSessions = options.expectedSessions === undefined ? counted : {
      byEngine: { [mostDemanding(counted)]: options.expectedSessions },
      processes: Math.max(1, counted.processes),
      source: 'expected-sessions',
    };
    return connectionsDetail(settings, expected, Boolean(options.mediaOnServer));
  });
}

/** The engine whose sessions need the most pools among those found (NOWEB when none is). */
function mostDemanding(counted: ExpectedSessions): Engine | 'unknown' {
  const found = Object.keys(counted.byEngine).filter((engine) => engine !== 'unknown') as Engine[];
  if (!found.length) return 'NOWEB';
  return found.reduce((best, engine) => (SESSION_POOLS[engine] > SESSION_POOLS[best] ? engine : best));
}

/** session_config rows of the configured namespaces, by engine (a shared main: the engine whose database exists). */
async function countSessions(client: Client, server: PostgresServer, options: PreflightOptions): Promise<ExpectedSessions> {
  const databases = await allDatabases(client);
  const groups = groupsOf(options);
  const configs = await sessionConfigs(server, groups, databases);
  const byEngine: ExpectedSessions['byEngine'] = {};
  const engines = new Set<Engine>();
  const counted = new Set<string>();
  for (const group of groups) {
    for (const name of configs.get(group.main) ?? []) {
      const sharing = groups.filter((other) => other.main === group.main);
      const owner = sharing.find((other) => other.engines.length === 1 && databases.has(sessionDb(other, name)));
      const engine: Engine | 'unknown' = sharing.length === 1 && group.engines.length === 1 ? group.engines[0]! : owner ? owner.engines[0]! : 'unknown';
      const key = `${group.main}\u0000${name}`;
      if (counted.has(key)) continue; // a shared main's row is one session, not one per engine
      counted.add(key);
      byEngine[engine] = (byEngine[engine] ?? 0) + 1;
      if (engine !== 'unknown') engines.add(engine);
    }
  }
  const processes = Math.max(1, engines.size + (byEngine.unknown && !engines.size ? 1 : 0));
  return { byEngine, processes, source: 'session_config' };
}

// ---------------------------------------------------------------------------------------------
// postgresql.orphans

export interface Orphan {
  database: string;
  /** The main database whose session_config does not account for it. */
  main: string;
  bytes: number;
}

export function orphansDetail(orphans: readonly Orphan[], mains: readonly string[]): CheckDetail {
  const where = mains.join(', ');
  if (!orphans.length) return { status: 'up', orphans: [], message: `every waha_<ns>_<slug> database has its row in ${where}.session_config` };
  const shown = orphans.slice(0, SHOWN);
  const words = shown.map((orphan) => `${orphan.database} (${formatBytes(orphan.bytes)}, no row in ${orphan.main}.session_config)`);
  return {
    status: 'down',
    reason: 'orphan-databases',
    orphans,
    detail: `${plural(orphans.length, 'database')} no session accounts for: ${words.join(', ')}${orphans.length > SHOWN ? ` and ${orphans.length - SHOWN} more` : ''}` +
      ' (left by deleted sessions or a changed namespace; WAHA never lists or removes them)',
    // purge works by session name; an orphan has none (inspect and purge skip it), so the fix is PostgreSQL's own
    hint: `if nothing needs them (pg_dump one first to keep it): ${shown.map((orphan) => `DROP DATABASE ${quoteIdent(orphan.database)} WITH (FORCE)`).join('; ')}` +
      `${orphans.length > SHOWN ? ` and the same for the others in "orphans"` : ''}; if the namespace changed, set WAHA_NAMESPACE / WAHA_SESSION_NAMESPACE (--namespace, --session-namespace) back instead`,
  };
}

export async function checkPostgresOrphans(options: PreflightOptions): Promise<CheckDetail> {
  return run(options, 4, async (client, server) => {
    const databases = await allDatabases(client);
    const groups = groupsOf(options);
    const configs = await sessionConfigs(server, groups, databases);
    const mains = new Set(groups.map((group) => group.main));
    // a row accounts for its database in every session namespace that shares its main (the row does not say its engine)
    const known = new Set(groups.flatMap((group) => (configs.get(group.main) ?? []).map((name) => sessionDb(group, name))));
    const candidates = new Map<string, string>(); // database -> the main that should account for it
    for (const group of groups) {
      const prefix = `waha_${group.sessionNamespace}_`;
      for (const database of databases.keys()) {
        if (!database.startsWith(prefix) || mains.has(database) || known.has(database) || candidates.has(database)) continue;
        if (database.startsWith(STAGING_PREFIX) || database.startsWith(OLD_PREFIX)) continue; // our own uncommitted copies
        candidates.set(database, group.main);
      }
    }
    // another namespace's main database (it has session_config) and that namespace's databases are not ours
    const foreign = await otherNamespaces(server, candidates.keys());
    const orphans: Orphan[] = [];
    for (const [database, main] of candidates) {
      if (foreign.has(database)) continue;
      orphans.push({ database, main, bytes: databases.get(database) ?? 0 });
    }
    orphans.sort((a, b) => a.database.localeCompare(b.database));
    return orphansDetail(orphans, [...mains].sort());
  });
}

// ---------------------------------------------------------------------------------------------
// shared

interface Group {
  /** The main database `waha_<ns>`. */
  main: string;
  namespace: string;
  sessionNamespace: string;
  engines: Engine[];
}

/** WAHA's namespaces for every engine (the configured ones, else each engine's own name). */
function groupsOf(options: PreflightOptions): Group[] {
  const groups = new Map<string, Group>();
  for (const engine of ENGINES) {
    const namespaces = namespacesFor(engine, options);
    const key = `${namespaces.main}\u0000${namespaces.session}`;
    const group = groups.get(key) ?? { main: truncateIdentifier(mainDatabase(namespaces.main)), namespace: namespaces.main, sessionNamespace: namespaces.session, engines: [] };
    group.engines.push(engine);
    groups.set(key, group);
  }
  return [...groups.values()];
}

function sessionDb(group: Group, name: string): string {
  return databasesOf(group.engines.length === 1 ? group.engines[0]! : null, name, { namespace: group.namespace, sessionNamespace: group.sessionNamespace }).session;
}

/** Every database (not templates) with its size. */
async function allDatabases(client: Client): Promise<Map<string, number>> {
  const { rows } = await client.query<{ datname: string; bytes: string | null }>(
    "SELECT datname, CASE WHEN has_database_privilege(datname, 'CONNECT') THEN pg_database_size(datname) END AS bytes FROM pg_database WHERE NOT datistemplate");
  return new Map(rows.map((row) => [row.datname, Number(row.bytes ?? 0)]));
}

/** session_config ids of each main database that exists (a main without the table has none). */
async function sessionConfigs(server: PostgresServer, groups: readonly Group[], databases: Map<string, number>): Promise<Map<string, string[]>> {
  const configs = new Map<string, string[]>();
  for (const main of new Set(groups.map((group) => group.main))) {
    if (!databases.has(main)) continue;
    const ids = await server.with(main, async (client) => {
      if (!(await tableExists(client, 'session_config'))) return [];
      return (await client.query<{ id: string }>('SELECT id FROM session_config')).rows.map((row) => row.id);
    });
    configs.set(main, ids);
  }
  return configs;
}


/**
 * Opens the maintenance database and runs `work` within `factor` timeouts: a connection that fails is
 * `postgresql`'s down (same reason); a query that fails says which.
 */
async function run(options: PostgresCheckOptions, factor: number, work: (client: Client, server: PostgresServer) => Promise<CheckDetail>): Promise<CheckDetail> {
  await import('pg');
  const server = new PostgresServer({ url: options.url, timeoutMs: options.timeoutMs, applicationName: APPLICATION });
  const opened = server.connect();
  let connected = false;
  try {
    return await withTimeout(opened.then((client) => {
      connected = true;
      return work(client, server);
    }), factor * options.timeoutMs + GRACE_MS);
  } catch (error) {
    if (!connected) return postgresDown(error);
    return { status: 'down', reason: error instanceof CheckTimeout ? 'timeout' : 'error', detail: `the check could not finish: ${redact(messageOf(error))}` };
  } finally {
    opened.then((client) => client.end()).catch(() => {});
  }
}

function major(version: number): string {
  return version >= 100000 ? String(Math.floor(version / 10000)) : `${Math.floor(version / 10000)}.${Math.floor(version / 100) % 100}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
