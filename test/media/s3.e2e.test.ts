/** media list / clean against both real S3 test servers (s3rver, versitygw), through the built binary. */
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import lockfile from 'proper-lockfile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockPathFor } from '../../src/media/lock.js';
import { freePort } from '../support/servers.js';
import { json, runCli } from '../support/cli.js';
import { startS3Proxy, type S3Proxy } from './s3-proxy.js';
import { DAY, createBucket, putObjects, s3Client, s3Env, s3Servers, uniqueBucket, type SeedObject } from './seed.js';

/** A piped `media clean --dry-run --json` is NDJSON (header, one line per object, summary): its summary. */
function dryRunSummary(result: { stdout: string }) {
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
  expect(lines[0]).toMatchObject({ schemaVersion: 1, type: 'header', command: 'media clean' });
  return lines.at(-1).summary;
}

const NOW = Date.now();
const ago = (ms: number) => new Date(NOW - ms);

/** Every key of the bucket, sorted (the tool's lock objects too: none may be left behind). */
async function allKeys(client: S3Client, bucket: string): Promise<string[]> {
  const all: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const entry of page.Contents ?? []) all.push(entry.Key!);
    token = page.NextContinuationToken;
  } while (token);
  return all.sort();
}

const ndjson = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line));

/**
 * alpha: 1,100 keys (500 fresh, 300 two days old, 300 ten days old); beta: 1,050 keys (half two days
 * old); gamma: 20 ten days old; two old flat keys at the top (no session).
 */
function fixture(): { objects: SeedObject[]; expired: string[]; kept: string[] } {
  const objects: SeedObject[] = [];
  const add = (key: string, age: number) => objects.push({ key, modifiedAt: ago(age), body: `content of ${key}` });
  for (let i = 0; i < 1100; i++) add(`alpha/false_111@c.us_${String(i).padStart(5, '0')}.jpeg`, i < 500 ? 60_000 : i < 800 ? 2 * DAY : 10 * DAY);
  for (let i = 0; i < 1050; i++) add(`beta/3AA${String(i).padStart(5, '0')}.oga`, i % 2 ? 2 * DAY : 0);
  for (let i = 0; i < 20; i++) add(`gamma/G${i}.mp4`, 10 * DAY);
  add('OLDFLAT1.jpeg', 3 * DAY);
  add('OLDFLAT2.jpeg', 3 * DAY);
  const expired = objects.filter((o) => NOW - o.modifiedAt!.getTime() >= DAY).map((o) => o.key).sort();
  const kept = objects.filter((o) => NOW - o.modifiedAt!.getTime() < DAY).map((o) => o.key).sort();
  return { objects, expired, kept };
}

