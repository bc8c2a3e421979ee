/**
 * The GNU find accelerator gives what listFolder + treeTotals give, and every way it can go wrong
 * (no find, another find, an unreadable folder, a strange name) ends in the Node walk: inspect's
 * report is the same, byte for byte, with it and without it.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFindOutput, scanFolders, type ScannedFolder } from '../../src/util/find-scan.js';
import { listFolder, treeTotals } from '../../src/util/walk.js';
import { scaleSessionName, writeLocalNowebSessions } from '../support/fixtures/index.js';
import { runCli } from '../support/cli.js';

let root: string;
let folders: string[];

const describeEntries = (scanned: ScannedFolder) => scanned.entries
  .map((entry) => `${entry.name}:${entry.isFile() ? 'f' : entry.isDirectory() ? 'd' : entry.isSymbolicLink() ? 'l' : entry.isFIFO() ? 'p' : '?'}`).sort();
const nodeAnswer = (folder: string): ScannedFolder => ({ entries: listFolder(folder), totals: treeTotals(folder) });

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-find-'));
  folders = ['plain', 'odd names', 'nested', 'empty', 'ünïcode'].map((name) => path.join(root, name));
  for (const folder of folders) mkdirSync(folder);
  const [plain, odd, nested, , unicode] = folders as [string, string, string, string, string];
  writeFileSync(path.join(plain, 'creds.json'), '{"me":null}');
  writeFileSync(path.join(plain, 'pre-key-1.json'), 'x'.repeat(300));
  symlinkSync('creds.json', path.join(plain, 'link'));
  execFileSync('mkfifo', [path.join(plain, 'pre-key-2.json')]);
  // names with a tab, a newline, spaces and a backslash: the record format must not be fooled
  writeFileSync(path.join(odd, 'tab\there.json'), 'ab');
  writeFileSync(path.join(odd, 'new\nline.json'), 'abc');
  writeFileSync(path.join(odd, ' spaced \\ name '), 'abcd');
  mkdirSync(path.join(nested, 'Default', 'IndexedDB'), { recursive: true });
  writeFileSync(path.join(nested, 'Default', 'IndexedDB', '000003.log'), 'y'.repeat(4096));
  writeFileSync(path.join(nested, 'top.json'), '{}');
  utimesSync(path.join(nested, 'top.json'), new Date('2020-01-02T03:04:05.678Z'), new Date('2020-01-02T03:04:05.678Z'));
  writeFileSync(path.join(unicode, 'sessão-ü.json'), 'é');
});

afterAll(() => {
  chmodSync(path.join(root), 0o755);
  rmSync(root, { recursive: true, force: true });
});

describe('scanFolders', () => {
  it('answers what listFolder and treeTotals answer, for every folder, whatever the names', async () => {
    const seen = new Map<string, ScannedFolder | undefined>();
    await scanFolders(folders, 2, (scanned) => {
      for (const [folder, result] of scanned) seen.set(folder, result);
    });
    expect([...seen.keys()].sort()).toEqual([...folders].sort());
    for (const folder of folders) {
      const found = seen.get(folder)!;
      const expected = nodeAnswer(folder);
      expect(found.totals, folder).toEqual(expected.totals);
      expect(describeEntries(found), folder).toEqual(describeEntries(expected));
    }
    expect(seen.get(folders[1]!)!.entries.map((entry) => entry.name).sort()).toEqual([' spaced \\ name ', 'new\nline.json', 'tab\there.json']);
  });

  it('leaves out a batch with a folder find cannot read (Node reads it and reports it)', async () => {
    if (process.getuid?.() === 0) {
      // root reads every folder: a folder that vanished has the same effect (find says so on stderr)
      const gone = path.join(root, 'gone');
      const seen = new Map<string, ScannedFolder | undefined>();
      await scanFolders([folders[0]!, gone], 1, (scanned) => {
        for (const [folder, result] of scanned) seen.set(folder, result);
      });
      expect(seen.size).toBe(0);
      return;
    }
    const locked = path.join(root, 'locked');
    mkdirSync(path.join(locked, 'inner'), { recursive: true });
    chmodSync(path.join(locked, 'inner'), 0);
    const seen = new Map<string, ScannedFolder | undefined>();
    await scanFolders([folders[0]!, locked], 1, (scanned) => {
      for (const [folder, result] of scanned) seen.set(folder, result);
    });
    expect(seen.size).toBe(0);
  });

  it('refuses output that is not its record format, and a batch that does not add up', () => {
    const folder = folders[0]!;
    expect(parseFindOutput(Buffer.from('12345\n67890\n'), [folder]).size).toBe(0); // a find without -printf
    expect(parseFindOutput(Buffer.from('0\td\t4096\t1.5\t\0'), [folder, folders[1]!]).size).toBe(0); // a folder missing
    expect(parseFindOutput(Buffer.from('0\td\t4096\t1.5\t\x001\tf\t12'), [folder]).size).toBe(0); // cut short
    const parsed = parseFindOutput(Buffer.from('0\td\t4096\t1.5\t\x001\tf\t12\t1577934245.6780000000\tcreds.json\0'), [folder]).get(folder)!;
    expect(parsed.totals).toEqual({ files: 1, bytes: 12, newestMs: 1577934245678 });
  });
});

describe('inspect local with and without find', () => {
  let base: string;
  let bin: string;
  const COUNT = 40; // above the threshold where find is used

  beforeAll(async () => {
    base = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-find-inspect-'));
    await writeLocalNowebSessions(base, { count: COUNT, keysPerSession: 30 });
    const folder = path.join(base, 'noweb');
    writeFileSync(path.join(folder, scaleSessionName(1), 'pre-key-77.json.123456'), '{'); // a stray temporary file
    mkdirSync(path.join(folder, scaleSessionName(2), 'sub'));
    writeFileSync(path.join(folder, scaleSessionName(2), 'sub', 'nested.bin'), 'z'.repeat(999));
    execFileSync('mkfifo', [path.join(folder, scaleSessionName(3), 'pre-key-999999.json')]);
    // a `find` that is not GNU find: prints sizes only, as BusyBox's would fail -printf
    bin = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-fake-find-'));
    writeFileSync(path.join(bin, 'find'), '#!/bin/sh\necho "find: unrecognized: -printf" >&2\nexit 1\n', { mode: 0o755 });
  });

  afterAll(() => {
    rmSync(base, { recursive: true, force: true });
    rmSync(bin, { recursive: true, force: true });
  });

  it('gives the same report with GNU find, without it, and with a find that cannot -printf', async () => {
    const args = ['inspect', 'local', '--sessions-dir', base, '--json'];
    const accelerated = await runCli(args, { timeoutMs: 30_000 });
    const walked = await runCli(args, { timeoutMs: 30_000, env: { WAHA_STORAGE_FIND: '0' } });
    const foreign = await runCli(args, { timeoutMs: 30_000, env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(accelerated.code, accelerated.stderr).toBe(0);
    expect(walked.code).toBe(0);
    expect(foreign.code).toBe(0);
    expect(accelerated.stdout).toBe(walked.stdout);
    expect(foreign.stdout).toBe(walked.stdout);
    const sessions = JSON.parse(accelerated.stdout).sessions as { name: string; details: { files: number; tempFiles?: string[] }; bytes: number }[];
    expect(sessions).toHaveLength(COUNT);
    expect(sessions.find((session) => session.name === scaleSessionName(1))!.details.tempFiles).toEqual(['pre-key-77.json.123456']);
    const nested = sessions.find((session) => session.name === scaleSessionName(2))!;
    expect(nested.details.files).toBe(sessions.find((session) => session.name === scaleSessionName(4))!.details.files + 1);
  });
});
