/**
 * The NOWEB store (`store.sqlite3`, waha-facts §1.3) as rows: each table's columns, with `data`
 * (BufferJSON text in SQLite) as a parsed tree, the shape the MongoDB collections hold (§2.3).
 */
import { describeJsonError } from '../../util/json.js';
import { Database, openReadOnly, type Statement } from '../../util/sqlite.js';
import { EntryError, type SessionEntry } from './types.js';

/** WAHA's tables and their columns, in WAHA's order (`data` last). */
export const STORE_TABLES: Record<string, readonly string[]> = {
  contacts: ['id', 'data'],
  chats: ['id', 'conversationTimestamp', 'data'],
  groups: ['id', 'data'],
  messages: ['jid', 'id', 'messageTimestamp', 'data'],
  labels: ['id', 'data'],
  labelAssociations: ['id', 'type', 'labelId', 'chatId', 'messageId', 'data'],
  lid_map: ['id', 'pn', 'data'],
};

export const STORE_WAL_FILES = ['store.sqlite3-wal', 'store.sqlite3-shm', 'store.sqlite3-journal'];

const STORE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS contacts (id TEXT PRIMARY KEY, data TEXT);
  CREATE TABLE IF NOT EXISTS chats (id TEXT PRIMARY KEY, "conversationTimestamp" INTEGER, data TEXT);
  CREATE TABLE IF NOT EXISTS groups (id TEXT PRIMARY KEY, data TEXT);
  CREATE TABLE IF NOT EXISTS messages (jid TEXT, id TEXT, "messageTimestamp" INTEGER, data TEXT);
  CREATE UNIQUE INDEX IF NOT EXISTS messages_id_index ON messages (id);
  CREATE TABLE IF NOT EXISTS labels (id TEXT PRIMARY KEY, data TEXT);
  CREATE TABLE IF NOT EXISTS "labelAssociations" (id TEXT PRIMARY KEY, type TEXT, "labelId" TEXT, "chatId" TEXT, "messageId" TEXT, data TEXT);
  CREATE TABLE IF NOT EXISTS lid_map (id TEXT PRIMARY KEY, pn TEXT, data TEXT);
`;

export function rowEntry(table: string, value: Record<string, unknown>): Extract<SessionEntry, { kind: 'row' }> {
  return { kind: 'row', name: `${table}/${String(value.id)}`, table, value };
}

export async function* readStoreSqlite(file: string): AsyncIterable<SessionEntry> {
  let db: Database;
  try {
    db = openReadOnly(file, 5000);
  } catch (error) {
    throw new EntryError('sqlite-unreadable', `${file}: ${(error as Error).message}`);
  }
  try {
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
    for (const table of Object.keys(STORE_TABLES)) {
      if (!tables.has(table)) continue;
      for (const row of db.prepare(`SELECT * FROM "${table}"`).iterate() as Iterable<Record<string, unknown>>) {
        const value: Record<string, unknown> = { ...row };
        if (typeof row.data === 'string') {
          try {
            value.data = JSON.parse(row.data);
          } catch (error) {
            throw new EntryError('corrupt-file', `${file}: ${table} row ${String(row.id)} holds data that does not parse (${describeJsonError(error, row.data)})`);
          }
        }
        yield rowEntry(table, value);
      }
    }
  } catch (error) {
    if (error instanceof EntryError) throw error;
    throw new EntryError('sqlite-unreadable', `${file}: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

/** Appends rows to `store.sqlite3` (created with WAHA's schema in WAL mode), in one transaction. */
export function writeStoreSqlite(file: string, rows: readonly Extract<SessionEntry, { kind: 'row' }>[]): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(STORE_SCHEMA);
    const statements = new Map<string, Statement>();
    db.transaction(() => {
      for (const row of rows) {
        const columns = STORE_TABLES[row.table];
        if (!columns) throw new EntryError('unknown-table', `the NOWEB store has no table "${row.table}"`);
        let statement = statements.get(row.table);
        if (!statement) {
          statement = db.prepare(`INSERT INTO "${row.table}" (${columns.map((column) => `"${column}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
          statements.set(row.table, statement);
        }
        statement.run(...columns.map((column) => {
          const value = row.value[column];
          if (value === undefined || value === null) return null;
          if (column === 'data') return JSON.stringify(value);
          return typeof value === 'boolean' ? Number(value) : value as string | number;
        }));
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
