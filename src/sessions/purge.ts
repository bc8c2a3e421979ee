/**
 * purge: exactly what WAHA's own delete and logout do to a store (waha-facts §1.5, §2.3).
 *   delete (default)  local: the session folder (and a core-layout WEBJS profile) plus its `me` and
 *                     `session_worker` rows; mongo: `waha_<ns>_<slug>` plus its `sessions`, `me`,
 *                     `session_worker` documents. (= the transfer stores' `remove`.)
 *   logout            auth goes, config stays: local removes every entry of the session folder
 *                     except `.waha.session.*` (and a core-layout WEBJS profile) plus the `me` row;
 *                     mongo drops the per-session database and the `me` document.
 * The plan (what will go, logged-in state, phone, size) comes from the inspect readers, so the
 * dry run and the real run print the same list and totals. Before anything is removed, `preflight`
 * checks what can fail (waha.sqlite3 opens writable and unlocked, folders can be removed, MongoDB
 * answers); a session that still fails half-way says exactly which of its parts are gone.
 * What each store does for these lives with the store (src/sessions/stores/<store>/, PurgeableStore).
 */
import { OperationError } from '../errors.js';
import { requireNamed, type SelectionStore } from './selection.js';
import type { Engine } from './engines.js';
import type { SessionReport } from './report.js';
import type { PurgeableStore, PurgeMode, PurgePart } from './stores/types.js';

export type { PurgeMode } from './stores/types.js';

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
  /** A session that failed after its removal started: the parts that are gone, and those still there. */
  removed?: string[];
  kept?: string[];
}

export interface PurgeResult {
  mode: PurgeMode;
  sessions: PurgeOutcome[];
  summary: { sessions: number; done: number; failed: number; planned: number; skipped: number; entries: number; bytes: number };
}

/** Turns inspect reports into the purge plan; names asked for but not found are a usage error (nothing is removed). */
export async function planPurge(reports: readonly SessionReport[], names: readonly string[] | undefined, store: SelectionStore): Promise<PurgeItem[]> {
  await requireNamed(reports, names, store);
  return reports.map((report) => ({
    engine: report.engine,
    name: report.name,
    loggedIn: report.loggedIn,
    phone: report.me?.id ?? report.details.account ?? null,
    entries: report.entries,
    bytes: report.bytes ?? 0,
  }));
}

/** The store a purge works on: each store module's own delete (`remove`), logout, checks and parts. */
export type PurgeStore = PurgeableStore;

/** The dry run: the same plan, every session `planned`, the same totals. */
export function planned(items: readonly PurgeItem[], mode: PurgeMode): PurgeResult {
  return result(mode, items.map((item) => ({ ...item, status: 'planned' as const })));
}

export async function purge(target: PurgeStore, items: readonly PurgeItem[], mode: PurgeMode, options: { signal?: AbortSignal } = {}): Promise<PurgeResult> {
  const sessions: PurgeOutcome[] = [];
  for (const item of items) {
    if (options.signal?.aborted) break;
    const ref = { engine: item.engine, name: item.name };
    const parts = target.purgeParts(ref, mode);
    const before = await countParts(parts);
    try {
      if (mode === 'delete') await target.remove(ref);
      else await target.logout(ref);
      sessions.push({ ...item, status: 'done' });
    } catch (error) {
      sessions.push(await failedHalfway(item, parts, before, error));
    }
  }
  return result(mode, sessions);
}

/**
 * Everything that can make a removal fail, checked for every planned session before the first
 * one is touched; throws an OperationError naming the first problem (nothing was removed).
 */
export async function preflight(target: PurgeStore, items: readonly PurgeItem[], mode: PurgeMode): Promise<void> {
  await target.preflightPurge(items.map((item) => ({ engine: item.engine, name: item.name })), mode);
}

/** A check before a purge that failed: nothing was removed. */
export function purgeRefused(what: string, error: unknown, hint: string): OperationError {
  const code = (error as NodeJS.ErrnoException).code;
  return new OperationError(`Cannot purge: ${what}: ${code && code !== 'SQLITE_NOTADB' ? `${code} ` : ''}${(error as Error).message.replace(/^[A-Z]+: /, '')}; nothing was removed`, { hint, cause: error });
}

/** How much of each part is there now; null for a part that cannot be checked (its store is unreadable). */
async function countParts(parts: readonly PurgePart[]): Promise<(number | null)[]> {
  return Promise.all(parts.map((part) => part.count().catch(() => null)));
}

/** A session whose removal failed: what of it is gone, what is still there (each part checked again, not assumed). */
async function failedHalfway(item: PurgeItem, parts: readonly PurgePart[], before: readonly (number | null)[], error: unknown): Promise<PurgeOutcome> {
  const after = await countParts(parts);
  const removed: string[] = [];
  const kept: string[] = [];
  parts.forEach((part, index) => {
    const was = before[index];
    const now = after[index];
    if (now === null) kept.push(`${part.label} (could not be checked)`);
    else if (now === 0) {
      if (was !== 0) removed.push(part.label);
    } else if (was !== null && was !== undefined && now < was) {
      removed.push(`part of ${part.label} (${was - now} of ${was} ${part.unit})`);
      kept.push(`the rest of ${part.label} (${now} ${part.unit})`);
    } else kept.push(part.label);
  });
  const message = (error as Error).message;
  if (removed.length === 0) return { ...item, status: 'failed', reason: 'error', message: `${message}; nothing of it was removed`, removed, kept };
  return {
    ...item, status: 'failed', reason: 'partly-removed', removed, kept,
    message: `${message}; removed: ${removed.join(', ')}; still there: ${kept.join(', ') || 'nothing'}`,
  };
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
