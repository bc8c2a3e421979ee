/**
 * The archive as a transfer target ("backup = migrate to an archive"). Entries stream straight into
 * a tar (tar-stream) -> gzip -> (age) -> the destination; nothing of a session is held in memory
 * beyond one entry. The tar is sequential, so one session is written at a time (a lock held from
 * stage to commit/abort). Verification of a staged session re-parses every serialized entry and
 * digests it the way the transfer engine digests the source, so what the archive holds is what
 * was read; a file output is additionally read back whole by `verifyArchive` before it is renamed
 * into place. A session that fails half-way leaves its entries in the tar, listed as `discarded`.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { SessionDigest } from '../../../util/digest.js';
import type { Engine } from '../../engines.js';
import { LoginState } from '../../engines/login.js';
import { entryDigest } from '../../transfer.js';
import { GOWS_DB } from '../../engines/gows.js';
import {
  fileDigests, FORMAT_VERSION, HEADER_PATH, MANIFEST_PATH, parseEntryPath, serializeEntry, UNKNOWN_TIME,
  type ArchiveHeader, type Manifest, type ManifestEntry, type ManifestSession,
} from './format.js';
import { encryptStream } from './crypto.js';
import { targetWriteError } from '../../../util/write-errors.js';
import type { Presence, SessionEntry, SessionRef, SessionStore, StagedSession, StoredSession } from '../types.js';


export interface ArchiveWriterOptions {
  destination: Writable;
  /** The destination for messages (a file name, stdout). */
  label?: string;
  /** Encrypt with age using this passphrase. */
  passphrase?: string;
  /** scrypt work factor for age (tests lower it; default: age's). */
  scryptWorkFactor?: number;
  tool: { name: string; version: string };
  source: { store: string; location: string };
  now?: () => Date;
}

export class ArchiveTarget implements SessionStore {
  readonly kind = 'archive' as const;
  readonly location = 'archive';
  private readonly pack = tar.pack();
  private readonly done: Promise<void>;
  private readonly header: ArchiveHeader;
  private readonly sessions: ManifestSession[] = [];
  private readonly discarded: ManifestEntry[] = [];
  private lock: Promise<void> = Promise.resolve();
  /** Writes waiting for tar-stream's callback (at most one: entries are written one at a time). */
  private readonly waiting = new Set<(error?: Error | null) => void>();
  /** Set once the stream to the destination ended or failed. */
  private closed: Error | undefined;
  /** Why writing to the destination failed (a full disk, a closed pipe), once it did. */
  failure: Error | undefined;
  /** Bytes of entry content written so far (progress). */
  contentBytes = 0;
  readonly label: string;

  private constructor(private readonly options: ArchiveWriterOptions, done: Promise<void>) {
    this.done = done;
    this.label = options.label ?? 'the archive';
    this.header = {
      format: 'waha-storage-archive',
      formatVersion: FORMAT_VERSION,
      tool: options.tool,
      createdAt: (options.now?.() ?? new Date()).toISOString(),
      source: options.source,
    };
  }

  /** Starts the stream to the destination and writes the format header entry. */
  static async open(options: ArchiveWriterOptions): Promise<ArchiveTarget> {
    let target!: ArchiveTarget;
    const counted = new PassThrough();
    const gzip = createGzip({ chunkSize: 128 << 10 });
    let stream: Readable = gzip;
    if (options.passphrase) stream = await encryptStream(gzip, options.passphrase, options.scryptWorkFactor);
    const done = Promise.all([
      pipeline(counted, gzip).catch((error) => { stream.destroy(error); throw error; }),
      pipeline(stream, options.destination),
    ]).then(() => undefined);
    done.catch(() => {}); // observed by finish()
    target = new ArchiveTarget(options, done);
    done.then(() => target.closeWith(new Error('the archive stream closed early')), (error: Error) => {
      target.failure = error;
      target.closeWith(error);
    });
    target.pack.pipe(counted);
    target.pack.on('error', (error: Error) => counted.destroy(error));
    await target.add(HEADER_PATH, Buffer.from(JSON.stringify(target.header, null, 2)));
    return target;
  }

  /**
   * Appends one tar entry, waiting while the consumer is slower (backpressure: tar-stream calls back
   * only once the pack's buffer drained into gzip). Nothing created here outlives the call, so the
   * entry's bytes can be collected as soon as they are in gzip. (Racing each entry against `done`
   * kept one closure per entry, and with it every buffer, alive until the end of the backup.)
   */
  async add(path: string, data: Buffer, options: { directory?: boolean; mtimeMs?: number } = {}): Promise<ManifestEntry & { entryDigest: string }> {
    const size = data.length;
    const { sha256, entryDigest } = fileDigests(createHash('sha256').update(data));
    await this.append(path, data, options);
    this.contentBytes += size;
    return { path, size, sha256, entryDigest };
  }

