/**
 * The S3 media bucket: keys `<session>/<messageId>.<ext>`. Listing streams ListObjectsV2 pages
 * (1,000 keys), one prefix per session, several prefixes at once; ages come from LastModified in
 * the listing, never from a request per object. Deletes go in quiet DeleteObjects batches. The
 * tool's own lock objects (under LOCK_PREFIX) are never listed as media.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../config/config.js';
import { OperationError } from '../errors.js';
import { mergePages } from './pages.js';
import { createS3Target, type S3Target } from './s3-client.js';
import { sessionOfKey, type DeleteFailure, type DeleteOutcome, type ListFilter, type MediaObject, type MediaStore } from './store.js';

export const S3_PAGE_SIZE = 1000;
/** Where the cross-host clean lock lives in the bucket (see s3-lock.ts); not media. */
export const LOCK_PREFIX = 'waha-storage-locks/';

export interface S3StoreOptions {
  /** Prefixes listed at once. */
  listConcurrency?: number;
}

export class S3MediaStore implements MediaStore {
  readonly kind = 's3' as const;
  readonly location: string;
  readonly lockKey: string;
  private readonly listConcurrency: number;

  private constructor(readonly target: S3Target, readonly endpoint: string, options: S3StoreOptions) {
    this.location = `s3://${target.bucket}`;
    this.lockKey = `${endpoint}|${target.bucket}`;
    this.listConcurrency = options.listConcurrency ?? 8;
    if (target.checksum === 'WHEN_REQUIRED') addContentMd5(target.client);
  }

  static async open(config: S3Config, options: S3StoreOptions = {}): Promise<S3MediaStore> {
    const target = await createS3Target(config);
    return new S3MediaStore(target, config.endpoint ?? `aws:${config.region}`, options);
  }

  get client(): S3Client {
    return this.target.client;
  }

  get bucket(): string {
    return this.target.bucket;
  }

  /** Requests that needed a retry so far (SDK retries, and DeleteObjects re-sent for failed keys). */
  requestsRetried(): number {
    return this.target.retries.requests;
  }

  async check(): Promise<void> {
    const { HeadBucketCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // A HEAD answer has no body: a bare 404 may also be an unknown access key (versitygw), so ask
      // again with a request whose error says which.
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
        const again = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1 })).then(() => error, (listError: unknown) => listError);
        throw describeS3Failure(again, this.bucket, this.endpoint);
      }
      throw describeS3Failure(error, this.bucket, this.endpoint);
    }
  }

  async *list(filter: ListFilter): AsyncIterable<MediaObject[]> {
    try {
      if (filter.sessions?.length) {
        const sessions = filter.sessions.filter((session) => `${session}/` !== LOCK_PREFIX);
        yield* mergePages(sessions.map((session) => () => this.listPrefix(`${session}/`)), this.listConcurrency);
        return;
      }
      // One delimited listing finds the session prefixes (and old flat keys); then each prefix is
      // listed on its own so several can be read at once.
      const prefixes: string[] = [];
      yield* this.listPrefix('', prefixes);
      yield* mergePages(prefixes.filter((prefix) => prefix !== LOCK_PREFIX).map((prefix) => () => this.listPrefix(prefix)), this.listConcurrency);
    } catch (error) {
      throw describeS3Failure(error, this.bucket, this.endpoint);
    }
  }

  async delete(batch: readonly MediaObject[]): Promise<DeleteOutcome> {
    let failures = await this.deleteKeys(batch.map((object) => object.key));
    // Per-key errors come back inside an HTTP 200, which the SDK does not retry: retry them once.
    if (failures.size) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      this.target.retries.requests++;
      this.target.retries.attempts++;
      failures = await this.deleteKeys([...failures.keys()]);
    }
    const failed: DeleteFailure[] = [];
    const deleted: MediaObject[] = [];
    for (const object of batch) {
      const reason = failures.get(object.key);
      if (reason === undefined) deleted.push(object);
      else failed.push({ key: object.key, reason });
    }
    return { deleted, vanished: [], failed };
  }

  async stat(key: string): Promise<MediaObject | undefined> {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { session: sessionOfKey(key), key, bytes: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFound') return undefined;
      throw describeS3Failure(error, this.bucket, this.endpoint);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Pages of one prefix; with `commonPrefixes` the listing is delimited and collects sub-prefixes. */
  private async *listPrefix(prefix: string, commonPrefixes?: string[]): AsyncGenerator<MediaObject[]> {
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix || undefined,
        Delimiter: commonPrefixes ? '/' : undefined,
        ContinuationToken: token,
        MaxKeys: S3_PAGE_SIZE,
      }));
      for (const common of page.CommonPrefixes ?? []) if (common.Prefix) commonPrefixes?.push(common.Prefix);
      const objects = (page.Contents ?? []).filter((entry) => entry.Key !== undefined).map((entry): MediaObject => ({
        session: sessionOfKey(entry.Key!),
        key: entry.Key!,
        bytes: entry.Size ?? 0,
        modifiedAt: entry.LastModified ?? new Date(0),
      }));
      if (objects.length) yield objects;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** One quiet DeleteObjects; returns the keys that failed with their reasons. */
  private async deleteKeys(keys: string[]): Promise<Map<string, string>> {
    const { DeleteObjectsCommand } = await import('@aws-sdk/client-s3');
    const failures = new Map<string, string>();
    try {
      const result = await this.client.send(new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }));
      for (const error of result.Errors ?? []) {
        if (error.Key !== undefined) failures.set(error.Key, `${error.Code ?? 'Error'}: ${error.Message ?? 'not deleted'}`);
      }
    } catch (error) {
      const reason = describeS3Failure(error, this.bucket, this.endpoint).message;
      for (const key of keys) failures.set(key, reason);
    }
    return failures;
  }
}

