/**
 * purge on the local store (waha-facts §1.5): WAHA's delete is the store's `remove`; its logout
 * removes every entry of the session folder except `.waha.session.*` (and a core-layout WEBJS
 * profile) plus the `me` row. Before anything is removed, waha.sqlite3 must open writable and
 * unlocked and the folders must be removable.
 */
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Database } from '../../../util/sqlite.js';
import { purgeRefused } from '../../purge.js';
import type { PurgeMode, PurgePart, SessionRef } from '../types.js';
import { readSessionRows } from './main-db.js';
import { removeSessionEntries, type LocalTransferStore } from './store.js';

export async function preflightLocal(store: LocalTransferStore, refs: readonly SessionRef[], mode: PurgeMode): Promise<void> {
  const mainDbs = new Map<string, string[]>();
  for (const ref of refs) {
    const { sessionDir, sessionRoot, mainDb } = store.paths(ref);
    mainDbs.set(mainDb, [...(mainDbs.get(mainDb) ?? []), ref.name]);
    const profile = store.webjsProfile(ref);
    if (profile && !profile.startsWith(sessionDir + path.sep)) checkRemovable(profile, ref.name);
    if (existsSync(sessionDir)) {
      if (mode === 'delete') checkWritable(sessionRoot, ref.name);
      checkRemovable(sessionDir, ref.name);
    }
  }
  for (const [file, names] of mainDbs) if (existsSync(file)) checkMainDb(file, names, mode);
}

function checkWritable(folder: string, session: string): void {
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw purgeRefused(`${folder} (of "${session}") is not writable`, error, 'run as the user WAHA runs as, or fix the permissions, then run again');
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
        if ((error as NodeJS.ErrnoException).code === 'EPERM') throw purgeRefused(`${full} (of "${session}") cannot be removed`, error, 'remove the immutable flag (chattr -i) or fix the permissions, then run again');
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
    throw purgeRefused(`${file} cannot be updated`, error, hint);
  } finally {
    db?.close();
  }
}

export function localPurgeParts(store: LocalTransferStore, ref: SessionRef, mode: PurgeMode): PurgePart[] {
  const { sessionDir, mainDb } = store.paths(ref);
  const profile = store.webjsProfile(ref);
  const parts: PurgePart[] = [];
  if (profile && !profile.startsWith(sessionDir + path.sep)) parts.push({ label: `the WEBJS profile ${profile}`, unit: 'files', count: async () => countFiles(profile) });
  parts.push(mode === 'delete'
    ? { label: `the folder ${sessionDir}`, unit: 'files', count: async () => countFiles(sessionDir) }
    : { label: `the auth in ${sessionDir}`, unit: 'files', count: async () => countFiles(sessionDir, (name) => !name.startsWith('.waha.session.')) });
  const row = (table: 'me' | 'session_worker'): PurgePart => ({
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

/** WAHA's LocalSessionAuthRepository.clean + the `me` row: everything but `.waha.session.*` goes. */
export async function logoutLocal(store: LocalTransferStore, ref: SessionRef): Promise<void> {
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
