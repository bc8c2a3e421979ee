/**
 * A `waha_<ns>_<x>` database looks like a session database of namespace `<ns>`, but it can be the
 * main database of another namespace `<ns>_<x>` (it holds `session_config`), or one of that
 * namespace's session databases. Neither is an orphan of `<ns>`: inspect and the orphans check
 * leave them out the same way.
 */
import type { Client } from 'pg';
import type { PostgresServer } from '../../../util/postgres.js';

/** The candidates that belong to another namespace (one connection per candidate, a catalog query each). */
export async function otherNamespaces(server: PostgresServer, candidates: Iterable<string>): Promise<Set<string>> {
  const all = [...candidates];
  const mains: string[] = [];
  for (const database of all) if (await hasSessionConfig(server, database)) mains.push(database);
  return new Set(all.filter((database) => mains.some((main) => database === main || database.startsWith(`${main}_`))));
}

async function hasSessionConfig(server: PostgresServer, database: string): Promise<boolean> {
  try {
    return await server.with(database, (client) => tableExists(client, 'session_config'));
  } catch {
    return false; // cannot connect: it cannot be told as another namespace's main; it stays an orphan
  }
}

export async function tableExists(client: Client, table: string): Promise<boolean> {
  const { rows } = await client.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = $1", [table]);
  return rows.length > 0;
}
