/**
 * The media clean lock held in the bucket (versitygw honours conditional writes): two processes with
 * different temp folders stand for two hosts; renewal, takeover of a stale lock, release on Ctrl-C.
 * (s3rver, which ignores conditional writes, is covered in s3.e2e.test.ts: the local-lock fallback.)
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCK_KEY, acquireBucketLock, type LockHolder } from '../../src/media/s3-lock.js';
import { S3MediaStore } from '../../src/media/s3.js';
import { BIN, cleanEnv, json, runCli } from '../support/cli.js';
import { ROOT } from '../support/servers.js';
import { deletedKeys, requestKind, startS3Proxy, type S3Proxy } from './s3-proxy.js';
import { DAY, createBucket, putObjects, s3Client, s3Env, tempDir, uniqueBucket, type S3TestServer, type SeedObject } from './seed.js';

const server: S3TestServer = { name: 'versitygw', endpoint: inject('versitygwEndpoint'), directory: inject('versitygwDirectory'), conditionalWrites: true };
let client: S3Client;

beforeAll(() => { client = s3Client(server.endpoint); });
afterAll(() => client?.destroy());

async function lockObject(bucket: string): Promise<{ holder: LockHolder; etag: string } | undefined> {
  try {
    const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: LOCK_KEY }));
    return { holder: JSON.parse(await result.Body!.transformToString()) as LockHolder, etag: result.ETag! };
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Three sessions of `perSession` objects, every other one two days old. */
async function seedBucket(perSession: number): Promise<{ bucket: string; expired: string[]; kept: string[] }> {
  const bucket = uniqueBucket();
  await createBucket(client, bucket);
  const objects: SeedObject[] = [];
  for (const session of ['alpha', 'beta', 'gamma']) {
    for (let i = 0; i < perSession; i++) objects.push({ key: `${session}/M${i}.jpeg`, modifiedAt: new Date(Date.now() - (i % 2 ? 2 * DAY : 60_000)) });
  }
  await putObjects(client, server, bucket, objects);
  const expired = objects.filter((_, i) => i % 2).map((o) => o.key).sort();
  const kept = objects.filter((_, i) => !(i % 2)).map((o) => o.key).sort();
  return { bucket, expired, kept };
}

async function bucketKeys(bucket: string): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((entry) => entry.Key!).sort();
}

const storeFor = (bucket: string) => S3MediaStore.open({
  bucket, region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER',
});

