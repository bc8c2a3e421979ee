/** Connections to the test PostgreSQL server, and namespaces that keep parallel test files apart. */
import pg from 'pg';
import { inject } from 'vitest';
import { runCli } from '../support/cli.js';
import { mongoUrl } from '../support/mongo.js';
import { databasesOf as sessionDatabases } from '../../src/sessions/stores/postgres/layout.js';
import type { Engine } from '../../src/sessions/engines.js';

export function postgresUrl(): string {
  return inject('postgresUrl');
}

/** The server's URL with another database (or user and password). */
export function urlWith(changes: { database?: string; user?: string; password?: string; port?: number }): string {
  const url = new URL(postgresUrl());
  if (changes.database !== undefined) url.pathname = `/${changes.database}`;
  if (changes.user !== undefined) url.username = changes.user;
  if (changes.password !== undefined) url.password = changes.password;
  if (changes.port !== undefined) url.port = String(changes.port);
  return url.toString();
}

export async function connectPostgres(database?: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database ? urlWith({ database }) : postgresUrl() });
  await client.connect();
  return client;
}

/** Runs `work` with a client on `database`, closing it after. */
export async function withDatabase<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectPostgres(database);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function databasesOf(namespace: string): Promise<string[]> {
  return withDatabase('postgres', async (client) => {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2 ORDER BY datname",
      [`waha_${namespace}`, `waha\\_${namespace.replace(/_/g, '\\_')}\\_%`]);
    return rows.map((row) => row.datname);
  });
}

/** Staging and replaced databases of these sessions still on the server; other test files share it, so only these names count. */
export async function stagingLeft(namespace: string, names: readonly string[], engine: Engine = 'NOWEB'): Promise<string[]> {
  const ours = new Set(names.flatMap((name) => {
    const { staging, old } = sessionDatabases(engine, name, { namespace, sessionNamespace: namespace });
    return [staging, old];
  }));
  const all = await withDatabase('postgres', async (client) => (await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'waha_storage_%'")).rows.map((row) => row.datname));
  return all.filter((name) => ours.has(name));
}

/** Drops every database of the namespace (`waha_<ns>` and `waha_<ns>_*`). */
export async function dropNamespace(namespace: string): Promise<void> {
  const names = await databasesOf(namespace);
  await withDatabase('postgres', async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

/** `waha-storage <command>` against the test PostgreSQL (and MongoDB) in one namespace. */
export function cliIn(args: string[], base: string, namespace: string, extra: { url?: string; timeoutMs?: number } = {}) {
  return runCli([...args, '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace,
    '--postgres-url', extra.url ?? postgresUrl(), '--mongo-url', mongoUrl()], { timeoutMs: extra.timeoutMs });
}

/** Index names of a table, from pg_indexes. */
export async function indexesOf(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 ORDER BY indexname", [table]);
  return rows.map((row) => row.indexname);
}

export async function tableNames(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
  return rows.map((row) => row.tablename);
}

/** Every row of every table of `waha_<ns>` and `waha_<ns>_*` on the server at `url`, database names without the namespace. */
export async function snapshot(url: string, namespace: string): Promise<Record<string, Record<string, unknown[]>>> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2 ORDER BY datname', [`waha_${namespace}`, `waha\\_${namespace}\\_%`]);
  await admin.end();
  const result: Record<string, Record<string, unknown[]>> = {};
  for (const { datname } of rows) {
    const target = new URL(url);
    target.pathname = `/${datname}`;
    const client = new pg.Client({ connectionString: target.toString() });
    await client.connect();
    try {
      const tables: Record<string, unknown[]> = {};
      const names = (await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map((row) => row.tablename);
      for (const table of names) {
        // files rows carry their write time: the content is what must be equal
        const select = table === 'files' ? 'SELECT fullpath, content, metadata FROM files' : `SELECT * FROM "${table}"`;
        tables[table] = (await client.query(`${select} ORDER BY 1`)).rows;
      }
      result[datname.slice(`waha_${namespace}`.length) || 'main'] = tables;
    } finally {
      await client.end();
    }
  }
  return result;
}
