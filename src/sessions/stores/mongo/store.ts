/**
 * MongoDB as a transfer end (waha-facts §2): `waha_<ns>` holds `sessions`, `me`, `session_worker`;
 * `waha_<session ns>_<slug>` holds NOWEB `auth` (per-key `{key, data, type:'kv'}`, legacy single
 * document read too), the NOWEB store collections, or the WEBJS GridFS bucket `auth`.
 *
 * Writing, without transactions: the per-session database first gets a marker collection that says
 * "incomplete", everything is written into `wst_`-prefixed collections and renamed into place, then
 * the `me`, `session_worker` and `sessions` documents are written, and only then the marker goes.
 * A rerun that finds the marker treats the database as leftovers of an interrupted run.
 */
import { once } from 'node:events';
import { ENGINE_UNKNOWN_REFUSAL } from '../shared-main.js';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Db, Document, MongoClient } from 'mongodb';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { namespacesFor, type Engine } from '../../engines.js';
import { isStoreName, mongoKeyOf, parseKeyName } from '../../engines/noweb-keys.js';
import * as webjs from '../../engines/webjs.js';
import { mainDatabase, sessionDatabase } from '../../names.js';
import { rowEntry, STORE_TABLES } from '../noweb-store-sqlite.js';
import { EntryError, type ListOptions, type Presence, type PurgeableStore, type PurgeMode, type PurgePart, type SessionEntry, type SessionRef, type StagedSession, type StoredSession } from '../types.js';
import { logoutMongo, mongoPurgeParts, preflightMongo } from './purge.js';

export const STAGE_PREFIX = 'wst_';
export const INCOMPLETE_MARKER = 'waha_storage_incomplete';
/** In the main database: one document per session being removed (`_id`: its database), until it is gone. */
export const REMOVALS = 'waha_storage_removals';
const BATCH = 1000;
const LIVE_WINDOW_MS = 60_000;
const ZIP_BACKLOG = 16 * 1024 * 1024;
/** The zip time of an entry whose source keeps no time (and of folders, whose times are not kept). */
const FIXED_ZIP_TIME = new Date('2000-01-01T00:00:00Z');
/** In the GridFS `metadata` of a RemoteAuth zip this tool uploaded: the liveness guard knows it is not WAHA's save. */
export const UPLOAD_MARKER = { writtenBy: 'waha-storage' } as const;

/** WAHA's indexes on the NOWEB store collections (waha-facts §2.3). */
const STORE_INDEXES: Record<string, Document[]> = {
  messages: [{ jid: 1, id: 1 }, { jid: 1, messageTimestamp: 1 }, { jid: 1, messageTimestamp: -1 }, { messageTimestamp: 1 }, { messageTimestamp: -1 }],
  chats: [{ conversationTimestamp: 1 }, { conversationTimestamp: -1 }],
  labelAssociations: [{ type: 1, labelId: 1 }, { type: 1, chatId: 1 }, { type: 1, messageId: 1 }],
};

export interface MongoStoreOptions {
  client: MongoClient;
  namespace?: string;
  sessionNamespace?: string;
  /** Redacted URL, for messages. */
  location: string;
}

export class MongoTransferStore implements PurgeableStore {
  readonly kind = 'mongo' as const;
  readonly location: string;
  private readonly client: MongoClient;
  /** WAHA's indexes on the main database's collections, created once per database per run. */
  private readonly mainIndexes = new Map<string, Promise<void>>();

  constructor(private readonly options: MongoStoreOptions) {
    this.client = options.client;
    this.location = options.location;
  }

  mainDb(ref: SessionRef): Db {
    return this.client.db(mainDatabase(namespacesFor(ref.engine ?? 'NOWEB', this.options).main));
  }

  sessionDb(ref: SessionRef): Db {
    return this.client.db(sessionDatabase(namespacesFor(ref.engine ?? 'NOWEB', this.options).session, ref.name));
  }

  /** The main database of the session, with WAHA's indexes on sessions, me and session_worker. */
  async indexedMainDb(ref: SessionRef): Promise<Db> {
    const main = this.mainDb(ref);
    let created = this.mainIndexes.get(main.databaseName);
    if (!created) {
      created = (async () => {
        await main.collection('sessions').createIndex({ name: 1 }, { unique: true });
        await main.collection('me').createIndex({ session: 1 }, { unique: true });
        await main.collection('session_worker').createIndex({ worker: 1 });
      })();
      this.mainIndexes.set(main.databaseName, created);
      created.catch(() => this.mainIndexes.delete(main.databaseName));
    }
    await created;
    return main;
  }

