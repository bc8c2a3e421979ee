/**
 * What "entries" means, once for every command (inspect, migrate, backup, backup verify, restore,
 * purge, diff): the items a copy carries and verifies one by one, i.e. the SessionEntry items the
 * transfer engine reads (src/sessions/stores/types.ts):
 *   the config (one, also when the session has none: "no config" is carried too), the me record and
 *   the session_worker record when there is one, and the engine's auth:
 *   NOWEB   one per key (creds and every other key file / auth document) and one per row of the
 *           NOWEB store (store.sqlite3 tables / store collections);
 *   WEBJS   one per file of the Chromium profile that RemoteAuth keeps, one per empty folder among them;
 *   GOWS, WPP  one per file of the session folder (gows.db once, its -wal/-shm not), one per empty folder.
 * Inspect counts them from listings, without reading the content; the transfer readers yield them.
 * The readers (local-transfer.ts, mongo-transfer.ts) are the reference: a change there changes this.
 */
import { lstatSync, readdirSync } from 'node:fs';
import type { Db } from 'mongodb';
import path from 'node:path';
import * as noweb from './engines/noweb.js';
import * as webjs from './engines/webjs.js';
import { openReadOnly } from '../util/sqlite.js';
import { STORE_TABLES, STORE_WAL_FILES } from './stores/noweb-store-sqlite.js';

const CONFIG_FILE = '.waha.session.config.json';
const SQLITE_SIDE_FILE = /-(wal|shm|journal)$/;

/** The number of entries of a session from its parts. */
export function sessionEntries(parts: { me: boolean; worker: boolean; auth: number }): number {
  return 1 + Number(parts.me) + Number(parts.worker) + parts.auth;
}

/** NOWEB key files among a session folder's names (the rest is the config, temp files and the store). */
export function nowebKeyFiles(fileNames: readonly string[]): number {
  let count = 0;
  for (const name of fileNames) {
    if (name === CONFIG_FILE || noweb.TEMP_FILE_PATTERN.test(name) || name === noweb.STORE_FILE || STORE_WAL_FILES.includes(name)) continue;
    if (noweb.isKeyFile(name)) count++;
  }
  return count;
}

/** Rows of WAHA's tables in a NOWEB `store.sqlite3` (0 when it cannot be read: inspect reports that elsewhere). */
export function nowebStoreRows(file: string): number {
  let db;
  try {
    db = openReadOnly(file, 2000);
  } catch {
    return 0;
  }
  try {
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
    let rows = 0;
    for (const table of Object.keys(STORE_TABLES)) {
      if (tables.has(table)) rows += (db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
    }
    return rows;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

/**
 * Files and empty folders under `root` as the transfer reads them: `keep(relativePath, isDir)` says
 * which count (WEBJS: what RemoteAuth keeps; GOWS/WPP: all but the config and SQLite side files).
 */
export function folderEntries(root: string, keep: (relativePath: string, isDir: boolean) => boolean, prefix = ''): number {
  let names;
  try {
    names = readdirSync(root, { withFileTypes: true });
  } catch {
    return 0;
  }
  let count = 0;
  for (const entry of names) {
    const relativePath = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const full = path.join(root, entry.name);
      if (isEmptyFolder(full)) count += Number(keep(relativePath, true));
      else count += folderEntries(full, keep, relativePath);
    } else if (entry.isFile() && keep(relativePath, false)) count++;
  }
  return count;
}

function isEmptyFolder(folder: string): boolean {
  try {
    return readdirSync(folder).length === 0 && lstatSync(folder).isDirectory();
  } catch {
    return false;
  }
}

/** WEBJS: the profile's files and empty folders that RemoteAuth keeps. */
export const webjsProfileEntry = (relativePath: string, isDir: boolean): boolean => webjs.isAuthPath(isDir ? `${relativePath}/` : relativePath);

/** GOWS, WPP: every file of the session folder but the config and SQLite side files; every empty folder. */
export const opaqueFolderEntry = (relativePath: string, isDir: boolean): boolean =>
  isDir || (relativePath !== CONFIG_FILE && !SQLITE_SIDE_FILE.test(relativePath));

/**
 * Entries of a RemoteAuth zip from its names alone (the central directory): files but Chromium's
 * Singleton* locks, and folders nothing is in.
 */
export function zipEntryCount(storedNames: Iterable<string>): number {
  const folders = new Set<string>();
  const parents = new Set<string>();
  let files = 0;
  const noteParents = (name: string) => {
    const parts = name.split('/');
    for (let index = 1; index < parts.length; index++) parents.add(parts.slice(0, index).join('/'));
  };
  for (const raw of storedNames) {
    const stored = raw.replace(/\\/g, '/');
    const name = stored.replace(/\/+$/, '');
    if (stored.endsWith('/')) {
      if (name) { folders.add(name); noteParents(name); }
      continue;
    }
    if (webjs.isSingleton(name.split('/').pop()!)) continue;
    noteParents(name);
    files++;
  }
  let empty = 0;
  for (const name of folders) if (!parents.has(name)) empty++;
  return files + empty;
}

/** Documents of the NOWEB store collections in a session database (the transfer reads each as a row). */
export async function mongoStoreRows(db: Db, collections: ReadonlySet<string>): Promise<number> {
  let rows = 0;
  for (const table of Object.keys(STORE_TABLES)) if (collections.has(table)) rows += await db.collection(table).countDocuments({});
  return rows;
}

/** Entries of a RemoteAuth zip in GridFS, from its central directory only (ranged reads, not the whole zip). */
export async function gridFsZipEntries(db: Db, file: { _id: unknown; length: number }, bucketName = 'auth'): Promise<number> {
  const { GridFSBucket } = await import('mongodb');
  const bucket = new GridFSBucket(db, { bucketName });
  return zipEntriesAt(file.length, (start, end) => bucket.openDownloadStream(file._id as never, { start, end }));
}

/**
 * The entries of a zip a store holds, from its central directory only: `range` streams bytes
 * [start, end) of it (a GridFS download, a bytea substring), so the zip is never read whole.
 */
export async function zipEntriesAt(length: number, range: (start: number, end: number) => NodeJS.ReadableStream): Promise<number> {
  const yauzl = await import('yauzl');
  class RangeReader extends yauzl.RandomAccessReader {
    override _readStreamForRange(start: number, end: number) {
      return range(start, end) as never;
    }
  }
  const reader = new RangeReader();
  const zip = await new Promise<import('yauzl').ZipFile>((resolve, reject) => {
    yauzl.fromRandomAccessReader(reader, length, { lazyEntries: true, autoClose: false }, (error, opened) => (error ? reject(error) : resolve(opened)));
  });
  const names: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: import('yauzl').Entry) => { names.push(entry.fileName); zip.readEntry(); });
      zip.once('end', resolve);
      zip.once('error', reject);
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return zipEntryCount(names);
}
