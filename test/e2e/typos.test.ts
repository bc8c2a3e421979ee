/**
 * Typos fail loudly (issue 14, item 5): a session name that is not there, an empty name, or a
 * sessions dir that is a file or missing is exit 2 naming it (with "did you mean" when a close name
 * exists) in every session command, before anything is written; a backup with no session in it is
 * not written.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { connectMongo, dropNamespace, mongoUrl } from '../support/mongo.js';
import { localScenario, type Scenario } from '../support/scenario.js';

let client: MongoClient;
let s: Scenario;
let work: string;
beforeAll(async () => {
  client = await connectMongo();
  s = await localScenario('noweb', 'typo');
  work = await mkdtemp(path.join(os.tmpdir(), 'waha-typos-'));
});
afterAll(async () => {
  await dropNamespace(client, s.namespace);
  await client.close();
  await s.cleanup();
  await rm(work, { recursive: true, force: true });
});

function cli(args: string[], options: { sessionsDir?: string; cwd?: string } = {}): Promise<CliResult> {
  return runCli([...args, '--sessions-dir', options.sessionsDir ?? s.base, '--namespace', s.namespace, '--session-namespace', s.namespace, '--mongo-url', mongoUrl()], { cwd: options.cwd });
}

/** Exit 2, one error line on stderr that matches, nothing on stdout. */
function expectUsage(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr + result.stdout).toBe(2);
  expect(result.stderr).toMatch(pattern);
  expect(result.stdout).toBe('');
}

async function mongoDatabases(): Promise<string[]> {
  const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
  return databases.map((db) => db.name).filter((name) => name.startsWith(`waha_${s.namespace}`));
}

const sessionsOf = (folder: string) => readdirSync(folder).sort();