  async list(options: ListOptions): Promise<StoredSession[]> {
    for (const engine of options.engines) await this.finishRemovals({ engine, name: '' });
    const { inspectMongo } = await import('./inspect.js');
    const result = await inspectMongo({ ...this.options, engines: options.engines, sessions: options.names, concurrency: 4 });
    const sessions: StoredSession[] = [];
    for (const report of result.sessions) {
      const session: StoredSession = { engine: report.engine, name: report.name };
      const orphan = report.problems.find((item) => item.code === 'orphan-database');
      const unreadable = report.problems.find((item) => item.code === 'unreadable');
      if (report.problems.some((item) => item.code === 'engine-unknown')) session.refusal = { ...ENGINE_UNKNOWN_REFUSAL };
      else if (orphan) session.refusal = { status: 'skipped', reason: 'orphan-database', message: `${orphan.message}; its session name is unknown` };
      else if (unreadable) session.refusal = { status: 'failed', reason: 'unreadable', message: unreadable.message };
      else if (await this.collections(this.sessionDb(session)).then((names) => names.includes(INCOMPLETE_MARKER))) {
        session.refusal = { status: 'failed', reason: 'incomplete', message: `${this.sessionDb(session).databaseName} is marked incomplete (an interrupted migration into MongoDB); migrate it there again first` };
      }
      sessions.push(session);
    }
    return sessions;
  }

  private async collections(db: Db): Promise<string[]> {
    return (await db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name);
  }

  async *read(ref: SessionRef): AsyncIterable<SessionEntry> {
    yield await this.readConfig(ref);
    yield* readSessionDb(this.sessionDb(ref), ref, '');
    yield* this.readMainRows(ref);
  }

  async *readMeta(ref: SessionRef): AsyncIterable<SessionEntry> {
    yield await this.readConfig(ref);
    yield* this.readMainRows(ref);
  }

  private async readConfig(ref: SessionRef): Promise<SessionEntry> {
    const document = await this.mainDb(ref).collection('sessions').findOne({ name: ref.name });
    if (!document) return { kind: 'config', name: 'config', value: null };
    // WAHA reads the document without `_id` and `name`: `{name}` alone is the config `{}` (what WAHA
    // wrote for `{}`, and what it makes of a null config too: MongoDB keeps no difference)
    const { _id, name, ...config } = document;
    return { kind: 'config', name: 'config', value: config };
  }

  private async *readMainRows(ref: SessionRef): AsyncIterable<SessionEntry> {
    const main = this.mainDb(ref);
    const me = await main.collection('me').findOne({ session: ref.name });
    if (me && me.me !== undefined && me.me !== null) yield { kind: 'me', name: 'me', value: me.me };
    const worker = await main.collection('session_worker').findOne({ id: ref.name });
    if (worker) yield { kind: 'worker', name: 'worker', value: typeof worker.worker === 'string' ? worker.worker : '' };
  }

  async liveness(ref: SessionRef, nowMs: number): Promise<string | undefined> {
    if (ref.engine !== 'WEBJS') return undefined;
    const newest = await this.sessionDb(ref).collection('auth.files').find({}).sort({ uploadDate: -1 }).limit(1).next();
    if (newest?.metadata?.writtenBy === UPLOAD_MARKER.writtenBy) return undefined; // our own upload; WAHA's next save has no marker
    const uploaded = newest?.uploadDate instanceof Date ? newest.uploadDate.getTime() : 0;
    if (nowMs - uploaded < LIVE_WINDOW_MS) return `${webjs.remoteAuthFileName(ref.name)} was uploaded ${Math.round((nowMs - uploaded) / 1000)}s ago: WAHA is saving this session`;
    return undefined;
  }

  unsupported(engine: Engine | null): string | undefined {
    if (engine === 'GOWS') return 'WAHA cannot keep GOWS sessions in MongoDB (use local or PostgreSQL)';
    if (engine === 'WPP') return "WPP's MongoDB layout is not known yet";
    return undefined;
  }

  async presence(ref: SessionRef): Promise<Presence> {
    return guarded(this.sessionDb(ref).databaseName, async () => {
      const collections = await this.collections(this.sessionDb(ref));
      if (collections.includes(INCOMPLETE_MARKER)) return 'leftover';
      if (collections.length) return 'present';
      return (await this.mainDb(ref).collection('sessions').countDocuments({ name: ref.name }, { limit: 1 })) ? 'present' : 'absent';
    });
  }

