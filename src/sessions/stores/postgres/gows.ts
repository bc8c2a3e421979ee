/**
 * A GOWS session in its PostgreSQL database (postgres.md §GOWS): the tables of `gows.db`, table by
 * table, row by row, in batches. Writing: the snapshot's tables are created with whatsmeow's and
 * GOWS's own DDL (the same text both dialects run; other tables from their columns), rows go in by
 * COPY with PostgreSQL's types, indexes after the rows. Reading: the tables are read through a
 * cursor into a new SQLite database (in memory) with the SQLite forms of the values, whose bytes are
 * the `gows.db` entry.
 * The version tables (`whatsmeow_version`, and any GOWS keeps) are copied like every table, so GOWS
 * starts without a migration.
 */
import type { Client } from 'pg';
import { Database } from '../../../util/sqlite.js';
import { quoteIdent } from '../../../util/postgres.js';
import { creationOrder } from '../../engines/gows-schema.js';
import { openBytes, orderBy, quote, sqliteTables, tableDdl, unmappable, type TableColumn, type TableShape } from '../../gows/sqlite.js';
import { columnKind, pgTextToSqlite, sqliteToCopy } from '../../gows/values.js';
import { EntryError } from '../types.js';
import { INCOMPLETE_MARKER } from './layout.js';

const BATCH = 5000;
const BATCH_BYTES = 8 * 1024 * 1024;
/** Tables of a session database that are not the GOWS session's: the marker, WAHA's media store. */
const NOT_GOWS = new Set([INCOMPLETE_MARKER, 'media']);

/** Whether a session database's tables are a GOWS session's. */
export function isGowsDatabase(tables: ReadonlySet<string>): boolean {
  return [...tables].some((table) => table.startsWith('whatsmeow_') || table.startsWith('gows_'));
}

/** Writes the tables of a gows.db snapshot into the (staging) database `client` is connected to. */
export async function writeGowsTables(client: Client, data: Buffer, database: string): Promise<{ tables: number; rows: number }> {
  let db: Database;
  try {
    db = openBytes(data);
  } catch (error) {
    throw new EntryError('sqlite-unreadable', `gows.db does not open as SQLite (${(error as Error).message}); nothing was committed`);
  }
  const { copyRows } = await import('./copy.js');
  let total = 0;
  try {
    const tables = sqliteTables(db);
    const problems = unmappable(tables);
    if (problems.length) {
      throw new EntryError('gows-unknown-table', `gows.db has columns without a PostgreSQL type: ${problems.join('; ')} (a newer whatsmeow or GOWS?); nothing was committed`);
    }
    const created: { table: TableShape; ddl: string[] }[] = [];
    for (const table of tables) {
      const ddl = tableDdl(table, 'postgres');
      await client.query(ddl[0]!).catch((error) => { throw pgError(error, database, table.name); });
      created.push({ table, ddl });
      const target = await pgColumns(client, table.name);
      const columns = table.columns.map((column) => column.name);
      const kinds = columns.map((name) => {
        const kind = target.get(name)?.kind;
        if (!kind) throw new EntryError('gows-unknown-table', `${database}: the column ${table.name}.${name} has no type this tool can fill; nothing was committed`);
        return kind;
      });
      const select = db.prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table.name)} ORDER BY ${orderBy(table)}`).raw(true);
      let batch: (string | null)[][] = [];
      let bytes = 0;
      const send = async () => {
        if (!batch.length) return;
        const rows = batch;
        batch = [];
        bytes = 0;
        await copyRows(client, table.name, columns, rows).catch((error) => { throw pgError(error, database, table.name); });
      };
      for (const row of select.iterate() as Iterable<unknown[]>) {
        const values = row.map((value, index) => sqliteToCopy(value, kinds[index]!, table.name, columns[index]!));
        for (const value of values) bytes += value?.length ?? 0;
        batch.push(values);
        total++;
        if (batch.length >= BATCH || bytes >= BATCH_BYTES) await send();
      }
      await send();
    }
    // indexes after the rows: cheaper than maintaining them per batch
    for (const { table, ddl } of created) {
      for (const statement of ddl.slice(1)) await client.query(statement).catch((error) => { throw pgError(error, database, table.name); });
    }
    return { tables: tables.length, rows: total };
  } finally {
    db.close();
  }
}

/** The GOWS tables of the database `client` is connected to, in creation order. */
export async function pgTables(client: Client): Promise<TableShape[]> {
  const { rows } = await client.query<{ table_name: string; column_name: string; type: string; not_null: boolean; default_value: string | null; pk: number | null }>(`
    SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
           pg_get_expr(d.adbin, d.adrelid) AS default_value, array_position(pk.conkey, a.attnum) AS pk
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
     WHERE c.relkind IN ('r', 'p')
     ORDER BY c.relname, a.attnum`);
  const byTable = new Map<string, { columns: TableColumn[]; keys: [number, string][] }>();
  for (const row of rows) {
    if (NOT_GOWS.has(row.table_name)) continue;
    let table = byTable.get(row.table_name);
    if (!table) byTable.set(row.table_name, table = { columns: [], keys: [] });
    const defaultValue = row.default_value !== null && /^(-?\d+(\.\d+)?|true|false)$/.test(row.default_value) ? row.default_value : undefined;
    table.columns.push({ name: row.column_name, type: row.type, kind: columnKind(row.type), notNull: row.not_null, ...(defaultValue !== undefined ? { defaultValue } : {}) });
    if (row.pk !== null) table.keys.push([row.pk, row.column_name]);
  }
  return creationOrder(byTable.keys()).map((name) => {
    const table = byTable.get(name)!;
    return { name, columns: table.columns, primaryKey: table.keys.sort((a, b) => a[0] - b[0]).map(([, column]) => column) };
  });
}

async function pgColumns(client: Client, table: string): Promise<Map<string, TableColumn>> {
  const { rows } = await client.query<{ name: string; type: string; not_null: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
       FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`, [quoteIdent(table)]);
  return new Map(rows.map((row) => [row.name, { name: row.name, type: row.type, kind: columnKind(row.type), notNull: row.not_null }]));
}

