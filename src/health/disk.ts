/**
 * `mediaFiles.space` and `sessionsFiles.space`: free bytes on the disk that holds a folder, as
 * WAHA measures them with check-disk-space (`df`'s "available": blocks free to unprivileged users).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CheckDetail } from './result.js';

export interface DiskSpaceOptions {
  /** The folder WAHA checks (absolute). */
  path: string;
  /** Megabytes, multiplied by 1024 * 1024 as WAHA does. */
  thresholdMb: number;
}

export async function checkDiskSpace(options: DiskSpaceOptions): Promise<CheckDetail> {
  const folder = path.resolve(options.path);
  const threshold = options.thresholdMb * 1024 * 1024;
  try {
    const measuredAt = await nearestExisting(folder);
    const stats = await fs.statfs(measuredAt);
    const free = Number(stats.bavail) * Number(stats.bsize);
    const detail: CheckDetail = {
      status: free < threshold ? 'down' : 'up',
      path: folder,
      diskPath: await mountPoint(measuredAt),
      free,
      threshold,
    };
    // The folder does not exist yet (WAHA creates it on start): say where the space was measured.
    if (measuredAt !== folder) Object.assign(detail, { exists: false, measuredAt });
    return detail;
  } catch (error) {
    return {
      status: 'down', path: folder, threshold,
      reason: 'unreadable', detail: `cannot measure free space at ${folder}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    };
  }
}

/** The folder itself, or its nearest parent that exists. */
export async function nearestExisting(folder: string): Promise<string> {
  let current = folder;
  for (;;) {
    try {
      await fs.stat(current);
      return current;
    } catch (error) {
      const parent = path.dirname(current);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
      if (parent === current) throw error;
      current = parent;
    }
  }
}

/** The mount point holding `existing`: walk up while the parent is on the same device. */
async function mountPoint(existing: string): Promise<string> {
  let current = existing;
  const device = (await fs.stat(current)).dev;
  for (;;) {
    const parent = path.dirname(current);
    if (parent === current) return current;
    try {
      if ((await fs.stat(parent)).dev !== device) return current;
    } catch {
      return current;
    }
    current = parent;
  }
}
