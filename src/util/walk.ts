/**
 * Walks a folder tree: regular files with size and mtime, and symbolic links (never followed).
 * Sizes come from a synchronous lstat: on a local disk it is about four times faster than the
 * promise API for many small files (no thread-pool round trip per file), which is what a session
 * folder of thousands of key files is. Memory is bounded by one directory's listing, not by the tree.
 * - `walk` streams with fs.opendir (one entry at a time), for copies that await between files;
 * - `walkSync` reads each folder with one readdir and can start from a listing the caller already
 *   has (inspect lists a session folder once, for names and for sizes); `treeTotals` counts the
 *   same files without an object per file.
 */
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { opendir } from 'node:fs/promises';
import path from 'node:path';

export interface WalkEntry {
  /** Path relative to the walked root, with `/` separators. */
  relativePath: string;
  kind: 'file' | 'symlink';
  size: number;
  mtimeMs: number;
}

const NO_THROW = { throwIfNoEntry: false } as const;

export async function* walk(root: string, prefix = ''): AsyncGenerator<WalkEntry> {
  const directory = await opendir(root, { bufferSize: 256 });
  const subdirectories: string[] = [];
  for await (const entry of directory) {
    const relativePath = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      subdirectories.push(entry.name);
      continue;
    }
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    const stat = lstatSync(path.join(root, entry.name), NO_THROW);
    if (!stat) continue; // removed while we walked
    const kind = entry.isFile() ? 'file' : 'symlink';
    yield { relativePath, kind, size: kind === 'file' ? stat.size : 0, mtimeMs: stat.mtimeMs };
  }
  for (const name of subdirectories) {
    yield* walk(path.join(root, name), prefix ? `${prefix}/${name}` : name);
  }
}

/** Reads a folder's entries with their types (one readdir); [] when it does not exist. */
export function listFolder(directory: string): Dirent[] {
  try {
    return readdirSync(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * The same entries as `walk`, synchronously. `entries` is the root's listing when the caller has
 * read it already. A file system that reports no entry type (DT_UNKNOWN) is asked with lstat.
 */
export function* walkSync(root: string, entries: readonly Dirent[] = readdirSync(root, { withFileTypes: true }), prefix = ''): Generator<WalkEntry> {
  const subdirectories: string[] = [];
  const base = root + path.sep;
  for (const entry of entries) {
    const name = entry.name;
    if (entry.isDirectory()) {
      subdirectories.push(name);
      continue;
    }
    const known = entry.isFile() || entry.isSymbolicLink();
    if (!known && typeKnown(entry)) continue; // FIFOs, sockets, devices: never opened, never counted
    const stat = lstatSync(base + name, NO_THROW);
    if (!stat) continue; // removed while we walked
    if (!known && stat.isDirectory()) {
      subdirectories.push(name);
      continue;
    }
    const kind = stat.isFile() ? 'file' : stat.isSymbolicLink() ? 'symlink' : null;
    if (!kind) continue;
    yield { relativePath: prefix ? `${prefix}/${name}` : name, kind, size: kind === 'file' ? stat.size : 0, mtimeMs: stat.mtimeMs };
  }
  for (const name of subdirectories) {
    const directory = base + name;
    yield* walkSync(directory, readdirSync(directory, { withFileTypes: true }), prefix ? `${prefix}/${name}` : name);
  }
}

export interface TreeTotals {
  /** Regular files (symbolic links, FIFOs, sockets and devices are not counted). */
  files: number;
  bytes: number;
  newestMs: number;
}

/** Counts the regular files under a folder, as `walkSync` would list them, without an object per file. */
export function treeTotals(root: string, entries: readonly Dirent[] = readdirSync(root, { withFileTypes: true })): TreeTotals {
  const totals: TreeTotals = { files: 0, bytes: 0, newestMs: 0 };
  const base = root + path.sep;
  for (const entry of entries) {
    if (entry.isSymbolicLink() || (!entry.isFile() && !entry.isDirectory() && typeKnown(entry))) continue;
    const file = base + entry.name;
    if (entry.isDirectory()) {
      addTotals(totals, treeTotals(file));
      continue;
    }
    const stat = lstatSync(file, NO_THROW);
    if (!stat) continue; // removed while we walked
    if (stat.isFile()) {
      totals.files++;
      totals.bytes += stat.size;
      if (stat.mtimeMs > totals.newestMs) totals.newestMs = stat.mtimeMs;
    } else if (stat.isDirectory()) addTotals(totals, treeTotals(file)); // the file system gave no entry type
  }
  return totals;
}

function addTotals(totals: TreeTotals, more: TreeTotals): void {
  totals.files += more.files;
  totals.bytes += more.bytes;
  totals.newestMs = Math.max(totals.newestMs, more.newestMs);
}

function typeKnown(entry: Dirent): boolean {
  return entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice();
}
