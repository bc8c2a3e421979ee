/**
 * One session being written into PostgreSQL: everything goes into the staging database (WAHA's
 * tables, created with WAHA's DDL; indexes after the bulk insert), config/me/worker are held and
 * written to the main database at commit in one transaction (see store.ts for the commit order).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { quoteIdent } from '../../../util/postgres.js';
import { STORE_TABLES } from '../noweb-store-sqlite.js';
import { EntryError, type SessionEntry, type SessionRef, type StagedSession } from '../types.js';
import { AUTH_DDL, authFileName, FILES_DDL, INCOMPLETE_MARKER, STORE_DDL, type SessionDatabases } from './layout.js';
import { readSessionDatabase, tablesOf } from './read.js';
import type { PostgresTransferStore } from './store.js';
import { ZipFileWriter } from './zip.js';
import { GOWS_DB } from '../../engines/gows.js';

/** Rows (and bytes of auth values) held before one COPY sends them: a few MB per session at most. */
const BATCH = 5000;
const BATCH_BYTES = 8 * 1024 * 1024;

export class PostgresStaged implements StagedSession {
  private config: Record<string, unknown> | null = null;
  private me: unknown;
  private worker: string | undefined;
  private keys: unknown[][] = [];
  private keyBytes = 0;
  private readonly rows = new Map<string, unknown[][]>();
  /** Tables created (their DDL's first statement) and those whose indexes exist too. */
  private readonly created = new Set<string>();
  private readonly indexed = new Set<string>();
  private zip: { writer: ZipFileWriter; folder: string } | undefined;
  private closed = false;
  private gows = false;

  constructor(
    private readonly store: PostgresTransferStore,
    private readonly ref: SessionRef,
    private readonly databases: SessionDatabases,
    private readonly client: Client,
    private readonly replace: boolean,
  ) {}

  async write(entry: SessionEntry): Promise<void> {
    switch (entry.kind) {
      case 'config':
        this.config = entry.value;
        return;
      case 'me':
        this.me = entry.value;
        return;
      case 'worker':
        this.worker = entry.value;
        return;
      case 'key': {
        const id = authId(entry);
        const data = JSON.stringify({ id, data: entry.value });
        this.keys.push([id, data]);
        this.keyBytes += data.length;
        if (this.keys.length >= BATCH || this.keyBytes >= BATCH_BYTES) await this.flushKeys();
        return;
      }
      case 'row': {
        const batch = this.rows.get(entry.table) ?? [];
        batch.push(rowValues(entry));
        this.rows.set(entry.table, batch);
        if (batch.length >= BATCH) await this.flushRows(entry.table);
        return;
      }
      case 'file':
        if (this.ref.engine === 'GOWS') return this.writeGows(entry.name, entry.data);
        return this.addFile(entry.name, entry.data);
      default: {
        // an empty folder of the profile (entries of kind 'dir'): kept in the zip as a directory entry
        const other = entry as { kind: string; name: string };
        if (other.kind === 'dir' && this.ref.engine === 'GOWS') throw gowsOnly(other.name, 'folder');
        if (other.kind === 'dir') return (await this.openZip()).addDirectory(other.name);
        throw new EntryError('unknown-entry', `PostgreSQL cannot hold an entry of kind "${other.kind}" (${other.name})`);
      }
    }
  }

  /** GOWS: gows.db's tables become this database's; nothing else of the folder has a place here. */
  private async writeGows(name: string, data: Buffer): Promise<void> {
    if (name !== GOWS_DB) throw gowsOnly(name, 'file');
    if (this.gows) throw new EntryError('duplicate', `two ${GOWS_DB} entries for one session; nothing was committed`);
    this.gows = true;
    const { writeGowsTables } = await import('./gows.js');
    await writeGowsTables(this.client, data, this.databases.session);
  }

  private async openZip(): Promise<ZipFileWriter> {
    if (!this.zip) {
      const folder = await mkdtemp(path.join(os.tmpdir(), 'waha-storage-pgzip-'));
      this.zip = { folder, writer: new ZipFileWriter(path.join(folder, 'auth.zip')) };
    }
    return this.zip.writer;
  }