/**
 * Services that validate DeleteObjects bodies want Content-MD5 (older MinIO, Ceph, some
 * S3-compatible clouds) or a flexible checksum. With WHEN_REQUIRED the SDK adds a CRC32; this adds
 * Content-MD5 as well when a request carries a body checksum requirement and no MD5 yet.
 */
function addContentMd5(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === 'DeleteObjectsCommand' && request.headers && typeof request.body === 'string'
        && !Object.keys(request.headers).some((name) => name.toLowerCase() === 'content-md5')) {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'wahaStorageContentMd5', priority: 'low' },
  );
}

/** One clear line for what S3 answered: bucket missing, credentials refused, endpoint unreachable. */
export function describeS3Failure(error: unknown, bucket: string, endpoint: string): OperationError {
  if (error instanceof OperationError) return error;
  const failure = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; cause?: { code?: string } };
  const status = failure.$metadata?.httpStatusCode;
  const name = failure.name ?? '';
  const code = failure.code ?? failure.cause?.code ?? '';
  const where = endpoint.startsWith('aws:') ? `AWS (${endpoint.slice(4)})` : endpoint;
  if (name === 'NoSuchBucket' || (name === 'NotFound' && status === 404) || (status === 404 && !name)) {
    return new OperationError(`The S3 bucket "${bucket}" does not exist at ${where}`, {
      hint: 'check --s3-bucket / WAHA_S3_BUCKET and --s3-endpoint / WAHA_S3_ENDPOINT', cause: error,
    });
  }
  // (XAdminUserNotFound: versitygw's 404 for an unknown access key)
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden', 'InvalidToken', 'ExpiredToken', 'XAdminUserNotFound'].includes(name) || status === 403) {
    return new OperationError(`S3 at ${where} refused the credentials for bucket "${bucket}" (${name || status})`, {
      hint: 'check WAHA_S3_ACCESS_KEY_ID and WAHA_S3_SECRET_ACCESS_KEY (and the key\'s permissions)', cause: error,
    });
  }
  const network = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH'];
  if (network.includes(code) || name === 'TimeoutError' || network.some((text) => failure.message?.includes(text))) {
    return new OperationError(`Cannot reach the S3 endpoint ${where}: ${code || name}`, {
      hint: 'check --s3-endpoint / WAHA_S3_ENDPOINT and that the service is running', cause: error,
    });
  }
  return new OperationError(`S3 request to bucket "${bucket}" at ${where} failed: ${name || code || 'error'}${status ? ` (HTTP ${status})` : ''}: ${(failure.message ?? '').split('\n')[0]}`, {
    cause: error,
  });
}