/** Every value as PostgreSQL's text output (converted here by column kind, never by node-pg's parsers). */
const RAW_TYPES = { getTypeParser: () => (value: string) => value };

/**
 * The GOWS tables of the database as a new gows.db (SQLite, the dialect's own DDL for known tables),
 * read a page at a time through a cursor; the file's bytes are the `gows.db` entry.
 */
export async function readGowsTables(client: Client, database: string): Promise<Buffer> {
  // built in memory: the entry is the file's bytes anyway (a temporary file only adds its syncs)
  const db = new Database(':memory:');
  try {
    db.pragma('foreign_keys = OFF');
    await client.query('BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ');
    try {
      await client.query("SET LOCAL TimeZone = 'UTC'");
      await client.query("SET LOCAL bytea_output = 'hex'");
      const tables = await pgTables(client);
      const problems = unmappable(tables);
      if (problems.length) throw new EntryError('gows-unknown-table', `${database} has columns without a SQLite form: ${problems.join('; ')} (a newer whatsmeow or GOWS?)`);
      const indexes: string[] = [];
      for (const table of tables) {
        const ddl = tableDdl(table, 'sqlite');
        db.exec(ddl[0]!);
        indexes.push(...ddl.slice(1));
        await copyTable(client, db, table);
      }
      for (const statement of indexes) db.exec(statement);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    return db.serialize();
  } finally {
    db.close();
  }
}

async function copyTable(client: Client, db: Database, table: TableShape): Promise<void> {
  const columns = table.columns;
  const insert = db.prepare(`INSERT INTO ${quote(table.name)} (${columns.map((column) => quote(column.name)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
  const insertAll = db.transaction((rows: (string | null)[][]) => {
    for (const row of rows) insert.run(...row.map((value, index) => pgTextToSqlite(value, columns[index]!.kind!)));
  });
  const cursor = `wst_gows_${Math.random().toString(36).slice(2, 10)}`;
  const select = `SELECT ${columns.map((column) => quoteIdent(column.name)).join(', ')} FROM ${quoteIdent(table.name)} ORDER BY ${orderBy(table)}`;
  await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select}`);
  for (;;) {
    const { rows } = await client.query<(string | null)[]>({ text: `FETCH ${BATCH} FROM ${cursor}`, rowMode: 'array', types: RAW_TYPES });
    if (rows.length) insertAll(rows);
    if (rows.length < BATCH) break;
  }
  await client.query(`CLOSE ${cursor}`);
}

function pgError(error: unknown, database: string, table: string): unknown {
  if (error instanceof EntryError) return error;
  const { code, message, detail } = error as { code?: string; message?: string; detail?: string };
  // data and schema errors are this session's; a full disk or a lost connection stays what it is
  if (!code || !/^(22|23|42)/.test(code)) return error;
  return new EntryError('gows-copy', `${database}: copying ${table} failed (${message}${detail ? `; ${detail}` : ''}); nothing was committed`);
}
