/**
 * One clean at a time per store: for S3 a lock object in the bucket itself (s3-lock.ts), so it
 * holds across hosts; for local media, and for S3 servers that ignore conditional writes, a lock
 * file in the media folder (local) or in the system temp folder keyed by endpoint and bucket (S3).
 * proper-lockfile keeps the file fresh while the run lasts and treats it as stale after 30 s
 * without updates, so a killed run does not block cron forever.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { LOCAL_LOCK_NAME } from './local.js';
import type { S3MediaStore } from './s3.js';
import type { MediaStore } from './store.js';

export interface LockOptions {
  /** Wait for the other run to finish instead of failing. */
  wait?: boolean;
  signal?: AbortSignal;
  /** Called if the lock is lost while running (e.g. its folder was removed). */
  onCompromised?: (error: Error) => void;
  /** Something the operator should know: the bucket lock fell back to a local one, a stale lock was taken over, waiting. */
  onNotice?: (message: string) => void;
}

export type Release = () => Promise<void>;

/**
 * Always an absolute path: proper-lockfile refreshes the lock from the thread pool while the local
 * store briefly changes the working directory to list (see LocalMediaStore.inFolders).
 */
export function lockPathFor(store: Pick<MediaStore, 'kind' | 'lockKey'>): string {
  if (store.kind === 'local') return path.resolve(store.lockKey, LOCAL_LOCK_NAME);
  const digest = createHash('sha256').update(store.lockKey).digest('hex').slice(0, 16);
  return path.resolve(os.tmpdir(), `waha-storage-media-s3-${digest}.lock`);
}

export async function acquireCleanLock(store: MediaStore, options: LockOptions = {}): Promise<Release> {
  if (store.kind === 's3') {
    const { acquireBucketLock, describeHolder } = await import('./s3-lock.js');
    const bucketLock = await acquireBucketLock(store as S3MediaStore, {
      wait: options.wait,
      signal: options.signal,
      onCompromised: options.onCompromised,
      onWaiting: (holder, where) => options.onNotice?.(`waiting for the other media clean (${describeHolder(holder)}; lock ${where})`),
      onTakeover: (holder) => options.onNotice?.(`took over an expired lock (${describeHolder(holder)})`),
    });
    if (bucketLock.held) return bucketLock.release;
    options.onNotice?.(`no lock in the bucket: ${bucketLock.reason}; using a lock file on this host only (${lockPathFor(store)}), so runs on other hosts are not kept out`);
  }
  return acquireFileLock(store, options);
}

async function acquireFileLock(store: MediaStore, options: LockOptions): Promise<Release> {
  const { lock } = await import('proper-lockfile');
  const lockfilePath = lockPathFor(store);
  const attempt = () => lock(lockfilePath, {
    lockfilePath,
    realpath: false,
    stale: 30_000,
    retries: 0,
    onCompromised: options.onCompromised ?? (() => undefined),
  });
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new OperationError(`Cannot create the lock ${lockfilePath}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
          hint: 'check that the folder is writable',
        });
      }
      if (!options.wait) {
        throw new OperationError(`Another media clean is running on ${store.location} (lock ${lockfilePath})`, {
          hint: 'wait for it to finish, or pass --wait to queue behind it',
        });
      }
      if (options.signal?.aborted) throw new OperationError('interrupted while waiting for the other media clean');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
