/**
 * The local store as a transfer end (waha-facts §1): reads a session folder as entries, writes a
 * session into a hidden staging folder under the sessions dir (`.waha-storage-staging/`, outside
 * every namespace folder, so WAHA never lists it), renames it into place, then updates
 * `waha.sqlite3` (me, session_worker) in one SQLite transaction. A journal file beside the staging
 * folder marks a commit in progress, so a rerun after a crash knows the folder is its own.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, type Dirent } from 'node:fs';
import { lstat, mkdir, mkdtemp, opendir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { OperationError } from '../../../errors.js';
import { namespacesFor, type Engine } from '../../engines.js';
import * as noweb from '../../engines/noweb.js';
import * as webjs from '../../engines/webjs.js';
import { fileNameOf, isStoreName, parseKeyName } from '../../engines/noweb-keys.js';
import { describeJsonError } from '../../../util/json.js';
import { walk } from '../../../util/walk.js';
import { Database, openReadOnly } from '../../../util/sqlite.js';
import { GOWS_DB } from '../../engines/gows.js';
import { analyseLocalSession, CONFIG_FILE, listLocalSessions, ofSelectedEngine, parseSessionConfig } from './inspect.js';
import { readMainDb, readSessionRows, MAIN_DB } from './main-db.js';
import { readStoreSqlite, writeStoreSqlite, STORE_WAL_FILES } from '../noweb-store-sqlite.js';
import { targetWriteError } from '../../../util/write-errors.js';
import { EntryError, type ListOptions, type Presence, type PurgeableStore, type PurgeMode, type PurgePart, type SessionEntry, type SessionRef, type StagedSession, type StoredSession } from '../types.js';
import { localPurgeParts, logoutLocal, preflightLocal } from './purge.js';
import { folders, webjsProfileDirs } from './layout.js';

export const STAGING_FOLDER = '.waha-storage-staging';
/** A session being removed: `<staging>/<session ns>/<name>.removing-<hex>/` (renamed there first, so WAHA sees it go at once). */
export const REMOVING = /^(.+)\.removing-[0-9a-f]{8}$/;
const LIVE_WINDOW_MS = 60_000;
const WRITE_PARALLEL = 32;

export type WebjsLayout = 'plus' | 'core';

export interface LocalStoreOptions {
  sessionsDir: string;
  namespace?: string;
  sessionNamespace?: string;
  /** WEBJS layout to write; undefined: the one the target folder already uses, else plus. */
  webjsLayout?: WebjsLayout;
}

interface Paths {
  /** `<base>/<session ns>` */
  sessionRoot: string;
  /** `<base>/<session ns>/<name>` */
  sessionDir: string;
  /** `<base>/<main ns>/waha.sqlite3` */
  mainDb: string;
  /** `<base>/.waha-storage-staging/<session ns>` */
  stagingRoot: string;
}

const MAIN_SCHEMA = `
  CREATE TABLE IF NOT EXISTS me (id TEXT PRIMARY KEY, data TEXT);
  CREATE UNIQUE INDEX IF NOT EXISTS me_id_index ON me (id);
  CREATE TABLE IF NOT EXISTS session_worker (id TEXT, worker TEXT, data TEXT);
  CREATE UNIQUE INDEX IF NOT EXISTS session_worker_id_idx ON session_worker (id);
  CREATE INDEX IF NOT EXISTS session_worker_worker_idx ON session_worker (worker);
`;

export class LocalTransferStore implements PurgeableStore {
  readonly kind = 'local' as const;
  readonly location: string;

  constructor(private readonly options: LocalStoreOptions) {
    this.location = options.sessionsDir;
  }

  paths(ref: SessionRef): Paths {
    const namespaces = namespacesFor(ref.engine ?? 'NOWEB', this.options);
    const { sessionRoot, mainDir } = folders(this.options, ref.engine ?? 'NOWEB');
    return {
      sessionRoot,
      sessionDir: path.join(sessionRoot, ref.name),
      mainDb: path.join(mainDir, MAIN_DB),
      stagingRoot: path.join(this.options.sessionsDir, STAGING_FOLDER, namespaces.session),
    };
  }

