/**
 * The session stores as the CLI names and opens them: the store words, the WEBJS layout flag, and
 * the local / MongoDB transfer ends (heavy modules loaded only when a command opens one).
 */
import { statSync } from 'node:fs';
import type { Config, SessionsConfig } from '../config/config.js';
import { redactUrl } from '../config/redact.js';
import { OperationError, UsageError } from '../errors.js';
import { namespacesFor, type Engine } from '../sessions/engines.js';
import type { SessionStore } from '../sessions/stores/types.js';

export type StoreWord = 'local' | 'mongo' | 'postgres';
/** Which end of a migrate a store is: the target may have its own URL and namespaces (--to-*). */
export type StoreEnd = 'source' | 'target';

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

/** The settings one end uses: the target's --to-mongo-url, --to-postgres-url and --to-(session-)namespace when given. */
export function endSettings(config: Config, end: StoreEnd = 'source'): SessionsConfig {
  const sessions = config.sessions;
  if (end === 'source') return sessions;
  return {
    ...sessions,
    mongoUrl: sessions.toMongoUrl ?? sessions.mongoUrl,
    postgresUrl: sessions.toPostgresUrl ?? sessions.postgresUrl,
    namespace: sessions.toNamespace ?? sessions.namespace,
    sessionNamespace: sessions.toSessionNamespace ?? sessions.sessionNamespace,
  };
}

export async function openSessionStore(config: Config, word: StoreWord, timeoutMs: number, layout?: 'plus' | 'core', end: StoreEnd = 'source'): Promise<SessionStore> {
  const sessions = endSettings(config, end);
  try {
    return await openStore(sessions, word, timeoutMs, layout, end);
  } catch (error) {
    throw end === 'target' ? targetError(config, word, error) : error;
  }
}

/** A connection error names --mongo-url / --postgres-url; a target URL that came from its own flag is named instead. */
function targetError(config: Config, word: StoreWord, error: unknown): unknown {
  const own = (word === 'mongo' ? config.sessions.toMongoUrl : word === 'postgres' ? config.sessions.toPostgresUrl : undefined) !== undefined;
  if (!own || !(error instanceof OperationError)) return error;
  return new OperationError(error.message, { hint: `check --to-${word}-url (or --to-${word}-url-file)`, code: error.code, cause: error.cause });
}

async function openStore(sessions: SessionsConfig, word: StoreWord, timeoutMs: number, layout: 'plus' | 'core' | undefined, end: StoreEnd): Promise<SessionStore> {
  if (word === 'local') {
    requireSessionsDir(sessions.sessionsDir, { mustExist: false });
    const { LocalTransferStore } = await import('../sessions/stores/local-transfer.js');
    return new LocalTransferStore({ ...sessions, webjsLayout: layout });
  }
  if (word === 'postgres') {
    const [{ PostgresTransferStore }, { PostgresServer }] = await Promise.all([import('../sessions/stores/postgres/store.js'), import('../util/postgres.js')]);
    const server = new PostgresServer({ url: requirePostgresUrl(sessions, end), timeoutMs });
    await server.with(undefined, async () => {}); // unreachable or refused: one clear error before anything starts
    return new PostgresTransferStore({ server, namespace: sessions.namespace, sessionNamespace: sessions.sessionNamespace });
  }
  const mongoUrl = requireMongoUrl(sessions, end);
  const [{ MongoTransferStore }, { connectMongo }] = await Promise.all([import('../sessions/stores/mongo-transfer.js'), import('../util/mongo.js')]);
  const client = await connectMongo(mongoUrl, { timeoutMs });
  return new MongoTransferStore({ client, namespace: sessions.namespace, sessionNamespace: sessions.sessionNamespace, location: redactUrl(mongoUrl) });
}

/** `settings`: a Config (its sessions section) or one end's settings. */
export function requireMongoUrl(settings: Config | SessionsConfig, end: StoreEnd = 'source'): string {
  const url = sessionsOf(settings).mongoUrl;
  const target = end === 'target' ? ' (or --to-mongo-url for the target)' : '';
  if (!url) throw new UsageError('No MongoDB URL is configured', { hint: `set --mongo-url / WHATSAPP_SESSIONS_MONGO_URL (or --mongo-url-file)${target}`, code: 'missing-setting' });
  return url;
}

