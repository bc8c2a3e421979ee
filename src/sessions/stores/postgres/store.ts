/**
 * PostgreSQL as a transfer end (postgres.md §1): `waha_<ns>` holds `session_config`, `me`,
 * `session_worker` (TEXT `data` with WAHA's wrapper objects); `waha_<session ns>_<slug>` holds the
 * session's auth (NOWEB `auth` and store tables, WEBJS/WPP `files`).
 *
 * Writing: the copy goes into a database of its own (`waha_storage_stage_<hash>`, with a marker
 * table), which becomes the session's database by `ALTER DATABASE … RENAME` at commit; the replaced
 * database is first renamed to `waha_storage_old_<hash>` and dropped only once the new one is in
 * place. Then the main-database rows are written in one transaction, and only then the marker goes.
 * A run killed anywhere is settled by the next one: an old database without its session database
 * is renamed back; a session database that still has the marker is a leftover (copied again).
 */
import type { Client } from 'pg';
import { ENGINE_UNKNOWN_REFUSAL } from '../shared-main.js';
import { redact } from '../../../config/redact.js';
import { OperationError } from '../../../errors.js';
import { quoteIdent, serverVersion, type PostgresServer } from '../../../util/postgres.js';
import type { Engine } from '../../engines.js';
import { EntryError, type ListOptions, type Presence, type SessionEntry, type PurgeableStore, type PurgeMode, type PurgePart, type SessionRef, type StagedSession, type StoredSession } from '../types.js';
import { databasesOf, foreignDatabaseProblem, INCOMPLETE_MARKER, MAIN_DDL, WAHA_CONNECTION, type SessionDatabases } from './layout.js';
import { readSessionDatabase, tablesOf } from './read.js';

export interface PostgresStoreOptions {
  server: PostgresServer;
  namespace?: string;
  sessionNamespace?: string;
}

export class PostgresTransferStore implements PurgeableStore {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly server: PostgresServer;
  /** Main databases created (with WAHA's tables) in this run. */
  private readonly mains = new Map<string, Promise<void>>();
  private version: Promise<void> | undefined;

  constructor(private readonly options: PostgresStoreOptions) {
    this.server = options.server;
    this.location = options.server.location;
  }

  databases(ref: SessionRef): SessionDatabases {
    return databasesOf(ref.engine, ref.name, this.options);
  }