describe('media clean (s3): one clean per bucket across hosts', () => {
  let slow: S3Proxy;
  let counting: S3Proxy;
  beforeAll(async () => {
    // the first run's listings are held back, so it still holds the lock when the others start
    slow = await startS3Proxy(server.endpoint, { delay: (request) => (requestKind(request) === 'list' ? 2500 : 0) });
    counting = await startS3Proxy(server.endpoint);
  });
  afterAll(async () => {
    await slow?.close();
    await counting?.close();
  });

  it('two hosts: one cleans, a second exits 1 naming the holder, a third waits (--wait); no key is sent for deletion twice', async () => {
    const { bucket, expired, kept } = await seedBucket(200);
    const args = ['media', 'clean', 's3', '--older-than', '1d', '--json'];
    const first = runCli(args, { env: s3Env(slow.url, bucket, { TMPDIR: tempDir('host-a-') }), timeoutMs: 120_000 });
    const holder = await waitFor('the first run to take the lock', () => lockObject(bucket));
    expect(holder.holder).toMatchObject({ tool: 'waha-storage', host: os.hostname(), operation: 'media clean' });
    const [second, third] = await Promise.all([
      runCli(args, { env: s3Env(counting.url, bucket, { TMPDIR: tempDir('host-b-') }) }),
      runCli([...args, '--wait'], { env: s3Env(counting.url, bucket, { TMPDIR: tempDir('host-c-') }), timeoutMs: 120_000 }),
    ]);
    const firstResult = await first;

    expect(firstResult.code, firstResult.stderr).toBe(0);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`Another media clean is running on s3://${bucket}: held by host ${os.hostname().replace(/\./g, '\\.')}, pid ${holder.holder.pid}, since `));
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/waiting for the other media clean \(held by host .*, pid \d+/);
    const deleted = [json(firstResult).summary.deleted, json(third).summary.deleted];
    expect(deleted[0] + deleted[1]).toBe(expired.length);
    expect(json(firstResult).summary.matched + json(third).summary.matched).toBe(expired.length);

    const sent = [...slow.requests, ...counting.requests].filter((request) => requestKind(request) === 'deleteObjects').flatMap(deletedKeys);
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent.sort()).toEqual(expired);
    expect(await bucketKeys(bucket)).toEqual(kept); // and no lock object left behind
  }, 180_000);

  it('takes over a lock whose holder stopped renewing it (expired), and says so', async () => {
    const { bucket, expired, kept } = await seedBucket(10);
    const stale: LockHolder = {
      tool: 'waha-storage', operation: 'media clean', host: 'node-a.cluster', pid: 77, runId: 'dead-run',
      startedAt: new Date(Date.now() - 3_600_000).toISOString(), renewedAt: new Date(Date.now() - 600_000).toISOString(), expiresAt: new Date(Date.now() - 480_000).toISOString(),
    };
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: LOCK_KEY, Body: JSON.stringify(stale) }));
    const result = await runCli(['media', 'clean', 's3', '--older-than', '1d', '--json'], { env: s3Env(counting.url, bucket, { TMPDIR: tempDir('host-b-') }) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/took over an expired lock \(held by host node-a\.cluster, pid 77, since /);
    expect(json(result).summary).toMatchObject({ matched: expired.length, deleted: expired.length });
    expect(await bucketKeys(bucket)).toEqual(kept);
  });

  it('Ctrl-C releases the lock (exit 130)', async () => {
    const { bucket } = await seedBucket(10);
    const child = spawn(process.execPath, [BIN, 'media', 'clean', 's3', '--older-than', '1d'], {
      cwd: ROOT, env: cleanEnv(s3Env(slow.url, bucket, { TMPDIR: tempDir('host-a-') })), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor('the lock', () => lockObject(bucket));
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(await lockObject(bucket)).toBeUndefined();
  }, 60_000);
});

describe('the bucket lock (s3-lock.ts) on versitygw', () => {
  it('is renewed while held (If-Match: new ETag, later expiry), keeps a second run out, lets a waiting one in on release', async () => {
    const bucket = uniqueBucket();
    await createBucket(client, bucket);
    const [a, b] = [await storeFor(bucket), await storeFor(bucket)];
    try {
      const lock = await acquireBucketLock(a, { ttlMs: 3000, renewEveryMs: 300 });
      if (!lock.held) throw new Error(lock.reason);
      const before = (await lockObject(bucket))!;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const after = (await lockObject(bucket))!;
      expect(after.holder.runId).toBe(before.holder.runId);
      expect(after.etag).not.toBe(before.etag);
      expect(Date.parse(after.holder.expiresAt)).toBeGreaterThan(Date.parse(before.holder.expiresAt));

      await expect(acquireBucketLock(b, { ttlMs: 3000 })).rejects.toThrow(/Another media clean is running .* held by host .*, pid \d+/);
      let waited = false;
      const second = acquireBucketLock(b, { ttlMs: 3000, wait: true, pollMs: 100, onWaiting: () => { waited = true; } });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await lock.release();
      const next = await second;
      expect(waited).toBe(true);
      if (!next.held) throw new Error(next.reason);
      expect((await lockObject(bucket))!.holder.runId).toBe(next.holder.runId);
      await next.release();
      expect(await lockObject(bucket)).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('notices when someone else replaced it, and then leaves their lock alone', async () => {
    const bucket = uniqueBucket();
    await createBucket(client, bucket);
    const store = await storeFor(bucket);
    try {
      const lost: Error[] = [];
      const lock = await acquireBucketLock(store, { ttlMs: 3000, renewEveryMs: 200, onCompromised: (error) => lost.push(error) });
      if (!lock.held) throw new Error(lock.reason);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: LOCK_KEY, Body: JSON.stringify({ ...lock.holder, runId: 'intruder' }) }));
      await waitFor('the renewal to notice', async () => (lost.length ? true : undefined), 5000);
      expect(lost[0]!.message).toMatch(/replaced or removed by someone else/);
      await lock.release();
      expect((await lockObject(bucket))!.holder.runId).toBe('intruder');
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: LOCK_KEY }));
      await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: LOCK_KEY }))).rejects.toThrow();
    } finally {
      await store.close();
    }
  });
});
