/**
 * Usage of the PostgreSQL store: per session database, pg_total_relation_size of each table (heap,
 * indexes and TOAST) and its planner estimate of rows (reltuples; counted when the table was never
 * analysed), and pg_database_size for the whole database: what no table accounts for (the
 * database's own catalogs, about 7 MB each) is `other`. Sessions are those `inspect` lists.
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
}

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
    if (existing.has(database)) await server.with(database, (client) => measureDatabase(client, usage));
    usage.bytes = sessionBytes(usage.parts);
    options.onSession?.(session.name);
    return usage;
  })));
}

async function measureDatabase(client: Client, usage: SessionUsage): Promise<void> {
  const { rows } = await client.query<{ schema: string; name: string; bytes: string; tuples: number }>(`
    SELECT n.nspname AS schema, c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes, c.reltuples::float8 AS tuples
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2`);
  let tableBytes = 0;
  for (const row of rows) {
    const table = row.schema === 'public' ? row.name : `${row.schema}.${row.name}`;
    const bytes = Number(row.bytes);
    // reltuples is -1 until the table is first vacuumed or analysed: then it is counted
    const counted = row.tuples < 0 ? await countRows(client, row.schema, row.name) : undefined;
    addTable(usage.parts[row.schema === 'public' ? partOfTable(row.name) : 'other'], table, {
      bytes,
      rows: counted ?? Math.round(row.tuples),
      estimated: counted === undefined,
    });
    tableBytes += bytes;
  }
  const size = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
  addBytes(usage.parts.other, Math.max(0, Number(size.rows[0]?.size ?? 0) - tableBytes));
}

async function countRows(client: Client, schema: string, table: string): Promise<number> {
  const { rows } = await client.query<{ count: string }>(`SELECT COUNT(*)::text AS count FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
  return Number(rows[0]?.count ?? 0);
}
