/**
 * One `bytea` value streamed through COPY in binary format, as WAHA does since 2026.5 (#2090):
 * never a whole value in memory (a RemoteAuth zip can be hundreds of megabytes; one bytea is at
 * most 1 GB). `pg-copy-streams` carries the bytes; the binary COPY framing is written and read here.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Writes the single column of the single row `query` selects (COPY … TO STDOUT) into `file`; false when no row. */
export async function copyValueToFile(client: Client, query: string, file: string): Promise<boolean> {
  const { to } = await import('pg-copy-streams');
  const extractor = new FirstValue();
  await pipeline(client.query(to(`COPY (${query}) TO STDOUT (FORMAT BINARY)`)), extractor, createWriteStream(file));
  return extractor.found;
}

/**
 * Loads `file` as one bytea value into WAHA's temporary table `_waha_copy_tmp` (COPY … FROM STDIN)
 * and runs `insert` (which selects `content` from it) in the same transaction.
 */
export async function copyFileIntoRow(client: Client, file: string, insert: { text: string; values: unknown[] }): Promise<void> {
  const { from } = await import('pg-copy-streams');
  const { size } = await stat(file);
  await client.query('BEGIN');
  try {
    await client.query('CREATE TEMP TABLE IF NOT EXISTS _waha_copy_tmp (content BYTEA) ON COMMIT DELETE ROWS');
    await pipeline(framed(file, size), client.query(from('COPY _waha_copy_tmp FROM STDIN (FORMAT BINARY)')));
    await client.query(insert);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Header, one tuple of one field (the file's bytes), trailer. */
function framed(file: string, size: number): Readable {
  return Readable.from((async function* () {
    const head = Buffer.alloc(SIGNATURE.length + 8 + 2 + 4);
    SIGNATURE.copy(head, 0);
    let offset = SIGNATURE.length;
    head.writeInt32BE(0, offset); // flags
    head.writeInt32BE(0, offset + 4); // header extension length
    head.writeInt16BE(1, offset + 8); // one field
    head.writeInt32BE(size, offset + 10);
    offset += 14;
    yield head;
    for await (const chunk of createReadStream(file)) yield chunk as Buffer;
    const trailer = Buffer.alloc(2);
    trailer.writeInt16BE(-1, 0);
    yield trailer;
  })(), { objectMode: false });
}

/** Passes on the bytes of the first field of the first tuple of a binary COPY stream. */
class FirstValue extends Transform {
  found = false;
  private pending = Buffer.alloc(0);
  private state: 'header' | 'extension' | 'tuple' | 'length' | 'value' | 'rest' = 'header';
  private remaining = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private consume(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length) {
      if (this.state === 'value') {
        const part = data.subarray(0, this.remaining);
        this.push(part);
        this.remaining -= part.length;
        data = data.subarray(part.length);
        if (this.remaining === 0) this.state = 'rest';
        continue;
      }
      if (this.state === 'rest') return; // a second field or tuple: not ours
      const need = this.state === 'header' ? SIGNATURE.length + 8 : this.state === 'extension' ? this.remaining : this.state === 'tuple' ? 2 : 4;
      if (data.length < need) {
        this.pending = Buffer.from(data);
        return;
      }
      const head = data.subarray(0, need);
      data = data.subarray(need);
      if (this.state === 'header') {
        if (!head.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
        this.remaining = head.readInt32BE(SIGNATURE.length + 4);
        this.state = this.remaining > 0 ? 'extension' : 'tuple';
      } else if (this.state === 'extension') {
        this.state = 'tuple';
      } else if (this.state === 'tuple') {
        if (head.readInt16BE(0) === -1) { this.state = 'rest'; return; }
        this.state = 'length';
      } else {
        const length = head.readInt32BE(0);
        this.found = true;
        if (length <= 0) { this.state = 'rest'; continue; } // NULL (-1) or empty
        this.remaining = length;
        this.state = 'value';
      }
    }
  }
}
