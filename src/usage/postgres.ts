/**
 * Usage of the PostgreSQL store: per session database, pg_total_relation_size of each table (heap,
 * indexes and TOAST) and its planner estimate of rows (reltuples; a table never vacuumed or
 * analysed is counted, or above COUNT_LIMIT_BYTES given the statistics' live rows), and
 * pg_database_size for the whole database: what no table accounts for (the database's own
 * catalogs, about 7 MB each) is `other`. Sessions are those `inspect` lists.
 */
import type { Client } from 'pg';
import pLimit from 'p-limit';
import { testPace } from '../util/test-pace.js';
import type { SessionReport } from '../sessions/report.js';
import { quoteIdent, type PostgresServer } from '../util/postgres.js';
import { partOfTable } from './parts.js';
import { addBytes, addTable, emptyParts, sessionBytes, type SessionUsage } from './report.js';
import { carriedProblems } from './sessions.js';

export interface PostgresUsageOptions {
  server: PostgresServer;
  sessions: readonly SessionReport[];
  concurrency: number;
  signal?: AbortSignal;
  onSession?: (name: string) => void;
  /** A never-analysed table up to this heap size is counted; a bigger one takes the statistics' live rows (n_live_tup). */
  countLimitBytes?: number;
}

/** COUNT(*) reads the whole heap: cheap up to here. */
export const COUNT_LIMIT_BYTES = 64 * 1024 * 1024;

export async function postgresUsage(options: PostgresUsageOptions): Promise<SessionUsage[]> {
  const { server } = options;
  const existing = await server.with(undefined, async (client) =>
    new Set((await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE NOT datistemplate')).rows.map((row) => row.datname)));
  const limit = pLimit(options.concurrency);
  return Promise.all(options.sessions.map((session) => limit(async () => {
    options.signal?.throwIfAborted(); // queued sessions end at once after a Ctrl-C
    await testPace();
    options.signal?.throwIfAborted();
    const database = String(session.details.location);
    const usage: SessionUsage = {
      name: session.name,
      engine: session.engine,
      location: database,
      bytes: 0,
      parts: emptyParts({}, 'rows'),
      sources: ['pg_total_relation_size', 'pg_database_size'],
      problems: carriedProblems(session),
    };
    if (existing.has(database)) await server.with(database, (client) => measureDatabase(client, usage, options.countLimitBytes ?? COUNT_LIMIT_BYTES));
    usage.bytes = sessionBytes(usage.parts);
    options.onSession?.(session.name);
    return usage;
  })));
}

async function measureDatabase(client: Client, usage: SessionUsage, countLimitBytes: number): Promise<void> {
  const { rows } = await client.query<{ schema: string; name: string; bytes: string; heap: string; tuples: number; live: string | null }>(`
    SELECT n.nspname AS schema, c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes, pg_relation_size(c.oid)::text AS heap,
           c.reltuples::float8 AS tuples, s.n_live_tup::text AS live
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
    WHERE c.relkind IN ('r', 'm') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2`);
  let tableBytes = 0;
  for (const row of rows) {
    const table = row.schema === 'public' ? row.name : `${row.schema}.${row.name}`;
    const bytes = Number(row.bytes);
    addTable(usage.parts[row.schema === 'public' ? partOfTable(row.name) : 'other'], table, { bytes, ...await rowsOf(client, row, countLimitBytes) });
    tableBytes += bytes;
  }
  const size = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
  addBytes(usage.parts.other, Math.max(0, Number(size.rows[0]?.size ?? 0) - tableBytes));
}

/** The planner's estimate; until a first VACUUM or ANALYZE (reltuples -1) a count, or for a big heap the statistics' live rows. */
async function rowsOf(client: Client, row: { schema: string; name: string; heap: string; tuples: number; live: string | null }, countLimitBytes: number): Promise<{ rows: number; estimated: boolean }> {
  if (row.tuples >= 0) return { rows: Math.round(row.tuples), estimated: true };
  if (Number(row.heap) <= countLimitBytes) return { rows: await countRows(client, row.schema, row.name), estimated: false };
  return { rows: Number(row.live ?? 0), estimated: true };
}

async function countRows(client: Client, schema: string, table: string): Promise<number> {
  const { rows } = await client.query<{ count: string }>(`SELECT COUNT(*)::text AS count FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
  return Number(rows[0]?.count ?? 0);
}