export function requirePostgresUrl(settings: Config | SessionsConfig, end: StoreEnd = 'source'): string {
  const url = sessionsOf(settings).postgresUrl;
  const target = end === 'target' ? ' (or --to-postgres-url for the target)' : '';
  if (!url) throw new UsageError('No PostgreSQL URL is configured', { hint: `set --postgres-url / WHATSAPP_SESSIONS_POSTGRESQL_URL (or --postgres-url-file)${target}`, code: 'missing-setting' });
  return url;
}

function sessionsOf(settings: Config | SessionsConfig): SessionsConfig {
  return 'sessionsDir' in settings ? settings : settings.sessions;
}

/** The cheap check of a store word's setting (a URL), before any connection. */
export function requireStoreSettings(config: Config, word: StoreWord, end: StoreEnd = 'source'): void {
  if (word === 'mongo') requireMongoUrl(endSettings(config, end), end);
  else if (word === 'postgres') requirePostgresUrl(endSettings(config, end), end);
}

/**
 * `migrate mongo mongo` / `migrate postgres postgres`: allowed when the target is another server or
 * other namespaces; refused (exit 2) when both ends name the same databases, since --move or
 * --overwrite would then remove what it copies. The servers are asked who they are, so two URLs of
 * one server (a host name and its IP) count as one.
 */
export async function assertDistinctEnds(config: Config, word: StoreWord, engines: readonly Engine[], timeoutMs: number): Promise<void> {
  const source = endSettings(config, 'source');
  const target = endSettings(config, 'target');
  const hint = `give the target its own server (--to-${word === 'postgres' ? 'postgres' : 'mongo'}-url) or namespaces (--to-namespace, --to-session-namespace)`;
  if (word === 'local') throw new UsageError('The source and the target are both local', { hint: 'migrate copies between stores: use "migrate local mongo" or "migrate local postgres"' });
  const shared = engines.filter((engine) => {
    const [from, to] = [namespacesFor(engine, source), namespacesFor(engine, target)];
    return from.main === to.main || from.session === to.session;
  });
  if (!shared.length) return;
  const [from, to] = await Promise.all([serverIdentity(word, source, timeoutMs), serverIdentity(word, target, timeoutMs).catch((error) => { throw targetError(config, word, error); })]);
  if (!sameServer(from, to)) return;
  const where = word === 'postgres' ? redactUrl(requirePostgresUrl(target)) : redactUrl(requireMongoUrl(target));
  throw new UsageError(`The source and the target are the same ${word} databases (${where}, namespace of ${shared.join(', ')})`, { hint });
}

interface ServerIdentity {
  id: string;
  startedMs?: number;
}

function sameServer(a: ServerIdentity, b: ServerIdentity): boolean {
  if (a.id !== b.id) return false;
  return a.startedMs === undefined || b.startedMs === undefined || Math.abs(a.startedMs - b.startedMs) < 5000;
}

async function serverIdentity(word: StoreWord, sessions: SessionsConfig, timeoutMs: number): Promise<ServerIdentity> {
  if (word === 'postgres') {
    const { PostgresServer, serverIdentity: identify } = await import('../util/postgres.js');
    const server = new PostgresServer({ url: requirePostgresUrl(sessions), timeoutMs });
    return { id: await server.with(undefined, identify) };
  }
  const { connectMongo } = await import('../util/mongo.js');
  const url = requireMongoUrl(sessions);
  const client = await connectMongo(url, { timeoutMs });
  try {
    const status = await client.db('admin').command({ serverStatus: 1 }) as { host?: string; pid?: unknown; process?: string; localTime?: Date; uptimeMillis?: unknown };
    const started = status.localTime instanceof Date && typeof status.uptimeMillis === 'number' ? status.localTime.getTime() - status.uptimeMillis : undefined;
    return { id: `${status.host}|${status.process}|${String(status.pid)}`, startedMs: started };
  } catch {
    // serverStatus refused (a role without clusterMonitor): the hosts the URL names
    return { id: [...client.options.hosts.map((host) => host.toString().toLowerCase())].sort().join(',') };
  } finally {
    await client.close().catch(() => {});
  }
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
