/**
 * Writing into a disk that fills up: a real 2 MiB tmpfs, pre-filled to several levels. Every run
 * ends with exit 1 (nothing done) or 3 (some sessions done), one line naming the full disk, no
 * stack trace, no staging left, only complete sessions visible, and the source untouched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, privileged, runCli, type CliResult } from '../support/cli.js';
import { writeLocalNowebSessions } from '../support/fixtures/index.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { localStore, mongoStore, sessionDigest } from '../backup/helpers.js';
import { age, byName, migrate } from './helpers.js';

const SESSIONS = 20;
const KEYS = 40;
let client: MongoClient;
let source: string;
let archive: string;
const namespace = uniqueNamespace('full');
const digests = new Map<string, string>();

beforeAll(async () => {
  client = await connectMongo();
  source = await mkdtemp(path.join(os.tmpdir(), 'waha-full-src-'));
  await writeLocalNowebSessions(source, { count: SESSIONS, keysPerSession: KEYS, namespace });
  await age(path.join(source, namespace));
  const copied = await migrate(['local', 'mongo', '--json'], source, namespace, { timeoutMs: 120_000 });
  expect(copied.code, copied.stderr).toBe(0);
  archive = path.join(source, 'all.tar.gz');
  const backedUp = await runCli(['backup', 'mongo', '-o', archive, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl()]);
  expect(backedUp.code, backedUp.stderr).toBe(0);
  for (const name of byName(copied).keys()) digests.set(name, (await sessionDigest(mongoStore(client, namespace), 'NOWEB', name)).value);
}, 180_000);

afterAll(async () => {
  await dropNamespace(client, namespace);
  await client.close();
  await rm(source, { recursive: true, force: true });
});

/** A tmpfs of `size` with a file of `filledKiB` KiB in it already. */
async function withFullDisk(size: string, filledKiB: number, work: (folder: string) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'waha-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', folder]);
  try {
    if (filledKiB) await writeFile(path.join(folder, 'filler'), Buffer.alloc(filledKiB * 1024, 1));
    await work(folder);
  } finally {
    execFileSync('umount', [folder]);
    await rm(folder, { recursive: true, force: true });
  }
}

/** Exit 1 or 3 as sessions were done, a disk-full line, no stack trace. */
function expectFullDiskFailure(result: CliResult, done: number): void {
  expect(result.code, result.stderr).toBe(done > 0 ? 3 : 1);
  expect(result.stdout + result.stderr).toMatch(/disk is full \((ENOSPC|SQLITE_[A-Z_]+)\)/);
  expect(result.stderr).not.toMatch(/\n\s+at |Uncaught|node:internal/);
}

/** No staging or trash left, and every session folder WAHA would see is a complete copy. */
async function expectOnlyCompleteSessions(base: string, doneNames: string[]): Promise<void> {
  const staging = path.join(base, '.waha-storage-staging');
  expect(existsSync(staging) ? readdirSync(staging, { recursive: true }) : []).toEqual([]);
  const folder = path.join(base, namespace);
  const visible = existsSync(folder) ? readdirSync(folder).filter((entry) => !entry.startsWith('waha.sqlite3')) : [];
  expect(visible.sort()).toEqual([...doneNames].sort());
  for (const name of doneNames) expect((await sessionDigest(localStore(base, namespace), 'NOWEB', name)).value, name).toBe(digests.get(name));
}

async function expectSourceIntact(): Promise<void> {
  for (const [name, digest] of digests) expect((await sessionDigest(mongoStore(client, namespace), 'NOWEB', name)).value, name).toBe(digest);
}

describe('a local target that fills up', () => {
  for (const filledKiB of [0, 640, 1400, 1900, 2040]) {
    it.runIf(privileged)(`migrate mongo local into 2 MiB with ${filledKiB} KiB taken: exit 1/3, one line, no staging, source intact`, async () => {
      await withFullDisk('2m', filledKiB, async (base) => {
        const result = await migrate(['mongo', 'local', '--json'], base, namespace, { timeoutMs: 120_000 });
        const sessions = [...byName(result).values()];
        const done = sessions.filter((session) => session.status === 'done').map((session) => session.name);
        expectFullDiskFailure(result, done.length);
        expect(sessions.filter((session) => session.status === 'failed').every((session) => ['disk-full', 'not-attempted'].includes(session.reason!))).toBe(true);
        const document = JSON.parse(result.stdout) as { stopped?: { reason: string; message: string } };
        expect(document.stopped?.reason).toBe('disk-full');
        await expectOnlyCompleteSessions(base, done);
        await expectSourceIntact();
      });
    }, 120_000);
  }

  it.runIf(privileged)('on a terminal-less run the full disk is one error line, once', async () => {
    await withFullDisk('2m', 1400, async (base) => {
      const result = await migrate(['mongo', 'local'], base, namespace, { timeoutMs: 120_000 });
      expect([1, 3]).toContain(result.code);
      expect(result.stderr.match(/^error: stopped: .*disk is full \(ENOSPC\); free some space there/gm) ?? []).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at |node:internal/);
    });
  }, 120_000);

  for (const filledKiB of [0, 1400]) {
    it.runIf(privileged)(`restore into 2 MiB with ${filledKiB} KiB taken: exit 1/3, no staging, only complete sessions`, async () => {
      await withFullDisk('2m', filledKiB, async (base) => {
        const result = await runCli(['restore', archive, 'local', '--json', '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace], { timeoutMs: 120_000 });
        const sessions = [...byName(result).values()];
        const done = sessions.filter((session) => session.status === 'done').map((session) => session.name);
        expectFullDiskFailure(result, done.length);
        await expectOnlyCompleteSessions(base, done);
      });
    }, 120_000);
  }
});

describe('backup --output - into a full disk', () => {
  for (const filledKiB of [0, 8, 12]) {
    it.runIf(privileged)(`stdout redirected into 16 KiB with ${filledKiB} KiB taken: exit 1, one line, no stack trace`, async () => {
      await withFullDisk('16k', filledKiB, async (folder) => {
        const args = ['backup', 'mongo', '--output', '-', '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl()];
        // the shell opens the file on the full disk as stdout, as `backup --output - > file` would
        const command = [process.execPath, BIN, ...args].map((arg) => `'${arg}'`).join(' ');
        const run = spawnSync('sh', ['-c', `${command} > '${path.join(folder, 'out.tar.gz')}'`], { env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
        expect(run.status, run.stderr).toBe(1);
        expect(run.stderr).toMatch(/stdout: the disk is full \(ENOSPC\)/);
        expect(run.stderr).not.toMatch(/\n\s+at |node:internal/);
        expect(run.stderr.match(/^error: /gm) ?? []).toHaveLength(1);
      });
    }, 120_000);
  }
});
