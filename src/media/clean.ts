/**
 * Media cleanup: list pages, keep what matches (age, size), delete in batches while the listing
 * goes on. Only a bounded number of batches is ever in flight, so memory stays flat. `dryRun` runs
 * the very same loop without deleting, so it prints the same totals.
 */
import { matcher, type DeleteFailure, type ListFilter, type MediaObject, type MediaStore, type ObjectFilter } from './store.js';
import { testPace } from '../util/test-pace.js';

export interface CleanProgress {
  scanned: number;
  matched: number;
  deleted: number;
  bytes: number;
}

export interface CleanOptions {
  store: MediaStore;
  filter: ListFilter;
  match: ObjectFilter;
  now: Date;
  dryRun: boolean;
  /** Never delete more than this many (the second pass after a --max-delete count). */
  limit?: number;
  keepEmptyDirs?: boolean;
  /** Keys per delete batch (S3's DeleteObjects takes up to 1,000). */
  batchSize?: number;
  /** Delete batches in flight at once. */
  parallelBatches?: number;
  signal?: AbortSignal;
  onProgress?: (progress: CleanProgress) => void;
  /** Each failed key, as it happens (the result keeps only the first ones). */
  onFailure?: (failure: DeleteFailure) => void;
  /** Dry run: each object that a real run would delete, as it is found. */
  onMatch?: (object: MediaObject) => void;
}

export interface CleanSummary {
  scanned: number;
  matched: number;
  deleted: number;
  /** Already gone when the delete ran: counted, not an error. */
  vanished: number;
  failed: number;
  /** Folders that could not be read (their files were neither counted nor deleted). */
  unreadable: number;
  /** Bytes deleted (dry run: bytes that would be deleted). */
  bytes: number;
  /** Requests to the store that needed a retry during the run (stores that retry: S3). */
  retried?: number;
}

export interface CleanResult {
  summary: CleanSummary;
  /** Objects not deleted, and folders not read (key ends with "/"); the first 1,000. */
  failures: DeleteFailure[];
  /** The signal stopped the run between pages: the summary counts exactly what was deleted until then. */
  interrupted: boolean;
}

const MAX_REPORTED_FAILURES = 1000;

/** How many objects (and bytes) a clean would delete: the planning pass behind --max-delete. */
export async function countMatches(options: Pick<CleanOptions, 'store' | 'filter' | 'match' | 'now' | 'signal' | 'onProgress'>): Promise<CleanSummary> {
  return (await cleanMedia({ ...options, dryRun: true })).summary;
}

export async function cleanMedia(options: CleanOptions): Promise<CleanResult> {
  const { store, dryRun } = options;
  const batchSize = options.batchSize ?? 1000;
  const parallel = options.parallelBatches ?? 4;
  const matches = matcher(options.match, options.now);
  const summary: CleanSummary = { scanned: 0, matched: 0, deleted: 0, vanished: 0, failed: 0, unreadable: 0, bytes: 0 };
  const failures: DeleteFailure[] = [];
  const inFlight = new Set<Promise<void>>();
  const progress = () => options.onProgress?.({ scanned: summary.scanned, matched: summary.matched, deleted: summary.deleted, bytes: summary.bytes });

  const send = async (batch: MediaObject[]) => {
    const outcome = await store.delete(batch).catch((error: unknown) => ({
      deleted: [], vanished: [], failed: batch.map((object) => ({ key: object.key, reason: (error as Error).message ?? String(error) })),
    }));
    summary.deleted += outcome.deleted.length;
    summary.vanished += outcome.vanished.length;
    summary.failed += outcome.failed.length;
    for (const object of outcome.deleted) summary.bytes += object.bytes;
    for (const failure of outcome.failed) {
      options.onFailure?.(failure);
      if (failures.length < MAX_REPORTED_FAILURES) failures.push(failure);
    }
    progress();
  };
  const dispatch = async (batch: MediaObject[]) => {
    const task = send(batch).finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (inFlight.size >= parallel) await Promise.race(inFlight);
  };

  const filter = {
    ...options.filter,
    onUnreadable: (folder: DeleteFailure) => {
      summary.unreadable++;
      options.onFailure?.(folder);
      if (failures.length < MAX_REPORTED_FAILURES) failures.push(folder);
    },
  };
  let batch: MediaObject[] = [];
  if (options.signal?.aborted) return { summary, failures, interrupted: true };
  let interrupted = false;
  listing: for await (const page of store.list(filter)) {
    summary.scanned += page.length;
    for (const object of page) {
      if (!matches(object)) continue;
      if (options.limit !== undefined && summary.matched >= options.limit) break listing;
      summary.matched++;
      if (dryRun) {
        summary.bytes += object.bytes;
        options.onMatch?.(object);
        continue;
      }
      batch.push(object);
      if (batch.length >= batchSize) {
        await dispatch(batch);
        batch = [];
        if (options.signal?.aborted) {
          interrupted = true;
          break listing;
        }
      }
    }
    progress();
    // A local listing runs without touching the event loop; let a pending Ctrl-C / SIGTERM land.
    await new Promise((resolve) => setImmediate(resolve));
    await testPace();
    if (options.signal?.aborted) {
      interrupted = true;
      break;
    }
  }
  if (batch.length && !interrupted) await dispatch(batch);
  await Promise.all(inFlight);
  if (!dryRun) await store.finishDeleting?.({ keepEmptyDirs: options.keepEmptyDirs ?? false });
  summary.retried = store.requestsRetried?.() ?? 0;
  return { summary, failures, interrupted };
}
