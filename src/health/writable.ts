/**
 * `sessionsFiles.writable` and `mediaFiles.writable` (extended): a probe file is written, read
 * back and removed, as WAHA will write session and media files there. A folder that does not exist
 * yet is created by WAHA on start, so then its nearest existing parent must be writable.
 */
import { constants, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { nearestExisting } from './disk.js';
import type { CheckDetail } from './result.js';

export async function checkWritable(folder: string): Promise<CheckDetail> {
  const dir = path.resolve(folder);
  let existing: string;
  try {
    existing = await nearestExisting(dir);
  } catch (error) {
    return down(dir, `cannot reach ${dir}: ${codeOf(error)}`);
  }
  if (existing !== dir) {
    try {
      await fs.access(existing, constants.W_OK | constants.X_OK);
      return { status: 'up', path: dir, exists: false, measuredAt: existing, detail: `does not exist yet; WAHA can create it in ${existing}` };
    } catch (error) {
      return down(dir, `does not exist, and ${existing} is not writable (${codeOf(error)}), so WAHA cannot create it`);
    }
  }
  const probe = path.join(dir, `.waha-storage-probe-${randomBytes(6).toString('hex')}`);
  const content = `waha-storage health probe ${probe}\n`;
  try {
    await fs.writeFile(probe, content, { flag: 'wx' });
    const back = await fs.readFile(probe, 'utf8');
    if (back !== content) return down(dir, 'the probe file read back differs from what was written');
    return { status: 'up', path: dir };
  } catch (error) {
    return down(dir, `cannot write a file in ${dir}: ${codeOf(error)}`);
  } finally {
    await fs.rm(probe, { force: true }).catch(() => {});
  }
}

function down(dir: string, detail: string): CheckDetail {
  return { status: 'down', path: dir, reason: 'not-writable', detail };
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}
