/**
 * Streams a folder tree: regular files with size and mtime, and symbolic links (never followed).
 * Directories are read with fs.opendir, and file sizes are taken with lstat in small parallel
 * batches, so memory stays bounded by one directory's batch, not by the tree.
 */
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';

export interface WalkEntry {
  /** Path relative to the walked root, with `/` separators. */
  relativePath: string;
  kind: 'file' | 'symlink';
  size: number;
  mtimeMs: number;
}

const STAT_BATCH = 64;

export async function* walk(root: string, prefix = ''): AsyncGenerator<WalkEntry> {
  const directory = await opendir(root);
  let batch: { full: string; relativePath: string; kind: WalkEntry['kind'] }[] = [];
  const subdirectories: string[] = [];
  for await (const entry of directory) {
    const relativePath = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) subdirectories.push(entry.name);
    else if (entry.isFile() || entry.isSymbolicLink()) {
      batch.push({ full: path.join(root, entry.name), relativePath, kind: entry.isFile() ? 'file' : 'symlink' });
      if (batch.length >= STAT_BATCH) {
        yield* statBatch(batch);
        batch = [];
      }
    }
  }
  yield* statBatch(batch);
  for (const name of subdirectories) {
    yield* walk(path.join(root, name), prefix ? `${prefix}/${name}` : name);
  }
}

async function* statBatch(batch: { full: string; relativePath: string; kind: WalkEntry['kind'] }[]): AsyncGenerator<WalkEntry> {
  const stats = await Promise.all(batch.map((item) => lstat(item.full).catch(() => undefined)));
  for (let index = 0; index < batch.length; index++) {
    const stat = stats[index];
    if (!stat) continue; // removed while we walked
    const item = batch[index]!;
    yield { relativePath: item.relativePath, kind: item.kind, size: item.kind === 'file' ? stat.size : 0, mtimeMs: stat.mtimeMs };
  }
}
