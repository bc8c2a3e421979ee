/**
 * `gows.db` as tables: its catalog (columns, declared types, primary key), the canonical digest
 * that verifies a GOWS session whichever dialect it was read from (per table: row count and a hash
 * over the rows in primary-key order, each row's values canonically encoded), and the copy without
 * message history (`--skip-messages`).
 */
import { createHash } from 'node:crypto';
import { Database } from '../../util/sqlite.js';
import { creationOrder, isGowsMessageTable, knownTable } from '../engines/gows-schema.js';
import { canonicalValue, columnKind, type ColumnKind } from './values.js';

export interface TableColumn {
  name: string;
  /** The declared type (SQLite) or type name (PostgreSQL), as the catalog gives it. */
  type: string;
  kind: ColumnKind | undefined;
  notNull: boolean;
  /** A default that both dialects read the same (a number, a quoted string, TRUE/FALSE), else undefined. */
  defaultValue?: string;
}

export interface TableShape {
  name: string;
  columns: TableColumn[];
  primaryKey: string[];
}

/** The prefix of a gows.db entry digest: per-table counts and hashes, readable in a difference. */
export const TABLES_DIGEST = 'tables:';

/**
 * An in-memory database cannot be in WAL mode, and a snapshot of gows.db says WAL in its header
 * (bytes 18 and 19 are 2): a copy that says rollback journal (1) opens, with the same pages.
 */
export function rollbackMode(data: Buffer): Buffer {
  if (data.length < 20 || (data[18] !== 2 && data[19] !== 2)) return data;
  const copy = Buffer.from(data);
  copy[18] = 1;
  copy[19] = 1;
  return copy;
}

/** gows.db bytes opened in memory (integers as bigint, so none loses precision). */
export function openBytes(data: Buffer, options: { readonly?: boolean } = {}): Database {
  const db = new Database(rollbackMode(data), { readonly: options.readonly ?? true });
  db.defaultSafeIntegers(true);
  return db;
}

const SIMPLE_DEFAULT = /^(-?\d+(\.\d+)?|'[^']*'|TRUE|FALSE|true|false)$/;

/** The tables of a SQLite database with their columns, in creation order. */
export function sqliteTables(db: Database): TableShape[] {
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((row) => row.name);
  return creationOrder(names).map((name) => {
    const info = db.prepare(`PRAGMA table_info(${quote(name)})`).all() as { name: string; type: string; notnull: number | bigint; dflt_value: string | null; pk: number | bigint }[];
    const columns = info.map((column): TableColumn => ({
      name: column.name,
      type: column.type,
      kind: columnKind(column.type),
      notNull: Number(column.notnull) === 1,
      ...(column.dflt_value !== null && SIMPLE_DEFAULT.test(column.dflt_value) ? { defaultValue: column.dflt_value } : {}),
    }));
    const primaryKey = info.filter((column) => Number(column.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk)).map((column) => column.name);
    return { name, columns, primaryKey };
  });
}

export function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** Rows in a stable order: by primary key, else by every column. */
export function orderBy(table: TableShape): string {
  const keys = table.primaryKey.length ? table.primaryKey : table.columns.map((column) => column.name);
  return keys.map(quote).join(', ');
}

/**
 * The canonical digest of a gows.db: `tables:<table>=<rows>:<hash>;…` over every table, sorted by
 * name. Computed the same way from a snapshot of the source and from what a target holds (read back
 * into SQLite), so SQLite → PostgreSQL → SQLite is checked end to end.
 */
export function gowsDigest(data: Buffer): string {
  const db = openBytes(data);
  try {
    const parts: string[] = [];
    for (const table of sqliteTables(db).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const hash = createHash('sha256');
      const columns = [...table.columns].sort((a, b) => (a.name < b.name ? -1 : 1));
      let rows = 0;
      const statement = db.prepare(`SELECT ${columns.map((column) => quote(column.name)).join(', ')} FROM ${quote(table.name)} ORDER BY ${orderBy(table)}`).raw(true);
      for (const row of statement.iterate() as Iterable<unknown[]>) {
        rows++;
        let text = '';
        for (let index = 0; index < columns.length; index++) text += `${columns[index]!.name}=${canonicalValue(row[index], columns[index]!.kind)}\u0001`;
        hash.update(`${text}\u0002`); // one update per row: hashing is the digest's main cost
      }
      parts.push(`${table.name}=${rows}:${hash.digest('hex').slice(0, 32)}`);
    }
    return `${TABLES_DIGEST}${parts.join(';')}`;
  } finally {
    db.close();
  }
}