  async list(options: ListOptions): Promise<StoredSession[]> {
    if (!existsSync(this.options.sessionsDir)) {
      throw new OperationError(`The sessions dir ${this.options.sessionsDir} does not exist`, { hint: "set --sessions-dir / WAHA_LOCAL_STORE_BASE_DIR to WAHA's .sessions folder" });
    }
    for (const engine of options.engines) await this.finishRemovals(this.paths({ engine, name: '' }));
    const refs = await listLocalSessions({ ...this.options, engines: options.engines, sessions: options.names, concurrency: 1 });
    const sessions: StoredSession[] = [];
    const mainDbs = new Map<string, ReturnType<typeof readMainDb>>();
    for (const ref of refs) if (!mainDbs.has(ref.mainDir)) mainDbs.set(ref.mainDir, readMainDb(ref.mainDir));
    const limit = pLimit(8); // analysing walks every file of a session: overlap sessions (bench/migrate)
    const reports = await Promise.all(refs.map((ref) => limit(() => analyseLocalSession(ref, mainDbs.get(ref.mainDir)!))));
    for (const [index, ref] of refs.entries()) {
      const report = reports[index]!;
      if (!ofSelectedEngine(report.engine, options.engines)) continue;
      const unreadable = report.problems.find((item) => item.code === 'unreadable');
      sessions.push({
        engine: report.engine,
        name: ref.name,
        refusal: unreadable ? { status: 'failed', reason: 'unreadable', message: unreadable.message } : undefined,
      });
    }
    return sessions;
  }

  async *read(ref: SessionRef): AsyncIterable<SessionEntry> {
    const paths = this.paths(ref);
    yield* readSessionFolder(paths.sessionDir, ref, this.webjsProfile(ref));
    yield* readMainRows(paths.mainDb, ref.name);
  }

  async *readMeta(ref: SessionRef): AsyncIterable<SessionEntry> {
    const paths = this.paths(ref);
    yield await readConfigEntry(paths.sessionDir);
    yield* readMainRows(paths.mainDb, ref.name);
  }

  /** Where a WEBJS session's profile is: plus `<name>/session-<name>`, else core `default/session-<name>`. */
  webjsProfile(ref: SessionRef): string | undefined {
    if (ref.engine !== 'WEBJS') return undefined;
    const { plus, core } = webjsProfileDirs(this.paths(ref).sessionRoot, ref.name);
    if (existsSync(plus)) return plus;
    return existsSync(core) ? core : undefined;
  }

  async liveness(ref: SessionRef, nowMs: number): Promise<string | undefined> {
    const folders = [this.paths(ref).sessionDir, this.webjsProfile(ref)].filter((folder): folder is string => Boolean(folder && existsSync(folder)));
    // files this tool wrote (a restore, a migration) are older than its commit record; WAHA's are newer
    const ownUntil = await readWritten(this.paths(ref).sessionDir);
    for (const folder of folders) {
      for await (const entry of walk(folder)) {
        const base = entry.relativePath.split('/').pop()!;
        if (webjs.isSingleton(base) && ref.engine === 'WEBJS') return `${base} in ${folder}: a browser holds the profile`;
        // readers of a WAL database (this tool included) leave -shm and an empty -wal behind
        if (base.endsWith('-shm') || (base.endsWith('-wal') && entry.size === 0)) continue;
        const age = nowMs - entry.mtimeMs;
        if (age < LIVE_WINDOW_MS && !(ownUntil !== undefined && entry.mtimeMs <= ownUntil)) return `${path.join(folder, entry.relativePath)} changed ${Math.max(0, Math.round(age / 1000))}s ago`;
      }
    }
    return undefined;
  }

  unsupported(): string | undefined {
    return undefined;
  }

  async presence(ref: SessionRef): Promise<Presence> {
    const paths = this.paths(ref);
    if (existsSync(journalFile(paths, ref.name))) return 'leftover';
    if (this.webjsProfile(ref)) return 'present';
    if (existsSync(paths.sessionDir) && !(ref.engine === 'WEBJS' && ref.name === webjs.CORE_LAYOUT_FOLDER && webjs.isCoreDataPathOnly(readdirSync(paths.sessionDir, { withFileTypes: true })))) return 'present';
    return 'absent';
  }

