/**
 * Write failures of a target (a full disk, a read-only mount, a failing device, a closed pipe) as
 * one typed error: a line saying what could not be written and why, a hint of what to do, and
 * whether the rest of the run would hit the same wall (then a run stops starting new sessions).
 */
import { statfsSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.js';

export type WriteFailure = 'disk-full' | 'read-only' | 'not-writable' | 'io-error' | 'pipe-closed' | 'write-failed';

// SQLite's SHMSIZE: its -shm file could not grow (tmpfs, a full disk)
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE']);
const READ_ONLY = new Set(['EROFS', 'SQLITE_READONLY']);
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'SQLITE_CANTOPEN']);
const PIPE_CLOSED = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

export class TargetWriteError extends OperationError {
  constructor(readonly reason: WriteFailure, readonly errno: string | undefined, message: string, hint: string, cause: unknown) {
    super(message, { hint, cause });
  }

  /** The same failure would hit every further session written to this target. */
  get stopsRun(): boolean {
    return this.reason !== 'write-failed';
  }
}

/** The errno-style code of a Node or SQLite error (`ENOSPC`, `SQLITE_FULL`, `SQLITE_IOERR_WRITE`). */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Bytes free (for an unprivileged user) on the filesystem holding `where`, or undefined. */
function bytesFree(where: string): number | undefined {
  for (let folder = path.resolve(where); ; folder = path.dirname(folder)) {
    try {
      const stats = statfsSync(folder);
      return Number(stats.bavail) * Number(stats.bsize);
    } catch {
      if (path.dirname(folder) === folder) return undefined;
    }
  }
}

/** Which kind of write failure `error` is; an I/O error on a filesystem with no room left is a full disk. */
export function classifyWriteError(error: unknown, where?: string): WriteFailure | undefined {
  const code = errorCode(error);
  if (!code) return undefined;
  if (DISK_FULL.has(code)) return 'disk-full';
  if (READ_ONLY.has(code)) return 'read-only';
  if (NOT_WRITABLE.has(code)) return 'not-writable';
  if (PIPE_CLOSED.has(code)) return 'pipe-closed';
  if (code === 'EIO' || code.startsWith('SQLITE_IOERR')) {
    const free = where === undefined ? undefined : bytesFree(where);
    return free !== undefined && free < 1024 * 1024 ? 'disk-full' : 'io-error';
  }
  return undefined;
}

/**
 * One line for a failed write into `where` (a folder, a file, a stream's name): what, why, what to
 * do. Errors that are already typed pass through unchanged.
 */
export function targetWriteError(where: string, error: unknown, done = 'nothing of it was kept'): TargetWriteError {
  if (error instanceof TargetWriteError) return error;
  const reason = classifyWriteError(error, where) ?? 'write-failed';
  const code = errorCode(error);
  const why = code ?? (error instanceof Error ? error.message : String(error));
  const hints: Record<WriteFailure, [string, string]> = {
    'disk-full': [`${where}: the disk is full (${why})`, `free some space there (or write elsewhere) and run again; ${done}`],
    'read-only': [`${where}: the filesystem is read-only (${why})`, `remount it read-write or write elsewhere, and run again; ${done}`],
    'not-writable': [`${where}: not writable (${why})`, `run as the user WAHA runs as, or fix the permissions, and run again; ${done}`],
    'io-error': [`${where}: the device reported an I/O error (${why})`, `check the disk (dmesg) before writing there again; ${done}`],
    'pipe-closed': [`${where}: the reader closed the pipe (${why})`, `the program reading the output stopped before the end; run again; ${done}`],
    'write-failed': [`${where}: writing failed (${why})`, `check the target and run again; ${done}`],
  };
  const [message, hint] = hints[reason];
  return new TargetWriteError(reason, code, `Cannot write to ${message}`, hint, error);
}
