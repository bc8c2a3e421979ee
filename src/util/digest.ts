/**
 * SHA-256 digests over a canonical form, so one session read from two different stores compares
 * equal exactly when the content is the same: bytes for files, canonical JSON (keys sorted, no
 * whitespace) for documents and BufferJSON trees.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level and no whitespace (plain loops: it runs twice per copied entry). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index++) {
      if (index) out += ',';
      const item: unknown = value[index];
      out += item === undefined ? 'null' : canonicalJson(item);
    }
    return `${out}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !Buffer.isBuffer(value)) {
    return canonicalJson((value as { toJSON(): unknown }).toJSON());
  }
  const record = value as Record<string, unknown>;
  // the default sort compares UTF-16 code units, like `<` on strings
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

export function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
    hash.update('\u0000');
  }
  return hash.digest('hex');
}

/**
 * The digests of every entry of one session, by entry id. Kept per session only (a few hundred
 * kilobytes for thousands of keys), so two reads can be compared entry by entry.
 */
export class SessionDigest {
  private readonly byId = new Map<string, string>();
  entries = 0;
  bytes = 0;

  add(id: string, digest: string, bytes: number): void {
    if (!this.byId.has(id)) this.entries++;
    this.byId.set(id, digest);
    this.bytes += bytes;
  }

  /** One digest for the whole session, independent of the order entries were read in. */
  get value(): string {
    return sha256(...[...this.byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, digest]) => `${id}=${digest}`));
  }

  get(id: string): string | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Counts of `other`'s entries this digest lacks, holds with a different digest, and holds beyond `other`'s. */
  compare(other: SessionDigest): { missing: number; differing: number; extra: number } {
    let missing = 0;
    let differing = 0;
    for (const [id, digest] of other.byId) {
      const mine = this.byId.get(id);
      if (mine === undefined) missing++;
      else if (mine !== digest) differing++;
    }
    return { missing, differing, extra: this.byId.size - (other.byId.size - missing) };
  }

  /** Entry ids that differ, are missing, or are extra, compared with `other` (at most `limit`). */
  differences(other: SessionDigest, limit = 5): string[] {
    const found: string[] = [];
    for (const [id, digest] of this.byId) {
      if (found.length >= limit) return found;
      const theirs = other.byId.get(id);
      if (theirs === undefined) found.push(`${id} missing`);
      else if (theirs !== digest) found.push(`${id} differs`);
    }
    for (const id of other.byId.keys()) {
      if (found.length >= limit) return found;
      if (!this.byId.has(id)) found.push(`${id} unexpected`);
    }
    return found;
  }
}
