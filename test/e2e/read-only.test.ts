/** Reading a store never changes it: no SQLite side files appear after inspect, backup or a dry run. */
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { ROOT } from '../support/servers.js';

function sideFiles(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (/-(wal|shm)$/.test(entry.name)) found.push(path.relative(root, full));
    }
  };
  visit(root);
  return found;
}

describe('reads leave the store as it was', () => {
  it('inspect, backup and purge --dry-run create no -wal or -shm files', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-readonly-'));
    const sessions = path.join(work, 'sessions');
    cpSync(path.join(ROOT, 'examples', 'sessions'), sessions, { recursive: true, verbatimSymlinks: true });
    expect(sideFiles(sessions)).toEqual([]);
    expect((await runCli(['inspect', '--sessions-dir', sessions, '--json'])).code).toBe(0);
    const backup = await runCli(['backup', 'local', '--sessions-dir', sessions, '-o', path.join(work, 'b.tar.gz'), '--force']);
    expect([0, 3]).toContain(backup.code);
    expect((await runCli(['purge', 'local', '--sessions-dir', sessions, '--all', '--dry-run'])).code).toBe(0);
    expect(sideFiles(sessions)).toEqual([]);
  });
});
