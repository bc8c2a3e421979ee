/** Damaged archives, encryption with the real `age` program, stdout/stdin streaming, bad input. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, json } from '../support/cli.js';
import { cli, localScenario, localStore, sessionDigest, tempDir, type Scenario } from './helpers.js';

let s: Scenario;
let archive: string;
beforeAll(async () => {
  s = await localScenario('noweb', 'bc');
  archive = path.join(s.base, 'good.tar.gz');
  const made = await cli(['backup', 'local', '-o', archive, '--session', 'alpha', '--session', 'fresh'], s.base, s.namespace);
  expect(made.code, made.stderr).toBe(0);
});
afterAll(async () => { await s.cleanup(); });

/** Rewrites the (uncompressed) tar: `edit` may replace an entry's content. */
async function rewrite(source: string, target: string, edit: (name: string, data: Buffer) => Buffer): Promise<void> {
  const extract = tar.extract();
  const pack = tar.pack();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const data = edit(entry.header.name, Buffer.concat(chunks));
      await new Promise<void>((resolve, reject) => pack.entry({ ...entry.header, size: data.length }, data, (error) => (error ? reject(error) : resolve())));
    }
    pack.finalize();
  })();
  const out: Buffer[] = [];
  const collected = (async () => { for await (const chunk of pack) out.push(chunk as Buffer); })();
  extract.end(gunzipSync(await readFile(source)));
  await done;
  await collected;
  await writeFile(target, gzipSync(Buffer.concat(out)));
}

/** verify exits 3 naming `where`; restore writes nothing and exits 1. */
async function expectRejected(file: string, where: string): Promise<void> {
  const verified = await cli(['backup', 'verify', file, '--json'], s.base, s.namespace);
  expect(verified.code, verified.stdout + verified.stderr).toBe(3);
  const report = json(verified);
  expect(report.sound).toBe(false);
  expect(JSON.stringify(report.problems)).toContain(where);
  const target = await tempDir();
  const restored = await cli(['restore', file, 'local'], target, s.namespace);
  expect(restored.code, restored.stderr).toBe(1);
  expect(restored.stderr).toContain('nothing was restored');
  const left = existsSync(path.join(target, s.namespace)) ? readdirSync(path.join(target, s.namespace)) : [];
  expect(left).toEqual([]);
}

describe('corrupted archives are detected by verify (exit 3) and restore (nothing written)', () => {
  it('truncated', async () => {
    const bytes = await readFile(archive);
    const file = path.join(s.base, 'truncated.tar.gz');
    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectRejected(file, 'truncated');
  });

  it('a flipped byte inside an entry (the gzip stream itself is valid)', async () => {
    const file = path.join(s.base, 'flipped.tar.gz');
    await rewrite(archive, file, (name, data) => {
      if (name !== 'sessions/noweb/alpha/keys/creds.json') return data;
      const copy = Buffer.from(data);
      const at = copy.indexOf('"registrationId"') + 2;
      copy[at] = copy[at]! ^ 0x01;
      return copy;
    });
    await expectRejected(file, 'sessions/noweb/alpha/keys/creds.json');
  });

  it('a flipped byte in the compressed file', async () => {
    const bytes = Buffer.from(await readFile(archive));
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    const file = path.join(s.base, 'flipped-gz.tar.gz');
    await writeFile(file, bytes);
    await expectRejected(file, 'archive');
  });

  it('a manifest that does not match the entries', async () => {
    const file = path.join(s.base, 'manifest.tar.gz');
    await rewrite(archive, file, (name, data) => {
      if (name !== 'manifest.json') return data;
      const manifest = JSON.parse(data.toString());
      manifest.sessions[0].files.pop();
      manifest.sessions[1].files[0].size += 1;
      return Buffer.from(JSON.stringify(manifest));
    });
    await expectRejected(file, 'not in the manifest');
  });

  it('an archive of a newer format version', async () => {
    const file = path.join(s.base, 'newer.tar.gz');
    await rewrite(archive, file, (name, data) => (name === 'waha-storage-archive.json' ? Buffer.from(JSON.stringify({ ...JSON.parse(data.toString()), formatVersion: 99 })) : data));
    await expectRejected(file, 'format version 99');
  });

  it('not an archive at all', async () => {
    const file = path.join(s.base, 'notes.txt');
    await writeFile(file, 'just some text\n');
    await expectRejected(file, 'not a waha-storage archive');
  });
});

