/**
 * The backup archive format (version 1): a gzip-compressed tar, optionally encrypted with age.
 *
 *   waha-storage-archive.json                    first: format version, tool, creation time, source
 *   sessions/<engine>/<session>/config.json      the config (JSON, `null` when none)
 *   sessions/<engine>/<session>/me.json          waha.sqlite3 `me.data.me` / mongo `me.me`
 *   sessions/<engine>/<session>/worker.json      session_worker.worker
 *   sessions/<engine>/<session>/keys/<key>.json  NOWEB auth, one logical Baileys key each
 *   sessions/<engine>/<session>/key-files/<file>         NOWEB key file whose name cannot be decoded, under that name
 *   sessions/<engine>/<session>/mongo-keys/<key>.json    the same for a MongoDB key
 *   sessions/<engine>/<session>/files/<path>     WEBJS profile files, GOWS gows.db snapshot, WPP files
 *   sessions/<engine>/<session>/files/<path>/    an empty folder among them (a tar directory entry)
 *   sessions/<engine>/<session>/rows/<table>/<id>.json   NOWEB store rows
 *   manifest.json                                last: every entry's path, size, SHA-256; a digest per session
 *
 * Path segments that are names (session, key, table, id) are percent-encoded, so any name survives;
 * file paths keep their `/`. The content is store-neutral: the same archive restores into local
 * or MongoDB. The session digest is the transfer engine's (entry ids and canonical digests), so
 * a restored session can be compared with the archive whatever the store.
 *
 * Entry times: a tar entry carries the time the source kept for the file (a local file's mtime, a
 * zip entry's time), so a restore sets it back; an entry whose source keeps none (a MongoDB
 * document) gets the fixed UNKNOWN_TIME, which reads back as "no time". Times are in no digest.
 */
import type { Hash } from 'node:crypto';
import type { Engine } from '../../engines.js';
import { ENGINES } from '../../engines.js';
import { parseJsonOrThrow } from '../../../util/json.js';
import { isStoreName, parseKeyName } from '../../engines/noweb-keys.js';
import type { SessionEntry } from '../types.js';

export const FORMAT_VERSION = 1;
export const HEADER_PATH = 'waha-storage-archive.json';
export const MANIFEST_PATH = 'manifest.json';
export const SESSIONS_PREFIX = 'sessions/';
export const UNKNOWN_ENGINE = 'unknown';
/** The tar time of an entry whose source keeps no time: the same sessions give the same tar bytes. */
export const UNKNOWN_TIME = new Date('2000-01-01T00:00:00Z');

/** The entry time a tar header stands for (undefined: the source kept none). */
export function entryTime(mtime: Date | undefined): number | undefined {
  if (!mtime || Number.isNaN(mtime.getTime()) || mtime.getTime() === UNKNOWN_TIME.getTime()) return undefined;
  return mtime.getTime();
}

export interface ArchiveHeader {
  format: 'waha-storage-archive';
  formatVersion: number;
  tool: { name: string; version: string };
  createdAt: string;
  /** Where the sessions came from (a folder, or a redacted MongoDB URL). */
  source: { store: string; location: string };
}

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface ManifestSession {
  engine: Engine | null;
  name: string;
  /** true/false when the auth tells (NOWEB creds, a `me`), null when it cannot be told. */
  loggedIn: boolean | null;
  me: unknown;
  /** The transfer engine's session digest over every entry. */
  digest: string;
  entries: number;
  bytes: number;
  files: ManifestEntry[];
}

export interface Manifest extends Omit<ArchiveHeader, 'format'> {
  format: 'waha-storage-manifest';
  sessions: ManifestSession[];
  /** Tar entries of sessions that failed while being written; they belong to no session. */
  discarded: ManifestEntry[];
}

/** Folders of NOWEB keys kept under one store's own name (they could not be decoded without guessing). */
const KEY_FILES = 'key-files';
const MONGO_KEYS = 'mongo-keys';