  private async createTable(name: string, ddl: readonly string[]): Promise<void> {
    if (this.created.has(name)) return;
    await this.client.query(ddl[0]!);
    this.created.add(name);
  }

  /** One COPY … FROM STDIN per batch: the cheapest way into PostgreSQL (no parameters to bind, one round trip). */
  private async insert(table: string, columns: readonly string[], batch: unknown[][]): Promise<void> {
    const { copyRows } = await import('./copy.js');
    await copyRows(this.client, table, columns, batch);
  }

  private async flushKeys(): Promise<void> {
    if (!this.keys.length) return;
    const batch = this.keys;
    this.keys = [];
    this.keyBytes = 0;
    await this.createTable('auth', AUTH_DDL);
    await this.insert('auth', ['id', 'data'], batch).catch((error) => { throw duplicate(error, 'auth'); });
  }

  private async flushRows(table: string): Promise<void> {
    const batch = this.rows.get(table);
    if (!batch?.length) return;
    this.rows.set(table, []);
    await this.createTable(table, STORE_DDL[table]!);
    await this.insert(table, STORE_TABLES[table]!, batch).catch((error) => { throw duplicate(error, table); });
  }

  private async addFile(name: string, data: Buffer): Promise<void> {
    await (await this.openZip()).add(name, data);
  }

  async flush(): Promise<void> {
    await this.flushKeys();
    for (const table of this.rows.keys()) await this.flushRows(table);
    // WAHA's indexes after the bulk insert: cheaper than maintaining them per batch; a duplicate fails here
    for (const name of this.created) {
      if (this.indexed.has(name)) continue;
      const ddl = name === 'auth' ? AUTH_DDL : STORE_DDL[name]!;
      for (const statement of ddl.slice(1)) await this.client.query(statement).catch((error) => { throw duplicate(error, name); });
      this.indexed.add(name);
    }
    if (this.zip) {
      const { writer, folder } = this.zip;
      this.zip = undefined;
      try {
        await writer.end();
        for (const statement of FILES_DDL) await this.client.query(statement);
        const { copyFileIntoRow } = await import('./bytea.js');
        // WAHA's saveFromFile: COPY into a temporary table, then one upsert; times are UTC wall-clock (timestamp without time zone)
        await copyFileIntoRow(this.client, writer.file, {
          text: `INSERT INTO files (fullpath, content, created_at, last_accessed_at, metadata)
                 SELECT $1, content, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', '{}'::jsonb FROM _waha_copy_tmp
                 ON CONFLICT (fullpath) DO UPDATE SET content = excluded.content, created_at = excluded.created_at, last_accessed_at = excluded.last_accessed_at`,
          values: [authFileName(this.ref.engine, this.ref.name)],
        });
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    }
  }

  async *read(): AsyncIterable<SessionEntry> {
    yield { kind: 'config', name: 'config', value: this.config };
    yield* readSessionDatabase(this.client, this.databases.staging, this.ref);
    if (this.me !== undefined) yield { kind: 'me', name: 'me', value: this.me };
    if (this.worker !== undefined) yield { kind: 'worker', name: 'worker', value: this.worker };
  }

  async commit(): Promise<void> {
    await this.flush();
    const { session, staging, old, main } = this.databases;
    const hasAuth = [...(await tablesOf(this.client))].some((table) => table !== INCOMPLETE_MARKER);
    await this.closeClient(); // a database with connections cannot be renamed
    await this.store.ensureMain(main);
    const existing = await this.store.existing([session]);
    await this.store.admin(async (admin) => {
      if (existing.has(session)) {
        if (!this.replace) throw new EntryError('exists', `${session} appeared while copying; run again`);
        await this.store.assertWahaDatabase(session, { replacing: true }); // never someone else's database, whatever came since the plan
        await admin.query(`ALTER DATABASE ${quoteIdent(session)} RENAME TO ${quoteIdent(old)}`);
      }
      // a session without auth has no database (WAHA drops it on logout)
      if (hasAuth) await admin.query(`ALTER DATABASE ${quoteIdent(staging)} RENAME TO ${quoteIdent(session)}`);
      else await admin.query(`DROP DATABASE ${quoteIdent(staging)} WITH (FORCE)`);
    });
    await this.server().pooled(main, (client) => this.writeMainRows(client));
    if (hasAuth) await this.server().with(session, (client) => client.query(`DROP TABLE ${quoteIdent(INCOMPLETE_MARKER)}`));
    await this.store.admin((admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(old)} WITH (FORCE)`));
  }

  private server() {
    return this.store.server;
  }

  /** session_config, me and session_worker as WAHA's SqlKVRepository writes them, in one transaction. */
  private async writeMainRows(client: Client): Promise<void> {
    const name = this.ref.name;
    await client.query('BEGIN');
    try {
      if (this.me === undefined) await client.query('DELETE FROM me WHERE id = $1', [name]);
      else await client.query('INSERT INTO me (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data', [name, JSON.stringify({ id: name, me: this.me })]);
      if (this.worker === undefined) await client.query('DELETE FROM session_worker WHERE id = $1', [name]);
      else {
        await client.query('INSERT INTO session_worker (id, worker, data) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET worker = excluded.worker, data = excluded.data',
          [name, this.worker, JSON.stringify({ id: name, worker: this.worker })]);
      }
      await client.query('INSERT INTO session_config (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
        [name, JSON.stringify({ id: name, config: this.config ?? null })]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.zip) {
      await this.zip.writer.end().catch(() => {});
      await rm(this.zip.folder, { recursive: true, force: true });
      this.zip = undefined;
    }
    await this.closeClient();
    await this.store.admin((admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(this.databases.staging)} WITH (FORCE)`));
  }