  async stage(ref: SessionRef, options: { replace: boolean }): Promise<StagedSession> {
    await this.finishRemovals(ref);
    return guarded(this.sessionDb(ref).databaseName, () => this.stageIn(this.sessionDb(ref), ref, options));
  }

  private async stageIn(db: Db, ref: SessionRef, options: { replace: boolean }): Promise<StagedSession> {
    const collections = await this.collections(db);
    const wasLeftover = collections.includes(INCOMPLETE_MARKER);
    for (const name of collections) if (name.startsWith(STAGE_PREFIX)) await db.collection(name).drop();
    if (wasLeftover) {
      const { GridFSBucket } = await import('mongodb');
      const bucket = new GridFSBucket(db, { bucketName: 'auth' });
      for (const id of await stagedUploads(db)) await bucket.delete(id as Document['_id']).catch(() => {});
    }
    await db.collection(INCOMPLETE_MARKER).updateOne(
      { _id: 'marker' as unknown as Document['_id'] },
      { $set: { session: ref.name, startedAt: new Date(), pid: process.pid, tool: 'waha-storage migrate', uploads: [] } },
      { upsert: true },
    );
    return new MongoStaged(this, ref, db, options.replace, wasLeftover);
  }

  /**
   * Removes the session so that WAHA never sees half of it: the removal is recorded, the `sessions`
   * document goes first (WAHA no longer lists the session), then `me` and `session_worker`, then
   * the session's database in one drop. A run killed in between is finished by finishRemovals.
   */
  async remove(ref: SessionRef): Promise<void> {
    await this.finishRemovals(ref);
    const main = this.mainDb(ref);
    const database = this.sessionDb(ref).databaseName;
    const removals = main.collection<{ _id: string; session: string; startedAt: Date }>(REMOVALS);
    await removals.replaceOne({ _id: database }, { session: ref.name, startedAt: new Date() }, { upsert: true });
    await removeSession(main, this.client.db(database), ref.name);
    await removals.deleteOne({ _id: database });
  }

  logout(ref: SessionRef): Promise<void> {
    return logoutMongo(this, ref);
  }

  preflightPurge(refs: readonly SessionRef[]): Promise<void> {
    return preflightMongo(this, refs);
  }

  purgeParts(ref: SessionRef, mode: PurgeMode): PurgePart[] {
    return mongoPurgeParts(this, ref, mode);
  }

  private readonly finishing = new Map<string, Promise<void>>();

  /** Finishes removals an earlier run started in the session's main database (once per run). */
  finishRemovals(ref: SessionRef): Promise<void> {
    const main = this.mainDb(ref);
    let finishing = this.finishing.get(main.databaseName);
    if (!finishing) {
      finishing = guarded(main.databaseName, () => finishRemovalsIn(this.client, main));
      this.finishing.set(main.databaseName, finishing);
    }
    return finishing;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

async function removeSession(main: Db, db: Db, name: string): Promise<void> {
  await main.collection('sessions').deleteMany({ name });
  await main.collection('me').deleteMany({ session: name });
  await main.collection('session_worker').deleteMany({ id: name });
  await db.dropDatabase();
}

/**
 * A removal that was recorded but not finished: when its `sessions` document is gone, the rest goes
 * too; when it is still there, nothing was removed yet and the session stays as it is.
 */
async function finishRemovalsIn(client: MongoClient, main: Db): Promise<void> {
  const names = (await main.listCollections({ name: REMOVALS }, { nameOnly: true }).toArray()).map((collection) => collection.name);
  if (!names.includes(REMOVALS)) return;
  const removals = main.collection<{ _id: string; session: string }>(REMOVALS);
  for await (const removal of removals.find({})) {
    const listed = await main.collection('sessions').countDocuments({ name: removal.session }, { limit: 1 });
    if (!listed) await removeSession(main, client.db(removal._id), removal.session);
    await removals.deleteOne({ _id: removal._id });
  }
  if ((await removals.countDocuments({})) === 0) await removals.drop().catch(() => {});
}

/**
 * Whether MongoDB refused an operation for lack of rights: code 13 (Unauthorized, "not authorized on
 * <db> to execute command"), or Atlas's own AtlasError 8000 ("user is not allowed to do action").
 */
export function isNotAuthorized(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 3; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, codeName, message } = current as { code?: unknown; codeName?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : '';
    if (code === 13 || codeName === 'Unauthorized' || /not authorized on \S+ to execute command/i.test(text)) return true;
    if ((code === 8000 || codeName === 'AtlasError') && /not allowed to do action/i.test(text)) return true;
  }
  return false;
}

/** A refused write becomes the session's failure, naming the database and the right WAHA's user needs; other errors pass. */
export function permissionError(error: unknown, database: string): unknown {
  if (!isNotAuthorized(error)) return error;
  const named = /not authorized on (\S+) to execute/i.exec(String((error as Error).message ?? ''))?.[1] ?? database;
  return new EntryError('not-authorized', `the MongoDB user is not allowed to create or write the database ${named}: ` +
    'WAHA keeps every session in a database of its own, so its user needs the right to create and drop databases ' +
    '(on MongoDB Atlas: the Atlas Admin role); grant it, or use a user that has it, and run again');
}

async function guarded<T>(database: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw permissionError(error, database);
  }
}

