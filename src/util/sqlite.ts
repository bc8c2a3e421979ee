/**
 * Opening WAHA's SQLite files (waha.sqlite3, gows.db, store.sqlite3) for reading without
 * disturbing them: a read creates no file in the folder it reads. A read-only connection to a WAL
 * database creates `-shm` (and `-wal`) when they are missing, and `immutable` ignores the WAL, so:
 * - no `-wal` and no `-journal` (nothing is mid-write, no server has it open): opened `immutable`;
 * - a `-wal` and its `-shm` (a server may be running): opened read-only in place, with a busy
 *   timeout, so committed WAL pages are seen and nothing new appears (SQLite's own reader protocol;
 *   a read-only connection never checkpoints or removes the WAL);
 * - a `-wal` without `-shm` (left over: no server holds it, as a server always has the `-shm`):
 *   the file and its WAL are copied into a private temporary folder and opened there; the folder
 *   goes when the connection is closed. A copy is consistent because nothing writes the original.
 * - a `-journal` (rollback mode mid-write or left over): read-only in place (it creates nothing).
 * Every module that opens SQLite goes through here: URI file names must be enabled before
 * better-sqlite3 loads.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

process.env.SQLITE_USE_URI = '1';
const require = createRequire(import.meta.url);
// better-sqlite3 12 aborts the process on Node 24 whenever the GC collects one of its objects (Node 24's
// node::ObjectWrap removes a cleanup hook with no current environment); 13 (Node-API) does not, but
// needs Node 22: the same API from one of two installs (package.json: better-sqlite3-napi).
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
export const Database = require(NODE_MAJOR >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3') as typeof BetterSqlite3;
export type Database = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement<unknown[]>;

function fileUri(file: string, query: string): string {
  return `file:${encodeURI(file).replace(/[?#]/g, encodeURIComponent)}?${query}`;
}

export function openReadOnly(file: string, timeoutMs = 2000): Database {
  const wal = existsSync(`${file}-wal`);
  if (wal && !existsSync(`${file}-shm`)) return openPrivateCopy(file, timeoutMs);
  const live = wal || existsSync(`${file}-journal`);
  return new Database(fileUri(file, live ? 'mode=ro' : 'immutable=1'), { readonly: true, fileMustExist: true, timeout: timeoutMs });
}

/** The database and its leftover WAL, copied aside and opened there; closing the connection removes the copy. */
function openPrivateCopy(file: string, timeoutMs: number): Database {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-sqlite-'));
  const remove = () => rmSync(folder, { recursive: true, force: true });
  try {
    const copy = path.join(folder, path.basename(file));
    copyFileSync(file, copy);
    try {
      copyFileSync(`${file}-wal`, `${copy}-wal`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // checkpointed and removed meanwhile: the file alone is whole
    }
    const db = new Database(fileUri(copy, 'mode=ro'), { readonly: true, fileMustExist: true, timeout: timeoutMs });
    const close = db.close.bind(db);
    db.close = () => {
      try {
        return close();
      } finally {
        remove();
      }
    };
    return db;
  } catch (error) {
    remove();
    throw error;
  }
}
