/**
 * `usage`: where the space of each session goes (issue #10), from the cheapest source each store
 * has — file sizes and dbstat (local), the server's statistics (MongoDB, PostgreSQL). Read only.
 * The core never prints: it returns the result; src/cli/usage.ts renders it.
 */
import type { SessionsConfig } from '../config/config.js';
import { redact } from '../config/redact.js';
import { OperationError, WahaStorageError } from '../errors.js';
import type { Engine } from '../sessions/engines.js';
import type { Problem } from '../sessions/problems.js';
import { storeOf } from '../sessions/stores/registry.js';
import type { StoreWord } from '../sessions/stores/types.js';
import { sortSessions, totalsOf, type SessionUsage, type UsageResult } from './report.js';

export type { UsageResult, SessionUsage, PartUsage, TableUsage, UsageTotals } from './report.js';
export { PARTS, type PartName } from './parts.js';

export interface UsageOptions {
  store: StoreWord;
  sessions: SessionsConfig;
  engines: readonly Engine[];
  names?: readonly string[];
  concurrency: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called after each session is measured. */
  onSession?: (name: string) => void;
  /** Called once the sessions are listed, with how many will be measured. */
  onListed?: (count: number) => void;
}

export async function usage(options: UsageOptions): Promise<UsageResult> {
  const store = storeOf(options.store);
  const location = store.location(options.sessions);
  const { sessions, notes, problems } = await measure(options);
  sortSessions(sessions);
  return { store: options.store, location, sessions, totals: totalsOf(sessions), notes, problems };
}

async function measure(options: UsageOptions): Promise<{ sessions: SessionUsage[]; notes: string[]; problems: Problem[] }> {
  if (options.store === 'local') {
    const { localUsage } = await import('./local.js');
    const { sessionsDir, namespace, sessionNamespace } = options.sessions;
    const result = await localUsage({ sessionsDir, namespace, sessionNamespace, engines: options.engines, names: options.names, concurrency: options.concurrency, signal: options.signal, onSession: options.onSession, onListed: options.onListed });
    return { ...result, problems: [] };
  }
  const inspected = await storeOf(options.store).inspect({
    sessions: options.sessions, engines: options.engines, names: options.names, concurrency: options.concurrency, timeoutMs: options.timeoutMs,
  });
  // engines sharing one namespace are listed together; the engine each database holds decides
  const listed = inspected.sessions.filter((session) => session.engine === null || options.engines.includes(session.engine));
  options.onListed?.(listed.length);
  const common = { sessions: listed, concurrency: options.concurrency, signal: options.signal, onSession: options.onSession };
  try {
    if (options.store === 'mongo') {
      const [{ mongoUsage }, { connectMongo }] = await Promise.all([import('./mongo.js'), import('../util/mongo.js')]);
      const client = await connectMongo(options.sessions.mongoUrl!, { timeoutMs: options.timeoutMs });
      try {
        return { ...await mongoUsage({ ...common, client }), problems: inspected.problems };
      } finally {
        await client.close().catch(() => {});
      }
    }
    const [{ postgresUsage }, { PostgresServer }] = await Promise.all([import('./postgres.js'), import('../util/postgres.js')]);
    const server = new PostgresServer({ url: options.sessions.postgresUrl!, timeoutMs: options.timeoutMs });
    return { sessions: await postgresUsage({ ...common, server }), notes: [], problems: inspected.problems };
  } catch (error) {
    if (error instanceof WahaStorageError || options.signal?.aborted) throw error;
    throw new OperationError(`Measuring ${storeOf(options.store).title} at ${storeOf(options.store).location(options.sessions)} failed: ${redact((error as Error).message)}`, {
      hint: options.store === 'mongo' ? 'check that the user may run $collStats / collStats on the waha_* databases' : 'check that the role may connect to the waha_* databases',
      cause: error,
    });
  }
}
