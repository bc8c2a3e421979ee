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
 */
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { Database } from '../util/sqlite.js';
import { requireNamed, type SelectionStore } from './selection.js';
import { readSessionRows } from './stores/main-db.js';
import type { Engine } from './engines.js';
import type { SessionReport } from './report.js';
import { removeSessionEntries, type LocalTransferStore } from './stores/local-transfer.js';
import type { MongoTransferStore } from './stores/mongo-transfer.js';
import type { PostgresTransferStore } from './stores/postgres/store.js';

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

export type PurgeStore = { kind: 'local'; store: LocalTransferStore } | { kind: 'mongo'; store: MongoTransferStore } | { kind: 'postgres'; store: PostgresTransferStore };

/** The dry run: the same plan, every session `planned`, the same totals. */
export function planned(items: readonly PurgeItem[], mode: PurgeMode): PurgeResult {
  return result(mode, items.map((item) => ({ ...item, status: 'planned' as const })));
}

export async function purge(target: PurgeStore, items: readonly PurgeItem[], mode: PurgeMode, options: { signal?: AbortSignal } = {}): Promise<PurgeResult> {
  const sessions: PurgeOutcome[] = [];
  for (const item of items) {
    if (options.signal?.aborted) break;
    const ref = { engine: item.engine, name: item.name };
    const parts = partsOf(target, ref, mode);
    const before = await countParts(parts);
    try {
      if (mode === 'delete') await target.store.remove(ref);
      else if (target.kind === 'local') await logoutLocal(target.store, ref);
      else if (target.kind === 'postgres') await target.store.logout(ref);
      else await logoutMongo(target.store, ref);
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
  const refs = items.map((item) => ({ engine: item.engine, name: item.name }));
  if (target.kind === 'postgres') return target.store.preflightPurge(refs);
  if (target.kind === 'mongo') {
    for (const ref of refs) await checkMongo(target.store, ref);
    return;
  }
  const mainDbs = new Map<string, string[]>();
  for (const ref of refs) {
    const { sessionDir, sessionRoot, mainDb } = target.store.paths(ref);
    mainDbs.set(mainDb, [...(mainDbs.get(mainDb) ?? []), ref.name]);
    const profile = target.store.webjsProfile(ref);
    if (profile && !profile.startsWith(sessionDir + path.sep)) checkRemovable(profile, ref.name);
    if (existsSync(sessionDir)) {
      if (mode === 'delete') checkWritable(sessionRoot, ref.name);
      checkRemovable(sessionDir, ref.name);
    }
  }
  for (const [file, names] of mainDbs) if (existsSync(file)) checkMainDb(file, names, mode);
}

function refused(what: string, error: unknown, hint: string): OperationError {
  const code = (error as NodeJS.ErrnoException).code;
  return new OperationError(`Cannot purge: ${what}: ${code && code !== 'SQLITE_NOTADB' ? `${code} ` : ''}${(error as Error).message.replace(/^[A-Z]+: /, '')}; nothing was removed`, { hint, cause: error });
}

function checkWritable(folder: string, session: string): void {
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw refused(`${folder} (of "${session}") is not writable`, error, 'run as the user WAHA runs as, or fix the permissions, then run again');
  }
}

/**
 * A folder tree can be removed when every folder in it is writable and no file is immutable
 * (chattr +i: EPERM even for root); a read-only file in a writable folder can be removed (EACCES is fine).
 */
function checkRemovable(folder: string, session: string): void {
  checkWritable(folder, session);
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) checkRemovable(full, session);
    else if (entry.isFile()) {
      try {
        accessSync(full, constants.W_OK);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EPERM') throw refused(`${full} (of "${session}") cannot be removed`, error, 'remove the immutable flag (chattr -i) or fix the permissions, then run again');
      }
    }
  }
}

/**
 * waha.sqlite3 must take this purge's own statements now (not corrupt, not read-only, not locked
 * by a running WAHA): they run in a transaction that is rolled back, so nothing changes.
 */
