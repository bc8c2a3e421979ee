/**
 * What an archive file is, read cheaply for rotation: the format header (first entry) and the
 * manifest (last entry); every entry between is skipped without being kept or hashed. An age file
 * is read only with a passphrase. Nothing here decides what to remove; it only tells our archives
 * from other files and from archives that cannot be read (incomplete, damaged, encrypted).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { HEADER_PATH, MANIFEST_PATH, type ArchiveHeader, type Manifest } from './format.js';
import { AGE_MAGIC, decryptStream, GZIP_MAGIC, peek } from './crypto.js';

export type ArchiveKind =
  | { kind: 'archive'; encrypted: boolean; header: ArchiveHeader; manifest: Manifest }
  /** Not a waha-storage archive at all. */
  | { kind: 'foreign'; reason: string }
  /** Ours or possibly ours, but its manifest could not be read: never to be removed by rotation. */
  | { kind: 'not-read'; encrypted: boolean; reason: string };

/** A manifest is at most this big (a few hundred bytes per entry); a bigger last entry is not ours. */
const MAX_JSON_BYTES = 256 << 20;

export async function readArchiveManifest(file: string, options: { passphrase?: string; signal?: AbortSignal } = {}): Promise<ArchiveKind> {
  const input = createReadStream(file);
  try {
    return await classify(input, file, options);
  } finally {
    input.destroy();
  }
}

async function classify(input: Readable, where: string, options: { passphrase?: string; signal?: AbortSignal }): Promise<ArchiveKind> {
  const head = await peek(input, AGE_MAGIC.length);
  let stream: Readable = input;
  const encrypted = head.equals(AGE_MAGIC);
  if (encrypted) {
    if (!options.passphrase) return { kind: 'not-read', encrypted, reason: 'age-encrypted; give the passphrase (WAHA_STORAGE_BACKUP_PASSPHRASE or --passphrase-file) to read it' };
    try {
      stream = await decryptStream(input, options.passphrase, where);
    } catch (error) {
      return { kind: 'not-read', encrypted, reason: `cannot decrypt: ${(error as Error).message}` };
    }
  } else if (!head.subarray(0, 2).equals(GZIP_MAGIC)) {
    return { kind: 'foreign', reason: 'neither gzip nor age data' };
  }

  let header: ArchiveHeader | undefined;
  let manifest: Manifest | undefined;
  let index = 0;
  let notOurs: string | undefined;
  let afterManifest = false;
  const extract = tar.extract();
  const consume = (async () => {
    for await (const item of extract) {
      const first = index++ === 0;
      const wanted = !notOurs && (first || item.header.name === MANIFEST_PATH) && (item.header.size ?? 0) <= MAX_JSON_BYTES;
      const chunks: Buffer[] = [];
      for await (const chunk of item as AsyncIterable<Buffer>) if (wanted) chunks.push(chunk);
      if (options.signal?.aborted) throw new Error('interrupted');
      if (notOurs) continue;
      if (manifest) afterManifest = true;
      if (first) {
        header = item.header.name === HEADER_PATH ? parseJson<ArchiveHeader>(Buffer.concat(chunks)) : undefined;
        if (header?.format !== 'waha-storage-archive') {
          notOurs = `a tar.gz without the waha-storage header (first entry ${item.header.name})`;
          break; // nothing more to learn; the stream is closed below
        }
      } else if (wanted) {
        manifest = parseJson<Manifest>(Buffer.concat(chunks));
      }
    }
  })();
  try {
    await Promise.all([pipeline(stream, createGunzip(), extract), consume]);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    extract.destroy();
    stream.destroy();
    await consume.catch(() => {});
    if (notOurs) return encrypted ? { kind: 'not-read', encrypted, reason: notOurs } : { kind: 'foreign', reason: notOurs };
    if (!header) return encrypted ? { kind: 'not-read', encrypted, reason: `cannot read it (${(error as Error).message})` } : { kind: 'foreign', reason: `not a tar.gz (${(error as Error).message})` };
    return { kind: 'not-read', encrypted, reason: `truncated or corrupt after ${index} entries (${(error as Error).message})` };
  }
  if (notOurs || !header) return encrypted ? { kind: 'not-read', encrypted, reason: notOurs ?? 'empty' } : { kind: 'foreign', reason: notOurs ?? 'an empty tar.gz' };
  if (!manifest) return { kind: 'not-read', encrypted, reason: 'no manifest: incomplete (a backup still being written, or one that was cut off)' };
  if (manifest.format !== 'waha-storage-manifest' || !Array.isArray(manifest.sessions) || Number.isNaN(new Date(manifest.createdAt).getTime())) {
    return { kind: 'not-read', encrypted, reason: 'the manifest does not parse' };
  }
  if (afterManifest) return { kind: 'not-read', encrypted, reason: 'entries after the manifest' };
  return { kind: 'archive', encrypted, header, manifest };
}

function parseJson<T>(data: Buffer): T | undefined {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
