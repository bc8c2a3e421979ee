/**
 * An archive output that fills up (a real tiny tmpfs) or refuses writes (`chattr +i`, which binds
 * root too): one clear line, exit 1 or 2, and no partial archive left behind.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { privileged } from '../support/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, localScenario, tempDir, type Scenario } from './helpers.js';

let s: Scenario;
beforeAll(async () => { s = await localScenario('webjs', 'bo'); });
afterAll(async () => { await s.cleanup(); });

describe('backup into an output in trouble', () => {
  it.runIf(privileged)('disk full: exit 1 naming ENOSPC, the partial archive removed', async () => {
    const out = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', out]);
    try {
      const result = await cli(['backup', 'local', '-o', path.join(out, 'b.tar.gz'), '--force'], s.base, s.namespace);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/ENOSPC/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      execFileSync('umount', [out]);
      await rm(out, { recursive: true, force: true });
    }
  });

  it.runIf(privileged)('a folder that refuses writes: a clear error, nothing written', async () => {
    const out = path.join(await tempDir(), 'locked');
    await mkdir(out);
    execFileSync('chattr', ['+i', out]);
    try {
      const result = await cli(['backup', 'local', '-o', path.join(out, 'b.tar.gz'), '--force'], s.base, s.namespace);
      expect([1, 2]).toContain(result.code);
      expect(result.stderr).toMatch(/EPERM|EACCES|not writable|not permitted/i);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      execFileSync('chattr', ['-i', out]);
      await rm(path.dirname(out), { recursive: true, force: true });
    }
  });
});
