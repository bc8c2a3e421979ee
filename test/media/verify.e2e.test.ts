/** media verify (and --fix) against both real S3 test servers (s3rver, versitygw), through the built binary. */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { DAY, createBucket, putObjects, s3Client, s3Env, s3Servers, uniqueBucket, wahaMetadata, type SeedObject } from './seed.js';


const without = (metadata: Record<string, string>, ...names: string[]) =>
  Object.fromEntries(Object.entries(metadata).filter(([name]) => !names.includes(name)));

/** One object per problem of the issue, plus a correct one. */
function seeded(): { objects: SeedObject[]; expected: Record<string, string[]> } {
  const jpeg = (key: string, metadata: Record<string, string>, contentType = 'image/jpeg'): SeedObject => ({ key, metadata, contentType, body: `bytes of ${key}` });
  const m = (key: string) => ({ ...wahaMetadata(key), custom: 'kept' });
  const objects: SeedObject[] = [
    { key: 'default/false_111@c.us_AAAA.oga', metadata: wahaMetadata('default/false_111@c.us_AAAA.oga'), contentType: 'audio/ogg' },
    jpeg('flatfile.jpeg', { ...wahaMetadata('x/flatfile.jpeg') }),
    jpeg('s1/M1.jpeg', without(m('s1/M1.jpeg'), 'waha-session')),
    jpeg('s1/M2.jpeg', { ...m('s1/M2.jpeg'), 'waha-session': 'other' }),
    jpeg('s1/M3.jpeg', without(m('s1/M3.jpeg'), 'waha-message-id')),
    jpeg('s1/M4.jpeg', { ...m('s1/M4.jpeg'), 'waha-message-id': 'X' }),
    jpeg('s1/M5.jpeg', { ...m('s1/M5.jpeg'), 'waha-created-at': 'yesterday' }),
    jpeg('s1/M6.jpeg', { ...m('s1/M6.jpeg'), 'waha-created-at': String(Date.now() + 2 * DAY) }),
    jpeg('s1/M7.jpeg', without(m('s1/M7.jpeg'), 'waha-chat-id')),
    jpeg('s1/M8.jpeg', { ...without(m('s1/M8.jpeg'), 'waha-media-filename'), 'waha-media-file-name': 'holiday.jpg' }),
    jpeg('s1/M9.jpeg', m('s1/M9.jpeg'), 'image/png'),
  ];
  const expected = {
    'flatfile.jpeg': ['key-layout'],
    's1/M1.jpeg': ['session-missing'],
    's1/M2.jpeg': ['session-mismatch'],
    's1/M3.jpeg': ['message-id-missing'],
    's1/M4.jpeg': ['message-id-mismatch'],
    's1/M5.jpeg': ['created-at-invalid'],
    's1/M6.jpeg': ['created-at-future'],
    's1/M7.jpeg': ['chat-id-missing'],
    's1/M8.jpeg': ['file-name-docs-spelling'],
    's1/M9.jpeg': ['content-type-mismatch'],
  };
  return { objects, expected };
}

const byKey = (problems: { key: string; problem: string }[]) => {
  const map: Record<string, string[]> = {};
  for (const { key, problem } of problems) (map[key] ??= []).push(problem);
  return map;
};

