import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/servers.js';
import { tempDir, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const SCRIPT = path.join(ROOT, 'test', 'support', 'fixtures', 'make-example.ts');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** Paths, types and contents; SQLite files by path only (their header carries the SQLite version). */
function describeTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string, rel: string) => {
    for (const name of readdirSync(current).sort()) {
      if (/-(wal|shm)$/.test(name)) continue; // left by read-only SQLite readers, not by the generator
      const full = path.join(current, name);
      const key = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) out[key] = `-> ${readlinkSync(full)}`;
      else if (stat.isDirectory()) walk(full, key);
      else out[key] = /\.(sqlite3|db)$/.test(name) ? 'sqlite' : readFileSync(full).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

describe('make-example', () => {
  it('writes a small tree, and refuses a non-empty folder without --force', () => {
    const dir = path.join(tempDir('example'), 'sessions');
    execFileSync(TSX, [SCRIPT, dir], { stdio: 'pipe' });
    const files = execFileSync('find', [dir, '-type', 'f', '-printf', '%s\\n'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    expect(files.length).toBeLessThan(200);
    expect(files.reduce((a, b) => a + b, 0)).toBeLessThan(300 * 1024);
    expect(readdirSync(dir).sort()).toEqual(['gows', 'noweb', 'webjs', 'wpp']);

    const again = spawnSync(TSX, [SCRIPT, dir], { encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/--force/);
    expect(spawnSync(TSX, [SCRIPT, dir, '--force'], { encoding: 'utf8' }).status).toBe(0);
  });

  it('the committed examples/sessions is what the script writes today', () => {
    const fresh = path.join(tempDir('example-fresh'), 'sessions');
    execFileSync(TSX, [SCRIPT, fresh], { stdio: 'pipe' });
    expect(describeTree(path.join(ROOT, 'examples', 'sessions'))).toEqual(describeTree(fresh));
  });
});
