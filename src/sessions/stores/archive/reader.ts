/**
 * Reading a backup archive in one pass (a file or stdin): decrypt when it is an age file, gunzip,
 * untar, and check everything against the manifest: every entry's size and SHA-256, every listed
 * entry present and no unlisted one, each session's digest recomputed the way the transfer engine
 * computes it, and the format version. Problems are collected with what and where; the caller
 * decides (verify reports them, restore refuses to write anything).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { UsageError } from '../../../errors.js';
import { SessionDigest } from '../../../util/digest.js';
import { parseJson as parseJsonText } from '../../../util/json.js';
import type { Engine } from '../../engines.js';
import { LoginState } from '../../engines/login.js';
import { entryDigest } from '../../transfer.js';
import {
  entryTime, fileDigests, FORMAT_VERSION, HEADER_PATH, MANIFEST_PATH, parseEntryPath, SESSIONS_PREFIX, sessionKey,
  type ArchiveHeader, type Manifest, type ManifestSession,
} from './format.js';
import { AGE_MAGIC, decryptStream, GZIP_MAGIC, peek } from './crypto.js';
import type { SessionEntry } from '../types.js';

export interface ArchiveProblem {
  /** The entry path, or `archive` for the archive as a whole. */
  where: string;
  problem: string;
}

export interface ArchiveSessionReport {
  engine: Engine | null;
  name: string;
  loggedIn: boolean | null;
  me: unknown;
  entries: number;
  bytes: number;
  digest: string;
  ok: boolean;
}

export interface ArchiveReport {
  encrypted: boolean;
  header: ArchiveHeader | null;
  createdAt: string | null;
  sessions: ArchiveSessionReport[];
  problems: ArchiveProblem[];
  /** Bytes of entry content read. */
  bytes: number;
  /** Per session (`sessionKey`), the entry paths the manifest lists. */
  manifestPaths?: Map<string, string[]>;
}

export interface ReadArchiveOptions {
  /** Where the archive comes from, for messages (a path or "stdin"). */
  where: string;
  /** Asked only when the archive is encrypted. */
  passphrase?: () => Promise<string>;
  /** Called for every well-formed session entry, in archive order (restore unpacks here). */
  onEntry?: (session: { engine: Engine | null; name: string }, path: string, entry: SessionEntry, data: Buffer) => Promise<void>;
  signal?: AbortSignal;
}

interface Seen {
  size: number;
  sha256: string;
}

/** Reads and checks the whole archive. Throws only for what is not about the archive's content (wrong passphrase, I/O). */
export async function readArchive(input: Readable, options: ReadArchiveOptions): Promise<ArchiveReport> {
  const problems: ArchiveProblem[] = [];
  const report: ArchiveReport = { encrypted: false, header: null, createdAt: null, sessions: [], problems, bytes: 0 };
  const head = await peek(input, AGE_MAGIC.length);
  let stream: Readable = input;
  if (head.subarray(0, AGE_MAGIC.length).equals(AGE_MAGIC)) {
    report.encrypted = true;
    if (!options.passphrase) throw new UsageError(`${options.where} is encrypted and no passphrase was given`, { hint: 'set WAHA_STORAGE_BACKUP_PASSPHRASE or use --passphrase-file' });
    stream = await decryptStream(input, await options.passphrase(), options.where);
  } else if (!head.subarray(0, 2).equals(GZIP_MAGIC)) {
    input.destroy();
    problems.push({ where: 'archive', problem: `${options.where} is not a waha-storage archive (neither gzip nor age data)` });
    return report;
  }

  const seen = new Map<string, Seen>();
  const digests = new Map<string, SessionRead>();
  let manifest: Manifest | undefined;
  let index = 0;
  let stop = false;
  const extract = tar.extract();
  const consume = (async () => {
    for await (const item of extract) {
      // an empty folder is a tar directory entry (its path ends with `/`)
      const directory = item.header.type === 'directory';
      const path = directory && !item.header.name.endsWith('/') ? `${item.header.name}/` : item.header.name;
      const chunks: Buffer[] = [];
      const hash = createHash('sha256');
      for await (const chunk of item as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        hash.update(chunk);
      }
      if (options.signal?.aborted) throw new Error('interrupted');
      if (stop) continue;
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      report.bytes += data.length;
      const first = index++ === 0;
      if (item.header.type !== 'file' && !(directory && path.startsWith(SESSIONS_PREFIX))) {
        problems.push({ where: path, problem: `unexpected ${item.header.type} entry` });
        continue;
      }
      if (seen.has(path)) problems.push({ where: path, problem: 'the entry appears twice' });
      const hashes = fileDigests(hash);
      seen.set(path, { size: data.length, sha256: hashes.sha256 });
      if (first) {
        if (path !== HEADER_PATH) {
          problems.push({ where: path, problem: `the archive does not start with ${HEADER_PATH}: not a waha-storage archive` });
          stop = true;
          continue;
        }
        const header = parseJson<ArchiveHeader>(data);
        if (!header || header.format !== 'waha-storage-archive' || typeof header.formatVersion !== 'number') {
          problems.push({ where: path, problem: `the format header does not parse${syntaxNote(data)}` });
          stop = true;
        } else if (header.formatVersion > FORMAT_VERSION) {
          problems.push({ where: path, problem: `format version ${header.formatVersion} is newer than this tool reads (${FORMAT_VERSION}); upgrade waha-storage` });
          report.header = header;
          stop = true;
        } else {
          report.header = header;
          report.createdAt = header.createdAt;
        }
        continue;
      }
      if (path === MANIFEST_PATH) {
        manifest = parseJson<Manifest>(data) ?? undefined;
        if (!manifest || !Array.isArray(manifest.sessions)) problems.push({ where: path, problem: `the manifest does not parse${syntaxNote(data)}` });
        continue;
      }
      if (manifest) problems.push({ where: path, problem: 'an entry after the manifest' });
      const parsed = parseEntryPath(path);
      if ('error' in parsed) {
        problems.push({ where: path, problem: `not an entry of this format (${parsed.error})` });
        continue;
      }
      let entry: SessionEntry;
      try {
        entry = parsed.entry(data, entryTime(item.header.mtime));
        if ((entry.kind === 'dir') !== directory) throw new Error(directory ? 'a folder where a file belongs' : 'a file where a folder belongs');
      } catch (error) {
        problems.push({ where: path, problem: `the content does not parse (${(error as Error).message})` });
        continue;
      }
      const key = sessionKey(parsed.engine, parsed.session);
      let session = digests.get(key);
      if (!session) digests.set(key, session = { engine: parsed.engine, name: parsed.session, digest: new SessionDigest(), login: new LoginState(parsed.engine) });
      session.login.see(entry);
      const { id, digest, bytes } = entry.kind === 'file' ? { id: `file:${entry.name}`, digest: hashes.entryDigest, bytes: entry.data.length } : entryDigest(entry);
      session.digest.add(id, digest, bytes);
      await options.onEntry?.({ engine: parsed.engine, name: parsed.session }, path, entry, data);
    }
  })();
  try {
    await Promise.all([pipeline(stream, createGunzip(), extract), consume]);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (error instanceof UsageError) throw error;
    problems.push({ where: 'archive', problem: `${options.where} is truncated or corrupt after ${index} entries (${(error as Error).message})` });
    stream.destroy();
    extract.destroy();
    await consume.catch(() => {});
  }
  if (index === 0 && problems.length === 0) problems.push({ where: 'archive', problem: `${options.where} holds no entries` });
  if (stop || !report.header) return report;
  if (!manifest) {
    if (!problems.some((item) => item.where === 'archive')) problems.push({ where: MANIFEST_PATH, problem: 'the manifest is missing (the archive is incomplete)' });
    return report;
  }
  checkManifest(manifest, seen, digests, report);
  return report;
}