describe('bad input', () => {
  it('--output into a missing folder: exit 2, nothing written', async () => {
    const result = await cli(['backup', 'local', '-o', path.join(s.base, 'missing', 'x.tar.gz')], s.base, s.namespace);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('does not exist');
    expect(existsSync(path.join(s.base, 'missing'))).toBe(false);
  });

  it('restore --session of a session not in the archive: exit 2', async () => {
    const target = await tempDir();
    const result = await cli(['restore', archive, 'local', '--session', 'nobody'], target, s.namespace);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"nobody"');
  });

  it('a session that fails half-way is left out of the manifest and the archive still verifies', async () => {
    const result = await cli(['backup', 'local', '-o', path.join(s.base, 'part.tar.gz'), '--json'], s.base, s.namespace);
    expect(result.code).toBe(3);
    const verified = await cli(['backup', 'verify', path.join(s.base, 'part.tar.gz')], s.base, s.namespace);
    expect(verified.code, verified.stdout).toBe(0);
  });
});

describe('streams and encryption', () => {
  it('--output - streams to stdout (messages on stderr) and verify/restore read stdin', async () => {
    const file = path.join(s.base, 'piped.tar.gz');
    const args = ['backup', 'local', '-o', '-', '--session', 'fresh', '--sessions-dir', s.base, '--namespace', s.namespace, '--session-namespace', s.namespace];
    const made = spawnSync(process.execPath, [BIN, ...args], { env: cleanEnv(), maxBuffer: 1 << 26 });
    expect(made.status, made.stderr.toString()).toBe(0);
    expect(made.stderr.toString()).toContain('fresh');
    await writeFile(file, made.stdout);
    const verified = await cli(['backup', 'verify', '-', '--json'], s.base, s.namespace, { input: undefined });
    expect(verified.code).not.toBe(0); // empty stdin is not an archive
    const piped = spawnSync(process.execPath, [BIN, 'backup', 'verify', '-', '--json'], { env: cleanEnv(), input: made.stdout });
    expect(piped.status, piped.stdout.toString()).toBe(0);
    expect(JSON.parse(piped.stdout.toString()).sessions.map((x: { name: string }) => x.name)).toEqual(['fresh']);
  });

  it('--encrypt: the age program decrypts it, restore needs the passphrase, a wrong one is refused', async () => {
    const file = path.join(s.base, 'secret.tar.gz.age');
    const env = { WAHA_STORAGE_BACKUP_PASSPHRASE: 'correct horse battery' };
    const made = await cli(['backup', 'local', '-o', file, '--encrypt', '--scrypt-work-factor', '12', '--session', 'alpha'], s.base, s.namespace, { env });
    expect(made.code, made.stderr).toBe(0);
    expect((await readFile(file)).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    // the real age program, fed the passphrase on its terminal
    const decrypted = path.join(s.base, 'decrypted.tar.gz');
    execFileSync('script', ['-qec', `age --decrypt -o '${decrypted}' '${file}'`, '/dev/null'], { input: 'correct horse battery\n' });
    expect(execFileSync('tar', ['tzf', decrypted]).toString()).toContain('sessions/noweb/alpha/keys/creds.json');
    const plain = await cli(['backup', 'verify', decrypted], s.base, s.namespace);
    expect(plain.code, plain.stdout).toBe(0);

    const noPass = await cli(['backup', 'verify', file], s.base, s.namespace);
    expect(noPass.code).toBe(2);
    expect(noPass.stderr).toContain('WAHA_STORAGE_BACKUP_PASSPHRASE');
    const wrong = await cli(['backup', 'verify', file], s.base, s.namespace, { env: { WAHA_STORAGE_BACKUP_PASSPHRASE: 'xyzzy-not-it' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('wrong passphrase');
    expect(wrong.stderr).not.toContain('correct horse');

    const passFile = path.join(s.base, 'pass.txt');
    await writeFile(passFile, 'correct horse battery\n');
    const target = await tempDir();
    const restored = await cli(['restore', file, 'local', '--passphrase-file', passFile, '--json'], target, s.namespace);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await sessionDigest(localStore(target, s.namespace), 'NOWEB', 'alpha')).toEqual(await sessionDigest(localStore(s.base, s.namespace), 'NOWEB', 'alpha'));
  });
});
