/**
 * One prune at a time per store, so two cron runs never overlap:
 * - local: a lock file in the sessions dir (`.waha-storage-prune.lock`, beside the staging folder;
 *   WAHA lists only the folders inside its namespace folders), kept fresh by proper-lockfile and
 *   stale after 30 s without updates, so a killed run does not block the next;
 * - postgres: a session-level advisory lock on the maintenance database, held while the run lasts
 *   (a killed run's connection ends and the lock with it);
 * - mongo: a lock file in the system temp folder keyed by the server and namespaces (one host only).
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { SessionsConfig } from '../config/config.js';
import { OperationError } from '../errors.js';
import type { StoreWord } from '../sessions/stores/registry.js';
import type { PostgresServer } from '../util/postgres.js';

export const LOCAL_PRUNE_LOCK = '.waha-storage-prune.lock';

export type Release = () => Promise<void>;

export interface PruneLockOptions {
  store: StoreWord;
  settings: SessionsConfig;
  timeoutMs: number;
  onCompromised?: (error: Error) => void;
}

function lockKey(options: PruneLockOptions, url: string | undefined): string {
  return `${options.store}|${url ?? path.resolve(options.settings.sessionsDir)}|${options.settings.namespace ?? ''}|${options.settings.sessionNamespace ?? ''}`;
}

export async function acquirePruneLock(options: PruneLockOptions): Promise<Release> {
  if (options.store === 'postgres') return advisoryLock(options);
  const file = options.store === 'local'
    ? path.resolve(options.settings.sessionsDir, LOCAL_PRUNE_LOCK)
    : path.resolve(os.tmpdir(), `waha-storage-prune-${createHash('sha256').update(lockKey(options, options.settings.mongoUrl)).digest('hex').slice(0, 16)}.lock`);
  const { lock } = await import('proper-lockfile');
  try {
    return await lock(file, { lockfilePath: file, realpath: false, stale: 30_000, retries: 0, onCompromised: options.onCompromised ?? (() => undefined) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new OperationError(`Another messages prune is running on this ${options.store} store (lock ${file})`, { hint: 'wait for it to finish, then run again' });
    }
    throw new OperationError(`Cannot create the lock ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`, { hint: 'check that the folder is writable' });
  }
}

async function advisoryLock(options: PruneLockOptions): Promise<Release> {
  const [{ PostgresServer: Server, holdAdvisoryLock }, { requirePostgresUrl }] = await Promise.all([import('../util/postgres.js'), import('../sessions/stores/postgres/index.js')]);
  const url = requirePostgresUrl(options.settings);
  const server: PostgresServer = new Server({ url, timeoutMs: options.timeoutMs, applicationName: 'waha-storage messages prune lock' });
  const client = await server.connect(undefined);
  const { host, port } = server.connection;
  const digest = createHash('sha256').update(`waha-storage messages prune|${host}:${port}|${options.settings.namespace ?? ''}|${options.settings.sessionNamespace ?? ''}`).digest();
  const [high, low] = [digest.readInt32BE(0), digest.readInt32BE(4)];
  return holdAdvisoryLock(client, [high, low], {
    onCompromised: options.onCompromised,
    busy: () => new OperationError(`Another messages prune is running on ${server.location} (PostgreSQL advisory lock ${high}/${low})`, { hint: 'wait for it to finish, then run again' }),
  });
}