function encode(name: string): string {
  return encodeURIComponent(name);
}

function sessionPrefix(engine: Engine | null, name: string): string {
  return `${SESSIONS_PREFIX}${engine ? engine.toLowerCase() : UNKNOWN_ENGINE}/${encode(name)}/`;
}

export interface SerializedEntry {
  path: string;
  data: Buffer;
  /** A tar directory entry (an empty folder; its path ends with `/`). */
  directory?: boolean;
  mtimeMs?: number;
}

/** The tar path, serialized bytes and time of one entry. */
export function serializeEntry(engine: Engine | null, session: string, entry: SessionEntry): SerializedEntry {
  const serialized = serializeContent(engine, session, entry);
  const { mtimeMs } = entry as { mtimeMs?: number };
  return mtimeMs === undefined ? serialized : { ...serialized, mtimeMs };
}

function serializeContent(engine: Engine | null, session: string, entry: SessionEntry): SerializedEntry {
  const prefix = sessionPrefix(engine, session);
  switch (entry.kind) {
    case 'config':
      return { path: `${prefix}config.json`, data: json(entry.value ?? null) };
    case 'me':
      return { path: `${prefix}me.json`, data: json(entry.value) };
    case 'worker':
      return { path: `${prefix}worker.json`, data: json(entry.value) };
    case 'key':
      if (entry.only?.store === 'file') return { path: `${prefix}${KEY_FILES}/${encode(entry.name)}`, data: json(entry.value) };
      if (entry.only?.store === 'mongo') return { path: `${prefix}${MONGO_KEYS}/${encode(entry.name)}.json`, data: json(entry.value) };
      return { path: `${prefix}keys/${encode(entry.name)}.json`, data: json(entry.value) };
    case 'file':
      return { path: `${prefix}files/${entry.name}`, data: entry.data };
    case 'dir':
      return { path: `${prefix}files/${entry.name}/`, data: Buffer.alloc(0), directory: true };
    case 'row': {
      const id = entry.name.startsWith(`${entry.table}/`) ? entry.name.slice(entry.table.length + 1) : entry.name;
      return { path: `${prefix}rows/${encode(entry.table)}/${encode(id)}.json`, data: json(entry.value) };
    }
  }
}

/** JSON.stringify keeps key order, so a NOWEB key file restored locally has the bytes WAHA wrote. */
function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value === undefined ? null : value));
}

export interface ParsedPath {
  engine: Engine | null;
  session: string;
  /** Builds the entry from the stored bytes (and the tar time, when known); throws on bytes that do not parse. */
  entry(data: Buffer, mtimeMs?: number): SessionEntry;
}

/** The session and entry a tar path stands for, or an error text. */
export function parseEntryPath(tarPath: string): ParsedPath | { error: string } {
  const parsed = parseContentPath(tarPath);
  if ('error' in parsed) return parsed;
  return {
    ...parsed,
    entry: (data, mtimeMs) => {
      const entry = parsed.entry(data);
      return mtimeMs === undefined ? entry : { ...entry, mtimeMs };
    },
  };
}