function checkMainDb(file: string, names: readonly string[], mode: PurgeMode): void {
  const hint = `stop WAHA if it holds ${path.basename(file)}; if the file is damaged, restore it from a backup ("waha-storage inspect local" shows its state)`;
  let db: Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true, timeout: 5000 });
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const name of names) {
        if (tables.has('me')) db.prepare('DELETE FROM me WHERE id = ?').run(name);
        if (tables.has('session_worker') && mode === 'delete') db.prepare('DELETE FROM session_worker WHERE id = ?').run(name);
      }
    } finally {
      db.exec('ROLLBACK');
    }
  } catch (error) {
    throw refused(`${file} cannot be updated`, error, hint);
  } finally {
    db?.close();
  }
}

async function checkMongo(store: MongoTransferStore, ref: { engine: Engine | null; name: string }): Promise<void> {
  const main = store.mainDb(ref);
  try {
    await main.command({ ping: 1 });
    await main.collection('sessions').findOne({ name: ref.name });
    await store.sessionDb(ref).listCollections({}, { nameOnly: true }).toArray();
  } catch (error) {
    throw refused(`MongoDB (${store.location}) does not answer for "${ref.name}"`, error, 'check the server and the user\'s rights (read and drop on waha_* databases), then run again');
  }
}

/** One part of a session in a store, as a person names it, and how much of it is there (files, documents, rows). */
interface Part {
  label: string;
  unit: string;
  count(): Promise<number>;
}

function partsOf(target: PurgeStore, ref: { engine: Engine | null; name: string }, mode: PurgeMode): Part[] {
  if (target.kind === 'postgres') return target.store.purgeParts(ref, mode);
  if (target.kind === 'mongo') {
    const main = target.store.mainDb(ref);
    const sessionDb = target.store.sessionDb(ref);
    const doc = (collection: string, filter: object): Part => ({
      label: `the ${collection} document in ${main.databaseName}`, unit: 'documents',
      count: () => main.collection(collection).countDocuments(filter),
    });
    const parts: Part[] = [{
      label: `the database ${sessionDb.databaseName}`, unit: 'collections',
      count: () => sessionDb.listCollections({}, { nameOnly: true }).toArray().then((list) => list.length),
    }];
    if (mode === 'delete') parts.push(doc('sessions', { name: ref.name }), doc('session_worker', { id: ref.name }));
    parts.push(doc('me', { session: ref.name }));
    return parts;
  }
  const { sessionDir, mainDb } = target.store.paths(ref);
  const profile = target.store.webjsProfile(ref);
  const parts: Part[] = [];
  if (profile && !profile.startsWith(sessionDir + path.sep)) parts.push({ label: `the WEBJS profile ${profile}`, unit: 'files', count: async () => countFiles(profile) });
  parts.push(mode === 'delete'
    ? { label: `the folder ${sessionDir}`, unit: 'files', count: async () => countFiles(sessionDir) }
    : { label: `the auth in ${sessionDir}`, unit: 'files', count: async () => countFiles(sessionDir, (name) => !name.startsWith('.waha.session.')) });
  const row = (table: 'me' | 'session_worker'): Part => ({
    label: `the ${table} row in ${mainDb}`, unit: 'rows',
    count: async () => {
      if (!existsSync(mainDb)) return 0;
      const rows = readSessionRows(mainDb, ref.name);
      return (table === 'me' ? rows.me : rows.worker) ? 1 : 0;
    },
  });
  parts.push(row('me'));
  if (mode === 'delete') parts.push(row('session_worker'));
  return parts;
}

/** Files and folders under `folder` (the folder itself counts one, so an empty folder is still "there"); 0 when gone. */
function countFiles(folder: string, top: (name: string) => boolean = () => true): number {
  if (!existsSync(folder)) return 0;
  let count = 1;
  const visit = (dir: string, filter: (name: string) => boolean) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!filter(entry.name)) continue;
      count++;
      if (entry.isDirectory()) visit(path.join(dir, entry.name), () => true);
    }
  };
  visit(folder, top);
  return count;
}

/** How much of each part is there now; null for a part that cannot be checked (its store is unreadable). */
async function countParts(parts: readonly Part[]): Promise<(number | null)[]> {
  return Promise.all(parts.map((part) => part.count().catch(() => null)));
}

/** A session whose removal failed: what of it is gone, what is still there (each part checked again, not assumed). */
async function failedHalfway(item: PurgeItem, parts: readonly Part[], before: readonly (number | null)[], error: unknown): Promise<PurgeOutcome> {
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