/** The auth (and NOWEB store) of one per-session database, from collections named `<prefix><name>`. */
async function* readSessionDb(db: Db, ref: SessionRef, prefix: string): AsyncIterable<SessionEntry> {
  const collections = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name));
  if (collections.has(`${prefix}auth.files`)) yield* readRemoteAuth(db, ref, prefix);
  else if (collections.has(`${prefix}auth`)) yield* readNowebAuth(db, prefix);
  for (const table of Object.keys(STORE_TABLES)) {
    if (!collections.has(`${prefix}${table}`)) continue;
    for await (const document of db.collection(`${prefix}${table}`).find({}, { projection: { _id: 0 } }).batchSize(BATCH)) {
      yield rowEntry(table, document);
    }
  }
}

/** Revisions uploaded by a run that has not committed yet (recorded in the marker). */
async function stagedUploads(db: Db): Promise<unknown[]> {
  const marker = await db.collection(INCOMPLETE_MARKER).findOne({}).catch(() => null);
  return Array.isArray(marker?.uploads) ? marker.uploads as unknown[] : [];
}

/**
 * Per-key documents first, then keys only the legacy single document holds (per-key wins). One
 * pass over the collection: a second query for the legacy document would make the server decode
 * every document again (FerretDB cannot use an index for `$exists`).
 */
async function* readNowebAuth(db: Db, prefix: string): AsyncIterable<SessionEntry> {
  const auth = db.collection(`${prefix}auth`);
  const seen = new Set<string>();
  let legacy: Document | undefined;
  for await (const document of auth.find({}, { projection: { _id: 0 } }).batchSize(BATCH)) {
    if (!('data' in document)) {
      legacy ??= document;
      continue;
    }
    if (typeof document.key !== 'string') throw new EntryError('key-name', `${db.databaseName}.auth holds a document without a string key`);
    yield keyEntry(db, document.key, document.data);
    seen.add(document.key);
  }
  if (!legacy) return;
  for (const [field, value] of Object.entries(legacy)) {
    if (seen.has(field)) continue;
    yield keyEntry(db, field, value);
  }
}

function keyEntry(db: Db, mongoKey: string, value: unknown): SessionEntry {
  const parsed = parseKeyName(mongoKey, 'mongo');
  // an undecodable key stays MongoDB's own name: a copy to MongoDB keeps it, one to files fails
  if (!parsed.ok) return { kind: 'key', name: mongoKey, value, only: { store: 'mongo', why: `${db.databaseName}.auth: ${parsed.error}` } };
  return { kind: 'key', name: parsed.key, value };
}

/** The MongoDB key of a key entry: WAHA's name of its logical key, or the MongoDB key it came with. */
function mongoKeyName(entry: Extract<SessionEntry, { kind: 'key' }>): string {
  if (!entry.only) return mongoKeyOf(entry.name);
  if (entry.only.store === 'mongo' && isStoreName(entry.name, 'mongo')) return entry.name;
  const where = entry.only.store === 'file' ? 'key file' : 'MongoDB key';
  throw new EntryError('key-name', `the ${where} "${entry.name}" cannot be named in MongoDB without guessing (${entry.only.why}); nothing was committed`);
}

