/**
 * purge: exactly what WAHA's own delete and logout do to a store (waha-facts §1.5, §2.3).
 *   delete (default)  local: the session folder (and a core-layout WEBJS profile) plus its `me` and
 *                     `session_worker` rows; mongo: `waha_<ns>_<slug>` plus its `sessions`, `me`,
 *                     `session_worker` documents. (= the transfer stores' `remove`.)
 *   logout            auth goes, config stays: local removes every entry of the session folder
 *                     except `.waha.session.*` (and a core-layout WEBJS profile) plus the `me` row;
 *                     mongo drops the per-session database and the `me` document.
 * The plan (what will go, logged-in state, phone, size) comes from the inspect readers, so the
 * dry run and the real run print the same list and totals.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { Database } from '../util/sqlite.js';
import type { Engine } from './engines.js';
import type { SessionReport } from './report.js';
import { removeSessionEntries, type LocalTransferStore } from './stores/local-transfer.js';
import type { MongoTransferStore } from './stores/mongo-transfer.js';

export type PurgeMode = 'delete' | 'logout';

export interface PurgeItem {
  engine: Engine | null;
  name: string;
  loggedIn: boolean | null;
  phone: string | null;
  entries: number;
  bytes: number;
}

export interface PurgeOutcome extends PurgeItem {
  status: 'done' | 'failed' | 'planned';
  reason?: string;
  message?: string;
}

export interface PurgeResult {
  mode: PurgeMode;
  sessions: PurgeOutcome[];
  summary: { sessions: number; done: number; failed: number; planned: number; skipped: number; entries: number; bytes: number };
}

/** Turns inspect reports into the purge plan; names asked for but not found are a usage error (nothing is removed). */
export function planPurge(reports: readonly SessionReport[], names: readonly string[] | undefined, where: string): PurgeItem[] {
  const missing = (names ?? []).filter((name) => !reports.some((report) => report.name === name));
  if (missing.length) {
    throw new UsageError(`No session ${missing.map((name) => `"${name}"`).join(', ')} in ${where}; nothing was purged`, {
      hint: 'check the name (case matters) and the namespace; "waha-storage inspect" lists the sessions',
    });
  }
  return reports.map((report) => ({
    engine: report.engine,
    name: report.name,
    loggedIn: report.loggedIn,
    phone: report.me?.id ?? report.details.account ?? null,
    entries: report.entries,
    bytes: report.bytes ?? 0,
  }));
}

export type PurgeStore = { kind: 'local'; store: LocalTransferStore } | { kind: 'mongo'; store: MongoTransferStore };

/** The dry run: the same plan, every session `planned`, the same totals. */
export function planned(items: readonly PurgeItem[], mode: PurgeMode): PurgeResult {
  return result(mode, items.map((item) => ({ ...item, status: 'planned' as const })));
}

export async function purge(target: PurgeStore, items: readonly PurgeItem[], mode: PurgeMode, options: { signal?: AbortSignal } = {}): Promise<PurgeResult> {
  const sessions: PurgeOutcome[] = [];
  for (const item of items) {
    if (options.signal?.aborted) break;
    const ref = { engine: item.engine, name: item.name };
    try {
      if (mode === 'delete') await target.store.remove(ref);
      else if (target.kind === 'local') await logoutLocal(target.store, ref);
      else await logoutMongo(target.store, ref);
      sessions.push({ ...item, status: 'done' });
    } catch (error) {
      sessions.push({ ...item, status: 'failed', reason: 'error', message: (error as Error).message });
    }
  }
  return result(mode, sessions);
}

function result(mode: PurgeMode, sessions: PurgeOutcome[]): PurgeResult {
  const summary = { sessions: sessions.length, done: 0, failed: 0, planned: 0, skipped: 0, entries: 0, bytes: 0 };
  for (const session of sessions) {
    summary[session.status]++;
    if (session.status !== 'failed') {
      summary.entries += session.entries;
      summary.bytes += session.bytes;
    }
  }
  return { mode, sessions, summary };
}

/** WAHA's LocalSessionAuthRepository.clean + the `me` row: everything but `.waha.session.*` goes. */
async function logoutLocal(store: LocalTransferStore, ref: { engine: Engine | null; name: string }): Promise<void> {
  const { sessionDir, mainDb } = store.paths(ref);
  const profile = store.webjsProfile(ref);
  if (profile && !profile.startsWith(sessionDir + path.sep)) await rm(profile, { recursive: true, force: true });
  await removeSessionEntries(sessionDir, ref.name, { keepConfig: true });
  if (existsSync(mainDb)) {
    const db = new Database(mainDb, { timeout: 5000 });
    try {
      const hasMe = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'me'").get();
      if (hasMe) db.prepare('DELETE FROM me WHERE id = ?').run(ref.name);
    } finally {
      db.close();
    }
  }
}

/** A Mongo logout drops the per-session database and the `me` document; `sessions` and `session_worker` stay. */
async function logoutMongo(store: MongoTransferStore, ref: { engine: Engine | null; name: string }): Promise<void> {
  await store.sessionDb(ref).dropDatabase();
  await store.mainDb(ref).collection('me').deleteMany({ session: ref.name });
}
