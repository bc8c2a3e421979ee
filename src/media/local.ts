/**
 * The local media folder: `<media dir>/<session>/<messageId>.<ext>`, plus old flat files at the top.
 * The tree is streamed with fs.opendir; symbolic links are never followed (dirent types and lstat
 * only), only regular files count, and dot-files are skipped unless asked for.
 */
import fs from 'node:fs';
import { opendir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.js';
import { sessionOfKey, type DeleteOutcome, type ListFilter, type MediaObject, type MediaStore } from './store.js';

/** Our own lock lives in the media folder; it is never listed, even with dot-files. */
export const LOCAL_LOCK_NAME = '.waha-storage-clean.lock';
const PAGE_SIZE = 1000;


export class LocalMediaStore implements MediaStore {
  readonly kind = 'local' as const;
  readonly location: string;
  readonly lockKey: string;
  /** Folders a delete emptied files from (relative), so only those are considered for removal. */
  private readonly touched = new Set<string>();

  constructor(readonly root: string) {
    this.location = root;
    this.lockKey = root;
  }

  async check(): Promise<void> {
    let info: fs.Stats;
    try {
      info = await stat(this.root);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new UsageError(`The media folder ${this.root} does not exist`, {
          hint: 'set --media-dir / WHATSAPP_FILES_FOLDER to the folder WAHA writes media to',
        });
      }
      throw new OperationError(`Cannot read the media folder ${this.root}: ${code ?? error}`, { hint: 'check its permissions' });
    }
    if (!info.isDirectory()) {
      throw new UsageError(`The media folder ${this.root} is not a folder`, {
        hint: 'set --media-dir / WHATSAPP_FILES_FOLDER to the folder WAHA writes media to',
      });
    }
    try {
      await (await opendir(this.root)).close();
    } catch (error) {
      throw new OperationError(`Cannot read the media folder ${this.root}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
        hint: 'run as the user WAHA runs as, or fix the folder permissions',
      });
    }
  }

  async *list(filter: ListFilter): AsyncIterable<MediaObject[]> {
    const sessions = filter.sessions?.length ? new Set(filter.sessions) : undefined;
    const skip = (name: string) => name === LOCAL_LOCK_NAME || (!filter.includeDotfiles && name.startsWith('.'));
    // Depth-first over folders; a folder's entries are streamed (never read whole) and stat'ed a
    // page at a time. The consumer runs between pages, so deletes go on while the listing does.
    const folders: string[] = [''];
    while (folders.length) {
      const relative = folders.pop()!;
      const atTop = relative === '';
      const folder = this.openFolder(relative);
      try {
        let keys: string[] = [];
        for (let entry = folder.readSync(); entry; entry = folder.readSync()) {
          if (skip(entry.name)) continue;
          const key = atTop ? entry.name : `${relative}/${entry.name}`;
          if (entry.isDirectory()) {
            if (!atTop || !sessions || sessions.has(entry.name)) folders.push(key);
          } else if ((entry.isFile() || typeUnknown(entry)) && !(atTop && sessions)) {
            // Regular files, and entries whose type the file system did not report (lstat decides).
            keys.push(key);
            if (keys.length >= PAGE_SIZE) {
              const page = this.statPage(keys);
              keys = [];
              if (page.length) yield page;
            }
          }
        }
        const page = this.statPage(keys);
        if (page.length) yield page;
      } finally {
        folder.closeSync();
      }
    }
  }

  /**
   * Unlinks one batch. Plain sequential system calls: measured 2-4x faster than the libuv thread
   * pool (p-limit over fs.promises) for this kernel-bound work, and as fast as `find -delete`.
   */
  async delete(batch: readonly MediaObject[]): Promise<DeleteOutcome> {
    const outcome: DeleteOutcome = { deleted: [], vanished: [], failed: [] };
    for (const object of batch) {
      try {
        fs.unlinkSync(this.pathOf(object.key));
        outcome.deleted.push(object);
        const slash = object.key.lastIndexOf('/');
        if (slash > 0) this.touched.add(object.key.slice(0, slash));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') outcome.vanished.push(object);
        else outcome.failed.push({ key: object.key, reason: describeFsError(error) });
      }
    }
    return outcome;
  }

  /** Removes the folders this run emptied (deepest first, never the media folder itself). */
  async finishDeleting(options: { keepEmptyDirs: boolean }): Promise<void> {
    if (options.keepEmptyDirs) return;
    const candidates = new Set<string>();
    for (const folder of this.touched) {
      for (let at = folder; at !== '.' && at !== ''; at = path.posix.dirname(at)) candidates.add(at);
    }
    const deepestFirst = [...candidates].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const folder of deepestFirst) {
      // rmdir only removes an empty folder, so a file written meanwhile by WAHA keeps it.
      await rmdir(this.pathOf(folder)).catch(() => undefined);
    }
    this.touched.clear();
  }

  async stat(key: string): Promise<MediaObject | undefined> {
    return this.statPage([key])[0];
  }

  async close(): Promise<void> {}

  private pathOf(key: string): string {
    return key === '' ? this.root : `${this.root}${path.sep}${key}`;
  }

  private openFolder(relative: string): fs.Dir {
    try {
      return fs.opendirSync(this.pathOf(relative), { bufferSize: 1024 });
    } catch (error) {
      throw new OperationError(`Cannot read the media folder ${this.pathOf(relative)}: ${describeFsError(error)}`, {
        hint: 'run as the user WAHA runs as, or fix the folder permissions',
      });
    }
  }

  /** lstat, never stat: a symbolic link is not a regular file and is never followed. */
  private statPage(keys: readonly string[]): MediaObject[] {
    const objects: MediaObject[] = [];
    for (const key of keys) {
      const info = fs.lstatSync(this.pathOf(key), { throwIfNoEntry: false });
      if (info?.isFile()) objects.push({ session: sessionOfKey(key), key, bytes: info.size, modifiedAt: info.mtime });
    }
    return objects;
  }
}

/** Some file systems report DT_UNKNOWN; lstat then tells (symbolic links are still skipped). */
function typeUnknown(entry: fs.Dirent): boolean {
  return !entry.isFile() && !entry.isDirectory() && !entry.isSymbolicLink() && !entry.isFIFO()
    && !entry.isSocket() && !entry.isBlockDevice() && !entry.isCharacterDevice();
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  return code ?? (error as Error).message;
}
