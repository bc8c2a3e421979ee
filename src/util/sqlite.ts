/**
 * Opening WAHA's SQLite files (waha.sqlite3, gows.db, store.sqlite3) for reading without
 * disturbing them. A read-only connection to a WAL database still creates `-wal` and `-shm`
 * files when they are missing; so when no journal exists (nothing is mid-write and no server has
 * it open) the file is opened `immutable`, which creates nothing. When a `-wal` exists, a server
 * may be running: the file is opened read-only, with a busy timeout, so committed WAL pages are
 * seen and the server's files are never checkpointed or removed.
 * Every module that opens SQLite goes through here: URI file names must be enabled before
 * better-sqlite3 loads.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
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

export function openReadOnly(file: string, timeoutMs = 2000): Database {
  const live = existsSync(`${file}-wal`) || existsSync(`${file}-journal`);
  const uri = `file:${encodeURI(file).replace(/[?#]/g, encodeURIComponent)}?${live ? 'mode=ro' : 'immutable=1'}`;
  return new Database(uri, { readonly: true, fileMustExist: true, timeout: timeoutMs });
}
