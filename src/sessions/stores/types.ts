/**
 * The one interface every session store implements for moving sessions (migrate today; backup and
 * restore later, with an archive at one end). A session is read as a stream of store-neutral
 * entries; a target writes them into staging, the engine verifies the staged copy by reading it
 * back, then commits it, and only then may the source remove its copy.
 */
import type { SessionDigest } from '../../util/digest.js';
import type { Engine } from '../engines.js';

/**
 * Store-neutral pieces of one session. Names are stable across stores. `mtimeMs`: the time the
 * store keeps for a file (a local file, a zip or tar entry), carried so a copy gets it back; stores
 * without one (MongoDB documents) leave it out. It is never part of a digest: a rerun over the same
 * content compares equal whatever the times.
 */
export type SessionEntry =
  /** `.waha.session.config.json` ↔ the `sessions` document (null: no config). */
  | { kind: 'config'; name: 'config'; value: Record<string, unknown> | null; mtimeMs?: number }
  /** waha.sqlite3 `me.data.me` ↔ `me.me`. */
  | { kind: 'me'; name: 'me'; value: unknown }
  /** session_worker.worker. */
  | { kind: 'worker'; name: 'worker'; value: string }
  /**
   * NOWEB auth: logical Baileys key and its BufferJSON tree. With `only`, `name` is that store's own
   * name (a file name with `.json`, or a MongoDB key) that cannot be decoded without guessing: it is
   * carried as it is within that store (and archives), and a copy to the other store fails the session.
   */
  | { kind: 'key'; name: string; value: unknown; only?: { store: 'file' | 'mongo'; why: string }; mtimeMs?: number }
  /** WEBJS auth: a file of the Chromium profile, path relative to it with `/` (GOWS, WPP: of the session folder). */
  | { kind: 'file'; name: string; data: Buffer; mtimeMs?: number }
  /** An empty folder among those files (a folder with files in it is implied by them). */
  | { kind: 'dir'; name: string; mtimeMs?: number }
  /** NOWEB store: a row of `table` (`data` as a BufferJSON tree); name is `<table>/<id>`. */
  | { kind: 'row'; name: string; table: string; value: Record<string, unknown> };

export type EntryKind = SessionEntry['kind'];

/** A session as a store lists it for planning. */
export interface StoredSession {
  engine: Engine | null;
  name: string;
  /** Why this session cannot be read at all (corrupt creds, orphan database, ...); it fails or is skipped. */
  refusal?: { status: 'failed' | 'skipped'; reason: string; message: string };
}

export interface SessionRef {
  engine: Engine | null;
  name: string;
}

export interface ListOptions {
  engines: readonly Engine[];
  names?: readonly string[];
}

/** What a target already holds under a session's name. */
export type Presence = 'absent' | 'present' | 'leftover';

/** The stores a person names on the command line (src/sessions/stores/registry.ts has one module each). */
export type StoreWord = 'local' | 'mongo' | 'postgres';

export interface SessionStore {
  readonly kind: StoreWord | 'archive';
  /** For messages: a folder, or a redacted URL. */
  readonly location: string;
  list(options: ListOptions): Promise<StoredSession[]>;
  /** Streams the session; throws EntryError for content that cannot be carried faithfully. */
  read(ref: SessionRef): AsyncIterable<SessionEntry>;
  /**
   * Only the session's config, me and worker entries, as committed. Stores that write those at
   * commit (outside the staged copy) offer it, so the engine can check them after the commit.
   */
  readMeta?(ref: SessionRef): AsyncIterable<SessionEntry>;
  /** Whether the session is in use by a running WAHA (source side), with the evidence. */
  liveness(ref: SessionRef, nowMs: number): Promise<string | undefined>;
  /** Why this store cannot hold the engine (target side), or undefined. */
  unsupported(engine: Engine | null): string | undefined;
  presence(ref: SessionRef): Promise<Presence>;
  /** Starts writing a copy that WAHA does not see until commit; removes leftovers of an interrupted run first. */
  stage(ref: SessionRef, options: { replace: boolean }): Promise<StagedSession>;
  /** Removes the session as WAHA's delete would. */
  remove(ref: SessionRef): Promise<void>;
  close(): Promise<void>;
}

export type PurgeMode = 'delete' | 'logout';

/** One part of a session in a store, as a person names it, and how much of it is there (files, documents, rows). */
export interface PurgePart {
  label: string;
  unit: string;
  count(): Promise<number>;
}

/** A store `purge` works on: WAHA's delete is `remove`; these add its logout and the checks before either. */
export interface PurgeableStore extends SessionStore {
  /** WAHA's logout: the auth and `me` go, the config and `session_worker` stay. */
  logout(ref: SessionRef): Promise<void>;
  /** Everything that can make a removal fail, for every planned session; throws an OperationError (nothing removed). */
  preflightPurge(refs: readonly SessionRef[], mode: PurgeMode): Promise<void>;
  /** The parts a purge removes, counted, so a half-done removal says what is gone. */
  purgeParts(ref: SessionRef, mode: PurgeMode): PurgePart[];
}

export function isPurgeable(store: SessionStore): store is PurgeableStore {
  const candidate = store as Partial<PurgeableStore>;
  return typeof candidate.logout === 'function' && typeof candidate.preflightPurge === 'function' && typeof candidate.purgeParts === 'function';
}

export interface StagedSession {
  write(entry: SessionEntry): Promise<void>;
  /** Everything written so far has reached the store. */
  flush(): Promise<void>;
  /** Reads the staged copy back from the store. */
  read(): AsyncIterable<SessionEntry>;
  /** For a target that cannot be read back while being written (a streamed archive): the digest of what it stored. */
  written?(): Promise<SessionDigest>;
  /** Makes the staged copy the session WAHA sees (replacing the old one when staged with replace). */
  commit(): Promise<void>;
  /** Removes the staged copy; the target is as before. */
  abort(): Promise<void>;
}

/** Content of one session that cannot be carried faithfully; the session fails, the others go on. */
export class EntryError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'EntryError';
  }
}
