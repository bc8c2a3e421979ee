/**
 * Which message-history tables a prune covers: the sessions of the store (as `inspect` lists them,
 * through the store registry), narrowed by --session and --engine, and in each the one table its
 * engine keeps: NOWEB `messages` (local store.sqlite3, the MongoDB or PostgreSQL session
 * database), GOWS `gows_messages` (local gows.db, the PostgreSQL session database; GOWS never runs
 * on MongoDB). A session whose engine cannot be told is looked at for both tables.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import type { SessionsConfig } from '../config/config.js';
import { namespacesFor, type Engine } from '../sessions/engines.js';
import { sessionDatabase } from '../sessions/names.js';
import type { SessionReport } from '../sessions/report.js';
import { requireNamed } from '../sessions/selection.js';
import { folders } from '../sessions/stores/local/layout.js';
import { truncateIdentifier } from '../sessions/stores/postgres/layout.js';
import { describeStoreAt, type StoreWord } from '../sessions/stores/registry.js';
import { GOWS_DB } from '../sessions/engines/gows.js';
import type { PostgresServer } from '../util/postgres.js';
import { MESSAGE_TABLE, type MessageEngine, type MessageTable } from './table.js';

/** NOWEB's store file in a session folder (waha-facts §1.3). */
export const NOWEB_STORE_FILE = 'store.sqlite3';

export interface TargetOptions {
  store: StoreWord;
  settings: SessionsConfig;
  engines: readonly Engine[];
  names?: readonly string[];
  readOnly: boolean;
  timeoutMs: number;
}

export interface MessageTables {
  tables: MessageTable[];
  /** Sessions of the selection that keep no message history (the store is off, or never written). */
  without: { engine: Engine | null; name: string }[];
  /** Every session looked at, for liveness and the backup. */
  sessions: { engine: Engine | null; name: string }[];
  close(): Promise<void>;
}

const MESSAGE_ENGINES: readonly MessageEngine[] = ['NOWEB', 'GOWS'];

export async function findMessageTables(options: TargetOptions): Promise<MessageTables> {
  const engines = options.engines.filter((engine): engine is MessageEngine => (MESSAGE_ENGINES as readonly string[]).includes(engine));
  const { inspect } = await import('../sessions/inspect.js');
  const inspected = engines.length
    ? await inspect({ store: options.store, sessions: options.settings, engines, names: options.names, concurrency: 4, mongoTimeoutMs: options.timeoutMs })
    : { sessions: [] as SessionReport[] };
  await requireNamed(inspected.sessions, options.names, { description: `${describeStoreAt(options.store, options.settings)} (engines ${engines.join(', ') || 'none'}: only NOWEB and GOWS keep message history)` });
  // a store may tell a session's engine from its content, whatever namespace --engine named
  const sessions = inspected.sessions
    .filter((report) => report.engine === null || (engines as readonly string[]).includes(report.engine))
    .map((report) => ({ engine: report.engine, name: report.name }));
  const opener = await openerFor(options);
  const tables: MessageTable[] = [];
  const without: MessageTables['without'] = [];
  try {
    for (const session of sessions) {
      const candidates = session.engine ? [session.engine as MessageEngine] : engines;
      let found = false;
      for (const engine of candidates) {
        const table = await opener.open(session.name, engine);
        if (table) {
          tables.push(table);
          found = true;
        }
      }
      if (!found) without.push(session);
    }
  } catch (error) {
    await Promise.all(tables.map((table) => table.close().catch(() => undefined)));
    await opener.close();
    throw error;
  }
  return {
    tables, without, sessions,
    close: async () => {
      await Promise.all(tables.map((table) => table.close().catch(() => undefined)));
      await opener.close();
    },
  };
}

interface Opener {
  open(name: string, engine: MessageEngine): Promise<MessageTable | undefined>;
  close(): Promise<void>;
}

async function openerFor(options: TargetOptions): Promise<Opener> {
  if (options.store === 'local') return localOpener(options);
  if (options.store === 'mongo') return mongoOpener(options);
  return postgresOpener(options);
}

async function localOpener(options: TargetOptions): Promise<Opener> {
  const { SqliteMessageTable, hasTable } = await import('./sqlite.js');
  return {
    async open(name, engine) {
      const file = path.join(folders(options.settings, engine).sessionRoot, name, engine === 'NOWEB' ? NOWEB_STORE_FILE : GOWS_DB);
      if (!existsSync(file) || !hasTable(file, MESSAGE_TABLE[engine])) return undefined;
      return new SqliteMessageTable({ session: name, engine, table: MESSAGE_TABLE[engine], file, readOnly: options.readOnly });
    },
    close: async () => {},
  };
}

async function mongoOpener(options: TargetOptions): Promise<Opener> {
  const [{ MongoMessageTable }, { connectMongo }, { requireMongoUrl }] = await Promise.all([
    import('./mongo.js'), import('../util/mongo.js'), import('../sessions/stores/mongo/index.js'),
  ]);
  let client: MongoClient | undefined;
  return {
    async open(name, engine) {
      if (engine !== 'NOWEB') return undefined; // WAHA keeps GOWS sessions in SQLite or PostgreSQL only
      client ??= await connectMongo(requireMongoUrl(options.settings), { timeoutMs: options.timeoutMs });
      const db = client.db(sessionDatabase(namespacesFor(engine, options.settings).session, name));
      const collections = await db.listCollections({ name: 'messages' }, { nameOnly: true }).toArray();
      return collections.length ? new MongoMessageTable(name, db) : undefined;
    },
    close: async () => { await client?.close().catch(() => undefined); },
  };
}

async function postgresOpener(options: TargetOptions): Promise<Opener> {
  const [{ PostgresMessageTable }, { PostgresServer: Server }, { requirePostgresUrl }] = await Promise.all([
    import('./postgres.js'), import('../util/postgres.js'), import('../sessions/stores/postgres/index.js'),
  ]);
  const server: PostgresServer = new Server({ url: requirePostgresUrl(options.settings), timeoutMs: options.timeoutMs, applicationName: 'waha-storage messages prune' });
  return {
    async open(name, engine) {
      const database = truncateIdentifier(sessionDatabase(namespacesFor(engine, options.settings).session, name));
      const exists = await server.pooled(undefined, async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount! > 0);
      if (!exists) return undefined;
      const client = await server.connect(database);
      const table = MESSAGE_TABLE[engine];
      const { rows } = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [`public.${table}`]);
      if (!rows[0]?.found) {
        await client.end().catch(() => undefined);
        return undefined;
      }
      if (options.readOnly) await client.query('SET default_transaction_read_only = on');
      return new PostgresMessageTable({ session: name, engine, table, database, client });
    },
    close: () => server.close(),
  };
}
