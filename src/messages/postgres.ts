/**
 * The message history in PostgreSQL: NOWEB's `messages` ("messageTimestamp" INTEGER, Unix seconds)
 * and GOWS's `gows_messages` (`timestamp` TIMESTAMP without a zone, holding UTC; postgres.md §1.4)
 * in each session database. The column's type is read first, so a numeric or zoned timestamp is
 * compared correctly too. A batch is one DELETE by ctid of the next old rows (its own short
 * transaction, which rechecks the age), with a lock timeout so it never queues behind WAHA for long.
 */
import type { Client } from 'pg';
import { OperationError } from '../errors.js';
import { quoteIdent } from '../util/postgres.js';
import { chatFilter, MILLISECONDS_FROM, numericCutoff, type PruneCriteria } from './criteria.js';
import type { BatchResult, MessageEngine, MessageTable, TablePlan, TableSpace } from './table.js';

const LOCK_TIMEOUT = '10s';

export interface PostgresTableOptions {
  session: string;
  engine: MessageEngine;
  table: string;
  database: string;
  /** A connection to `database`, owned by the table from now on (closed by close()). */
  client: Client;
}

type ColumnKind = 'integer' | 'numeric' | 'timestamp' | 'timestamptz';

export class PostgresMessageTable implements MessageTable {
  readonly store = 'postgres' as const;
  readonly session: string;
  readonly engine: MessageEngine;
  readonly table: string;
  readonly location: string;
  private readonly client: Client;
  private readonly column: string;
  private kind: Promise<ColumnKind> | undefined;

  constructor(private readonly options: PostgresTableOptions) {
    this.session = options.session;
    this.engine = options.engine;
    this.table = options.table;
    this.location = `${options.database}.${options.table}`;
    this.client = options.client;
    this.column = options.engine === 'NOWEB' ? 'messageTimestamp' : 'timestamp';
  }

  private columnKind(): Promise<ColumnKind> {
    this.kind ??= (async () => {
      await this.client.query(`SET lock_timeout = '${LOCK_TIMEOUT}'`);
      const { rows } = await this.client.query<{ data_type: string }>(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2", [this.table, this.column]);
      const type = rows[0]?.data_type;
      if (type === undefined) throw new OperationError(`${this.location} has no column "${this.column}"`, { hint: "this is not WAHA's message table; nothing was deleted from it" });
      if (['integer', 'bigint', 'smallint'].includes(type)) return 'integer';
      if (['numeric', 'real', 'double precision'].includes(type)) return 'numeric';
      if (type === 'timestamp without time zone') return 'timestamp';
      if (type === 'timestamp with time zone') return 'timestamptz';
      throw new OperationError(`${this.location}: "${this.column}" is ${type}, which is not a time WAHA writes`, { hint: 'nothing was deleted from it; report this layout' });
    })();
    return this.kind;
  }

  /** The age condition and its parameters, numbered from `first`. */
  private async condition(criteria: PruneCriteria, first = 1): Promise<{ sql: string; values: unknown[] }> {
    const column = quoteIdent(this.column);
    const kind = await this.columnKind();
    const values: unknown[] = [];
    const next = (value: unknown) => `$${first + values.push(value) - 1}`;
    let sql: string;
    if (kind === 'integer') {
      // whole numbers against whole numbers, so the timestamp index serves each batch
      const { milliseconds } = numericCutoff(criteria);
      sql = `(${column} < ${next(Math.ceil(milliseconds / 1000))}::bigint OR (${column} >= ${MILLISECONDS_FROM} AND ${column} < ${next(milliseconds)}::bigint))`;
    } else if (kind === 'numeric') {
      const { seconds, milliseconds } = numericCutoff(criteria);
      sql = `(${column} < ${next(seconds)}::float8 OR (${column} >= ${MILLISECONDS_FROM} AND ${column} < ${next(milliseconds)}::float8))`;
    } else if (kind === 'timestamp') {
      // a timestamp without a zone holds UTC wall time: compare with the cutoff's UTC wall time
      sql = `${column} < ${next(criteria.cutoff.toISOString().replace('T', ' ').replace('Z', ''))}::timestamp`;
    } else {
      sql = `${column} < ${next(criteria.cutoff.toISOString())}::timestamptz`;
    }
    const chats = chatFilter(criteria);
    if (chats.length) sql += ` AND jid = ANY(${next(chats)}::text[])`;
    return { sql, values };
  }

  async plan(criteria: PruneCriteria): Promise<TablePlan> {
    return this.guard(async () => {
      const { sql, values } = await this.condition(criteria);
      const { rows } = await this.client.query<{ rows: string; planned: string; unreadable: string }>(
        `SELECT count(*) AS rows, count(*) FILTER (WHERE ${sql}) AS planned, count(*) FILTER (WHERE ${quoteIdent(this.column)} IS NULL) AS unreadable FROM ${quoteIdent(this.table)}`, values);
      const byJid = new Map<string, number>();
      if (chatFilter(criteria).length) {
        const grouped = await this.client.query<{ jid: string; n: string }>(`SELECT jid, count(*) AS n FROM ${quoteIdent(this.table)} WHERE ${sql} GROUP BY jid`, values);
        for (const row of grouped.rows) byJid.set(row.jid, Number(row.n));
      }
      return { rows: Number(rows[0]!.rows), planned: Number(rows[0]!.planned), unreadable: Number(rows[0]!.unreadable), byJid };
    });
  }

  async deleteBatch(criteria: PruneCriteria, limit: number): Promise<BatchResult> {
    return this.guard(async () => {
      const { sql, values } = await this.condition(criteria);
      const table = quoteIdent(this.table);
      const { rows } = await this.client.query<{ n: number; bytes: string }>(
        `WITH gone AS (
           DELETE FROM ${table} AS m WHERE m.ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${sql} LIMIT ${limit})) AND ${sql}
           RETURNING pg_column_size(m.*) AS bytes)
         SELECT count(*)::int AS n, coalesce(sum(bytes), 0)::bigint AS bytes FROM gone`, values);
      const deleted = Number(rows[0]!.n);
      return { deleted, bytes: Number(rows[0]!.bytes), more: deleted > 0 };
    });
  }

  async space(): Promise<TableSpace> {
    return this.guard(async () => {
      const { rows } = await this.client.query<{ bytes: string }>('SELECT pg_total_relation_size($1::regclass) AS bytes', [quoteIdent(this.table)]);
      return { bytes: Number(rows[0]!.bytes) };
    });
  }

  /** VACUUM FULL: rewrites the table, so the space goes back to the disk (it locks the table: WAHA must be stopped). */
  async vacuum(): Promise<void> {
    await this.guard(() => this.client.query(`VACUUM FULL ${quoteIdent(this.table)}`));
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof OperationError) throw error;
      const code = (error as { code?: string }).code;
      throw new OperationError(`${this.location}: ${(error as Error).message}`, {
        hint: code === '55P03' ? `WAHA held rows of the table longer than the lock timeout (${LOCK_TIMEOUT}); run the command again` : 'check the database', cause: error,
      });
    }
  }
}
