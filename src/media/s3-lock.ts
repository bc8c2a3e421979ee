/**
 * The S3 clean lock, held in the bucket itself so that two hosts (two cron jobs, two Kubernetes
 * nodes) never clean one bucket at once: one object under `waha-storage-locks/`, created with a
 * conditional put (If-None-Match: *), renewed while the run lasts (If-Match: its ETag), taken over
 * when it expired (delete If-Match, then create), deleted at the end. A server that ignores
 * conditional writes (s3rver) is detected by a second conditional put of the same key succeeding;
 * the caller then falls back to the local lock. Expiry is judged by the clocks of the hosts: they
 * must agree within the lifetime (LOCK_TTL_MS).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { OperationError } from '../errors.js';
import { LOCK_PREFIX, describeS3Failure, type S3MediaStore } from './s3.js';

export const LOCK_TTL_MS = 120_000;
export const LOCK_KEY = `${LOCK_PREFIX}media-clean.json`;

/** What a lock object says about the run that holds it. */
export interface LockHolder {
  tool: 'waha-storage';
  operation: string;
  host: string;
  pid: number;
  startedAt: string;
  renewedAt: string;
  expiresAt: string;
  runId: string;
}

export interface BucketLockOptions {
  wait?: boolean;
  signal?: AbortSignal;
  /** The lock was taken over or deleted by someone else while running, or could not be renewed in time. */
  onCompromised?: (error: Error) => void;
  /** Called once when the run starts waiting behind another holder (with --wait). */
  onWaiting?: (holder: LockHolder | undefined, location: string) => void;
  /** An expired lock was taken over. */
  onTakeover?: (holder: LockHolder | undefined) => void;
  ttlMs?: number;
  renewEveryMs?: number;
  pollMs?: number;
  now?: () => number;
}

export type BucketLock =
  | { held: true; key: string; holder: LockHolder; release: () => Promise<void> }
  | { held: false; reason: string };

type PutOutcome = { ok: true; etag: string } | { ok: false; why: 'taken' | 'unsupported' | 'denied'; detail: string };

interface Current {
  holder: LockHolder | undefined;
  etag: string;
  expiresAt: number;
}