  async stage(ref: SessionRef, options: { replace: boolean }): Promise<StagedSession> {
    const paths = this.paths(ref);
    const layout = ref.engine === 'WEBJS' ? this.layoutFor(ref) : 'plus';
    const folder = path.join(paths.stagingRoot, ref.name);
    try {
      await this.finishRemovals(paths);
      await rm(folder, { recursive: true, force: true });
      if (existsSync(paths.stagingRoot)) {
        for (const leftover of await readdir(paths.stagingRoot)) {
          if (leftover.startsWith(`${ref.name}.old-`)) await rm(path.join(paths.stagingRoot, leftover), { recursive: true, force: true });
        }
      }
      await mkdir(folder, { recursive: true });
    } catch (error) {
      throw writeError(paths.stagingRoot, error);
    }
    return new LocalStaged(this, ref, paths, folder, layout, options.replace);
  }

  private layoutFor(ref: SessionRef): WebjsLayout {
    if (this.options.webjsLayout) return this.options.webjsLayout;
    const existing = this.webjsProfile(ref);
    if (existing) return existing.startsWith(this.paths(ref).sessionDir + path.sep) ? 'plus' : 'core';
    // core keeps every profile in `default/`; a profile there for another name means core is in use
    const coreFolder = path.join(this.paths(ref).sessionRoot, webjs.CORE_LAYOUT_FOLDER);
    if (!existsSync(coreFolder)) return 'plus';
    const others = readdirSync(coreFolder).filter((name) => name.startsWith(webjs.PROFILE_PREFIX) && name !== webjs.profileFolder(webjs.CORE_LAYOUT_FOLDER));
    return others.length ? 'core' : 'plus';
  }

  /**
   * Removes the session as WAHA's delete would, in a way WAHA sees as one step: the folder (and a
   * core-layout profile) is renamed into a trash folder under the staging root first, then its
   * me/session_worker rows go in one transaction, then the trash is deleted. A kill at any point
   * leaves either the whole session or a trash folder that the next run deletes (finishRemovals).
   */
  async remove(ref: SessionRef): Promise<void> {
    const paths = this.paths(ref);
    await this.finishRemovals(paths);
    const trash = path.join(paths.stagingRoot, `${ref.name}.removing-${randomBytes(4).toString('hex')}`);
    await mkdir(trash, { recursive: true });
    const profile = this.webjsProfile(ref);
    // auth first: a core-layout profile lives outside the session folder
    if (profile && !profile.startsWith(paths.sessionDir + path.sep)) await rename(profile, path.join(trash, 'profile'));
    if (existsSync(paths.sessionDir)) await moveSessionFolder(paths.sessionDir, ref.name, path.join(trash, 'session'));
    deleteMainRows(paths.mainDb, ref.name);
    await rm(trash, { recursive: true, force: true });
  }

  logout(ref: SessionRef): Promise<void> {
    return logoutLocal(this, ref);
  }

  preflightPurge(refs: readonly SessionRef[], mode: PurgeMode): Promise<void> {
    return preflightLocal(this, refs, mode);
  }

  purgeParts(ref: SessionRef, mode: PurgeMode): PurgePart[] {
    return localPurgeParts(this, ref, mode);
  }

  private readonly finishing = new Map<string, Promise<void>>();

  /** Finishes removals an earlier run started (once per staging root and run). */
  finishRemovals(paths: Paths): Promise<void> {
    let finishing = this.finishing.get(paths.stagingRoot);
    if (!finishing) {
      finishing = finishRemovalsIn(paths);
      this.finishing.set(paths.stagingRoot, finishing);
    }
    return finishing;
  }

  /** Removes the staging folders a run left empty (journals of unfinished commits stay). */
  async close(): Promise<void> {
    const root = path.join(this.options.sessionsDir, STAGING_FOLDER);
    if (!existsSync(root)) return;
    for (const entry of await readdir(root)) await rmEmpty(path.join(root, entry));
    await rmEmpty(root);
  }
}

/**
 * Moves a session folder to `to` in one rename; the WEBJS core-layout `default/` folder, which also
 * holds other sessions' profiles, entry by entry around those (its own profile first).
 */
async function moveSessionFolder(sessionDir: string, name: string, to: string): Promise<void> {
  const entries = await readdir(sessionDir, { withFileTypes: true });
  const foreign = (entry: Dirent) => entry.isDirectory() && entry.name.startsWith(webjs.PROFILE_PREFIX) && entry.name !== webjs.profileFolder(name);
  if (!entries.some(foreign)) {
    await rename(sessionDir, to);
    return;
  }
  await mkdir(to, { recursive: true });
  const own = entries.filter((entry) => !foreign(entry)).sort((a, b) => Number(b.name === webjs.profileFolder(name)) - Number(a.name === webjs.profileFolder(name)));
  for (const entry of own) await rename(path.join(sessionDir, entry.name), path.join(to, entry.name));
}