/** The newest `RemoteAuth-<name>.zip` revision, unpacked: its files are the entries (zip contents, not zip bytes). */
async function* readRemoteAuth(db: Db, ref: SessionRef, prefix: string, fileId?: unknown): AsyncIterable<SessionEntry> {
  const { GridFSBucket } = await import('mongodb');
  const filename = webjs.remoteAuthFileName(ref.name);
  const bucket = new GridFSBucket(db, { bucketName: `${prefix}auth` });
  const files = db.collection(`${prefix}auth.files`);
  const newest = fileId === undefined
    ? await files.find({ filename, _id: { $nin: await stagedUploads(db) as Document["_id"][] } }).sort({ uploadDate: -1 }).limit(1).next()
    : await files.findOne({ _id: fileId as Document['_id'] });
  if (!newest) return;
  const folder = await mkdtemp(path.join(os.tmpdir(), 'waha-storage-zip-'));
  const file = path.join(folder, filename);
  try {
    await pipeline(bucket.openDownloadStream(newest._id), createWriteStream(file));
    yield* zipEntries(file, `${db.databaseName} ${filename}`);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export async function* zipEntries(file: string, label: string): AsyncIterable<SessionEntry> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
      yauzl.open(file, { lazyEntries: true, autoClose: false }, (error, opened) => (error ? reject(error) : resolve(opened)));
    });
  } catch (error) {
    throw new EntryError('zip-corrupt', `${label} is not a readable zip (${(error as Error).message})`);
  }
  // folders are entries only when nothing is in them (files imply theirs): known once every entry was seen
  const folders = new Map<string, number | undefined>();
  const parents = new Set<string>();
  const noteParents = (name: string) => {
    const parts = name.split('/');
    for (let index = 1; index < parts.length; index++) parents.add(parts.slice(0, index).join('/'));
  };
  try {
    for (;;) {
      const entry = await nextEntry(zip).catch((error: Error) => { throw new EntryError('zip-corrupt', `${label}: ${error.message}`); });
      if (!entry) break;
      const stored = entry.fileName.replace(/\\/g, '/');
      const name = stored.replace(/\/+$/, '');
      if (name.startsWith('/') || name.split('/').includes('..')) throw new EntryError('zip-corrupt', `${label} holds an unsafe path "${stored}"`);
      const mtimeMs = zipTime(entry);
      if (stored.endsWith('/')) {
        if (name) {
          folders.set(name, mtimeMs);
          noteParents(name);
        }
        continue;
      }
      if (webjs.isSingleton(name.split('/').pop()!)) continue;
      noteParents(name);
      const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
        zip.openReadStream(entry, (error, opened) => (error ? reject(error) : resolve(opened)));
      });
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      yield mtimeMs === undefined ? { kind: 'file', name, data: Buffer.concat(chunks) } : { kind: 'file', name, data: Buffer.concat(chunks), mtimeMs };
    }
  } finally {
    zip.close();
  }
  for (const [name, mtimeMs] of folders) {
    if (!parents.has(name)) yield mtimeMs === undefined ? { kind: 'dir', name } : { kind: 'dir', name, mtimeMs };
  }
}

/** A zip entry's time (the Info-ZIP extended timestamp when there is one), or undefined for the fixed time of "none kept". */
function zipTime(entry: yauzl.Entry): number | undefined {
  const time = entry.getLastModDate().getTime();
  return Number.isNaN(time) || time === FIXED_ZIP_TIME.getTime() ? undefined : time;
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry) => { cleanup(); resolve(entry); };
    const onEnd = () => { cleanup(); resolve(null); };
    const onError = (error: Error) => { cleanup(); reject(error); };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

interface ZipUpload {
  zip: yazl.ZipFile;
  done: Promise<void>;
  added: number;
  emitted: number;
  directories: Set<string>;
}

class MongoStaged implements StagedSession {
  private config: Record<string, unknown> | null = null;
  private me: unknown;
  private worker: string | undefined;
  private keys: Document[] = [];
  private readonly rows = new Map<string, Document[]>();
  /** Collections written (without prefix) and those whose indexes exist. */
  private readonly filled = new Set<string>();
  private readonly indexed = new Set<string>();
  /** At most one insertMany in flight per session: the next batch is read while the server writes. */
  private inflight: Promise<void> | undefined;
  private upload: ZipUpload | undefined;
  /** The GridFS file this run uploaded (the staged WEBJS revision). */
  private uploadId: unknown;

