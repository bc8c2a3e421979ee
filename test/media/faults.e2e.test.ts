/**
 * S3 faults: a proxy of the tests' own answers 30 % of requests 503 SlowDown and drops 10 % of the
 * connections (half before the server sees the request, half after it carried it out), from a seeded
 * sequence, in front of each S3 test server. list, verify and clean complete, find or delete exactly
 * what they should, and report the retries truthfully.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { deletedKeys, requestKind, startS3Proxy, type RecordedRequest, type S3Proxy } from './s3-proxy.js';
import { DAY, createBucket, putObjects, s3Client, s3Env, s3Servers, uniqueBucket, wahaMetadata, type SeedObject } from './seed.js';

const FAULTS = { unavailable: 0.3, drop: 0.1 };

/** Logical requests that took more than one attempt: the SDK sends one invocation id per request, on every attempt. */
function retriedRequests(requests: RecordedRequest[]): number {
  const attempts = new Map<string, number>();
  for (const request of requests) {
    const id = String(request.headers['amz-sdk-invocation-id'] ?? '');
    attempts.set(id, (attempts.get(id) ?? 0) + 1);
  }
  return [...attempts.values()].filter((count) => count > 1).length;
}

describe.each(s3Servers())('media list, verify and clean through S3 faults on $name', (server) => {
  let client: S3Client;
  const bucket = uniqueBucket();
  const objects: SeedObject[] = [];
  for (const session of ['alpha', 'beta', 'gamma']) {
    for (let i = 0; i < 60; i++) {
      const key = `${session}/false_111@c.us_M${String(i).padStart(4, '0')}.jpeg`;
      objects.push({ key, contentType: 'image/jpeg', metadata: wahaMetadata(key), modifiedAt: new Date(Date.now() - (i % 2 ? 2 * DAY : 60_000)) });
    }
  }
  const expired = objects.filter((_, i) => i % 2).map((o) => o.key).sort();
  const kept = objects.filter((_, i) => !(i % 2)).map((o) => o.key).sort();
  let proxy: S3Proxy;
  let seed = server.name === 's3rver' ? 1500 : 2500;
  /** A fresh proxy (new seed) per command, so each command's requests are counted alone. */
  const run = async (args: string[]) => {
    await proxy?.close();
    proxy = await startS3Proxy(server.endpoint, { faults: { seed: seed++, ...FAULTS } });
    return runCli(args, { env: s3Env(proxy.url, bucket), timeoutMs: 120_000 });
  };

  beforeAll(async () => {
    client = s3Client(server.endpoint);
    await createBucket(client, bucket);
    await putObjects(client, server, bucket, objects);
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    client?.destroy();
  });

  it('media list: every object exactly once', async () => {
    const result = await run(['media', 'list', 's3', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const keys = lines.slice(1, -1).map((line) => line.key).sort();
    expect(keys).toEqual(objects.map((o) => o.key).sort());
    expect(lines.at(-1).summary).toMatchObject({ count: objects.length });
    expect(proxy.injected.unavailable + proxy.injected.dropped).toBeGreaterThan(0);
  }, 120_000);

  it('media verify: every object checked once and found correct, the retries counted', async () => {
    const result = await run(['media', 'verify', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const document = json(result);
    expect(document.summary).toMatchObject({ checked: objects.length, ok: objects.length, problems: 0, retried: retriedRequests(proxy.requests) });
    expect(document.summary.retried).toBeGreaterThan(0);
  }, 120_000);

  it('media clean: deletes exactly the expired objects and says how many requests were retried', async () => {
    const result = await run(['media', 'clean', 's3', '--older-than', '1d', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { summary } = json(result);
    expect(summary).toMatchObject({ matched: expired.length, deleted: expired.length, failed: 0 });
    expect(summary.bytes).toBe(expired.reduce((sum, key) => sum + `content of ${key}`.length, 0));
    expect(summary.retried).toBe(retriedRequests(proxy.requests));
    expect(summary.retried).toBeGreaterThan(0);
    // only expired keys were ever sent for deletion (a retried batch repeats the same keys)
    const sent = new Set(proxy.requests.filter((request) => requestKind(request) === 'deleteObjects').flatMap(deletedKeys));
    expect([...sent].sort()).toEqual(expired);
    const remaining: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const entry of page.Contents ?? []) remaining.push(entry.Key!);
      token = page.NextContinuationToken;
    } while (token);
    expect(remaining.sort()).toEqual(kept); // and no lock object left behind
    const text = await run(['media', 'clean', 's3', '--older-than', '1d']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Deleted 0 of 0 objects .*; 90 scanned(, \d+ requests? retried)?\./);
  }, 180_000);
});