/** The trash folders of interrupted removals: their rows go (unless the session is back since), then the folder. */
async function finishRemovalsIn(paths: Paths): Promise<void> {
  if (!existsSync(paths.stagingRoot)) return;
  for (const entry of await readdir(paths.stagingRoot)) {
    const name = REMOVING.exec(entry)?.[1];
    if (!name) continue;
    const back = existsSync(path.join(paths.sessionRoot, name)) || existsSync(webjsProfileDirs(paths.sessionRoot, name).core);
    if (!back) deleteMainRows(paths.mainDb, name);
    await rm(path.join(paths.stagingRoot, entry), { recursive: true, force: true });
  }
}

function deleteMainRows(mainDb: string, name: string): void {
  if (!existsSync(mainDb)) return;
  withMainDb(mainDb, (db) => {
    db.prepare('DELETE FROM me WHERE id = ?').run(name);
    db.prepare('DELETE FROM session_worker WHERE id = ?').run(name);
  });
}

/**
 * Removes what belongs to one session in its folder: all of it for WAHA's delete, all but the
 * `.waha.session.*` config for its logout (the folder stays). In the WEBJS core layout the folder
 * `default/` also holds OTHER sessions' profiles (`default/session-<other>/`): those are never ours
 * to remove, so the folder is then emptied entry by entry around them.
 */
export async function removeSessionEntries(sessionDir: string, name: string, options: { keepConfig: boolean }): Promise<void> {
  if (!existsSync(sessionDir)) return;
  const entries = await readdir(sessionDir, { withFileTypes: true });
  const foreign = (entry: Dirent) => entry.isDirectory() && entry.name.startsWith(webjs.PROFILE_PREFIX) && entry.name !== webjs.profileFolder(name);
  const kept = (entry: Dirent) => foreign(entry) || (options.keepConfig && noweb.CONFIG_FILE_PATTERN.test(entry.name));
  if (!options.keepConfig && !entries.some(foreign)) {
    await rm(sessionDir, { recursive: true, force: true });
    return;
  }
  for (const entry of entries) {
    if (!kept(entry)) await rm(path.join(sessionDir, entry.name), { recursive: true, force: true });
  }
}

async function rmEmpty(folder: string): Promise<void> {
  try {
    if ((await readdir(folder)).length === 0) await rm(folder, { recursive: true });
  } catch {
    // not empty or gone: keep it
  }
}

/** Sets a file's access and modification time to a kept mtime. */
function setTime(file: string, mtimeMs: number): Promise<void> {
  const when = new Date(mtimeMs);
  return utimes(file, when, when);
}

/**
 * When this tool last committed a session folder, kept outside the sessions dir (which a run leaves
 * as WAHA knows it): `<tmp>/waha-storage-<uid>/written/<sha256 of the folder>`. The liveness guard
 * takes files up to that time as the tool's own writes (store.sqlite3, and files from MongoDB, have
 * no kept time); only the live window matters, so older records are removed.
 */
function writtenFolder(): string {
  return path.join(os.tmpdir(), `waha-storage-${process.getuid?.() ?? 'user'}`, 'written');
}

function writtenFile(sessionDir: string): string {
  return path.join(writtenFolder(), createHash('sha256').update(path.resolve(sessionDir)).digest('hex').slice(0, 32));
}

async function recordWritten(sessionDir: string): Promise<void> {
  const folder = writtenFolder();
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const nowMs = Date.now();
  for (const name of await readdir(folder)) {
    const info = await stat(path.join(folder, name)).catch(() => undefined);
    if (info && nowMs - info.mtimeMs >= LIVE_WINDOW_MS) await rm(path.join(folder, name), { force: true });
  }
  await writeFile(writtenFile(sessionDir), JSON.stringify({ folder: path.resolve(sessionDir), committedAtMs: nowMs }), { mode: 0o600 });
}

async function readWritten(sessionDir: string): Promise<number | undefined> {
  try {
    const file = writtenFile(sessionDir);
    const info = await stat(file);
    // only a record of our own user counts: anyone else's could only hide WAHA from the guard
    if (process.getuid && info.uid !== process.getuid()) return undefined;
    const record = JSON.parse(await readFile(file, 'utf8')) as { folder?: unknown; committedAtMs?: unknown };
    return record.folder === path.resolve(sessionDir) && typeof record.committedAtMs === 'number' ? record.committedAtMs : undefined;
  } catch {
    return undefined; // none: every recent file counts as WAHA's
  }
}