describe.each(s3Servers())('on $name', (server) => {
  const { endpoint } = server;
  let client: S3Client;
  const keys = (bucket: string) => allKeys(client, bucket);

  beforeAll(() => {
    client = s3Client(endpoint);
  });
  afterAll(() => client?.destroy());

  describe('media list and clean (s3)', () => {
    const bucket = uniqueBucket();
    const data = fixture();
    let proxy: S3Proxy;
    const env = () => s3Env(proxy.url, bucket, { WAHA_MEDIA_STORAGE: 'S3' });

    beforeAll(async () => {
      await createBucket(client, bucket);
      await putObjects(client, server, bucket, data.objects);
      proxy = await startS3Proxy(endpoint);
    }, 180_000);
    afterAll(async () => proxy?.close());

    it('lists every object as NDJSON with ages from LastModified, in ⌈N/1000⌉-ish pages and no request per object', async () => {
      proxy.requests.length = 0;
      const result = await runCli(['media', 'list', '--json'], { env: env() });
      expect(result.code, result.stderr).toBe(0);
      const lines = ndjson(result.stdout);
      expect(lines[0]).toMatchObject({ schemaVersion: 1, type: 'header', store: 's3', location: `s3://${bucket}` });
      const objects = lines.slice(1, -1);
      expect(objects.map((o) => o.key).sort()).toEqual(data.objects.map((o) => o.key).sort());
      const old = objects.find((o) => o.key === 'gamma/G0.mp4');
      expect(old.session).toBe('gamma');
      expect(Math.abs(new Date(old.modifiedAt).getTime() - (NOW - 10 * DAY))).toBeLessThan(2000);
      expect(objects.find((o) => o.key === 'OLDFLAT1.jpeg').session).toBeNull();
      expect(lines.at(-1).summary).toMatchObject({ count: 2172, sessions: { alpha: { count: 1100 }, beta: { count: 1050 }, gamma: { count: 20 }, null: { count: 2 } } });
      // one delimited page + 2 (alpha) + 2 (beta) + 1 (gamma); nothing else.
      expect(proxy.count('list')).toBe(6);
      expect(proxy.count()).toBe(7); // + the HeadBucket check
    });

    it('filters by session and age, and prints a table with totals', async () => {
      const result = await runCli(['media', 'list', 's3', '--session', 'gamma', '--session', 'beta', '--older-than', '1d', '--json'], { env: env() });
      const objects = ndjson(result.stdout).slice(1, -1);
      expect(objects.map((o) => o.key).sort()).toEqual(data.expired.filter((key) => /^(beta|gamma)\//.test(key)));
      const table = await runCli(['media', 'list', '--session', 'gamma'], { env: env() });
      expect(table.code).toBe(0);
      expect(table.stdout).toContain('gamma/G19.mp4');
      expect(table.stdout).toMatch(/gamma\W+20\W/);
    });

    it('--dry-run gives the same totals as the real run and deletes nothing', async () => {
      const result = await runCli(['media', 'clean', '--older-than', '1d', '--dry-run', '--json'], { env: env() });
      expect(result.code, result.stderr).toBe(0);
      expect(dryRunSummary(result)).toMatchObject({ matched: data.expired.length, deleted: 0, failed: 0 });
      expect(await keys(bucket)).toHaveLength(data.objects.length);
    });

    it('--max-delete exceeded: exit 1, nothing deleted', async () => {
      const result = await runCli(['media', 'clean', '--older-than', '1d', '--max-delete', '100'], { env: env() });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`stopped before deleting anything: ${data.expired.length} objects .* more than --max-delete 100`));
      expect(await keys(bucket)).toHaveLength(data.objects.length);
    });

    it('refuses to clean S3 by a default lifetime WAHA never applies there', async () => {
      const result = await runCli(['media', 'clean'], { env: env() });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/WAHA never deletes S3 media.*--older-than/);
    });

    it.runIf(server.conditionalWrites)('one clean per bucket: a second run exits 1 while a lock object in the bucket is held, naming its holder', async () => {
      const holder = {
        tool: 'waha-storage', operation: 'media clean', host: 'node-b.cluster', pid: 4242, runId: 'other-run',
        startedAt: new Date(Date.now() - 5000).toISOString(), renewedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString(),
      };
      const lockKey = 'waha-storage-locks/media-clean.json';
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: lockKey, Body: JSON.stringify(holder), IfNoneMatch: '*' }));
      try {
        const result = await runCli(['media', 'clean', '--older-than', '1d'], { env: env() });
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(new RegExp(`Another media clean is running on s3://${bucket}: held by host node-b\\.cluster, pid 4242, since .*waha-storage-locks/media-clean\\.json.*--wait`));
        expect(await keys(bucket)).toHaveLength(data.objects.length + 1);
      } finally {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: lockKey }));
      }
    });

    it.runIf(!server.conditionalWrites)('one clean per bucket: where conditional writes are ignored, says so and a second run exits 1 while the local lock is held', async () => {
      const lockPath = lockPathFor({ kind: 's3', lockKey: `${proxy.url}|${bucket}` });
      const release = await lockfile.lock(lockPath, { lockfilePath: lockPath, realpath: false });
      try {
        const result = await runCli(['media', 'clean', '--older-than', '1d'], { env: env() });
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/no lock in the bucket: the server ignores conditional writes \(If-None-Match\); using a lock file on this host only/);
        expect(result.stderr).toMatch(new RegExp(`Another media clean is running on s3://${bucket}`));
        expect(await keys(bucket)).toHaveLength(data.objects.length); // the probe lock object was removed
      } finally {
        await release();
      }
    });

    it('deletes exactly the expired objects of one session, nothing outside it', async () => {
      proxy.requests.length = 0;
      const result = await runCli(['media', 'clean', '--older-than', '1d', '--session', 'gamma', '--json'], { env: env() });
      expect(result.code, result.stderr).toBe(0);
      expect(json(result).summary).toMatchObject({ matched: 20, deleted: 20, failed: 0 });
      expect(await keys(bucket)).toEqual(data.objects.map((o) => o.key).filter((key) => !key.startsWith('gamma/')).sort());
    });

    it('deletes exactly the expired objects in quiet DeleteObjects batches carrying a body checksum', async () => {
      proxy.requests.length = 0;
      const result = await runCli(['media', 'clean', '--older-than', '1d', '--json'], { env: env() });
      expect(result.code, result.stderr).toBe(0);
      const remainingExpired = data.expired.filter((key) => !key.startsWith('gamma/'));
      const summary = json(result).summary;
      expect(summary).toMatchObject({ matched: remainingExpired.length, deleted: remainingExpired.length, failed: 0 });
      expect(summary.bytes).toBe(remainingExpired.reduce((sum, key) => sum + `content of ${key}`.length, 0));
      expect(await keys(bucket)).toEqual(data.kept);
      const deletes = proxy.requests.filter((request) => request.method === 'POST' && request.url.includes('delete'));
      expect(deletes.length).toBeLessThanOrEqual(Math.ceil(remainingExpired.length / 1000) + 2); // alpha and beta batches end apart
      for (const request of deletes) {
        expect(request.headers['content-md5'] ?? Object.keys(request.headers).find((name) => name.startsWith('x-amz-checksum-'))).toBeTruthy();
        expect(request.headers['content-md5']).toBeTruthy();
        expect(request.body).toContain('<Quiet>true</Quiet>');
        expect((request.body.match(/<Key>/g) ?? []).length).toBeLessThanOrEqual(1000);
      }
      expect(proxy.count('deleteObject')).toBe(0);
      expect(proxy.count('head')).toBe(1); // the HeadBucket check only
      // the lock: create, the second create refused (versitygw) or not (s3rver: then removed), renewals, release
      expect(proxy.count('lock')).toBeGreaterThanOrEqual(3);
    });
  });

  describe('media clean (s3): partial DeleteObjects failures', () => {
    const failingKey = 'sess/FAILS.jpg';
    const seed = async (bucket: string) => {
      await createBucket(client, bucket);
      const objects: SeedObject[] = [{ key: failingKey, modifiedAt: ago(2 * DAY) }];
      for (let i = 0; i < 30; i++) objects.push({ key: `sess/ok${i}.jpg`, modifiedAt: ago(2 * DAY) });
      await putObjects(client, server, bucket, objects);
    };
    /** Adds an <Error> for one key to DeleteObjects answers (s3rver never reports one itself). */
    const failOneKey = (times: number) => {
      let left = times;
      return (request: { method: string; url: string; body: string }, status: number, body: string) => {
        if (status !== 200 || request.method !== 'POST' || !request.url.includes('delete') || !request.body.includes(failingKey) || left-- <= 0) return undefined;
        const error = `<Error><Key>${failingKey}</Key><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`;
        return { status, body: body.replace('</DeleteResult>', `${error}</DeleteResult>`) };
      };
    };

    it('counts a key that keeps failing as failed (exit 3) after one retry, the rest deleted', async () => {
      const bucket = uniqueBucket();
      await seed(bucket);
      const proxy = await startS3Proxy(endpoint, { rewrite: failOneKey(Infinity) });
      try {
        const result = await runCli(['media', 'clean', 's3', '--older-than', '1d', '--json'], { env: s3Env(proxy.url, bucket) });
        expect(result.code).toBe(3);
        const document = json(result);
        expect(document.summary).toMatchObject({ matched: 31, deleted: 30, failed: 1 });
        expect(document.failures).toEqual([{ key: failingKey, reason: expect.stringMatching(/^InternalError: /) }]);
        expect(result.stderr).toMatch(/1 of 31 objects could not be deleted \(first: sess\/FAILS\.jpg: InternalError/);
        const deletes = proxy.requests.filter((request) => request.method === 'POST');
        // The batch (s3rver itself sometimes answers 500 to it, which the SDK retries), then the
        // failed key alone, once.
        const sizes = deletes.map((request) => (request.body.match(/<Key>/g) ?? []).length);
        expect(sizes.filter((size) => size === 31).length).toBeGreaterThanOrEqual(1);
        expect(sizes.filter((size) => size === 1)).toEqual([1]);
        expect(sizes.at(-1)).toBe(1);
      } finally {
        await proxy.close();
      }
    });

    it('retries a key that failed once, and then reports success', async () => {
      const bucket = uniqueBucket();
      await seed(bucket);
      const proxy = await startS3Proxy(endpoint, { rewrite: failOneKey(1) });
      try {
        const result = await runCli(['media', 'clean', 's3', '--older-than', '1d', '--json'], { env: s3Env(proxy.url, bucket) });
        expect(result.code, result.stderr).toBe(0);
        expect(json(result).summary).toMatchObject({ matched: 31, deleted: 31, failed: 0 });
        expect(await keys(bucket)).toEqual([]);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('media (s3) bad input', () => {
    const bucket = uniqueBucket();
    beforeAll(async () => {
      await createBucket(client, bucket);
      await putObjects(client, server, bucket, [{ key: 's/old.jpg', modifiedAt: ago(2 * DAY) }]);
    });

    it('a missing bucket is exit 1 with what to check', async () => {
      const result = await runCli(['media', 'clean', 's3', '--older-than', '1d'], { env: s3Env(endpoint, 'no-such-bucket-here') });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/The S3 bucket "no-such-bucket-here" does not exist at .*WAHA_S3_BUCKET/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('wrong credentials are exit 1, name the variables, and never print the secret', async () => {
      const result = await runCli(['media', 'list', 's3'], { env: s3Env(endpoint, bucket, { WAHA_S3_ACCESS_KEY_ID: 'WRONGKEY', WAHA_S3_SECRET_ACCESS_KEY: 'TopSecretValue123' }) });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/refused the credentials .*WAHA_S3_ACCESS_KEY_ID/);
      expect(result.stdout + result.stderr).not.toContain('TopSecretValue123');
      expect(await keys(bucket)).toEqual(['s/old.jpg']);
    });

    it('an unreachable endpoint is exit 1 with what to check', async () => {
      const port = await freePort();
      const result = await runCli(['media', 'clean', 's3', '--older-than', '1d'], { env: s3Env(`http://127.0.0.1:${port}`, bucket) });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED .*WAHA_S3_ENDPOINT/);
    });

    it('missing S3 settings are exit 2', async () => {
      const result = await runCli(['media', 'list', 's3'], { env: { WAHA_S3_REGION: 'us-east-1' } });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/S3 is not configured: set --s3-bucket \/ WAHA_S3_BUCKET/);
    });

    it('an unparsable --older-than is exit 2 and deletes nothing', async () => {
      const result = await runCli(['media', 'clean', 's3', '--older-than', '2 weeks'], { env: s3Env(endpoint, bucket) });
      expect(result.code).toBe(2);
      expect(await keys(bucket)).toEqual(['s/old.jpg']);
    });
  });
});
