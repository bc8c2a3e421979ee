/**
 * The session stores as the CLI names and opens them: the store words, the WEBJS layout flag, and
 * the local / MongoDB transfer ends (heavy modules loaded only when a command opens one).
 */
import { statSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { redactUrl } from '../config/redact.js';
import { OperationError, UsageError } from '../errors.js';
import type { SessionStore } from '../sessions/stores/types.js';

export type StoreWord = 'local' | 'mongo' | 'postgres';

/** `role` names the word in the error: "source store", "target store", "session store". `pg` is `postgres`. */
export function parseStoreWord(word: string, role = 'session store'): StoreWord {
  if (word === 'local' || word === 'mongo' || word === 'postgres') return word;
  if (word === 'pg') return 'postgres';
  throw new UsageError(`Unknown ${role} "${word}"`, { hint: 'use local, mongo or postgres (pg)' });
}

export function parseLayout(text: string | undefined): 'plus' | 'core' | undefined {
  if (text === undefined) return undefined;
  const layout = text.toLowerCase();
  if (layout === 'plus' || layout === 'core') return layout;
  throw new UsageError(`Invalid --webjs-layout "${text}"`, { hint: 'use plus or core' });
}

export async function openSessionStore(config: Config, word: StoreWord, timeoutMs: number, layout?: 'plus' | 'core'): Promise<SessionStore> {
  const sessions = config.sessions;
  if (word === 'local') {
    requireSessionsDir(sessions.sessionsDir, { mustExist: false });
    const { LocalTransferStore } = await import('../sessions/stores/local-transfer.js');
    return new LocalTransferStore({ ...sessions, webjsLayout: layout });
  }
  if (word === 'postgres') {
    const [{ PostgresTransferStore }, { PostgresServer }] = await Promise.all([import('../sessions/stores/postgres/store.js'), import('../util/postgres.js')]);
    const server = new PostgresServer({ url: requirePostgresUrl(config), timeoutMs });
    await server.with(undefined, async () => {}); // unreachable or refused: one clear error before anything starts
    return new PostgresTransferStore({ server, namespace: sessions.namespace, sessionNamespace: sessions.sessionNamespace });
  }
  const mongoUrl = requireMongoUrl(config);
  const [{ MongoTransferStore }, { connectMongo }] = await Promise.all([import('../sessions/stores/mongo-transfer.js'), import('../util/mongo.js')]);
  const client = await connectMongo(mongoUrl, { timeoutMs });
  return new MongoTransferStore({ client, namespace: sessions.namespace, sessionNamespace: sessions.sessionNamespace, location: redactUrl(mongoUrl) });
}

export function requireMongoUrl(config: Config): string {
  const url = config.sessions.mongoUrl;
  if (!url) throw new UsageError('No MongoDB URL is configured', { hint: 'set --mongo-url / WHATSAPP_SESSIONS_MONGO_URL (or --mongo-url-file)', code: 'missing-setting' });
  return url;
}

export function requirePostgresUrl(config: Config): string {
  const url = config.sessions.postgresUrl;
  if (!url) throw new UsageError('No PostgreSQL URL is configured', { hint: 'set --postgres-url / WHATSAPP_SESSIONS_POSTGRESQL_URL (or --postgres-url-file)', code: 'missing-setting' });
  return url;
}

/** The cheap check of a store word's setting (a URL), before any connection. */
export function requireStoreSettings(config: Config, word: StoreWord): void {
  if (word === 'mongo') requireMongoUrl(config);
  else if (word === 'postgres') requirePostgresUrl(config);
}

const SESSIONS_DIR_HINT = "set --sessions-dir / WAHA_LOCAL_STORE_BASE_DIR to WAHA's .sessions folder";

/**
 * The local store's folder, checked before anything is read or written: a file there is exit 2
 * for every command (an empty archive of "no sessions" is not a backup); a missing folder is
 * exit 2 for a command that reads it (a target may create it).
 */
export function requireSessionsDir(directory: string, { mustExist }: { mustExist: boolean }): void {
  let info;
  try {
    info = statSync(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && mustExist) throw new UsageError(`The sessions dir ${directory} does not exist (no such folder)`, { hint: SESSIONS_DIR_HINT });
    return; // created later (a target), or ENOTDIR / EACCES, which the store reports in its own words (exit 1, as inspect)
  }
  if (!info.isDirectory()) throw new UsageError(`The sessions dir ${directory} is not a folder`, { hint: SESSIONS_DIR_HINT });
}

/** A local target must exist (or be creatable) and be writable before anything starts. */
export async function assertWritable(directory: string): Promise<void> {
  requireSessionsDir(directory, { mustExist: false });
  const { access, mkdir } = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  try {
    await mkdir(directory, { recursive: true });
    await access(directory, constants.W_OK);
  } catch (error) {
    throw new OperationError(`The sessions dir ${directory} is not writable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'run as the user WAHA runs as, or fix the permissions of --sessions-dir / WAHA_LOCAL_STORE_BASE_DIR',
    });
  }
}
