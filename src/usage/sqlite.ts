/**
 * The space of each table of a SQLite file (store.sqlite3, gows.db), read-only (src/util/sqlite.ts:
 * no -wal or -shm appears, a running WAHA is not disturbed). With SQLite's `dbstat` virtual table
 * (better-sqlite3 is built with SQLITE_ENABLE_DBSTAT_VTAB): the pages of each table and of its
 * indexes, and the rows as the cells of its leaf pages, exact, in the one pass dbstat makes over
 * the file. Without dbstat: rows counted, and the used pages shared out by each table's payload
 * (an estimate).
 */
import { openReadOnly, type Database } from '../util/sqlite.js';
import type { TableUsage } from './report.js';

export interface SqliteUsage {
  /** Per table, its own pages plus its indexes'. */
  tables: Map<string, TableUsage>;
  /** page_count * page_size: the database as SQLite sees it (WAL pages included). */
  bytes: number;
  source: 'dbstat' | 'count';
}

interface SchemaRow {
  type: 'table' | 'index';
  name: string;
  tbl_name: string;
  sql: string | null;
}

export function measureSqlite(file: string, options: { dbstat?: boolean } = {}): SqliteUsage {
  const db = openReadOnly(file, 5000);
  try {
    return measureOpen(db, options);
  } finally {
    db.close();
  }
}

export function measureOpen(db: Database, options: { dbstat?: boolean } = {}): SqliteUsage {
  const schema = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('table', 'index')").all() as SchemaRow[];
  const bytes = Number(db.pragma('page_count', { simple: true })) * Number(db.pragma('page_size', { simple: true }));
  const useDbstat = options.dbstat !== false && hasDbstat(db);
  return { tables: useDbstat ? byDbstat(db, schema) : byCounting(db, schema), bytes, source: useDbstat ? 'dbstat' : 'count' };
}

export function hasDbstat(db: Database): boolean {
  try {
    db.prepare('SELECT 1 FROM dbstat LIMIT 1').get();
    return true;
  } catch {
    return false;
  }
}

function isVirtual(row: SchemaRow): boolean {
  return /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(row.sql ?? '');
}

function byDbstat(db: Database, schema: readonly SchemaRow[]): Map<string, TableUsage> {
  const owner = new Map(schema.map((row) => [row.name, row.type === 'index' ? row.tbl_name : row.name]));
  const withoutRowid = new Set(schema.filter((row) => row.type === 'table' && /WITHOUT\s+ROWID/i.test(row.sql ?? '')).map((row) => row.name));
  const tables = new Map<string, TableUsage>();
  for (const row of schema) if (row.type === 'table' && !isVirtual(row)) tables.set(row.name, { bytes: 0, rows: 0, estimated: false });
  const pages = db.prepare('SELECT name, pagetype, SUM(ncell) AS cells, SUM(pgsize) AS bytes FROM dbstat GROUP BY name, pagetype').all() as
    { name: string; pagetype: string | null; cells: number; bytes: number }[];
  for (const page of pages) {
    const table = owner.get(page.name);
    const usage = table === undefined ? undefined : tables.get(table);
    if (!usage) continue; // the schema's own pages: left to the file's overhead
    usage.bytes = (usage.bytes ?? 0) + page.bytes;
    // a rowid table's rows are the cells of its leaf pages; a WITHOUT ROWID table keeps rows in its interior pages too
    const ownBtree = page.name === table;
    if (ownBtree && (page.pagetype === 'leaf' || (page.pagetype === 'internal' && withoutRowid.has(table)))) usage.rows += page.cells;
  }
  return tables;
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Without dbstat: exact rows; the used pages shared out by payload (the bytes are estimates). */
function byCounting(db: Database, schema: readonly SchemaRow[]): Map<string, TableUsage> {
  const counted: { name: string; rows: number; payload: number }[] = [];
  for (const row of schema) {
    if (row.type !== 'table' || isVirtual(row)) continue;
    const columns = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(row.name) as { name: string }[]).map((column) => column.name);
    const payload = columns.length ? columns.map((column) => `COALESCE(LENGTH(CAST(${quote(column)} AS BLOB)), 0)`).join(' + ') : '0';
    const result = db.prepare(`SELECT COUNT(*) AS rows, COALESCE(SUM(${payload}), 0) AS payload FROM ${quote(row.name)}`).get() as { rows: number; payload: number };
    counted.push({ name: row.name, rows: result.rows, payload: result.payload });
  }
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const used = (Number(db.pragma('page_count', { simple: true })) - Number(db.pragma('freelist_count', { simple: true }))) * pageSize;
  const payloads = counted.reduce((sum, table) => sum + table.payload, 0);
  return new Map(counted.map((table) => [table.name, {
    bytes: payloads ? Math.floor((used * table.payload) / payloads) : 0,
    rows: table.rows,
    estimated: true,
  }]));
}