function journalFile(paths: Paths, name: string): string {
  return path.join(paths.stagingRoot, `${name}.committing`);
}

function writeError(where: string, error: unknown): OperationError {
  return targetWriteError(where, error, 'nothing of this session was committed');
}

function withMainDb<T>(file: string, work: (db: Database) => T): T {
  const db = new Database(file, { timeout: 5000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(MAIN_SCHEMA);
    return db.transaction(() => work(db))();
  } finally {
    db.close();
  }
}

/** `me` and `session_worker` rows of one session, as entries (absent rows give no entry). */
async function* readMainRows(file: string, name: string): AsyncIterable<SessionEntry> {
  if (!existsSync(file)) return;
  let rows: ReturnType<typeof readSessionRows>;
  try {
    rows = readSessionRows(file, name);
  } catch (error) {
    throw new EntryError('main-db-unreadable', `${file}: ${(error as Error).message}`);
  }
  const { me, worker } = rows;
  if (me) {
    let entity: { me?: unknown };
    try {
      entity = JSON.parse(me.data) as { me?: unknown };
    } catch (error) {
      throw new EntryError('main-db-unreadable', `${file}: the me row of "${name}" does not parse (${describeJsonError(error, me.data)})`);
    }
    if (entity?.me !== undefined && entity.me !== null) yield { kind: 'me', name: 'me', value: entity.me };
  }
  if (worker) yield { kind: 'worker', name: 'worker', value: worker.worker ?? '' };
}

async function readConfigEntry(directory: string): Promise<SessionEntry> {
  const file = path.join(directory, CONFIG_FILE);
  let text: string;
  let mtimeMs: number;
  try {
    ({ data: text, mtimeMs } = readWithTime(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'config', name: 'config', value: null };
    throw new EntryError('unreadable', `${file}: ${(error as NodeJS.ErrnoException).code}`);
  }
  const config = parseSessionConfig(text);
  if (!config.ok) throw new EntryError('config-corrupt', `${file} ${config.error}`);
  return { kind: 'config', name: 'config', value: config.value, mtimeMs };
}

/** A file's content and mtime from one open (fstat gives both size and time): what a read of key files costs anyway. */
function readWithTime(file: string): { data: Buffer; mtimeMs: number };
function readWithTime(file: string, encoding: 'utf8'): { data: string; mtimeMs: number };
function readWithTime(file: string, encoding?: 'utf8'): { data: Buffer | string; mtimeMs: number } {
  const fd = openSync(file, 'r');
  try {
    const info = fstatSync(fd);
    let data = Buffer.allocUnsafe(info.size);
    let length = 0;
    for (;;) {
      if (length === data.length) data = Buffer.concat([data, Buffer.allocUnsafe(Math.max(4096, data.length))]); // grew while read
      const read = readSync(fd, data, length, data.length - length, null);
      if (read === 0) break;
      length += read;
    }
    data = data.subarray(0, length);
    return { data: encoding ? data.toString(encoding) : data, mtimeMs: info.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** A session folder (or its staged copy) as entries: config, then the engine's auth. */
export async function* readSessionFolder(directory: string, ref: SessionRef, profile?: string): AsyncIterable<SessionEntry> {
  yield await readConfigEntry(directory);
  if (ref.engine === 'WEBJS') {
    if (profile && existsSync(profile)) yield* readProfile(profile);
    return;
  }
  if (ref.engine === 'GOWS' || ref.engine === 'WPP') {
    if (existsSync(directory)) yield* readOpaqueFolder(directory);
    return;
  }
  if (ref.engine !== 'NOWEB' && ref.engine !== null) {
    throw new EntryError('unsupported', `${ref.engine} sessions cannot be read as entries yet`);
  }
  if (!existsSync(directory)) return;
  let store = false;
  for await (const entry of await opendir(directory)) {
    const name = entry.name;
    const full = path.join(directory, name);
    if (name === CONFIG_FILE || noweb.TEMP_FILE_PATTERN.test(name)) continue; // config read above; temp files of interrupted writes
    if (name === noweb.STORE_FILE) { store = true; continue; }
    if (STORE_WAL_FILES.includes(name)) continue;
    if (!entry.isFile() || !noweb.isKeyFile(name)) {
      throw new EntryError('unknown-file', `${full} is not a NOWEB key file; move it out of the session folder (or back it up) and run again`);
    }
    const parsed = parseKeyName(name, 'file');
    const { data: text, mtimeMs } = readWithTime(full, 'utf8'); // key files are small: sync is ~30x cheaper than fs/promises (bench/migrate)
    let value: unknown;
    try {
      if (text.trim() === '') throw new Error('the file is empty');
      value = JSON.parse(text);
    } catch (error) {
      const reason = name === noweb.CREDS_FILE ? 'creds-corrupt' : 'corrupt-file';
      throw new EntryError(reason, `${full} does not parse (${describeJsonError(error, text)}); restore it from a backup`);
    }
    // an undecodable name stays the file's own name: a copy to files keeps it, one to MongoDB fails
    yield parsed.ok ? { kind: 'key', name: parsed.key, value, mtimeMs } : { kind: 'key', name, value, only: { store: 'file', why: `${full}: ${parsed.error}` }, mtimeMs };
  }
  if (store) yield* readStoreSqlite(path.join(directory, noweb.STORE_FILE));
}

/** The file a key entry is written to: Baileys' name of its logical key, or the file name it came with. */
function keyFileName(entry: Extract<SessionEntry, { kind: 'key' }>): string {
  if (!entry.only) return fileNameOf(entry.name);
  if (entry.only.store === 'file' && isStoreName(entry.name, 'file') && entry.name !== CONFIG_FILE) return entry.name;
  const where = entry.only.store === 'mongo' ? 'MongoDB key' : 'key file name';
  throw new EntryError('key-name', `the ${where} "${entry.name}" cannot be named as a file without guessing (${entry.only.why}); nothing was committed`);
}

/** SQLite side files: their content is taken through the backup API of the main file, never copied. */
const SQLITE_SIDE_FILE = /-(wal|shm|journal)$/;

/**
 * GOWS and WPP folders as opaque files (paths relative to the session folder), except the config
 * (an entry of its own). `gows.db` is read as a consistent snapshot through SQLite's backup API,
 * never file by file while a WAL may be live; the backup API copies pages verbatim, so a snapshot
 * of a restored copy has the same bytes (verification compares equal).
 */
async function* readOpaqueFolder(directory: string): AsyncIterable<SessionEntry> {
  for await (const entry of walkFolder(directory)) {
    const name = entry.relativePath;
    if (entry.kind === 'dir') {
      yield { kind: 'dir', name, mtimeMs: entry.mtimeMs };
      continue;
    }
    if (entry.kind !== 'file' || name === CONFIG_FILE || SQLITE_SIDE_FILE.test(name)) continue;
    const full = path.join(directory, ...name.split('/'));
    if (name === GOWS_DB) yield { kind: 'file', name, data: await sqliteSnapshot(full), mtimeMs: entry.mtimeMs };
    else yield { kind: 'file', name, data: await readFile(full), mtimeMs: entry.mtimeMs };
  }
}

interface FolderEntry {
  /** Relative to the walked root, with `/`. */
  relativePath: string;
  /** `dir`: a folder with nothing in it (folders with content are implied by it). */
  kind: 'file' | 'symlink' | 'dir';
  mtimeMs: number;
}

/** Files, symbolic links (never followed) and empty folders under `root`, one folder listing at a time. */
async function* walkFolder(root: string, prefix = ''): AsyncGenerator<FolderEntry> {
  const subdirectories: string[] = [];
  for await (const entry of await opendir(root, { bufferSize: 256 })) {
    if (entry.isDirectory()) subdirectories.push(entry.name);
    else if (entry.isFile() || entry.isSymbolicLink()) {
      const info = await lstat(path.join(root, entry.name)).catch(() => undefined);
      if (info) yield { relativePath: prefix ? `${prefix}/${entry.name}` : entry.name, kind: entry.isFile() ? 'file' : 'symlink', mtimeMs: info.mtimeMs };
    }
  }
  for (const name of subdirectories) {
    const folder = path.join(root, name);
    const relativePath = prefix ? `${prefix}/${name}` : name;
    if ((await readdir(folder)).length === 0) {
      const info = await stat(folder).catch(() => undefined);
      if (info) yield { relativePath, kind: 'dir', mtimeMs: info.mtimeMs };
      continue;
    }
    yield* walkFolder(folder, relativePath);
  }
}

/** A consistent copy of a live-or-not SQLite database, as bytes (SQLite's online backup API). */
export async function sqliteSnapshot(file: string): Promise<Buffer> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'waha-storage-snapshot-'));
  const copy = path.join(folder, 'snapshot.db');
  try {
    const db = openReadOnly(file, 5000);
    try {
      await db.backup(copy);
    } finally {
      db.close();
    }
    return await readFile(copy);
  } catch (error) {
    throw new EntryError('sqlite-unreadable', `${file}: ${(error as Error).message}`);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function* readProfile(profile: string): AsyncIterable<SessionEntry> {
  for await (const entry of walkFolder(profile)) {
    if (entry.kind === 'dir') {
      if (webjs.isAuthPath(`${entry.relativePath}/`)) yield { kind: 'dir', name: entry.relativePath, mtimeMs: entry.mtimeMs };
      continue;
    }
    if (entry.kind !== 'file' || !webjs.isAuthPath(entry.relativePath)) continue;
    yield { kind: 'file', name: entry.relativePath, data: await readFile(path.join(profile, ...entry.relativePath.split('/'))), mtimeMs: entry.mtimeMs };
  }
}

class LocalStaged implements StagedSession {
  private me: unknown;
  private worker: string | undefined;
  private pending: Promise<void>[] = [];
  private storeRows: Extract<SessionEntry, { kind: 'row' }>[] | undefined;
  private readonly profileDir: string;

  constructor(
    private readonly store: LocalTransferStore,
    private readonly ref: SessionRef,
    private readonly paths: Paths,
    private readonly folder: string,
    private readonly layout: WebjsLayout,
    private readonly replace: boolean,
  ) {
    this.profileDir = path.join(folder, webjs.profileFolder(ref.name));
  }

  async write(entry: SessionEntry): Promise<void> {
    switch (entry.kind) {
      case 'config':
        return this.queue(path.join(this.folder, CONFIG_FILE), JSON.stringify(entry.value ?? null), entry.mtimeMs);
      case 'me':
        this.me = entry.value;
        return;
      case 'worker':
        this.worker = entry.value;
        return;
      case 'key':
        return this.queue(path.join(this.folder, keyFileName(entry)), JSON.stringify(entry.value), entry.mtimeMs);
      case 'file': {
        const target = this.filePath(entry.name);
        await mkdir(path.dirname(target), { recursive: true }).catch((error) => { throw writeError(this.folder, error); });
        return this.queue(target, entry.data, entry.mtimeMs);
      }
      case 'dir': {
        const target = this.filePath(entry.name);
        await mkdir(target, { recursive: true }).catch((error) => { throw writeError(this.folder, error); });
        if (entry.mtimeMs !== undefined) await setTime(target, entry.mtimeMs).catch((error) => { throw writeError(this.folder, error); });
        return;
      }
      case 'row':
        (this.storeRows ??= []).push(entry);
        if (this.storeRows.length >= 1000) await this.flushRows();
        return;
    }
  }

  /** WEBJS files are relative to the Chromium profile; GOWS and WPP files to the session folder. */
  private filePath(name: string): string {
    return path.join(this.ref.engine === 'WEBJS' ? this.profileDir : this.folder, ...name.split('/'));
  }

  /** Writes a file, with the time its source kept (an archive's, a profile's) when there is one. */
  private async queue(file: string, data: string | Buffer, mtimeMs?: number): Promise<void> {
    const written = writeFile(file, data);
    const writing = (mtimeMs === undefined ? written : written.then(() => setTime(file, mtimeMs))).catch((error) => { throw writeError(this.folder, error); });
    writing.catch(() => {}); // observed by drain(); a rejection before then is not an uncaught one
    this.pending.push(writing);
    if (this.pending.length >= WRITE_PARALLEL) await this.drain();
  }

  private async drain(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    const results = await Promise.allSettled(pending);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  private async flushRows(): Promise<void> {
    if (!this.storeRows?.length) return;
    const rows = this.storeRows;
    this.storeRows = [];
    try {
      writeStoreSqlite(path.join(this.folder, noweb.STORE_FILE), rows);
    } catch (error) {
      throw writeError(this.folder, error);
    }
  }

  async flush(): Promise<void> {
    await this.drain();
    await this.flushRows();
  }

  async *read(): AsyncIterable<SessionEntry> {
    yield* readSessionFolder(this.folder, this.ref, this.profileDir);
    if (this.me !== undefined) yield { kind: 'me', name: 'me', value: this.me };
    if (this.worker !== undefined) yield { kind: 'worker', name: 'worker', value: this.worker };
  }

  async commit(): Promise<void> {
    await this.flush();
    const { sessionRoot, sessionDir, mainDb } = this.paths;
    const journal = journalFile(this.paths, this.ref.name);
    const trash = path.join(this.paths.stagingRoot, `${this.ref.name}.old-${randomBytes(4).toString('hex')}`);
    const moved: [from: string, to: string][] = [];
    const move = async (from: string, to: string) => {
      await rename(from, to);
      moved.push([from, to]);
    };
    // put the old copy back and the new one into staging (abort removes it): the target is as before
    const rollBack = async () => {
      let restored = true;
      for (const [from, to] of moved.reverse()) {
        if (!existsSync(from)) await rename(to, from).catch(() => { restored = false; });
      }
      if (restored) {
        await rm(journal, { force: true });
        await rm(trash, { recursive: true, force: true });
        await rm(this.folder, { recursive: true, force: true });
      }
    };
    try {
      await writeFile(journal, JSON.stringify({ session: this.ref.name, startedAt: new Date().toISOString(), pid: process.pid }));
      await mkdir(sessionRoot, { recursive: true });
      if (this.replace) {
        await mkdir(trash, { recursive: true });
        const profile = this.store.webjsProfile(this.ref);
        if (profile && !profile.startsWith(sessionDir + path.sep)) await move(profile, path.join(trash, 'profile'));
        if (existsSync(sessionDir) && !(this.ref.name === webjs.CORE_LAYOUT_FOLDER && this.layout === 'core')) {
          await move(sessionDir, path.join(trash, 'session'));
        }
      }
      if (this.layout === 'core' && existsSync(this.profileDir)) {
        const coreFolder = path.join(sessionRoot, webjs.CORE_LAYOUT_FOLDER);
        await mkdir(coreFolder, { recursive: true });
        await move(this.profileDir, path.join(coreFolder, webjs.profileFolder(this.ref.name)));
      }
      if (this.ref.name === webjs.CORE_LAYOUT_FOLDER && this.layout === 'core' && existsSync(sessionDir)) {
        // core `default/` also holds other sessions' profiles: only the config file is ours
        await move(path.join(this.folder, CONFIG_FILE), path.join(sessionDir, CONFIG_FILE));
      } else {
        await move(this.folder, sessionDir);
      }
    } catch (error) {
      // when the old copy cannot be put back, the journal stays, so a rerun knows this session is unfinished
      await rollBack();
      throw writeError(sessionDir, error);
    }
    try {
      await mkdir(path.dirname(mainDb), { recursive: true });
      withMainDb(mainDb, (db) => {
        if (this.me === undefined) db.prepare('DELETE FROM me WHERE id = ?').run(this.ref.name);
        else {
          db.prepare('INSERT INTO me (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data')
            .run(this.ref.name, JSON.stringify({ id: this.ref.name, me: this.me }));
        }
        if (this.worker === undefined) db.prepare('DELETE FROM session_worker WHERE id = ?').run(this.ref.name);
        else {
          db.prepare('INSERT INTO session_worker (id, worker, data) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET worker = excluded.worker, data = excluded.data')
            .run(this.ref.name, this.worker, JSON.stringify({ id: this.ref.name, worker: this.worker }));
        }
      });
    } catch (error) {
      await rollBack();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new OperationError(`${mainDb} is locked, so the session could not be committed: ${(error as Error).message}`, {
          hint: 'stop WAHA (it holds the database) and run the command again; nothing of this session was committed',
          cause: error,
        });
      }
      throw writeError(mainDb, error);
    }
    await recordWritten(sessionDir).catch(() => {}); // without it the guard is only stricter
    await rm(journal, { force: true });
    await rm(trash, { recursive: true, force: true });
    if (this.ref.name === webjs.CORE_LAYOUT_FOLDER && this.layout === 'core') await rm(this.folder, { recursive: true, force: true });
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.pending);
    this.pending = [];
    await rm(this.folder, { recursive: true, force: true });
  }
}
