/**
 * `inspect`: what is in each session store. Local is read from the folder, MongoDB from the
 * server; a store that cannot be reached is a typed error, per-session trouble is a problem in
 * the report and never stops the listing.
 */
import { existsSync } from 'node:fs';
import type { SessionsConfig } from '../config/config.js';
import { redact, redactUrl } from '../config/redact.js';
import { ExitCode, OperationError, UsageError, WahaStorageError } from '../errors.js';
import { connectMongo } from '../util/mongo.js';
import type { Engine } from './engines.js';
import type { InspectResult, SessionStoreKind } from './report.js';

export interface InspectOptions {
  /** Explicit store, or undefined for local plus mongo when a URL is configured. */
  store?: SessionStoreKind;
  sessions: SessionsConfig;
  engines: readonly Engine[];
  names?: readonly string[];
  concurrency: number;
  mongoTimeoutMs: number;
  /** Told when a store is skipped or slow, for the CLI's stderr. */
  onNote?: (text: string) => void;
}

export function selectStores(options: Pick<InspectOptions, 'store' | 'sessions' | 'onNote'>): SessionStoreKind[] {
  if (options.store === 'mongo' && !options.sessions.mongoUrl) {
    throw new UsageError('No MongoDB URL is configured', { hint: 'set --mongo-url / WHATSAPP_SESSIONS_MONGO_URL (or --mongo-url-file)', code: 'missing-setting' });
  }
  if (options.store === 'postgres' && !options.sessions.postgresUrl) {
    throw new UsageError('No PostgreSQL URL is configured', { hint: 'set --postgres-url / WHATSAPP_SESSIONS_POSTGRESQL_URL (or --postgres-url-file)', code: 'missing-setting' });
  }
  if (options.store) return [options.store];
  if (options.sessions.postgresUrl) return [...selectStores({ ...options, sessions: { ...options.sessions, postgresUrl: undefined } }), 'postgres'];
  if (!options.sessions.mongoUrl) return ['local'];
  if (!existsSync(options.sessions.sessionsDir)) {
    options.onNote?.(`no local sessions dir at ${options.sessions.sessionsDir}; inspecting MongoDB only`);
    return ['mongo'];
  }
  return ['local', 'mongo'];
}

/**
 * With several stores, one that cannot be read does not hide the others: it is reported in
 * `failedStores` (the CLI exits 3); only when every store fails is the first failure thrown.
 */
export async function inspect(options: InspectOptions): Promise<InspectResult> {
  const result: InspectResult = { sessions: [], problems: [], failedStores: [] };
  const stores = selectStores(options);
  for (const store of stores) {
    let part: InspectResult;
    try {
      part = store === 'local' ? await inspectLocalStore(options) : store === 'postgres' ? await inspectPostgresStore(options) : await inspectMongoStore(options);
    } catch (error) {
      if (stores.length === 1 || !(error instanceof WahaStorageError) || error.exitCode === ExitCode.usage) throw error;
      result.failedStores!.push({ store, error });
      continue;
    }
    result.sessions.push(...part.sessions);
    result.problems.push(...part.problems);
  }
  if (result.failedStores!.length === stores.length) throw result.failedStores![0]!.error;
  return result;
}

async function inspectLocalStore(options: InspectOptions): Promise<InspectResult> {
  const { inspectLocal } = await import('./stores/local.js');
  return inspectLocal({
    sessionsDir: options.sessions.sessionsDir,
    namespace: options.sessions.namespace,
    sessionNamespace: options.sessions.sessionNamespace,
    engines: options.engines,
    sessions: options.names,
    concurrency: options.concurrency,
  });
}

async function inspectPostgresStore(options: InspectOptions): Promise<InspectResult> {
  const [{ inspectPostgres }, { PostgresServer }] = await Promise.all([import('./stores/postgres/inspect.js'), import('../util/postgres.js')]);
  const server = new PostgresServer({ url: options.sessions.postgresUrl!, timeoutMs: options.mongoTimeoutMs });
  try {
    return await inspectPostgres({
      server,
      namespace: options.sessions.namespace,
      sessionNamespace: options.sessions.sessionNamespace,
      engines: options.engines,
      sessions: options.names,
      concurrency: options.concurrency,
    });
  } catch (error) {
    if (error instanceof WahaStorageError) throw error;
    throw new OperationError(`Reading PostgreSQL at ${server.location} failed: ${redact((error as Error).message)}`, {
      hint: 'check that the role may connect to the maintenance database and to the waha_* databases',
      cause: error,
    });
  }
}

async function inspectMongoStore(options: InspectOptions): Promise<InspectResult> {
  const { inspectMongo } = await import('./stores/mongo.js');
  const client = await connectMongo(options.sessions.mongoUrl!, { timeoutMs: options.mongoTimeoutMs });
  try {
    return await inspectMongo({
      client,
      namespace: options.sessions.namespace,
      sessionNamespace: options.sessions.sessionNamespace,
      engines: options.engines,
      sessions: options.names,
      concurrency: options.concurrency,
    });
  } catch (error) {
    if (error instanceof WahaStorageError) throw error;
    throw new OperationError(`Reading MongoDB at ${redactUrl(options.sessions.mongoUrl!)} failed: ${redact((error as Error).message)}`, {
      hint: 'check that the user may list databases and read waha_* databases',
      cause: error,
    });
  } finally {
    await client.close();
  }
}