  private async closeClient(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.end().catch(() => {});
  }
}

/** NOWEB auth ids are the logical keys, raw (no escaping in PostgreSQL). */
function authId(entry: Extract<SessionEntry, { kind: 'key' }>): string {
  if (!entry.only) return entry.name;
  const where = entry.only.store === 'file' ? 'key file' : 'MongoDB key';
  throw new EntryError('key-name', `the ${where} "${entry.name}" cannot be named in PostgreSQL without guessing (${entry.only.why}); nothing was committed`);
}

/** A NOWEB store row as WAHA's columns; `data` as BufferJSON text, which WAHA keeps free of NUL characters. */
function rowValues(entry: Extract<SessionEntry, { kind: 'row' }>): unknown[] {
  const columns = STORE_TABLES[entry.table];
  if (!columns) throw new EntryError('unknown-table', `the NOWEB store has no table "${entry.table}"`);
  const extra = Object.keys(entry.value).filter((field) => !columns.includes(field) && entry.value[field] !== undefined);
  if (extra.length) throw new EntryError('row-columns', `${entry.name} holds ${extra.join(', ')}, which WAHA's PostgreSQL table ${entry.table} has no column for`);
  return columns.map((column) => {
    const value = entry.value[column];
    if (value === undefined || value === null) return null;
    if (column !== 'data') return typeof value === 'boolean' ? Number(value) : value;
    const text = JSON.stringify(value);
    if (text.includes('\\u0000')) {
      throw new EntryError('nul-character', `${entry.name} holds a NUL character, which WAHA strips from PostgreSQL rows (it would not be the same row); remove it at the source`);
    }
    return text;
  });
}

function gowsOnly(name: string, what: string): EntryError {
  return new EntryError('gows-file', `the GOWS session folder holds the ${what} ${name}: PostgreSQL keeps a GOWS session as the tables of ${GOWS_DB} only, so it has no place there; move it out of the session folder and run again`);
}

function duplicate(error: unknown, table: string): unknown {
  if ((error as { code?: string }).code === '23505') return new EntryError('duplicate', `two entries of ${table} have the same id (${(error as { detail?: string }).detail ?? ''}); nothing was committed`);
  return error;
}
