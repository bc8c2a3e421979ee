/** The local store's folder, checked before anything is read or written. */
import { statSync } from 'node:fs';
import { OperationError, UsageError } from '../../../errors.js';

const SESSIONS_DIR_HINT = "set --sessions-dir / WAHA_LOCAL_STORE_BASE_DIR to WAHA's .sessions folder";

/**
 * A file there is exit 2 for every command (an empty archive of "no sessions" is not a backup); a
 * missing folder is exit 2 for a command that reads it (a target may create it).
 */
export function requireSessionsDir(directory: string, { mustExist }: { mustExist: boolean }): void {
  let info;
  try {
    info = statSync(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && mustExist) throw new UsageError(`The sessions dir ${directory} does not exist (no such folder)`, { hint: SESSIONS_DIR_HINT });
    return; // created later (a target), or ENOTDIR / EACCES, which the store reports in its own words (exit 1, as inspect)
  }
  if (!info.isDirectory()) throw new UsageError(`The sessions dir ${directory} is not a folder`, { hint: SESSIONS_DIR_HINT });
}

/** A local target must exist (or be creatable) and be writable before anything starts. */
export async function assertWritable(directory: string): Promise<void> {
  requireSessionsDir(directory, { mustExist: false });
  const { access, mkdir } = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  try {
    await mkdir(directory, { recursive: true });
    await access(directory, constants.W_OK);
  } catch (error) {
    throw new OperationError(`The sessions dir ${directory} is not writable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'run as the user WAHA runs as, or fix the permissions of --sessions-dir / WAHA_LOCAL_STORE_BASE_DIR',
    });
  }
}