  constructor(
    private readonly store: MongoTransferStore,
    private readonly ref: SessionRef,
    private readonly db: Db,
    private readonly replace: boolean,
    private readonly wasLeftover: boolean,
  ) {}

  write(entry: SessionEntry): Promise<void> {
    return guarded(this.db.databaseName, () => this.writeEntry(entry));
  }

  private async writeEntry(entry: SessionEntry): Promise<void> {
    switch (entry.kind) {
      case 'config':
        this.config = entry.value;
        return;
      case 'me':
        this.me = entry.value;
        return;
      case 'worker':
        this.worker = entry.value;
        return;
      case 'key':
        this.keys.push({ key: mongoKeyName(entry), data: entry.value, type: 'kv' });
        if (this.keys.length >= BATCH) await this.flushKeys();
        return;
      case 'row': {
        const batch = this.rows.get(entry.table) ?? [];
        batch.push({ ...entry.value });
        this.rows.set(entry.table, batch);
        if (batch.length >= BATCH) await this.flushRows(entry.table);
        return;
      }
      case 'file':
        return this.addFile(entry.name, entry.data, entry.mtimeMs);
      case 'dir':
        return this.addFile(entry.name, undefined, entry.mtimeMs);
    }
  }

  private async flushKeys(): Promise<void> {
    if (!this.keys.length) return;
    const batch = this.keys;
    this.keys = [];
    await this.insert('auth', batch);
  }

  private async flushRows(table: string): Promise<void> {
    const batch = this.rows.get(table);
    if (!batch?.length) return;
    this.rows.set(table, []);
    await this.insert(table, batch);
  }

  private async insert(name: string, batch: Document[]): Promise<void> {
    await this.inflight;
    this.filled.add(name);
    const inserting = this.db.collection(`${STAGE_PREFIX}${name}`).insertMany(batch, { ordered: false }).then(() => {});
    inserting.catch(() => {}); // awaited by the next insert, flush or abort
    this.inflight = inserting;
  }

  /**
   * WAHA's indexes, built after the bulk insert (cheaper than maintaining them per batch) and
   * before the copy is verified and committed: a duplicate key fails the session here.
   */
  private async createIndexes(): Promise<void> {
    for (const name of this.filled) {
      if (this.indexed.has(name)) continue;
      const collection = this.db.collection(`${STAGE_PREFIX}${name}`);
      if (name === 'auth') await collection.createIndex({ key: 1 }, { unique: true });
      else {
        await collection.createIndex({ id: 1 }, { unique: true });
        for (const index of STORE_INDEXES[name] ?? []) await collection.createIndex(index);
      }
      this.indexed.add(name);
    }
  }

  /** A file (or, without data, an empty folder) into the zip, with the time its source kept. */
  private async addFile(name: string, data: Buffer | undefined, mtimeMs?: number): Promise<void> {
    if (!this.upload) {
      const { GridFSBucket } = await import('mongodb');
      // GridFS collections cannot be renamed everywhere (FerretDB): the new revision goes straight into
      // bucket auth, as WAHA uploads it; older revisions are deleted at commit, this one on abort
      const bucket = new GridFSBucket(this.db, { bucketName: 'auth' });
      const zip = new yazl.ZipFile();
      const upload: ZipUpload = { zip, added: 0, emitted: 0, directories: new Set(), done: Promise.resolve() };
      zip.outputStream.on('data', (chunk: Buffer) => { upload.emitted += chunk.length; });
      const stream = bucket.openUploadStream(webjs.remoteAuthFileName(this.ref.name), { metadata: { ...UPLOAD_MARKER } });
      this.uploadId = stream.id;
      await this.db.collection(INCOMPLETE_MARKER).updateOne({}, { $push: { uploads: stream.id } } as Document);
      upload.done = pipeline(zip.outputStream, stream);
      upload.done.catch(() => {}); // awaited in flush
      this.upload = upload;
    }
    const upload = this.upload;
    const parts = name.split('/');
    for (let index = 1; index < parts.length; index++) {
      const directory = parts.slice(0, index).join('/');
      if (!upload.directories.has(directory)) {
        upload.directories.add(directory);
        upload.zip.addEmptyDirectory(directory, { mtime: FIXED_ZIP_TIME });
      }
    }
    const mtime = mtimeMs === undefined ? FIXED_ZIP_TIME : new Date(mtimeMs);
    if (!data) {
      upload.directories.add(name);
      upload.zip.addEmptyDirectory(name, { mtime });
      return;
    }
    upload.zip.addBuffer(data, name, { mtime });
    upload.added += data.length;
    // bounded memory: let the upload catch up before queueing more
    while (upload.added - upload.emitted > ZIP_BACKLOG) await Promise.race([once(upload.zip.outputStream, 'data'), upload.done]);
  }