/** The tables two gows.db digests disagree on, with their row counts: "gows_messages (20000 vs 0 rows)". */
export function tableDifferences(a: string, b: string): string[] {
  const parse = (digest: string) => new Map(digest.slice(TABLES_DIGEST.length).split(';').filter(Boolean).map((part) => {
    const [name, rest = ''] = part.split('=');
    return [name!, rest] as const;
  }));
  const left = parse(a);
  const right = parse(b);
  const found: string[] = [];
  for (const name of new Set([...left.keys(), ...right.keys()])) {
    const x = left.get(name);
    const y = right.get(name);
    if (x === y) continue;
    if (x === undefined) found.push(`${name} unexpected`);
    else if (y === undefined) found.push(`${name} missing`);
    else found.push(`${name} (${x.split(':')[0]} vs ${y.split(':')[0]} rows)`);
  }
  return found;
}

/** The same gows.db without the rows of its message-history tables (the tables stay, empty). */
export function withoutMessages(data: Buffer): Buffer {
  const db = openBytes(data, { readonly: false });
  try {
    const tables = sqliteTables(db).filter((table) => isGowsMessageTable(table.name));
    if (!tables.length) return data;
    for (const table of tables) db.prepare(`DELETE FROM ${quote(table.name)}`).run();
    db.exec('VACUUM');
    return db.serialize();
  } finally {
    db.close();
  }
}

/** The CREATE TABLE (and index) statements of a table in the target dialect: whatsmeow's/GOWS's own when known, else from its columns. */
export function tableDdl(table: TableShape, dialect: 'sqlite' | 'postgres'): string[] {
  const known = knownTable(table.name);
  const names = table.columns.map((column) => column.name);
  const same = known && known.columns.length === names.length
    && table.columns.every((column) => known.types[column.name] !== undefined && columnKind(known.types[column.name]!) === column.kind);
  if (same) return [...known.ddl];
  const columns = table.columns.map((column) => {
    const type = targetType(column, dialect);
    return `${quote(column.name)} ${type}${column.notNull ? ' NOT NULL' : ''}${column.defaultValue !== undefined ? ` DEFAULT ${column.defaultValue}` : ''}`;
  });
  if (table.primaryKey.length) columns.push(`PRIMARY KEY (${table.primaryKey.map(quote).join(', ')})`);
  return [`CREATE TABLE ${quote(table.name)} (${columns.join(', ')})`];
}

/** A column type as the target dialect spells it (the types whatsmeow and GOWS use are valid in both). */
function targetType(column: TableColumn, dialect: 'sqlite' | 'postgres'): string {
  const type = column.type.trim();
  if (dialect === 'sqlite') return type;
  if (/^BLOB$/i.test(type)) return 'BYTEA';
  if (/^DATETIME$/i.test(type)) return 'TIMESTAMP';
  if (/^INT$/i.test(type)) return 'INTEGER';
  if (/^(TINYINT|MEDIUMINT)$/i.test(type)) return 'INTEGER';
  if (/^DOUBLE$/i.test(type)) return 'DOUBLE PRECISION';
  if (/^(CLOB|NVARCHAR|NCHAR)\b/i.test(type)) return 'TEXT';
  return type;
}

/** The tables whose columns have no faithful type in the other dialect, as "table (column, …)". */
export function unmappable(tables: readonly TableShape[]): string[] {
  return tables
    .map((table) => ({ table: table.name, columns: table.columns.filter((column) => !column.kind).map((column) => `${column.name} ${column.type || 'without a type'}`) }))
    .filter((item) => item.columns.length)
    .map((item) => `${item.table} (${item.columns.join(', ')})`);
}