export async function acquireBucketLock(store: S3MediaStore, options: BucketLockOptions = {}): Promise<BucketLock> {
  const s3 = await import('@aws-sdk/client-s3');
  const now = options.now ?? Date.now;
  const ttl = options.ttlMs ?? LOCK_TTL_MS;
  const location = `s3://${store.bucket}/${LOCK_KEY}`;
  const startedAt = new Date(now()).toISOString();
  const runId = randomUUID();
  const body = (): LockHolder => ({
    tool: 'waha-storage', operation: 'media clean', host: os.hostname(), pid: process.pid, startedAt,
    renewedAt: new Date(now()).toISOString(), expiresAt: new Date(now() + ttl).toISOString(), runId,
  });

  const put = async (holder: LockHolder, condition: { IfNoneMatch: '*' } | { IfMatch: string }): Promise<PutOutcome> => {
    try {
      const result = await store.client.send(new s3.PutObjectCommand({
        Bucket: store.bucket, Key: LOCK_KEY, Body: JSON.stringify(holder), ContentType: 'application/json', ...condition,
      }));
      return { ok: true, etag: result.ETag ?? '' };
    } catch (error) {
      return refusal(error, store);
    }
  };
  const read = async (): Promise<Current | undefined> => {
    try {
      const result = await store.client.send(new s3.GetObjectCommand({ Bucket: store.bucket, Key: LOCK_KEY }));
      const text = await result.Body!.transformToString();
      const holder = parseHolder(text);
      const lastModified = result.LastModified?.getTime() ?? now();
      const expiresAt = holder ? Date.parse(holder.expiresAt) : lastModified + ttl;
      return { holder, etag: result.ETag ?? '', expiresAt: Number.isFinite(expiresAt) ? expiresAt : lastModified + ttl };
    } catch (error) {
      if (status(error) === 404 || name(error) === 'NoSuchKey') return undefined;
      throw describeS3Failure(error, store.bucket, store.endpoint);
    }
  };
  /** Deletes the lock object if it is still the version we saw; false when it changed meanwhile. */
  const remove = async (etag: string): Promise<boolean> => {
    try {
      await store.client.send(new s3.DeleteObjectCommand({ Bucket: store.bucket, Key: LOCK_KEY, IfMatch: etag }));
      return true;
    } catch (error) {
      if (status(error) === 412 || status(error) === 404 || name(error) === 'NoSuchKey') return false;
      throw describeS3Failure(error, store.bucket, store.endpoint);
    }
  };

  let announcedWait = false;
  for (;;) {
    if (options.signal?.aborted) throw new OperationError('interrupted while waiting for the other media clean');
    const mine = body();
    const created = await put(mine, { IfNoneMatch: '*' });
    if (created.ok) {
      // A second create of the same key must be refused; when it is not, conditions are ignored.
      const again = await put(mine, { IfNoneMatch: '*' });
      if (again.ok) {
        await store.client.send(new s3.DeleteObjectCommand({ Bucket: store.bucket, Key: LOCK_KEY })).catch(() => undefined);
        return { held: false, reason: 'the server ignores conditional writes (If-None-Match)' };
      }
      if (again.why !== 'taken') return { held: false, reason: again.detail };
      return { held: true, key: LOCK_KEY, holder: mine, release: keepRenewed(mine, created.etag) };
    }
    if (created.why !== 'taken') return { held: false, reason: created.detail };
    const current = await read();
    if (!current) continue; // released between our put and our read
    if (current.holder?.runId === runId) {
      // Our create went through but its answer was lost; the SDK's retry was then refused.
      return { held: true, key: LOCK_KEY, holder: current.holder, release: keepRenewed(current.holder, current.etag) };
    }
    if (current.expiresAt <= now()) {
      if (await remove(current.etag)) options.onTakeover?.(current.holder);
      continue;
    }
    if (!options.wait) {
      throw new OperationError(`Another media clean is running on ${store.location}: ${describeHolder(current.holder)} (lock ${location}, expires ${new Date(current.expiresAt).toISOString()})`, {
        hint: 'wait for it to finish, or pass --wait to queue behind it',
      });
    }
    if (!announcedWait) options.onWaiting?.(current.holder, location);
    announcedWait = true;
    await sleep(options.pollMs ?? 1000, options.signal);
  }

  /** Renews the lock every renewEveryMs while the run lasts; the returned function releases it. */
  function keepRenewed(holder: LockHolder, initialEtag: string): () => Promise<void> {
    let etag = initialEtag;
    let expiresAt = Date.parse(holder.expiresAt);
    let lost = false;
    let renewing: Promise<void> | undefined;
    const compromised = (message: string) => {
      if (lost) return;
      lost = true;
      options.onCompromised?.(new Error(message));
    };
    const renew = async () => {
      const next = body();
      const renewed = await put(next, { IfMatch: etag }).catch((error: unknown) => ({ ok: false as const, why: 'error' as const, detail: String((error as Error).message) }));
      if (renewed.ok) {
        etag = renewed.etag;
        expiresAt = Date.parse(next.expiresAt);
      } else if (renewed.why === 'taken') {
        // A renewal whose answer was lost and whose retry was then refused is still ours.
        const current = await read().catch(() => undefined);
        if (current?.holder?.runId === runId) {
          etag = current.etag;
          expiresAt = current.expiresAt;
        } else {
          compromised(`${location} was replaced or removed by someone else`);
        }
      } else if (expiresAt <= now()) {
        compromised(`${location} could not be renewed before it expired (${renewed.detail})`);
      }
    };
    const timer = setInterval(() => {
      if (!lost && !renewing) renewing = renew().finally(() => { renewing = undefined; });
    }, options.renewEveryMs ?? Math.floor(ttl / 4));
    timer.unref();
    return async () => {
      clearInterval(timer);
      await renewing;
      if (!lost) await remove(etag);
    };
  }
}

/** Who holds the lock, in words: host, pid, since when. */
export function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'held by an unknown run (the lock object is not waha-storage\'s)';
  return `held by host ${holder.host}, pid ${holder.pid}, since ${holder.startedAt}`;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.runId === 'string' && typeof value.expiresAt === 'string' && typeof value.host === 'string') return value as LockHolder;
  } catch {
    // not ours: judged by its LastModified
  }
  return undefined;
}

/** Sorts a failed conditional put: someone holds it (412, 409), not supported (501, 400), not allowed (403). */
function refusal(error: unknown, store: S3MediaStore): PutOutcome {
  const code = status(error);
  const what = name(error);
  // (NoSuchKey: a renewal If-Match found the lock object deleted by someone else)
  if (code === 412 || code === 409 || ['PreconditionFailed', 'ConditionalRequestConflict', 'NoSuchKey'].includes(what)) return { ok: false, why: 'taken', detail: what };
  if (code === 501 || what === 'NotImplemented' || (code === 400 && /condition|if-none-match|if-match|header/i.test(message(error)))) {
    return { ok: false, why: 'unsupported', detail: `the server does not support conditional writes (${what || code})` };
  }
  if (code === 403 || what === 'AccessDenied') return { ok: false, why: 'denied', detail: `the credentials may not write ${LOCK_PREFIX} (${what || code})` };
  throw describeS3Failure(error, store.bucket, store.endpoint);
}

const status = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const name = (error: unknown) => (error as { name?: string }).name ?? '';
const message = (error: unknown) => (error as { message?: string }).message ?? '';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