function parseContentPath(tarPath: string): { engine: Engine | null; session: string; entry(data: Buffer): SessionEntry } | { error: string } {
  if (!tarPath.startsWith(SESSIONS_PREFIX)) return { error: 'not under sessions/' };
  const parts = tarPath.slice(SESSIONS_PREFIX.length).split('/');
  if (parts.length < 3) return { error: 'too short a path' };
  const [engineText, encodedSession, kindPart, ...rest] = parts as [string, string, string, ...string[]];
  let engine: Engine | null = null;
  if (engineText !== UNKNOWN_ENGINE) {
    const upper = engineText.toUpperCase();
    if (!(ENGINES as readonly string[]).includes(upper)) return { error: `unknown engine folder "${engineText}"` };
    engine = upper as Engine;
  }
  let session: string;
  try {
    session = decodeURIComponent(encodedSession);
  } catch {
    return { error: 'bad session name encoding' };
  }
  const parse = (data: Buffer): unknown => parseJsonOrThrow(data.toString('utf8'));
  const decode = (text: string) => decodeURIComponent(text);
  if (rest.length === 0) {
    if (kindPart === 'config.json') {
      return { engine, session, entry: (data) => ({ kind: 'config', name: 'config', value: parse(data) as Record<string, unknown> | null }) };
    }
    if (kindPart === 'me.json') return { engine, session, entry: (data) => ({ kind: 'me', name: 'me', value: parse(data) }) };
    if (kindPart === 'worker.json') return { engine, session, entry: (data) => ({ kind: 'worker', name: 'worker', value: String(parse(data)) }) };
    return { error: `unknown entry "${kindPart}"` };
  }
  if (kindPart === 'keys' && rest.length === 1 && rest[0]!.endsWith('.json')) {
    const name = decode(rest[0]!.slice(0, -'.json'.length));
    return { engine, session, entry: (data) => ({ kind: 'key', name, value: parse(data) }) };
  }
  if ((kindPart === KEY_FILES || kindPart === MONGO_KEYS) && rest.length === 1) {
    const store = kindPart === KEY_FILES ? 'file' : 'mongo';
    let name: string;
    try {
      name = decode(store === 'file' ? rest[0]! : rest[0]!.replace(/\.json$/, ''));
    } catch {
      return { error: 'bad key name encoding' };
    }
    if ((store === 'mongo' && !rest[0]!.endsWith('.json')) || !isStoreName(name, store)) return { error: `not a ${store === 'file' ? 'key file' : 'MongoDB key'} name` };
    const parsed = parseKeyName(name, store);
    const why = parsed.ok ? `"${name}" was kept under its ${store === 'file' ? 'file' : 'MongoDB'} name` : parsed.error;
    return { engine, session, entry: (data) => ({ kind: 'key', name, value: parse(data), only: { store, why } }) };
  }
  if (kindPart === 'files' && rest.length > 1 && rest[rest.length - 1] === '') {
    const dir = rest.slice(0, -1);
    if (dir.some((part) => part === '' || part === '.' || part === '..')) return { error: 'unsafe folder path' };
    const name = dir.join('/');
    return { engine, session, entry: () => ({ kind: 'dir', name }) };
  }
  if (kindPart === 'files') {
    const name = rest.join('/');
    if (rest.some((part) => part === '' || part === '.' || part === '..')) return { error: 'unsafe file path' };
    return { engine, session, entry: (data) => ({ kind: 'file', name, data }) };
  }
  if (kindPart === 'rows' && rest.length === 2 && rest[1]!.endsWith('.json')) {
    const table = decode(rest[0]!);
    const id = decode(rest[1]!.slice(0, -'.json'.length));
    return { engine, session, entry: (data) => ({ kind: 'row', name: `${table}/${id}`, table, value: parse(data) as Record<string, unknown> }) };
  }
  return { error: `unknown entry kind "${kindPart}"` };
}

export function sessionKey(engine: Engine | null, name: string): string {
  return `${engine ?? UNKNOWN_ENGINE}/${name}`;
}

/**
 * Both digests of a file entry's bytes from one pass over them: the plain SHA-256 the manifest
 * lists, and the transfer engine's entry digest of a file (`entryDigest` = util/digest `sha256(data)`,
 * which ends every part with a NUL byte). Saves a second SHA-256 pass per byte on backup and on
 * every read of an archive; test/backup/writer.test.ts checks it still equals `entryDigest`.
 */
export function fileDigests(hash: Hash): { sha256: string; entryDigest: string } {
  const entryDigest = hash.copy().update('\u0000').digest('hex');
  return { sha256: hash.digest('hex'), entryDigest };
}