/** One session's entries as read: their digests and what they show of the login. */
interface SessionRead {
  engine: Engine | null;
  name: string;
  digest: SessionDigest;
  login: LoginState;
}

function checkManifest(manifest: Manifest, seen: Map<string, Seen>, digests: Map<string, SessionRead>, report: ArchiveReport): void {
  const { problems } = report;
  const listed = new Set<string>([HEADER_PATH, MANIFEST_PATH]);
  const checkEntry = (file: { path: string; size: number; sha256: string }): boolean => {
    listed.add(file.path);
    const actual = seen.get(file.path);
    if (!actual) {
      problems.push({ where: file.path, problem: 'listed in the manifest but missing from the archive' });
      return false;
    }
    if (actual.size !== file.size) {
      problems.push({ where: file.path, problem: `size ${actual.size} bytes, the manifest says ${file.size}` });
      return false;
    }
    if (actual.sha256 !== file.sha256) {
      problems.push({ where: file.path, problem: 'SHA-256 differs from the manifest (the content changed)' });
      return false;
    }
    return true;
  };
  for (const session of manifest.sessions as ManifestSession[]) {
    let ok = true;
    for (const file of session.files ?? []) ok = checkEntry(file) && ok;
    const read = digests.get(sessionKey(session.engine, session.name));
    const computed = read?.digest;
    if (!computed) {
      if ((session.files ?? []).length) ok = false;
    } else if (computed.value !== session.digest || computed.entries !== session.entries) {
      if (ok) problems.push({ where: `sessions/${session.engine ?? 'unknown'}/${session.name}`, problem: 'the session digest differs from the manifest' });
      ok = false;
    }
    (report.manifestPaths ??= new Map()).set(sessionKey(session.engine, session.name), (session.files ?? []).map((file) => file.path));
    report.sessions.push({
      // what the entries show (the rule inspect and diff apply), not what an older writer put in the manifest
      engine: session.engine, name: session.name, loggedIn: read ? read.login.value : session.loggedIn ?? null, me: session.me ?? null,
      entries: session.entries, bytes: session.bytes, digest: session.digest, ok,
    });
  }
  for (const file of manifest.discarded ?? []) checkEntry(file);
  for (const path of seen.keys()) {
    if (!listed.has(path)) problems.push({ where: path, problem: 'in the archive but not in the manifest' });
  }
}

function parseJson<T>(data: Buffer): T | null {
  const parsed = parseJsonText(data.toString('utf8'));
  return parsed.ok ? parsed.value as T : null;
}

/** Where the JSON breaks, never what it holds. */
function syntaxNote(data: Buffer): string {
  const parsed = parseJsonText(data.toString('utf8'));
  return parsed.ok ? '' : ` (${parsed.error})`;
}
