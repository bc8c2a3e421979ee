import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { treeTotals, walk, walkSync, type WalkEntry } from '../../src/util/walk.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-walk-'));
  writeFileSync(path.join(root, 'creds.json'), '{"me":null}');
  writeFileSync(path.join(root, 'pre-key-1.json'), 'x'.repeat(300));
  mkdirSync(path.join(root, 'Default', 'IndexedDB', 'empty'), { recursive: true });
  writeFileSync(path.join(root, 'Default', 'IndexedDB', '000003.log'), 'y'.repeat(4096));
  writeFileSync(path.join(root, 'Default', 'Preferences'), '{}');
  symlinkSync('creds.json', path.join(root, 'link-to-creds'));
  symlinkSync('nowhere', path.join(root, 'Default', 'SingletonLock'));
  execFileSync('mkfifo', [path.join(root, 'pre-key-2.json')]); // opening it would block: never opened, never listed
});

const sorted = (entries: WalkEntry[]) => [...entries].sort((a, b) => a.relativePath.localeCompare(b.relativePath));

describe('walkSync', () => {
  it('lists what walk lists: files in every folder, symbolic links unfollowed, no FIFOs', async () => {
    const streamed: WalkEntry[] = [];
    for await (const entry of walk(root)) streamed.push(entry);
    const listed = [...walkSync(root)];
    expect(sorted(listed)).toEqual(sorted(streamed));
    expect(sorted(listed).map((entry) => [entry.relativePath, entry.kind, entry.size])).toEqual([
      ['creds.json', 'file', 11],
      ['Default/IndexedDB/000003.log', 'file', 4096],
      ['Default/Preferences', 'file', 2],
      ['Default/SingletonLock', 'symlink', 0],
      ['link-to-creds', 'symlink', 0],
      ['pre-key-1.json', 'file', 300],
    ]);
  });

  it('starts from a listing the caller has already read', () => {
    const entries = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.name !== 'Default');
    expect([...walkSync(root, entries)].map((entry) => entry.relativePath).sort()).toEqual(['creds.json', 'link-to-creds', 'pre-key-1.json']);
  });
});

describe('treeTotals', () => {
  it('counts the regular files walkSync lists, in every folder, and their bytes and newest mtime', () => {
    const files = [...walkSync(root)].filter((entry) => entry.kind === 'file');
    expect(treeTotals(root)).toEqual({
      files: 4,
      bytes: 11 + 300 + 4096 + 2,
      newestMs: Math.max(...files.map((entry) => entry.mtimeMs)),
    });
    expect(files).toHaveLength(4);
  });
});
