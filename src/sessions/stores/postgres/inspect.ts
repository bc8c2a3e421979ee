/**
 * Reads the PostgreSQL session store as WAHA lays it out (postgres.md §1.2-1.4): `waha_<ns>` with
 * `session_config`, `me`, `session_worker`, and one `waha_<session ns>_<slug>` database per session.
 * Sessions come from `session_config` ids (never from parsing database names: the slug is lossy);
 * a database no row accounts for is an orphan; a row without a database is a logged-out session.
 * Sizes come from pg_database_size; only key ids are read, never whole values, except creds.
 */
import pLimit from 'p-limit';
import { configOwner, ENGINE_UNKNOWN_MESSAGE, missingNamespace } from '../shared-main.js';
import type { Client } from 'pg';
import type { PostgresServer } from '../../../util/postgres.js';
import { markSlugCollisions } from '../../collisions.js';
import { namespacesFor, type Engine } from '../../engines.js';
import * as noweb from '../../engines/noweb.js';
import { sessionNameProblem } from '../../names.js';
import { problem, type Problem } from '../../problems.js';
import type { InspectResult, SessionMe, SessionReport } from '../../report.js';
import { authFileName, databasesOf, INCOMPLETE_MARKER, OLD_PREFIX, STAGING_PREFIX, STORE_TABLE_NAMES, truncateIdentifier, WAHA_CONNECTION } from './layout.js';
import { engineOf, tablesOf, unwrap } from './read.js';
import { otherNamespaces } from './foreign-mains.js';
import { sessionEntries, zipEntriesAt } from '../../entries.js';
import { Readable } from 'node:stream';

export interface PostgresInspectOptions {
  server: PostgresServer;
  namespace?: string;
  sessionNamespace?: string;
  engines: readonly Engine[];
  sessions?: readonly string[];
  concurrency: number;
}

interface Group {
  main: string;
  session: string;
  engines: Engine[];
}

interface MainContents {
  configs: Map<string, Record<string, unknown> | null>;
  me: Map<string, SessionMe>;
  workers: Map<string, string | null>;
}