  flush(): Promise<void> {
    return guarded(this.db.databaseName, () => this.flushAll());
  }

  private async flushAll(): Promise<void> {
    await this.flushKeys();
    for (const table of this.rows.keys()) await this.flushRows(table);
    await this.inflight;
    await this.createIndexes();
    if (this.upload) {
      const upload = this.upload;
      this.upload = undefined;
      upload.zip.end();
      await upload.done;
    }
  }

  async *read(): AsyncIterable<SessionEntry> {
    yield { kind: 'config', name: 'config', value: this.config };
    yield* readSessionDb(this.db, this.ref, STAGE_PREFIX);
    if (this.uploadId !== undefined) yield* readRemoteAuth(this.db, this.ref, '', this.uploadId);
    if (this.me !== undefined) yield { kind: 'me', name: 'me', value: this.me };
    if (this.worker !== undefined) yield { kind: 'worker', name: 'worker', value: this.worker };
  }

  commit(): Promise<void> {
    return guarded(this.db.databaseName, () => this.commitAll());
  }

  private async commitAll(): Promise<void> {
    await this.flushAll();
    const collections = (await this.db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name);
    const uploaded = this.uploadId !== undefined;
    const keep = (name: string) => name.startsWith(STAGE_PREFIX) || name === INCOMPLETE_MARKER || name.startsWith('system.') ||
      (uploaded && (name === 'auth.files' || name === 'auth.chunks'));
    if (this.replace) {
      for (const name of collections) if (!keep(name)) await this.db.collection(name).drop();
    }
    if (uploaded) {
      const { GridFSBucket } = await import('mongodb');
      const bucket = new GridFSBucket(this.db, { bucketName: 'auth' });
      for await (const file of this.db.collection('auth.files').find({ _id: { $ne: this.uploadId as Document['_id'] } }, { projection: { _id: 1 } })) {
        await bucket.delete(file._id);
      }
    }
    for (const name of collections.filter((item) => item.startsWith(STAGE_PREFIX))) {
      const finalName = name.slice(STAGE_PREFIX.length);
      // dropTarget is not implemented everywhere (FerretDB): drop first, the marker still guards the gap
      if (collections.includes(finalName)) await this.db.collection(finalName).drop().catch(() => {});
      await this.db.renameCollection(name, finalName);
    }
    const main = await this.store.indexedMainDb(this.ref);
    const name = this.ref.name;
    if (this.me === undefined) await main.collection('me').deleteMany({ session: name });
    else await main.collection('me').replaceOne({ session: name }, { session: name, me: this.me }, { upsert: true });
    if (this.worker === undefined) await main.collection('session_worker').deleteMany({ id: name });
    else await main.collection('session_worker').replaceOne({ id: name }, { id: name, worker: this.worker }, { upsert: true });
    await main.collection('sessions').replaceOne({ name }, { ...(this.config ?? {}), name }, { upsert: true });
    const remaining = (await this.db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name);
    if (remaining.every((item) => item === INCOMPLETE_MARKER)) await this.db.dropDatabase(); // a session with no auth has no database
    else await this.db.collection(INCOMPLETE_MARKER).drop();
  }

  async abort(): Promise<void> {
    await this.inflight?.catch(() => {}); // a late insert must not recreate a dropped collection
    if (this.upload) {
      this.upload.zip.end();
      await this.upload.done.catch(() => {});
      this.upload = undefined;
    }
    if (this.uploadId !== undefined) {
      const { GridFSBucket } = await import('mongodb');
      await new GridFSBucket(this.db, { bucketName: 'auth' }).delete(this.uploadId as Document['_id']).catch(() => {});
    }
    const collections = (await this.db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name);
    for (const name of collections) if (name.startsWith(STAGE_PREFIX)) await this.db.collection(name).drop().catch(() => {});
    const remaining = collections.filter((name) => !name.startsWith(STAGE_PREFIX));
    if (remaining.every((name) => name === INCOMPLETE_MARKER)) await this.db.dropDatabase();
    else if (!this.wasLeftover) await this.db.collection(INCOMPLETE_MARKER).drop().catch(() => {});
  }
}
