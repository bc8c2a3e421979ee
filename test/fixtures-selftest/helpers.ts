import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, lstatSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const created: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fixtures-${prefix}-`));
  created.push(dir);
  return dir;
}

/** Removes every folder tempDir made in this test file (call from afterAll). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Counts regular files with find(1), independently of the generator's own walk. */
export function findFiles(dir: string, extra: string[] = []): { entries: number; bytes: number } {
  const out = execFileSync('find', [dir, ...extra, '-type', 'f', '-printf', '%s\\n'], { encoding: 'utf8' });
  const sizes = out.split('\n').filter(Boolean).map(Number);
  return { entries: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0) };
}

/** Every `{type:'Buffer'}` node in a JSON tree; throws on a number-array buffer. */
export function bufferNodes(value: unknown, found: { data: unknown }[] = []): { data: unknown }[] {
  if (Array.isArray(value)) value.forEach((item) => bufferNodes(item, found));
  else if (value && typeof value === 'object') {
    if ((value as { type?: unknown }).type === 'Buffer') found.push(value as { data: unknown });
    else Object.values(value).forEach((item) => bufferNodes(item, found));
  }
  return found;
}

export function isBase64(text: unknown): boolean {
  return typeof text === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0;
}

/** A digest of every path, type and content under `dir` (symlink targets included). */
export function treeDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (current: string, rel: string) => {
    for (const name of readdirSync(current).sort()) {
      const full = path.join(current, name);
      const stat = lstatSync(full);
      hash.update(`${rel}/${name}:`);
      if (stat.isSymbolicLink()) hash.update(`link:${execFileSync('readlink', [full], { encoding: 'utf8' })}`);
      else if (stat.isDirectory()) walk(full, `${rel}/${name}`);
      else hash.update(readFileSync(full));
    }
  };
  walk(dir, '');
  return hash.digest('hex');
}