export async function inspectPostgres(options: PostgresInspectOptions): Promise<InspectResult> {
  const { server } = options;
  const [databases, connected] = await server.with(undefined, async (client) => {
    const names = (await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE NOT datistemplate')).rows.map((row) => row.datname);
    const activity = await client.query<{ datname: string; pid: number; application_name: string }>(
      `SELECT datname, pid, application_name FROM pg_stat_activity WHERE datname IS NOT NULL AND ${WAHA_CONNECTION} ORDER BY pid`);
    const byDatabase = new Map<string, string[]>();
    for (const row of activity.rows) byDatabase.set(row.datname, [...(byDatabase.get(row.datname) ?? []), `"${row.application_name}" (pid ${row.pid})`]);
    return [new Set(names), byDatabase] as const;
  });
  const wanted = options.sessions?.length ? new Set(options.sessions) : undefined;
  const limit = pLimit(options.concurrency);
  const sessions: SessionReport[] = [];
  const problems: Problem[] = [];
  const mains = new Set(groupsOf(options).map((group) => truncateIdentifier(`waha_${group.main}`)));

  const groups = groupsOf(options);
  for (const group of groups) {
    const engineHint = group.engines.length === 1 ? group.engines[0]! : null;
    const mainName = truncateIdentifier(`waha_${group.main}`);
    const main = databases.has(mainName) ? await server.with(mainName, readMain) : emptyMain();
    const prefix = `waha_${group.session}_`;
    const dbOf = (name: string) => databasesOf(engineHint, name, { namespace: group.main, sessionNamespace: group.session }).session;
    const known = new Set([...main.configs.keys()].map(dbOf));
    const refs: { name: string; database: string; orphan: boolean; engineUnknown?: boolean }[] = [];
    for (const name of main.configs.keys()) {
      const owner = configOwner(groups, group, (other) => databases.has(databasesOf(other.engines.length === 1 ? other.engines[0]! : null, name, { namespace: other.main, sessionNamespace: other.session }).session));
      if (owner !== 'elsewhere') refs.push({ name, database: dbOf(name), orphan: false, engineUnknown: owner === 'engine-unknown' });
    }
    const candidates = [...databases].filter((database) => database.startsWith(prefix) && !mains.has(database) && !known.has(database)
      && !database.startsWith(STAGING_PREFIX) && !database.startsWith(OLD_PREFIX));
    const foreign = await otherNamespaces(server, candidates);
    for (const database of candidates) {
      if (!foreign.has(database)) refs.push({ name: database.slice(prefix.length), database, orphan: true });
    }
    const selected = refs.filter((ref) => !wanted || wanted.has(ref.name)).sort((a, b) => a.name.localeCompare(b.name));
    const reports = await Promise.all(selected.map((ref) => limit(async () => {
      const report: SessionReport = {
        engine: ref.engineUnknown ? null : engineHint,
        name: ref.name,
        store: 'postgres',
        loggedIn: null,
        me: main.me.get(ref.name) ?? null,
        config: main.configs.get(ref.name) ?? null,
        worker: main.workers.get(ref.name) ?? null,
        entries: 0,
        bytes: 0,
        lastChange: null,
        problems: [],
        details: { location: ref.database },
      };
      const nameProblem = sessionNameProblem(ref.name);
      if (nameProblem && !ref.orphan) report.problems.push(problem('invalid-name', `the session name "${ref.name}" ${nameProblem}`));
      if (ref.orphan) report.problems.push(problem('orphan-database', `database ${ref.database} has no row in ${mainName}.session_config`));
      if (ref.engineUnknown) report.problems.push(problem('engine-unknown', ENGINE_UNKNOWN_MESSAGE));
      if (!databases.has(ref.database)) {
        report.loggedIn = false;
        report.problems.push(problem('no-auth', `no database ${ref.database} (WAHA drops it on logout)`));
        report.entries = sessionEntries({ me: report.me !== null, worker: main.workers.has(ref.name), auth: 0 });
        return report;
      }
      const connections = connected.get(ref.database);
      if (connections?.length) {
        report.details.connections = connections;
        report.problems.push(problem('waha-connected', `WAHA is connected to ${ref.database}: ${connections.slice(0, 3).join(', ')}`));
      }
      try {
        await server.with(ref.database, (client) => analyseSessionDb(client, report, engineHint));
      } catch (error) {
        report.problems.push(problem('unreadable', `${ref.database}: ${(error as Error).message}`));
      }
      // what a transfer reads: the config, me, worker and the auth (src/sessions/entries.ts)
      report.entries = sessionEntries({ me: report.me !== null, worker: main.workers.has(ref.name), auth: report.entries });
      return report;
    })));
    problems.push(...markSlugCollisions(reports));
    sessions.push(...reports);
  }
  for (const namespace of new Set([options.namespace, options.sessionNamespace])) {
    const missing = missingNamespace(namespace, databases, 'PostgreSQL');
    if (missing) problems.push(missing);
  }
  return { sessions, problems };
}

function groupsOf(options: PostgresInspectOptions): Group[] {
  const groups = new Map<string, Group>();
  for (const engine of options.engines) {
    const namespaces = namespacesFor(engine, options);
    const key = `${namespaces.main}\u0000${namespaces.session}`;
    const group = groups.get(key) ?? { main: namespaces.main, session: namespaces.session, engines: [] };
    group.engines.push(engine);
    groups.set(key, group);
  }
  return [...groups.values()];
}

function emptyMain(): MainContents {
  return { configs: new Map(), me: new Map(), workers: new Map() };
}

function parse(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

async function readMain(client: Client): Promise<MainContents> {
  const contents = emptyMain();
  const tables = await tablesOf(client);
  if (tables.has('session_config')) {
    for (const row of (await client.query<{ id: string; data: string | null }>('SELECT id, data FROM session_config')).rows) {
      const config = parse(row.data)?.config as Record<string, unknown> | null | undefined;
      contents.configs.set(row.id, config && typeof config === 'object' && Object.keys(config).length ? config : null);
    }
  }
  if (tables.has('me')) {
    for (const row of (await client.query<{ id: string; data: string | null }>('SELECT id, data FROM me')).rows) {
      const me = parse(row.data)?.me as { id?: unknown; pushName?: unknown } | null | undefined;
      if (me && typeof me.id === 'string') contents.me.set(row.id, { id: me.id, pushName: typeof me.pushName === 'string' ? me.pushName : null });
    }
  }
  if (tables.has('session_worker')) {
    for (const row of (await client.query<{ id: string; worker: string | null }>('SELECT id, worker FROM session_worker')).rows) {
      contents.workers.set(row.id, row.worker ?? null);
    }
  }
  return contents;
}

async function analyseSessionDb(client: Client, report: SessionReport, engineHint: Engine | null): Promise<void> {
  const tables = await tablesOf(client);
  const size = await client.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size');
  report.bytes = Number(size.rows[0]?.size ?? 0);
  if (tables.has(INCOMPLETE_MARKER)) {
    report.problems.push(problem('unexpected-content', `${report.details.location} holds ${INCOMPLETE_MARKER}: an interrupted copy by waha-storage (migrate it there again)`));
  }
  const engine = await engineOf(client, tables, { engine: engineHint, name: report.name });
  if (tables.has('auth')) {
    report.engine = 'NOWEB';
    report.details.nowebStore = STORE_TABLE_NAMES.some((table) => tables.has(table));
    await analyseNowebAuth(client, report, tables);
  } else if (tables.has('whatsmeow_device')) {
    report.engine = 'GOWS';
    const devices = await client.query<{ jid: string; push_name: string | null }>('SELECT jid, push_name FROM whatsmeow_device');
    report.details.devices = devices.rows.length;
    report.details.account = devices.rows[0]?.jid;
    if (devices.rows[0]) report.details.pushName = devices.rows[0].push_name || null;
    if (tables.has('whatsmeow_version')) {
      const version = await client.query<{ version: number | null }>('SELECT version FROM whatsmeow_version LIMIT 1');
      report.details.whatsmeowVersion = version.rows[0]?.version ?? null;
    }
    const sizes = await client.query<{ name: string; bytes: string }>(
      "SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1");
    report.details.tables = Object.fromEntries(sizes.rows.map((row) => [row.name, Number(row.bytes)]));
    report.loggedIn = devices.rows.length > 0;
    report.entries = 1; // the session's tables travel as one gows.db
    if (devices.rows.length > 1) report.problems.push(problem('gows-multiple-devices', `${devices.rows.length} rows in whatsmeow_device`));
  } else if (tables.has('files')) {
    report.engine = engine;
    await analyseFiles(client, report);
  } else {
    report.loggedIn = false;
    report.problems.push(problem('no-auth', `database ${report.details.location} holds no auth`));
  }
}

async function analyseNowebAuth(client: Client, report: SessionReport, tables: ReadonlySet<string>): Promise<void> {
  const keysByCategory: Record<string, number> = {};
  let count = 0;
  for (const row of (await client.query<{ id: string }>('SELECT id FROM auth')).rows) {
    noweb.countCategory(keysByCategory, row.id);
    count++;
  }
  let storeRows = 0;
  for (const table of STORE_TABLE_NAMES) {
    if (tables.has(table)) storeRows += Number((await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "${table}"`)).rows[0]!.n);
  }
  report.entries = count + storeRows;
  report.details.keysByCategory = keysByCategory;
  const { rows } = await client.query<{ data: string | null }>("SELECT data FROM auth WHERE id = 'creds'");
  if (!rows[0]) {
    report.loggedIn = false;
    report.problems.push(count ? problem('creds-missing', `${count} keys but no creds`) : problem('no-auth', 'the auth table is empty'));
    return;
  }
  let creds: unknown;
  try {
    creds = unwrap('creds', rows[0].data, report.details.location);
  } catch (error) {
    report.loggedIn = null;
    report.problems.push(problem('creds-corrupt', (error as Error).message));
    return;
  }
  if (!creds || typeof creds !== 'object') {
    report.loggedIn = false;
    report.problems.push(problem('creds-corrupt', 'creds holds no object'));
    return;
  }
  report.loggedIn = noweb.isLoggedIn(creds as Record<string, unknown>);
  report.details.account = noweb.credsMe(creds as Record<string, unknown>)?.id;
}

/** WEBJS RemoteAuth / WPP zip in `files`: one row (upserted by fullpath); times are UTC wall-clock. */
async function analyseFiles(client: Client, report: SessionReport): Promise<void> {
  const fullpath = authFileName(report.engine, report.name);
  const { rows } = await client.query<{ bytes: string; created: string | null }>(
    "SELECT octet_length(content) AS bytes, to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS created FROM files WHERE fullpath = $1", [fullpath]);
  report.details.revisions = rows.length;
  if (!rows[0]) {
    report.loggedIn = false;
    report.problems.push(problem('no-auth', `no ${fullpath} in table files`));
    return;
  }
  const length = Number(rows[0].bytes);
  // the zip's central directory, read in ranges of the bytea: the files a transfer reads from it
  report.entries = await zipEntriesAt(length, (start, end) => Readable.from((async function* () {
    const part = await client.query<{ chunk: Buffer }>('SELECT substring(content FROM $1 FOR $2) AS chunk FROM files WHERE fullpath = $3',
      [start + 1, end - start, fullpath]);
    yield part.rows[0]!.chunk;
  })())).catch(() => {
    report.problems.push(problem('webjs-zip-corrupt', `${fullpath} in table files is not a readable zip`));
    return 0;
  });
  report.details.authBytes = length;
  report.lastChange = rows[0].created;
}
