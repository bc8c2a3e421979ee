/**
 * The archive writer as a stream: it must not keep entry bytes once they are in gzip (memory flat
 * whatever the size of the tree), and a destination that fails must fail the write that waits on
 * it (never hang, never keep going).
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { fileDigests } from '../../src/sessions/stores/archive/format.js';
import { ArchiveTarget } from '../../src/sessions/stores/archive/writer.js';
import { entryDigest } from '../../src/sessions/transfer.js';
import { BIN, cleanEnv } from '../support/cli.js';
import { localScenario } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const open = (destination: Writable) => ArchiveTarget.open({
  destination,
  tool: { name: 'waha-storage', version: 'test' },
  source: { store: 'local', location: 'test' },
});

/** Swallows everything (a fast consumer). */
const sink = () => new Writable({ write(_chunk, _encoding, callback) { callback(); } });

describe('archive writer', () => {
  it("computes a file's manifest SHA-256 and the transfer engine's entry digest in one pass", () => {
    for (const data of [Buffer.alloc(0), Buffer.from('x'), randomBytes(70_000)]) {
      const hash = createHash('sha256');
      for (let offset = 0; offset < data.length; offset += 16_384) hash.update(data.subarray(offset, offset + 16_384)); // chunked, as read
      const both = fileDigests(hash);
      expect(both.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      expect(both.entryDigest).toBe(entryDigest({ kind: 'file', name: 'Default/x', data }).digest);
    }
  });

  it('does not keep the bytes of an entry once it was written', async () => {
    const archive = await open(sink());
    let ref!: WeakRef<Buffer>;
    await (async () => {
      const data = Buffer.alloc(1 << 20, 7);
      ref = new WeakRef(data);
      await archive.add('sessions/webjs/a/files/Default/x.ldb', data);
    })();
    // WeakRef targets live at least until the current job ends
    for (let round = 0; round < 5 && ref.deref(); round++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
    await archive.finish();
  });

  it('fails the waiting write when the destination fails, and every write after it', async () => {
    let written = 0;
    const failing = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        callback(written > 64 << 10 ? Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }) : null);
      },
    });
    const archive = await open(failing);
    const random = Buffer.alloc(4 << 20);
    for (let index = 0; index < random.length; index += 4) random.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, index);
    let failure: Error | undefined;
    let added = 0;
    // a few MiB may be in flight (one chunk per stage); the failure must surface well before 80 MiB
    for (; added < 20 && !failure; added++) {
      await archive.add(`sessions/webjs/a/files/Default/${added}.ldb`, random).catch((error: Error) => { failure = error; });
    }
    expect(failure?.message).toMatch(/ENOSPC/);
    expect(added).toBeLessThan(5);
    await expect(archive.add('sessions/webjs/a/files/Default/next.ldb', Buffer.from('x'))).rejects.toThrow(/ENOSPC/);
    await expect(archive.finish()).rejects.toThrow(/ENOSPC/);
  });
});

describe('backup --output - when the reader goes away', () => {
  it('exits 1 with one line, not 0 as if the archive were complete', async () => {
    const s = await localScenario('noweb', 'bp');
    try {
      const child = spawn(process.execPath, [BIN, 'backup', 'local', '-o', '-', '--sessions-dir', s.base, '--namespace', s.namespace, '--session-namespace', s.namespace], {
        env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy(); // the reading end is closed before anything is written: every write fails with EPIPE
      let stderr = '';
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code, stderr).toBe(1);
      expect(stderr).toContain('Cannot write the archive to stdout: EPIPE');
      expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await s.cleanup();
    }
  });
});
