/**
 * Reading one per-session database as store-neutral entries: NOWEB `auth` (ids raw, values
 * unwrapped from WAHA's `{id, data}`), the NOWEB store tables (rows as they are, `data` parsed),
 * WEBJS/WPP `files` (the zip streamed to a temporary file and unpacked). Rows come through a
 * server-side cursor, a page at a time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { describeJsonError } from '../../../util/json.js';
import { quoteIdent } from '../../../util/postgres.js';
import type { Engine } from '../../engines.js';
import { zipEntries } from '../mongo/store.js';
import { rowEntry } from '../noweb-store-sqlite.js';
import { EntryError, type SessionEntry, type SessionRef } from '../types.js';
import { authFileName, STORE_TABLE_NAMES } from './layout.js';
import { GOWS_DB } from '../../engines/gows.js';

const PAGE = 1000;

export async function tablesOf(client: Client): Promise<Set<string>> {
  const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  return new Set(rows.map((row) => row.tablename));
}

/** Rows of `query`, a page at a time, through a cursor in a read-only transaction. */
export async function* cursorRows<T>(client: Client, query: string, values: unknown[] = []): AsyncIterable<T> {
  const cursor = `wst_cursor_${Math.random().toString(36).slice(2, 10)}`;
  await client.query('BEGIN READ ONLY');
  try {
    await client.query({ text: `DECLARE ${cursor} NO SCROLL CURSOR FOR ${query}`, values });
    for (;;) {
      const { rows } = await client.query<T & object>(`FETCH ${PAGE} FROM ${cursor}`);
      for (const row of rows) yield row;
      if (rows.length < PAGE) break;
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Which engine a session database holds, from its tables (and the `files` row's name). */
export async function engineOf(client: Client, tables: Set<string>, ref: SessionRef): Promise<Engine | null> {
  if (tables.has('auth')) return 'NOWEB';
  if (tables.has('whatsmeow_device')) return 'GOWS';
  if (tables.has('files')) {
    if (ref.engine === 'WEBJS' || ref.engine === 'WPP') return ref.engine;
    const { rows } = await client.query<{ fullpath: string }>('SELECT fullpath FROM files WHERE fullpath = ANY($1)', [[authFileName('WEBJS', ref.name), authFileName('WPP', ref.name)]]);
    return rows.some((row) => row.fullpath === authFileName('WPP', ref.name)) ? 'WPP' : 'WEBJS';
  }
  return ref.engine;
}

export async function* readSessionDatabase(client: Client, database: string, ref: SessionRef): AsyncIterable<SessionEntry> {
  const tables = await tablesOf(client);
  const { isGowsDatabase, readGowsTables } = await import('./gows.js');
  if (ref.engine === 'GOWS' || isGowsDatabase(tables)) {
    // GOWS keeps no other table of WAHA's here (but media): the session is its gows.db
    if (isGowsDatabase(tables)) yield { kind: 'file', name: GOWS_DB, data: await readGowsTables(client, database) };
    return;
  }
  if (tables.has('files')) yield* readAuthFile(client, database, { engine: await engineOf(client, tables, ref), name: ref.name });
  if (tables.has('auth')) yield* readAuth(client, database);
  for (const table of STORE_TABLE_NAMES) {
    if (!tables.has(table)) continue;
    for await (const row of cursorRows<Record<string, unknown>>(client, `SELECT * FROM ${quoteIdent(table)}`)) {
      const value: Record<string, unknown> = { ...row };
      if (typeof row.data === 'string') {
        try {
          value.data = JSON.parse(row.data);
        } catch (error) {
          throw new EntryError('corrupt-file', `${database}: ${table} row ${String(row.id)} holds data that does not parse (${describeJsonError(error, row.data)})`);
        }
      }
      yield rowEntry(table, value);
    }
  }
}

async function* readAuth(client: Client, database: string): AsyncIterable<SessionEntry> {
  for await (const row of cursorRows<{ id: string; data: string | null }>(client, 'SELECT id, data FROM auth')) {
    yield { kind: 'key', name: row.id, value: unwrap(row.id, row.data, database) };
  }
}

/** WAHA's `{id, data}` wrapper (BufferJSON text) around a key's value. */
export function unwrap(id: string, text: string | null, database: string): unknown {
  const reason = id === 'creds' ? 'creds-corrupt' : 'corrupt-file';
  if (text === null) throw new EntryError(reason, `${database}: auth row "${id}" has no data; restore it from a backup`);
  let wrapper: unknown;
  try {
    wrapper = JSON.parse(text);
  } catch (error) {
    throw new EntryError(reason, `${database}: auth row "${id}" does not parse (${describeJsonError(error, text)}); restore it from a backup`);
  }
  if (!wrapper || typeof wrapper !== 'object' || !('data' in wrapper)) {
    throw new EntryError(reason, `${database}: auth row "${id}" is not WAHA's {id, data} wrapper`);
  }
  return (wrapper as { data: unknown }).data;
}

async function* readAuthFile(client: Client, database: string, ref: SessionRef): AsyncIterable<SessionEntry> {
  const { copyValueToFile } = await import('./bytea.js');
  const fullpath = authFileName(ref.engine, ref.name);
  const folder = await mkdtemp(path.join(os.tmpdir(), 'waha-storage-pgzip-'));
  const file = path.join(folder, fullpath);
  try {
    const found = await copyValueToFile(client, `SELECT content FROM files WHERE fullpath = ${client.escapeLiteral(fullpath)}`, file);
    if (found) yield* zipEntries(file, `${database} files ${fullpath}`);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
