/**
 * The one interface both media stores (local folder, S3 bucket) implement. Listing is an async
 * iterator of pages so a caller never holds the whole store; deleting takes one batch at a time.
 */

export type MediaStoreKind = 'local' | 's3' | 'postgres';

export interface MediaObject {
  /** First path segment (WAHA's session name), or null for old flat files at the top level. */
  session: string | null;
  /** Path relative to the media folder, or the S3 key. */
  key: string;
  bytes: number;
  modifiedAt: Date;
  /** PostgreSQL only: the last download (`last_accessed_at`), or the creation when never downloaded. */
  lastUsedAt?: Date;
}

export interface ListFilter {
  /** Only these sessions; all when empty or absent. */
  sessions?: readonly string[];
  /** Local only: include names starting with "." (skipped by default, like WAHA's own purge). */
  includeDotfiles?: boolean;
  /**
   * A folder below the top that cannot be read (local: permissions, I/O error): called with it and
   * the listing goes on with the others. Without it, such a folder ends the listing with an error.
   */
  onUnreadable?: (folder: UnreadableFolder) => void;
}

export interface UnreadableFolder {
  /** The folder relative to the media folder, with a trailing slash: `private/`. */
  key: string;
  reason: string;
}

export interface DeleteFailure {
  key: string;
  reason: string;
}

export interface DeleteOutcome {
  /** Objects really removed by this batch. */
  deleted: MediaObject[];
  /** Objects already gone when the delete ran (counted, not an error). */
  vanished: MediaObject[];
  failed: DeleteFailure[];
}

export interface MediaStore {
  readonly kind: MediaStoreKind;
  /** Where it is, for messages: the folder path or `s3://bucket`. */
  readonly location: string;
  /** Identifies the store for the lock: the folder, or endpoint + bucket. */
  readonly lockKey: string;
  /** Fails with a clear error when the store cannot be read (missing folder, bucket, credentials). */
  check(): Promise<void>;
  list(filter: ListFilter): AsyncIterable<MediaObject[]>;
  delete(batch: readonly MediaObject[]): Promise<DeleteOutcome>;
  /** Called once after a clean finished deleting (local: remove folders left empty). */
  finishDeleting?(options: { keepEmptyDirs: boolean }): Promise<void>;
  stat(key: string): Promise<MediaObject | undefined>;
  /** Requests that needed a retry since the store was opened (S3: throttling, 5xx, dropped connections). */
  requestsRetried?(): number;
  close(): Promise<void>;
}

/** Age and size conditions shared by list and clean. */
export interface ObjectFilter {
  /** Seconds: only objects modified at least this long ago. */
  olderThanSeconds?: number;
  /** Bytes: only objects strictly larger. */
  largerThanBytes?: number;
  /** Seconds: only objects not downloaded for this long (stores that know `lastUsedAt`: PostgreSQL). */
  unusedForSeconds?: number;
}

export function matcher(filter: ObjectFilter, now: Date): (object: MediaObject) => boolean {
  const cutoff = filter.olderThanSeconds === undefined ? undefined : now.getTime() - filter.olderThanSeconds * 1000;
  const minBytes = filter.largerThanBytes;
  const unusedCutoff = filter.unusedForSeconds === undefined ? undefined : now.getTime() - filter.unusedForSeconds * 1000;
  return (object) =>
    (cutoff === undefined || object.modifiedAt.getTime() <= cutoff) && (minBytes === undefined || object.bytes > minBytes)
    && (unusedCutoff === undefined || (object.lastUsedAt ?? object.modifiedAt).getTime() <= unusedCutoff);
}

/** The first path segment when the key has one, else null (a flat, session-less file). */
export function sessionOfKey(key: string): string | null {
  const slash = key.indexOf('/');
  return slash > 0 ? key.slice(0, slash) : null;
}
