/**
 * The message history in SQLite: NOWEB's `messages` in `<session>/store.sqlite3` and GOWS's
 * `gows_messages` in `<session>/gows.db`, written by WAHA while it runs (both in WAL mode). A
 * batch is read first without any lock (rowids of the next old rows, after the last batch's),
 * then deleted by rowid in one statement of its own, which rechecks the age: the write lock is
 * held for those few rowid lookups only, and a busy timeout waits for WAHA's own transactions.
 */
import { statSync } from 'node:fs';
import { Database, openReadOnly, type Database as SqliteDatabase } from '../util/sqlite.js';
import { OperationError } from '../errors.js';
import { chatFilter, MILLISECONDS_FROM, numericCutoff, type PruneCriteria } from './criteria.js';
import type { BatchResult, MessageEngine, MessageTable, TablePlan, TableSpace } from './table.js';

/** How long a batch waits for WAHA's write transaction before it fails. */
export const SQLITE_BUSY_TIMEOUT_MS = 15_000;

/**
 * NOWEB: `messageTimestamp` INTEGER, Unix seconds (Baileys); GOWS: `timestamp`, a Go time.Time the
 * sqlite3 driver writes as TEXT (`2026-05-16 15:33:09.123+00:00`, any zone), read with julianday();
 * a number there is taken as Unix seconds (milliseconds when it is that large). Anything else is
 * unreadable and never deleted.
 */
function predicates(engine: MessageEngine): { older: string; unreadable: string } {
  // `+column`: no index for the age, so a batch walks rowids forward (a timestamp index would make
  // SQLite gather and sort every old row for each batch)
  const numeric = (column: string) => `(+${column} < @seconds OR (+${column} >= ${MILLISECONDS_FROM} AND +${column} < @milliseconds))`;
  if (engine === 'NOWEB') {
    const column = '"messageTimestamp"';
    return {
      older: `(typeof(${column}) IN ('integer', 'real') AND ${numeric(column)})`,
      unreadable: `(typeof(${column}) NOT IN ('integer', 'real'))`,
    };
  }
  const column = '"timestamp"';
  return {
    older: `((typeof(${column}) = 'text' AND julianday(${column}) < julianday(@cutoff)) OR (typeof(${column}) IN ('integer', 'real') AND ${numeric(column)}))`,
    unreadable: `(CASE typeof(${column}) WHEN 'text' THEN julianday(${column}) IS NULL WHEN 'integer' THEN 0 WHEN 'real' THEN 0 ELSE 1 END)`,
  };
}

export interface SqliteTableOptions {
  session: string;
  engine: MessageEngine;
  table: string;
  file: string;
  /** Open read-only (a dry run): nothing is written, not even a -wal. */
  readOnly?: boolean;
  busyTimeoutMs?: number;
}

export class SqliteMessageTable implements MessageTable {
  readonly store = 'local' as const;
  readonly session: string;
  readonly engine: MessageEngine;
  readonly table: string;
  readonly location: string;
  private readonly db: SqliteDatabase;
  private readonly predicate: { older: string; unreadable: string };
  /** The last rowid a batch looked at: the next batch reads after it. */
  private after = 0;

  constructor(private readonly options: SqliteTableOptions) {
    this.session = options.session;
    this.engine = options.engine;
    this.table = options.table;
    this.location = options.file;
    const timeout = options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS;
    try {
      this.db = options.readOnly ? openReadOnly(options.file, timeout) : new Database(options.file, { fileMustExist: true, timeout });
    } catch (error) {
      throw new OperationError(`Cannot open ${options.file}: ${(error as Error).message}`, { hint: 'check that the file exists and is writable by this user', cause: error });
    }
    this.predicate = predicates(options.engine);
  }

  private parameters(criteria: PruneCriteria): Record<string, unknown> {
    const { seconds, milliseconds } = numericCutoff(criteria);
    const parameters: Record<string, unknown> = { seconds, milliseconds };
    if (this.engine === 'GOWS') parameters.cutoff = criteria.cutoff.toISOString();
    const chats = chatFilter(criteria);
    if (chats.length) parameters.chats = JSON.stringify(chats);
    return parameters;
  }

