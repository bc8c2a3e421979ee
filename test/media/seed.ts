/** Builds media fixtures: a local media folder and objects in an S3 test server (s3rver, versitygw), with chosen ages. */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { inject } from 'vitest';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const DAY = 86_400_000;

/** One of the two S3 test servers, and the folder its objects live in (for ageing them). */
export interface S3TestServer {
  name: 's3rver' | 'versitygw';
  endpoint: string;
  directory: string;
  /** Whether it honours conditional writes (If-None-Match / If-Match). */
  conditionalWrites: boolean;
}

/** Both S3 servers the global setup started, for describe.each. */
export function s3Servers(): S3TestServer[] {
  return [
    { name: 's3rver', endpoint: inject('s3Endpoint'), directory: inject('s3Directory'), conditionalWrites: false },
    { name: 'versitygw', endpoint: inject('versitygwEndpoint'), directory: inject('versitygwDirectory'), conditionalWrites: true },
  ];
}

export function tempDir(prefix = 'waha-media-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes `<dir>/<key>` with the given content and modified time. */
export function writeLocal(dir: string, key: string, content: string | Buffer, modifiedAt: Date): string {
  const file = path.join(dir, key);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  utimesSync(file, modifiedAt, modifiedAt);
  return file;
}

export function s3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function uniqueBucket(): string {
  return `media-${randomUUID().slice(0, 12)}`;
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

export interface SeedObject {
  key: string;
  body?: string;
  metadata?: Record<string, string>;
  contentType?: string;
  modifiedAt?: Date;
}

/**
 * Puts the objects, then ages them through the server's files (LastModified is their mtime).
 * `server`: an S3TestServer, or s3rver's directory.
 */
export async function putObjects(client: S3Client, server: string | S3TestServer, bucket: string, objects: SeedObject[], concurrency = 32): Promise<void> {
  const limit = pLimit(concurrency);
  await Promise.all(objects.map((object) => limit(async () => {
    await client.send(new PutObjectCommand({
      Bucket: bucket, Key: object.key, Body: object.body ?? `content of ${object.key}`,
      Metadata: object.metadata, ContentType: object.contentType,
    }));
  })));
  // s3rver answers a PUT before its write stream has closed; age the files once they are written.
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const object of objects) if (object.modifiedAt) ageObject(server, bucket, object.key, object.modifiedAt);
}

/** s3rver keeps `<key>._S3rver_object`; versitygw's posix backend the object as the file `<key>`. */
export function ageObject(server: string | S3TestServer, bucket: string, key: string, modifiedAt: Date): void {
  const file = typeof server === 'string' || server.name === 's3rver'
    ? path.join(typeof server === 'string' ? server : server.directory, bucket, `${key}._S3rver_object`)
    : path.join(server.directory, bucket, key);
  utimesSync(file, modifiedAt, modifiedAt);
}

/** Settings the CLI reads for S3, as WAHA's variables. */
export function s3Env(endpoint: string, bucket: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WAHA_S3_BUCKET: bucket, WAHA_S3_REGION: 'us-east-1', WAHA_S3_ENDPOINT: endpoint, WAHA_S3_FORCE_PATH_STYLE: 'true',
    WAHA_S3_ACCESS_KEY_ID: 'S3RVER', WAHA_S3_SECRET_ACCESS_KEY: 'S3RVER', ...extra,
  };
}

/** WAHA-shaped metadata for `<session>/<messageId>.<ext>`. */
export function wahaMetadata(key: string, createdAt = Date.now() - DAY): Record<string, string> {
  const [session, file] = key.split('/') as [string, string];
  return {
    'waha-session': session,
    'waha-chat-id': '111@c.us',
    'waha-message-id': file.slice(0, file.lastIndexOf('.')),
    'waha-media-filename': 'photo.jpg',
    'waha-created-at': String(createdAt),
  };
}
