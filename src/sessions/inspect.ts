/**
 * `inspect`: what is in each session store, each read by its module in the store registry; a
 * store that cannot be reached is a typed error, per-session trouble is a problem in the report
 * and never stops the listing.
 */
import { existsSync } from 'node:fs';
import type { SessionsConfig } from '../config/config.js';
import { ExitCode, WahaStorageError } from '../errors.js';
import type { Engine } from './engines.js';
import type { InspectResult, SessionStoreKind } from './report.js';
import { STORES, storeOf } from './stores/registry.js';

export interface InspectOptions {
  /** Explicit store, or undefined for local plus every store whose URL is configured. */
  store?: SessionStoreKind;
  sessions: SessionsConfig;
  engines: readonly Engine[];
  names?: readonly string[];
  concurrency: number;
  mongoTimeoutMs: number;
  /** Told when a store is skipped or slow, for the CLI's stderr. */
  onNote?: (text: string) => void;
  signal?: AbortSignal;
}

/** Without a store word: every configured store; a missing local folder is left out (with a note) when another store is configured. */
export function selectStores(options: Pick<InspectOptions, 'store' | 'sessions' | 'onNote'>): SessionStoreKind[] {
  if (options.store) {
    storeOf(options.store).requireSettings(options.sessions);
    return [options.store];
  }
  const configured = STORES.filter((store) => store.configured(options.sessions));
  const remote = configured.filter((store) => !store.folder);
  const missing = configured.filter((store) => store.folder && !existsSync(store.folder(options.sessions)));
  if (remote.length && missing.length) {
    options.onNote?.(`no local sessions dir at ${options.sessions.sessionsDir}; inspecting ${remote.map((store) => store.title).join(' and ')} only`);
    return remote.map((store) => store.word);
  }
  return configured.map((store) => store.word);
}

/**
 * With several stores, one that cannot be read does not hide the others: it is reported in
 * `failedStores` (the CLI exits 3); only when every store fails is the first failure thrown.
 */
export async function inspect(options: InspectOptions): Promise<InspectResult> {
  const result: InspectResult = { sessions: [], problems: [], failedStores: [] };
  const stores = selectStores(options);
  for (const store of stores) {
    options.signal?.throwIfAborted();
    let part: InspectResult;
    try {
      part = await storeOf(store).inspect({ ...options, timeoutMs: options.mongoTimeoutMs });
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