describe('a session name that is not in the store', () => {
  it('backup --session alpah: exit 2 with "did you mean alpha", no archive and no .partial', async () => {
    const out = path.join(work, 'alpah.tar.gz');
    const result = await cli(['backup', 'local', '--session', 'alpah', '-o', out]);
    expectUsage(result, /No session "alpah" in local \(.*\): did you mean "alpha"\?/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('backup --session alpah -o -: exit 2 and not one byte on stdout', async () => {
    const result = await cli(['backup', 'local', '--session', 'alpah', '-o', '-']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('"alpah"');
  });

  it('migrate local mongo --session alpah: exit 2, nothing written to MongoDB', async () => {
    const result = await cli(['migrate', 'local', 'mongo', '--session', 'alpah']);
    expectUsage(result, /No session "alpah" in local .*did you mean "alpha"\?/);
    expect(await mongoDatabases()).toEqual([]);
  });

  it('migrate mongo local --session of a name MongoDB does not have: exit 2, the local store unchanged', async () => {
    const before = sessionsOf(s.folder);
    const result = await cli(['migrate', 'mongo', 'local', '--session', 'alpha']);
    expectUsage(result, /No session "alpha" in mongo \(/);
    expect(result.stderr).not.toContain('did you mean');
    expect(sessionsOf(s.folder)).toEqual(before);
  });

  it('one good and one bad name: exit 2 naming only the bad one, and the good one is not copied either', async () => {
    const result = await cli(['migrate', 'local', 'mongo', '--session', 'alpha', '--session', 'nobody-here']);
    expectUsage(result, /No session "nobody-here" in local .*; it has "/);
    expect(result.stderr).not.toMatch(/"alpha",? in/);
    expect(await mongoDatabases()).toEqual([]);
  });

  it('a name that differs only by case gets the suggestion', async () => {
    const result = await cli(['backup', 'local', '--session', 'ALPHA', '-o', path.join(work, 'case.tar.gz')]);
    expectUsage(result, /No session "ALPHA" .*did you mean "alpha"\?/);
  });

  it('inspect --session alpah: exit 2 with the suggestion (not an empty listing)', async () => {
    expectUsage(await cli(['inspect', 'local', '--session', 'alpah']), /No session "alpah" in local .*did you mean "alpha"\?/);
    expectUsage(await cli(['inspect', '--session', 'alpah']), /No session "alpah" in local \(.*\) or mongo \(.*\): did you mean "alpha"\?/);
    const json = await cli(['inspect', 'local', '--session', 'alpah', '--json']);
    expect(json.code).toBe(2);
  });

  it('purge --session alpah: exit 2 with the suggestion, nothing removed', async () => {
    const before = sessionsOf(s.folder);
    expectUsage(await cli(['purge', 'local', '--session', 'alpah', '--yes']), /No session "alpah" in local .*did you mean "alpha"\?/);
    expect(sessionsOf(s.folder)).toEqual(before);
  });

  it('restore --session alpah of an archive that holds alpha: exit 2 with the suggestion, nothing restored', async () => {
    const archive = path.join(work, 'for-restore.tar.gz');
    const made = await cli(['backup', 'local', '--session', 'alpha', '--session', 'fresh', '-o', archive]);
    expect(made.code, made.stderr).toBe(0);
    const target = path.join(work, 'restore-target');
    mkdirSync(target);
    const result = await cli(['restore', archive, 'local', '--session', 'alpah'], { sessionsDir: target });
    expectUsage(result, /No session "alpah" in the archive .*for-restore\.tar\.gz: did you mean "alpha"\?/);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe('an empty session name', () => {
  it.each([
    ['backup', ['backup', 'local', '-o', 'empty-name.tar.gz']],
    ['migrate', ['migrate', 'local', 'mongo']],
    ['inspect', ['inspect', 'local']],
    ['purge', ['purge', 'local', '--yes']],
  ])('%s --session "": exit 2, nothing done', async (_, args) => {
    const before = sessionsOf(s.folder);
    const result = await cli([...args, '--session', ''], { cwd: work });
    expectUsage(result, /empty session name/);
    expect(existsSync(path.join(work, 'empty-name.tar.gz'))).toBe(false);
    expect(sessionsOf(s.folder)).toEqual(before);
    expect(await mongoDatabases()).toEqual([]);
  });
});

describe('a sessions dir that is not a folder', () => {
  let file: string;
  beforeAll(() => {
    file = path.join(work, 'sessions-is-a-file');
    writeFileSync(file, 'not a folder\n');
  });

  it('backup: exit 2 naming it, no archive (not an empty archive that verifies)', async () => {
    const out = path.join(work, 'from-a-file.tar.gz');
    expectUsage(await cli(['backup', 'local', '-o', out], { sessionsDir: file }), /The sessions dir .*sessions-is-a-file is not a folder/);
    expect(existsSync(out)).toBe(false);
  });

  it('migrate local mongo and mongo local, restore into it, purge, inspect: exit 2 naming it', async () => {
    const pattern = /The sessions dir .*sessions-is-a-file is not a folder/;
    expectUsage(await cli(['migrate', 'local', 'mongo'], { sessionsDir: file }), pattern);
    expectUsage(await cli(['migrate', 'mongo', 'local'], { sessionsDir: file }), pattern);
    expectUsage(await cli(['restore', path.join(work, 'for-restore.tar.gz'), 'local'], { sessionsDir: file }), pattern);
    expectUsage(await cli(['purge', 'local', '--all', '--yes'], { sessionsDir: file }), pattern);
    expectUsage(await cli(['inspect', 'local'], { sessionsDir: file }), pattern);
    expect(await mongoDatabases()).toEqual([]);
  });

  it('a sessions dir that does not exist: exit 2 "no such folder" for backup and migrate from it', async () => {
    const missing = path.join(work, 'no-such-sessions');
    expectUsage(await cli(['backup', 'local', '-o', path.join(work, 'missing.tar.gz')], { sessionsDir: missing }), /The sessions dir .*no-such-sessions does not exist/);
    expectUsage(await cli(['migrate', 'local', 'mongo'], { sessionsDir: missing }), /The sessions dir .*no-such-sessions does not exist/);
    expect(existsSync(path.join(work, 'missing.tar.gz'))).toBe(false);
    expect(existsSync(missing)).toBe(false);
  });

  it('inspect: a missing --sessions-dir given explicitly is exit 2 even with MongoDB configured; the default missing is "no sessions"', async () => {
    expectUsage(await cli(['inspect'], { sessionsDir: path.join(work, 'no-such-sessions') }), /does not exist/);
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'waha-typos-cwd-'));
    try {
      const result = await runCli(['inspect'], { cwd });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('No sessions found.');
      expect(existsSync(path.join(cwd, '.sessions'))).toBe(false);
      // a named session in the default (missing) folder does not exist either
      const named = await runCli(['inspect', '--session', 'alpha'], { cwd });
      expect(named.code).toBe(2);
      expect(named.stderr).toContain('"alpha"');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

describe('a backup with no session in it is not written', () => {
  it('an empty sessions dir: exit 1 with a clear line, no archive', async () => {
    const empty = path.join(work, 'empty-sessions');
    mkdirSync(empty);
    const out = path.join(work, 'nothing.tar.gz');
    const result = await cli(['backup', 'local', '-o', out], { sessionsDir: empty });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/No session to back up in local .*empty-sessions.*no archive was written/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('a store whose engine folder is there but empty (WAHA started, no session yet): exit 1, no archive', async () => {
    const base = path.join(work, 'empty-engine');
    mkdirSync(path.join(base, 'noweb'), { recursive: true });
    const out = path.join(work, 'no-session.tar.gz');
    const result = await runCli(['backup', 'local', '--sessions-dir', base, '-o', out]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/No session to back up/);
    expect(existsSync(out)).toBe(false);
  });
});