describe.each(s3Servers())('on $name', (server) => {
  const { endpoint } = server;
  let client: S3Client;

  async function head(bucket: string, key: string) {
    const result = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const body = await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    return { metadata: result.Metadata, contentType: result.ContentType, body };
  }

  beforeAll(() => { client = s3Client(endpoint); });
  afterAll(() => client?.destroy());

  describe('media verify', () => {
    const bucket = uniqueBucket();
    const { objects, expected } = seeded();
    beforeAll(async () => {
      await createBucket(client, bucket);
      await putObjects(client, server, bucket, objects);
    });

    it('finds every problem on the seeded objects (exit 3) and nothing on a correct one', async () => {
      const result = await runCli(['media', 'verify', '--json'], { env: s3Env(endpoint, bucket) });
      expect(result.code, result.stderr).toBe(3);
      const document = json(result);
      expect(document.schemaVersion).toBe(1);
      expect(byKey(document.problems)).toEqual(expected);
      expect(document.summary).toMatchObject({ checked: 11, ok: 1, problems: 10, errors: 7, warnings: 3, fixed: 0 });
      for (const problem of document.problems) expect(Object.keys(problem)).toEqual(expect.arrayContaining(['key', 'problem', 'severity', 'detail']));
    });

    it('narrows to sessions and prints a table for people', async () => {
      const result = await runCli(['media', 'verify', '--session', 'default'], { env: s3Env(endpoint, bucket) });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Checked 1 object in s3:\/\/.*: 1 ok, 0 errors, 0 warnings/);
      const table = await runCli(['media', 'verify', '--session', 's1'], { env: s3Env(endpoint, bucket) });
      expect(table.code).toBe(3);
      expect(table.stdout).toMatch(/s1\/M2\.jpeg\W+session-mismatch/);
      expect(table.stdout).not.toContain('flatfile.jpeg');
    });

    it('--fix --dry-run lists the fixes and changes nothing', async () => {
      const before = await head(bucket, 's1/M1.jpeg');
      const result = await runCli(['media', 'verify', '--fix', '--dry-run', '--json'], { env: s3Env(endpoint, bucket) });
      expect(result.code).toBe(3);
      const fixes = json(result).fixes as { key: string; set: Record<string, string>; status: string }[];
      expect(fixes.map((fix) => fix.key).sort()).toEqual(['s1/M1.jpeg', 's1/M2.jpeg', 's1/M3.jpeg', 's1/M4.jpeg', 's1/M8.jpeg']);
      expect(fixes.every((fix) => fix.status === 'planned')).toBe(true);
      expect(fixes.find((fix) => fix.key === 's1/M2.jpeg')!.set).toEqual({ 'waha-session': 's1' });
      expect(await head(bucket, 's1/M1.jpeg')).toEqual(before);
    });

    it('--fix repairs the derivable metadata, keeping content, content type and every other value', async () => {
      const before = await head(bucket, 's1/M1.jpeg');
      const result = await runCli(['media', 'verify', '--fix', '--json'], { env: s3Env(endpoint, bucket) });
      expect(result.code).toBe(3); // key-layout and created-at errors cannot be derived from the key
      const document = json(result);
      expect(document.summary).toMatchObject({ fixed: 5, errorsRemaining: 3 });
      const after = await head(bucket, 's1/M1.jpeg');
      expect(after.body).toBe(before.body);
      expect(after.contentType).toBe('image/jpeg');
      expect(after.metadata).toEqual({ ...before.metadata, 'waha-session': 's1' });
      expect((await head(bucket, 's1/M4.jpeg')).metadata!['waha-message-id']).toBe('M4');
      expect((await head(bucket, 's1/M8.jpeg')).metadata).toMatchObject({ 'waha-media-filename': 'holiday.jpg', 'waha-media-file-name': 'holiday.jpg', custom: 'kept' });

      const again = await runCli(['media', 'verify', '--json'], { env: s3Env(endpoint, bucket) });
      expect(again.code).toBe(3);
      expect(byKey(json(again).problems)).toEqual({
        'flatfile.jpeg': ['key-layout'], 's1/M5.jpeg': ['created-at-invalid'], 's1/M6.jpeg': ['created-at-future'],
        's1/M7.jpeg': ['chat-id-missing'], 's1/M9.jpeg': ['content-type-mismatch'],
      });
    });

    it('exits 0 once only warnings are left', async () => {
      const clean = uniqueBucket();
      await createBucket(client, clean);
      await putObjects(client, server, clean, [
        { key: 's/A.jpeg', contentType: 'image/jpeg', metadata: without(wahaMetadata('s/A.jpeg'), 'waha-session', 'waha-chat-id') },
      ]);
      const fixed = await runCli(['media', 'verify', '--fix'], { env: s3Env(endpoint, clean) });
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(fixed.stdout).toMatch(/fixed: s\/A\.jpeg: waha-session=s/);
      const again = await runCli(['media', 'verify', '--json'], { env: s3Env(endpoint, clean) });
      expect(again.code).toBe(0);
      expect(json(again).summary).toMatchObject({ checked: 1, errors: 0, warnings: 1 });
    });

    it('a missing bucket is exit 1', async () => {
      const result = await runCli(['media', 'verify'], { env: s3Env(endpoint, 'no-such-bucket-verify') });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/does not exist/);
    });
  });
});
