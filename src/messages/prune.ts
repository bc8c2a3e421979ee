/**
 * `messages prune`: plan (count what is older than the cutoff in each table, and measure it), then
 * delete batch by batch, table after table. Nothing but the message-history tables is ever
 * touched. Between batches WAHA writes on; an interrupt stops after the batch in flight, and the
 * result then counts exactly the rows deleted. A table that fails is reported and the others go on.
 */
import { testPace } from '../util/test-pace.js';
import type { PruneCriteria } from './criteria.js';
import type { MessageTable, TablePlan, TableSpace } from './table.js';

export const DEFAULT_BATCH_SIZE = 2000;

export type PruneStatus = 'planned' | 'done' | 'failed' | 'interrupted' | 'untouched';

export interface TableResult {
  table: MessageTable;
  plan: TablePlan;
  status: PruneStatus;
  deleted: number;
  /** What the deleted rows took, as the store reports row sizes (MongoDB: estimated). */
  bytesDeleted: number;
  spaceBefore: TableSpace;
  spaceAfter?: TableSpace;
  vacuumed: boolean;
  error?: Error;
}

export interface PlannedPrune {
  criteria: PruneCriteria;
  results: TableResult[];
  planned: number;
}

/** Counts and measures every table; a table that cannot be read fails, the others are planned. */
export async function planPrune(tables: readonly MessageTable[], criteria: PruneCriteria): Promise<PlannedPrune> {
  const results: TableResult[] = [];
  for (const table of tables) {
    const empty: TablePlan = { planned: 0, rows: 0, unreadable: 0, byJid: new Map() };
    try {
      const plan = await table.plan(criteria);
      results.push({ table, plan, status: 'planned', deleted: 0, bytesDeleted: 0, spaceBefore: await table.space(), vacuumed: false });
    } catch (error) {
      results.push({ table, plan: empty, status: 'failed', deleted: 0, bytesDeleted: 0, spaceBefore: { bytes: 0 }, vacuumed: false, error: error as Error });
    }
  }
  return { criteria, results, planned: results.reduce((sum, result) => sum + result.plan.planned, 0) };
}

export interface ExecuteOptions {
  batchSize: number;
  signal?: AbortSignal;
  /** After each batch: the rows deleted so far in all tables. */
  onProgress?: (deleted: number, planned: number, result: TableResult) => void;
}

/** Deletes what was planned, batch by batch; stops after the current batch when `signal` aborts. */
export async function executePrune(planned: PlannedPrune, options: ExecuteOptions): Promise<void> {
  let total = 0;
  for (const result of planned.results) {
    if (result.status !== 'planned') continue;
    if (options.signal?.aborted) {
      result.status = 'untouched';
      continue;
    }
    if (result.plan.planned === 0) {
      result.status = 'done';
      continue;
    }
    try {
      for (;;) {
        const batch = await result.table.deleteBatch(planned.criteria, options.batchSize);
        result.deleted += batch.deleted;
        result.bytesDeleted += batch.bytes;
        total += batch.deleted;
        options.onProgress?.(total, planned.planned, result);
        if (!batch.more) break;
        await testPace();
        if (options.signal?.aborted) break;
      }
      result.status = options.signal?.aborted ? 'interrupted' : 'done';
    } catch (error) {
      result.status = 'failed';
      result.error = error as Error;
    }
  }
}

/** Measures each table again (after VACUUM where asked and possible). */
export async function finishPrune(planned: PlannedPrune, options: { vacuum: boolean }): Promise<void> {
  for (const result of planned.results) {
    if (result.status === 'failed' && !result.deleted) continue;
    try {
      if (options.vacuum && result.table.vacuum && result.status === 'done') {
        await result.table.vacuum();
        result.vacuumed = true;
      }
      result.spaceAfter = await result.table.space();
    } catch (error) {
      result.status = 'failed';
      result.error = error as Error;
    }
  }
}

/**
 * The space this run gave back: SQLite, the pages it freed inside the file (WAHA reuses them;
 * VACUUM returns them to the disk); PostgreSQL, the size of the deleted rows (reusable after
 * autovacuum); MongoDB, the data size it took off. After VACUUM, what the file or table shrank by.
 */
export function freedBytes(result: TableResult): number {
  const after = result.spaceAfter;
  if (!after) return 0;
  if (result.vacuumed) return Math.max(0, result.spaceBefore.bytes - after.bytes);
  if (after.freeBytes !== undefined && result.spaceBefore.freeBytes !== undefined) return Math.max(0, after.freeBytes - result.spaceBefore.freeBytes);
  if (result.table.store === 'postgres') return result.bytesDeleted;
  return Math.max(0, result.spaceBefore.bytes - after.bytes);
}
