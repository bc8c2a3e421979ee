import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { HeadBucketCommand, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { connectMongo } from './mongo.js';

describe('test servers', () => {
  it('MongoDB answers hello', async () => {
    const client = await connectMongo();
    try {
      const hello = await client.db('admin').command({ hello: 1 });
      expect(hello.ok).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('S3 creates and heads a bucket', async () => {
    const s3 = new S3Client({
      endpoint: inject('s3Endpoint'), region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'smoke' }));
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'smoke' }));
    expect(head.$metadata.httpStatusCode).toBe(200);
  });
});
