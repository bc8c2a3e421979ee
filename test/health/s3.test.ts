import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it, inject } from 'vitest';
import type { S3Config } from '../../src/config/config.js';
import { checkS3, PROBE_PREFIX, s3Reason } from '../../src/health/s3.js';
import { closedPort } from './helpers.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const bucket = `health-${randomBytes(4).toString('hex')}`;
const config = (extra: Partial<S3Config> = {}): S3Config => ({
  bucket, region: 'us-east-1', endpoint: inject('s3Endpoint'), forcePathStyle: true,
  accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', ...extra,
});
const admin = () => new S3Client({
  endpoint: inject('s3Endpoint'), region: 'us-east-1', forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});

describe('s3 check', () => {
  beforeAll(async () => {
    await admin().send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('is up when HeadBucket succeeds', async () => {
    expect(await checkS3({ config: config(), deep: false, timeoutMs: 5000 }))
      .toEqual({ status: 'up', bucket, endpoint: inject('s3Endpoint'), checksum: 'WHEN_REQUIRED' });
  });

  it('with deep, puts, reads back and deletes a probe object that comes back intact', async () => {
    expect(await checkS3({ config: config(), deep: true, timeoutMs: 5000 })).toMatchObject({ status: 'up', probe: 'intact' });
    const listed = await admin().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: PROBE_PREFIX }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('with deep, catches a service that stores streamed bodies with aws-chunked framing, and still deletes the probe', async () => {
    const detail = await checkS3({ config: config({ checksum: 'WHEN_SUPPORTED' }), deep: true, timeoutMs: 5000 });
    expect(detail).toMatchObject({ status: 'down', reason: 'corrupted', checksum: 'WHEN_SUPPORTED' });
    expect(detail.problems).toContainEqual(expect.stringMatching(/GetObject content differs/));
    expect(detail.hint).toMatch(/--s3-checksum when-required/);
    const listed = await admin().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: PROBE_PREFIX }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  // s3rver checks access key ids but not SigV4 signatures, so a wrong access key id stands in for
  // wrong credentials against the real server; the wrong-secret answer AWS gives is classified below.
  it('is down when the credentials are wrong, and never shows them', async () => {
    const detail = await checkS3({ config: config({ accessKeyId: 'WRONGKEYID', secretAccessKey: 'wrong-secret-value' }), deep: false, timeoutMs: 5000 });
    expect(detail).toMatchObject({ status: 'down', bucket });
    expect(['credentials', 'forbidden']).toContain(detail.reason);
    expect(detail.detail).toMatch(/HeadBucket failed: .*WAHA_S3_SECRET_ACCESS_KEY/);
    expect(JSON.stringify(detail)).not.toContain('wrong-secret-value');
  });

  it('is down with wrong credentials in deep mode too, naming the step', async () => {
    const detail = await checkS3({ config: config({ accessKeyId: 'WRONGKEYID' }), deep: true, timeoutMs: 5000 });
    expect(detail).toMatchObject({ status: 'down' });
    expect(detail.detail).toMatch(/^HeadBucket failed/);
  });

  it('classifies the answers AWS gives for a wrong secret, a wrong key, a missing bucket', () => {
    const answer = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    expect(s3Reason(answer('SignatureDoesNotMatch', 403))).toBe('credentials');
    expect(s3Reason(answer('InvalidAccessKeyId', 403))).toBe('credentials');
    expect(s3Reason(answer('Forbidden', 403))).toBe('forbidden');
    expect(s3Reason(answer('NotFound', 404))).toBe('no-such-bucket');
    expect(s3Reason(answer('NoSuchBucket', 404))).toBe('no-such-bucket');
    expect(s3Reason(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe('timeout');
  });

  it('is down when the bucket does not exist', async () => {
    const detail = await checkS3({ config: config({ bucket: 'no-such-bucket-here' }), deep: false, timeoutMs: 5000 });
    expect(detail).toMatchObject({ status: 'down', reason: 'no-such-bucket', bucket: 'no-such-bucket-here' });
    expect(detail.detail).toMatch(/does not exist.*WAHA_S3_BUCKET/);
  });

  it('is down naming the variable to set when a setting is missing', async () => {
    expect(await checkS3({ config: config({ bucket: undefined }), deep: false, timeoutMs: 5000 }))
      .toMatchObject({ status: 'down', reason: 'not-configured', missing: '--s3-bucket / WAHA_S3_BUCKET' });
    expect(await checkS3({ config: config({ secretAccessKey: undefined }), deep: false, timeoutMs: 5000 }))
      .toMatchObject({ status: 'down', reason: 'not-configured', detail: expect.stringMatching(/WAHA_S3_SECRET_ACCESS_KEY/) });
  });

  it('is down when the endpoint refuses connections', async () => {
    const port = await closedPort();
    const detail = await checkS3({ config: config({ endpoint: `http://127.0.0.1:${port}` }), deep: false, timeoutMs: 2000 });
    expect(detail).toMatchObject({ status: 'down', reason: 'unreachable' });
  });
});