  private where(criteria: PruneCriteria): string {
    // `+jid` too: one walk over the rowids for the whole run, not a sort of the chats' rows per batch
    return chatFilter(criteria).length ? `${this.predicate.older} AND +jid IN (SELECT value FROM json_each(@chats))` : this.predicate.older;
  }

  private get quoted(): string {
    return `"${this.table.replace(/"/g, '""')}"`;
  }

  async plan(criteria: PruneCriteria): Promise<TablePlan> {
    return this.guard(() => {
      const parameters = this.parameters(criteria);
      const totals = this.db.prepare(`SELECT count(*) AS rows, coalesce(sum(${this.where(criteria)}), 0) AS planned, coalesce(sum(${this.predicate.unreadable}), 0) AS unreadable FROM ${this.quoted}`)
        .get(parameters) as { rows: number; planned: number; unreadable: number };
      const byJid = new Map<string, number>();
      if (parameters.chats) {
        const rows = this.db.prepare(`SELECT jid, count(*) AS n FROM ${this.quoted} WHERE ${this.where(criteria)} GROUP BY jid`).all(parameters) as { jid: string; n: number }[];
        for (const row of rows) byJid.set(row.jid, row.n);
      }
      return { rows: totals.rows, planned: totals.planned, unreadable: totals.unreadable, byJid };
    });
  }

  async deleteBatch(criteria: PruneCriteria, limit: number): Promise<BatchResult> {
    return this.guard(() => {
      const parameters = this.parameters(criteria);
      // read outside any write transaction: WAL readers never block WAHA's writes
      const rowids = (this.db.prepare(`SELECT rowid AS id FROM ${this.quoted} WHERE rowid > @after AND ${this.where(criteria)} ORDER BY rowid LIMIT ${limit}`)
        .all({ ...parameters, after: this.after }) as { id: number }[]).map((row) => row.id);
      if (!rowids.length) return { deleted: 0, bytes: 0, more: false };
      this.after = rowids[rowids.length - 1]!;
      // one autocommit statement = one short write transaction; the age is checked again (WAHA may have rewritten a row)
      const gone = this.db.prepare(`DELETE FROM ${this.quoted} WHERE rowid IN (SELECT value FROM json_each(@rowids)) AND ${this.where(criteria)} RETURNING length(data) AS bytes`)
        .all({ ...parameters, rowids: JSON.stringify(rowids) }) as { bytes: number | null }[];
      return { deleted: gone.length, bytes: gone.reduce((sum, row) => sum + (row.bytes ?? 0), 0), more: rowids.length === limit };
    });
  }

  async space(): Promise<TableSpace> {
    return this.guard(() => {
      const pageSize = Number(this.db.pragma('page_size', { simple: true }));
      const free = Number(this.db.pragma('freelist_count', { simple: true }));
      return { bytes: fileBytes(this.options.file), freeBytes: free * pageSize };
    });
  }

  async vacuum(): Promise<void> {
    this.guard(() => {
      this.db.exec('VACUUM');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      const busy = code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
      throw new OperationError(`${this.table} in ${this.location}: ${(error as Error).message}`, {
        hint: busy ? 'WAHA held the database longer than the busy timeout; run the command again' : 'check the file', cause: error,
      });
    }
  }
}

/** The database file with its WAL: what the session takes on disk. */
function fileBytes(file: string): number {
  let bytes = 0;
  for (const part of [file, `${file}-wal`]) {
    try {
      bytes += statSync(part).size;
    } catch {
      // no WAL
    }
  }
  return bytes;
}

/** Whether the file has the table (a NOWEB session without its store has no store.sqlite3 table). */
export function hasTable(file: string, table: string): boolean {
  const db = openReadOnly(file);
  try {
    return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table));
  } finally {
    db.close();
  }
}