  private append(path: string, data: Buffer, options: { directory?: boolean; mtimeMs?: number }): Promise<void> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error | null) => {
        if (!this.waiting.delete(settle)) return;
        if (error) reject(error);
        else resolve();
      };
      this.waiting.add(settle);
      // the entry stream also emits the error it is destroyed with (a failed destination): without
      // this listener that is an uncaught exception instead of a failed write
      // times the source keeps travel with the entry (a restore sets them back); none: a fixed time
      const mtime = options.mtimeMs === undefined ? UNKNOWN_TIME : new Date(options.mtimeMs);
      const header = options.directory
        ? { name: path, size: 0, mode: 0o700, mtime, type: 'directory' as const }
        : { name: path, size: data.length, mode: 0o600, mtime, type: 'file' as const };
      const sink = options.directory ? this.pack.entry(header, settle) : this.pack.entry(header, data, settle);
      sink.on('error', settle);
    });
  }

  /** The stream to the destination ended or failed: every write still waiting fails with why. */
  private closeWith(error: Error): void {
    this.closed = error;
    for (const settle of [...this.waiting]) settle(error);
  }

  async list(): Promise<StoredSession[]> {
    return [];
  }

  // eslint-disable-next-line require-yield
  async *read(): AsyncIterable<SessionEntry> {
    throw new Error('an archive being written cannot be read');
  }

  async liveness(): Promise<string | undefined> {
    return undefined;
  }

  unsupported(): string | undefined {
    return undefined;
  }

  async presence(ref: SessionRef): Promise<Presence> {
    return this.sessions.some((session) => session.name === ref.name && session.engine === ref.engine) ? 'present' : 'absent';
  }

  async stage(ref: SessionRef): Promise<StagedSession> {
    let release!: () => void;
    const previous = this.lock;
    this.lock = new Promise<void>((resolve) => { release = resolve; });
    await previous;
    return new ArchiveStaged(this, ref, release);
  }

  commitSession(session: ManifestSession): void {
    this.sessions.push(session);
  }

  discard(entries: ManifestEntry[]): void {
    this.discarded.push(...entries);
  }

  async remove(): Promise<void> {
    throw new Error('sessions are never removed from an archive');
  }

  async close(): Promise<void> {}

  /** Writes the manifest, ends the tar, and waits until the destination has everything. */
  async finish(): Promise<Manifest> {
    await this.lock;
    const manifest: Manifest = { ...this.header, format: 'waha-storage-manifest', sessions: this.sessions, discarded: this.discarded };
    await this.add(MANIFEST_PATH, Buffer.from(JSON.stringify(manifest)));
    this.pack.finalize();
    await this.done;
    return manifest;
  }

  /** Stops writing after a failure; the destination gets an error (a file output is then removed by the caller). */
  destroy(error: Error): void {
    this.pack.destroy(error);
  }

  get sessionCount(): number {
    return this.sessions.length;
  }
}

class ArchiveStaged implements StagedSession {
  private readonly files: ManifestEntry[] = [];
  private readonly digest = new SessionDigest();
  /** The transfer engine's digest of the same entries (gows.db by its tables, not its bytes), for written(). */
  private readonly transferDigest = new SessionDigest();
  private readonly login: LoginState;
  private me: unknown = null;
  private released = false;

  constructor(private readonly archive: ArchiveTarget, private readonly ref: SessionRef, private readonly release: () => void) {
    this.login = new LoginState(ref.engine);
  }

  async write(entry: SessionEntry): Promise<void> {
    const { path, data, ...options } = serializeEntry(this.ref.engine, this.ref.name, entry);
    const { entryDigest: fileDigest, ...listed } = await this.archive.add(path, data, options).catch((error: unknown) => {
      // the destination failed (a full disk, a closed pipe): typed, so the run stops starting sessions
      throw this.archive.failure ? targetWriteError(this.archive.label, this.archive.failure, 'the archive is incomplete') : error;
    });
    this.files.push(listed);
    // digest what was serialized, parsed back the way a restore parses it (a file's bytes are
    // stored as they are: its digest came with the manifest's SHA-256, in the same pass)
    const parsed = parseEntryPath(path);
    if ('error' in parsed) throw new Error(`internal: ${path} does not parse back (${parsed.error})`);
    const back = parsed.entry(data);
    const { id, digest, bytes } = back.kind === 'file' ? { id: `file:${back.name}`, digest: fileDigest, bytes: back.data.length } : entryDigest(back);
    this.digest.add(id, digest, bytes);
    const transferred = back.kind === 'file' && back.name !== GOWS_DB ? { id, digest, bytes } : entryDigest(back);
    this.transferDigest.add(transferred.id, transferred.digest, transferred.bytes);
    this.login.see(entry);
    if (entry.kind === 'me') this.me = entry.value;
  }

  async flush(): Promise<void> {}

  // eslint-disable-next-line require-yield
  async *read(): AsyncIterable<SessionEntry> {
    throw new Error('use digest(): a streamed archive cannot be read back here');
  }

  async written(): Promise<SessionDigest> {
    return this.transferDigest;
  }

  async commit(): Promise<void> {
    this.archive.commitSession({
      engine: this.ref.engine as Engine | null,
      name: this.ref.name,
      loggedIn: this.login.value,
      me: this.me ?? null,
      digest: this.digest.value,
      entries: this.digest.entries,
      bytes: this.digest.bytes,
      files: this.files,
    });
    this.end();
  }

  async abort(): Promise<void> {
    this.archive.discard(this.files);
    this.end();
  }

  private end(): void {
    if (this.released) return;
    this.released = true;
    this.release();
  }
}