  /** Which of `names` exist on the server. */
  async existing(names: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.admin((client) => client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [names]));
    return new Set(rows.map((row) => row.datname));
  }

  /** Work on the URL's maintenance database (CREATE, DROP, RENAME DATABASE). */
  admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return this.server.pooled(undefined, work);
  }

  async list(options: ListOptions): Promise<StoredSession[]> {
    const { inspectPostgres } = await import('./inspect.js');
    const result = await inspectPostgres({ ...this.options, engines: options.engines, sessions: options.names, concurrency: 4 });
    const sessions: StoredSession[] = [];
    for (const report of result.sessions) {
      const session: StoredSession = { engine: report.engine, name: report.name };
      await this.settle(session);
      const orphan = report.problems.find((item) => item.code === 'orphan-database');
      const unreadable = report.problems.find((item) => item.code === 'unreadable');
      const incomplete = report.problems.find((item) => item.code === 'unexpected-content' && item.message.includes(INCOMPLETE_MARKER));
      if (report.problems.some((item) => item.code === 'engine-unknown')) session.refusal = { ...ENGINE_UNKNOWN_REFUSAL };
      else if (orphan) session.refusal = { status: 'skipped', reason: 'orphan-database', message: `${orphan.message}; its session name is unknown` };
      else if (unreadable) session.refusal = { status: 'failed', reason: 'unreadable', message: unreadable.message };
      else if (incomplete) session.refusal = { status: 'failed', reason: 'incomplete', message: `${this.databases(session).session} is marked incomplete (an interrupted migration into PostgreSQL); migrate it there again first` };
      sessions.push(session);
    }
    return sessions;
  }

  async *read(ref: SessionRef): AsyncIterable<SessionEntry> {
    const { session } = this.databases(ref);
    yield await this.readConfig(ref);
    if ((await this.existing([session])).has(session)) {
      const client = await this.server.connect(session);
      try {
        yield* readSessionDatabase(client, session, ref);
      } finally {
        await client.end().catch(() => {});
      }
    }
    yield* this.readMainRows(ref);
  }

  async *readMeta(ref: SessionRef): AsyncIterable<SessionEntry> {
    yield await this.readConfig(ref);
    yield* this.readMainRows(ref);
  }

  /** Runs `work` on the session's main database, or returns `fallback` when it does not exist. */
  private async onMain<T>(ref: SessionRef, fallback: T, work: (client: Client) => Promise<T>): Promise<T> {
    const { main } = this.databases(ref);
    if (!(await this.existing([main])).has(main)) return fallback;
    return this.server.pooled(main, async (client) => {
      const tables = await tablesOf(client);
      return tables.has('session_config') ? work(client) : fallback;
    });
  }

  private async readConfig(ref: SessionRef): Promise<SessionEntry> {
    const value = await this.onMain(ref, null, async (client) => {
      const { rows } = await client.query<{ data: string | null }>('SELECT data FROM session_config WHERE id = $1', [ref.name]);
      return rows[0] ? parseWrapper(rows[0].data, 'config', `session_config row "${ref.name}"`) as Record<string, unknown> | null : null;
    });
    // `{}` stays `{}` (a copy to another PostgreSQL keeps the row as it was); digests count it as no config
    return { kind: 'config', name: 'config', value: value && typeof value === 'object' ? value : null };
  }

  private async *readMainRows(ref: SessionRef): AsyncIterable<SessionEntry> {
    const rows = await this.onMain(ref, { me: undefined as unknown, worker: undefined as string | undefined }, async (client) => {
      const me = await client.query<{ data: string | null }>('SELECT data FROM me WHERE id = $1', [ref.name]);
      const worker = await client.query<{ worker: string | null }>('SELECT worker FROM session_worker WHERE id = $1', [ref.name]);
      return {
        me: me.rows[0] ? parseWrapper(me.rows[0].data, 'me', `me row "${ref.name}"`) : undefined,
        worker: worker.rows[0] ? worker.rows[0].worker ?? '' : undefined,
      };
    });
    if (rows.me !== undefined && rows.me !== null) yield { kind: 'me', name: 'me', value: rows.me };
    if (rows.worker !== undefined) yield { kind: 'worker', name: 'worker', value: rows.worker };
  }

  /** WAHA's connections to the session's database (pg_stat_activity), as evidence for a person. */
  async connections(database: string): Promise<string[]> {
    const { rows } = await this.admin((client) => client.query<{ pid: number; application_name: string; client_addr: string | null }>(
      `SELECT pid, application_name, client_addr FROM pg_stat_activity WHERE datname = $1 AND ${WAHA_CONNECTION} ORDER BY pid`, [database]));
    return rows.map((row) => `"${row.application_name}" (pid ${row.pid}${row.client_addr ? ` from ${row.client_addr}` : ''})`);
  }

  async liveness(ref: SessionRef): Promise<string | undefined> {
    const { session } = this.databases(ref);
    const connections = await this.connections(session);
    if (!connections.length) return undefined;
    return `WAHA is connected to ${session}: ${connections.slice(0, 3).join(', ')}${connections.length > 3 ? ` and ${connections.length - 3} more` : ''}`;
  }

  unsupported(): string | undefined {
    return undefined;
  }

  async presence(ref: SessionRef): Promise<Presence> {
    await this.settle(ref);
    const { session } = this.databases(ref);
    if ((await this.existing([session])).has(session)) {
      const tables = await this.server.with(session, tablesOf);
      if (tables.has(INCOMPLETE_MARKER)) return 'leftover';
      await this.assertWahaDatabase(session);
      return 'present';
    }
    const listed = await this.onMain(ref, false, async (client) => (await client.query('SELECT 1 FROM session_config WHERE id = $1', [ref.name])).rowCount! > 0);
    return listed ? 'present' : 'absent';
  }

  /**
   * Finishes what a killed commit left: the replaced database renamed back when the new one never
   * got its name, or dropped when the new one is in place.
   */
  async settle(ref: SessionRef): Promise<void> {
    const { session, old } = this.databases(ref);
    const existing = await this.existing([session, old]);
    if (!existing.has(old)) return;
    await this.admin(async (client) => {
      if (existing.has(session)) await client.query(`DROP DATABASE ${quoteIdent(old)} WITH (FORCE)`);
      else await client.query(`ALTER DATABASE ${quoteIdent(old)} RENAME TO ${quoteIdent(session)}`);
    });
  }

  /**
   * A database under a session's name that is not WAHA's (tables WAHA never creates, or none of
   * its auth tables) is someone else's: it is never compared, replaced or dropped. A `media` table
   * with rows (WAHA's media on the same server) would go with a replaced database: refused too.
   */
  async assertWahaDatabase(database: string, { replacing = false } = {}): Promise<void> {
    const found = await this.server.with(database, async (client) => {
      const { rows } = await client.query<{ schemaname: string; tablename: string }>(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2");
      const media = replacing && rows.some((row) => row.schemaname === 'public' && row.tablename === 'media')
        && (await client.query('SELECT 1 FROM media LIMIT 1')).rowCount! > 0;
      return { tables: rows.map((row) => (row.schemaname === 'public' ? row.tablename : `${row.schemaname}.${row.tablename}`)), media };
    });
    const problem = foreignDatabaseProblem(found.tables);
    if (problem) {
      throw new EntryError('foreign-database', `${database} exists but is not WAHA's (${problem}); it was left as it is: rename or drop it yourself, or migrate into another --to-session-namespace`);
    }
    if (found.media) {
      throw new EntryError('media-in-database', `${database} holds WAHA's media table with files, which replacing the database would drop; move or clean the media first (media clean postgres), then run again`);
    }
  }

  /** WAHA's DROP DATABASE … WITH (FORCE) needs PostgreSQL 13: checked once per run, before anything is written or removed. */
  requireVersion(): Promise<void> {
    this.version ??= this.admin(serverVersion).then(requireServerVersion);
    this.version.catch(() => { this.version = undefined; });
    return this.version;
  }

  async stage(ref: SessionRef, options: { replace: boolean }): Promise<StagedSession> {
    await this.requireVersion();
    await this.settle(ref);
    const databases = this.databases(ref);
    if (options.replace) {
      const live = await this.liveness(ref);
      if (live) throw new EntryError('target-live', `${live}; stop WAHA before replacing this session`);
      if ((await this.existing([databases.session])).has(databases.session)) await this.assertWahaDatabase(databases.session, { replacing: true });
    }
    await this.admin(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(databases.staging)} WITH (FORCE)`); // a killed run's copy
      await client.query(`CREATE DATABASE ${quoteIdent(databases.staging)}`);
    }).catch((error) => { throw permissionError(error, databases.staging); });
    const client = await this.server.connect(databases.staging);
    await client.query(`CREATE TABLE ${quoteIdent(INCOMPLETE_MARKER)} (session TEXT, started_at TIMESTAMP, pid INTEGER, tool TEXT)`);
    await client.query(`INSERT INTO ${quoteIdent(INCOMPLETE_MARKER)} VALUES ($1, now() AT TIME ZONE 'UTC', $2, 'waha-storage')`, [ref.name, process.pid]);
    const { PostgresStaged } = await import('./staged.js');
    return new PostgresStaged(this, ref, databases, client, options.replace);
  }

  /** The main database with WAHA's tables, created once per run. */
  async ensureMain(main: string): Promise<void> {
    let created = this.mains.get(main);
    if (!created) {
      created = (async () => {
        if (!(await this.existing([main])).has(main)) {
          await this.admin((client) => client.query(`CREATE DATABASE ${quoteIdent(main)}`)).catch(async (error) => {
            if ((error as { code?: string }).code === '42P04') return; // created meanwhile (another session of this run or WAHA)
            throw permissionError(error, main);
          });
        }
        await this.server.pooled(main, async (client) => {
          for (const statement of MAIN_DDL) await client.query(statement);
        });
      })();
      this.mains.set(main, created);
      created.catch(() => this.mains.delete(main));
    }
    await created;
  }

  /** WAHA's delete: the session database goes, then its session_config, me and session_worker rows in one transaction. */
  async remove(ref: SessionRef): Promise<void> {
    await this.requireVersion();
    await this.settle(ref);
    const { session } = this.databases(ref);
    // the database first: a run killed after it leaves a logged-out session that a rerun still lists and finishes
    await this.admin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(session)} WITH (FORCE)`));
    await this.onMain(ref, undefined, async (client) => {
      await client.query('BEGIN');
      try {
        await client.query('DELETE FROM session_config WHERE id = $1', [ref.name]);
        await client.query('DELETE FROM me WHERE id = $1', [ref.name]);
        await client.query('DELETE FROM session_worker WHERE id = $1', [ref.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  /** WAHA's logout: the session database and the me row; session_config and session_worker stay. */
  async logout(ref: SessionRef): Promise<void> {
    await this.requireVersion();
    await this.settle(ref);
    const { session } = this.databases(ref);
    await this.admin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(session)} WITH (FORCE)`));
    await this.onMain(ref, undefined, async (client) => { await client.query('DELETE FROM me WHERE id = $1', [ref.name]); });
  }

  /**
   * Before purging: the server answers for every session and WAHA is not connected to any of them
   * (its DROP DATABASE … WITH (FORCE) would cut a running session off). Throws; nothing is removed.
   */
  async preflightPurge(refs: readonly SessionRef[]): Promise<void> {
    for (const ref of refs) {
      let live: string | undefined;
      try {
        await this.onMain(ref, undefined, async (client) => { await client.query('SELECT 1 FROM session_config WHERE id = $1', [ref.name]); });
        live = await this.liveness(ref);
      } catch (error) {
        throw new OperationError(`Cannot purge: PostgreSQL (${this.location}) does not answer for "${ref.name}": ${redact((error as Error).message)}; nothing was removed`, {
          hint: "check the server and the role's rights (connect, and drop the waha_* databases it owns), then run again", cause: error,
        });
      }
      if (live) throw new OperationError(`Cannot purge "${ref.name}": ${live}; nothing was removed`, { hint: 'stop WAHA (or this session) first, then run again' });
    }
  }

  /** The parts of a session a purge removes, counted, so a half-done removal says what is gone. */
  purgeParts(ref: SessionRef, mode: PurgeMode): PurgePart[] {
    const { session, main } = this.databases(ref);
    const row = (table: string) => ({
      label: `the ${table} row in ${main}`, unit: 'rows',
      count: () => this.onMain(ref, 0, async (client) => (await client.query(`SELECT 1 FROM ${quoteIdent(table)} WHERE id = $1`, [ref.name])).rowCount ?? 0),
    });
    const parts: PurgePart[] = [
      { label: `the database ${session}`, unit: 'databases', count: async () => ((await this.existing([session])).has(session) ? 1 : 0) },
    ];
    if (mode === 'delete') parts.push(row('session_config'), row('session_worker'));
    parts.push(row('me'));
    return parts;
  }

  async close(): Promise<void> {
    await this.server.close(); // the kept connections to the maintenance and main databases
  }
}

/** WAHA's KV wrapper `{id, <field>: …}` in a TEXT `data` column. */
function parseWrapper(text: string | null, field: string, what: string): unknown {
  if (text === null) return null;
  let wrapper: unknown;
  try {
    wrapper = JSON.parse(text);
  } catch {
    throw new EntryError('config-corrupt', `the ${what} does not hold JSON`);
  }
  return wrapper && typeof wrapper === 'object' ? (wrapper as Record<string, unknown>)[field] ?? null : null;
}

/** A refused CREATE DATABASE becomes the session's failure, naming the right WAHA's role needs. */
export function permissionError(error: unknown, database: string): unknown {
  const { code, message } = error as { code?: string; message?: string };
  if (code === '42501' || /permission denied to create database/i.test(message ?? '')) {
    return new EntryError('not-authorized', `the PostgreSQL role may not create the database ${database}: WAHA keeps every session in a database of its own, ` +
      'so its role needs CREATEDB (ALTER ROLE <user> CREATEDB); grant it, or use a role that has it, and run again');
  }
  const collation = collationMismatch(error);
  if (collation) return new EntryError('template-collation', `creating ${database} failed: ${collation}`);
  return error;
}

/**
 * "template database "template1" has a collation version mismatch" (waha#1446: the OS's C library
 * was upgraded under the cluster): what to run, in PostgreSQL's order (rebuild, then record the version).
 */
export function collationMismatch(error: unknown): string | undefined {
  const { message, detail } = error as { message?: string; detail?: string };
  // also "… has a collation version, but no actual collation version could be determined" (the locale is gone)
  const match = /template database "([^"]+)" has a collation version( mismatch|, but no actual)/i.exec(message ?? '');
  if (!match) return undefined;
  const template = match[1]!;
  const what = match[2] === ' mismatch' ? 'has a collation version mismatch' : 'records a collation version the system can no longer determine';
  return `the template database ${template} ${what}${detail ? ` (${detail.replace(/\.$/, '')})` : ''}; ` +
    `as a superuser, connect to ${template} and run REINDEX DATABASE ${template}; then ALTER DATABASE ${template} REFRESH COLLATION VERSION; ` +
    `(databases created from it earlier may need the same: REINDEX, then REFRESH COLLATION VERSION), then run again (waha#1446)`;
}

/** WAHA drops session databases WITH (FORCE), new in PostgreSQL 13. */
export function requireServerVersion(versionNum: number): void {
  if (versionNum >= 130000) return;
  const major = versionNum >= 100000 ? Math.floor(versionNum / 10000) : `${Math.floor(versionNum / 10000)}.${Math.floor(versionNum / 100) % 100}`;
  throw new OperationError(`PostgreSQL ${major} is too old: WAHA (and this tool) need PostgreSQL 13 or newer, for DROP DATABASE … WITH (FORCE); nothing was changed`, {
    hint: 'upgrade the server to PostgreSQL 13 or newer (WAHA\'s docs use 17)', code: 'postgres-version',
  });
}
