/**
 * One output surface, through the built binary: every table fits the terminal (80 and 120 columns
 * on a pseudo-terminal), --quiet prints nothing on success, one name for one thing (problem codes,
 * the logged-in word, plurals), help with examples wrapped at the terminal width.
 */
import { mkdirSync, utimesSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { json, runCli, type CliOptions } from '../support/cli.js';
import { connectMongo, dropNamespace, mongoUrl } from '../support/mongo.js';
import { localScenario, type Scenario } from '../support/scenario.js';
import { DAY, createBucket, putObjects, s3Client, s3Env, tempDir, uniqueBucket, wahaMetadata, writeLocal } from '../media/seed.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]|\u001b\][^\u0007]*\u0007/g;
// eslint-disable-next-line no-control-regex
const CURSOR_MOVE = /\r|\u001b\[\d*[GK]/g;

/** What a terminal shows, line by line: a spinner's frames (drawn over each other) count one by one. */
function screenLines(output: string): string[] {
  return output.replace(/\r\n/g, '\n').split('\n').flatMap((line) => line.split(CURSOR_MOVE)).map((line) => line.replace(ANSI, ''));
}

function widest(output: string): { width: number; line: string } {
  let best = { width: 0, line: '' };
  for (const line of screenLines(output)) if ([...line].length > best.width) best = { width: [...line].length, line };
  return best;
}

const plain = (output: string) => output.replace(/\r\n/g, '\n').replace(ANSI, '');

let client: MongoClient;
let scenario: Scenario;
let work: string;
let archive: string;
let sessionArgs: string[];
let mediaDir: string;
let bucket: string;
const endpoint = inject('s3Endpoint');
const s3Directory = inject('s3Directory');

beforeAll(async () => {
  client = await connectMongo();
  scenario = await localScenario('noweb', 'surface');
  work = await mkdtemp(path.join(os.tmpdir(), 'waha-surface-'));
  archive = path.join(work, 'archives', 'sessions.tar.gz');
  mkdirSync(path.dirname(archive));
  sessionArgs = ['--sessions-dir', scenario.base, '--namespace', scenario.namespace, '--session-namespace', scenario.namespace, '--mongo-url', mongoUrl()];
  const backup = await runCli(['backup', 'local', '--output', archive, '--engine', 'NOWEB', ...sessionArgs]);
  expect([0, 3], backup.stderr).toContain(backup.code);
  mediaDir = tempDir();
  for (let i = 0; i < 3; i++) writeLocal(mediaDir, `a-session-with-a-rather-long-name/false_5511912345678@c.us_3EB0${'F'.repeat(40)}${i}.jpeg`, 'x', new Date(Date.now() - 2 * DAY));
  writeLocal(mediaDir, 'default/true_111@c.us_AAAA.oga', 'y', new Date());
  const s3 = s3Client(endpoint);
  bucket = uniqueBucket();
  await createBucket(s3, bucket);
  const key = `default/false_111@c.us_${'B'.repeat(60)}.oga`;
  await putObjects(s3, s3Directory, bucket, [
    { key, metadata: { ...wahaMetadata(key), 'waha-message-id': 'not-the-key' }, contentType: 'audio/ogg' },
    { key: 'a-flat-file-from-an-old-waha-with-a-long-name.jpeg', metadata: {}, contentType: 'image/jpeg' },
  ]);
  s3.destroy();
}, 120_000);

afterAll(async () => {
  await dropNamespace(client, scenario.namespace);
  await client.close();
  await scenario.cleanup();
  await rm(work, { recursive: true, force: true });
});

/** Every command that prints a table, as a user runs it on a terminal. */
function tableCommands(): [string, string[], CliOptions['env']?][] {
  return [
    ['inspect', ['inspect', 'local', ...sessionArgs]],
    ['inspect detail', ['inspect', 'local', '--session', 'alpha', ...sessionArgs]],
    ['migrate', ['migrate', 'local', 'mongo', '--dry-run', ...sessionArgs]],
    ['backup', ['backup', 'local', '--output', path.join(work, 'again-{time}.tar.gz'), ...sessionArgs]],
    ['backup verify', ['backup', 'verify', archive]],
    ['restore', ['restore', archive, 'local', '--dry-run', ...sessionArgs]],
    ['purge', ['purge', 'local', '--all', '--dry-run', ...sessionArgs]],
    ['diff', ['diff', archive, 'local', ...sessionArgs]],
    ['backup prune', ['backup', 'prune', path.dirname(archive), '--keep-last', '1', '--dry-run']],
    ['media list', ['media', 'list', 'local', '--media-dir', mediaDir]],
    ['media clean', ['media', 'clean', 'local', '--older-than', '1d', '--dry-run', '--media-dir', mediaDir]],
    ['media verify', ['media', 'verify'], s3Env(endpoint, bucket)],
    ['health', ['health', '--extended', '--sessions-dir', scenario.base, '--media-dir', mediaDir]],
  ];
}

describe('tables fit the terminal', () => {
  for (const columns of [80, 120]) {
    it(`no line wider than ${columns} columns, in every table command`, async () => {
      for (const [name, args, env] of tableCommands()) {
        const result = await runCli(args, { tty: true, columns, env, timeoutMs: 60_000 });
        const output = plain(result.stdout);
        expect(result.code, `${name}: ${output}`).not.toBe(2);
        expect(output.trim().length, name).toBeGreaterThan(0);
        const { width, line } = widest(result.stdout);
        expect(width, `${name} at ${columns} columns: "${line}"\n${output}`).toBeLessThanOrEqual(columns);
      }
    }, 300_000);
  }

  it('cells wrap or shorten instead of being cut off: a long key keeps its start and its end', async () => {
    const result = await runCli(['media', 'list', 'local', '--media-dir', mediaDir], { tty: true, columns: 80 });
    const output = plain(result.stdout);
    expect(output).toMatch(/a-session-with-…\s+a-session-with\S*…F+2\.jpeg/); // the session cut at its end, the key in its middle
    const wide = await runCli(['media', 'list', 'local', '--media-dir', mediaDir], { tty: true, columns: 300 });
    expect(plain(wide.stdout)).toContain(`false_5511912345678@c.us_3EB0${'F'.repeat(40)}2.jpeg`);
  });

  it('piped, nothing is shortened: plain columns a script can cut', async () => {
    const result = await runCli(['media', 'list', 'local', '--media-dir', mediaDir]);
    expect(result.stdout).toContain(`a-session-with-a-rather-long-name/false_5511912345678@c.us_3EB0${'F'.repeat(40)}2.jpeg`);
  });

  it('on a narrow terminal the least needed columns of inspect go, and it says so', async () => {
    const result = await runCli(['inspect', 'local', ...sessionArgs], { tty: true, columns: 80 });
    const output = plain(result.stdout);
    expect(output).toMatch(/engine\W+session\W+logged/);
    expect(output).not.toMatch(/│ last\b/);
    expect(output).toMatch(/not shown, to fit 80 columns: last change/);
    const wide = await runCli(['inspect', 'local', ...sessionArgs], { tty: true, columns: 250 });
    expect(plain(wide.stdout)).toMatch(/last change/);
  });

  it('reasons say the command at hand, with paths relative to the sessions dir', async () => {
    utimesSync(path.join(scenario.folder, 'alpha', 'creds.json'), new Date(), new Date()); // alpha looks in use
    const result = await runCli(['backup', 'local', '--output', path.join(work, 'live.tar.gz'), '--json', ...sessionArgs]);
    const alpha = json(result).sessions.find((session: { name: string }) => session.name === 'alpha');
    expect(alpha).toMatchObject({ status: 'failed', reason: 'live' });
    expect(alpha.message).toMatch(/stop WAHA before backing up/);
    expect(alpha.message).not.toMatch(/before migrating/);
    const table = await runCli(['backup', 'local', '--output', path.join(work, 'live2.tar.gz'), ...sessionArgs]);
    expect(table.stdout).toMatch(new RegExp(`live: ${scenario.namespace}/alpha/creds.json changed`));
    expect(table.stdout).not.toContain(scenario.base);
    utimesSync(path.join(scenario.folder, 'alpha', 'creds.json'), new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
  });
});

describe('--quiet prints nothing on success', () => {
  it('inspect, migrate, backup, media clean and purge --yes: no byte on stdout or stderr, exit 0', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'waha-quiet-'));
    const own = ['--sessions-dir', base, '--namespace', scenario.namespace, '--session-namespace', scenario.namespace, '--mongo-url', mongoUrl()];
    const restored = await runCli(['restore', archive, 'local', '--session', 'alpha', '--quiet', ...own]);
    expect(restored.code, restored.stderr).toBe(0);
    const media = tempDir();
    writeLocal(media, 's/old.jpg', 'x', new Date(Date.now() - 2 * DAY));
    const runs: [string, string[]][] = [
      ['inspect', ['inspect', 'local', '--quiet', ...own]],
      ['migrate', ['migrate', 'local', 'mongo', '--session', 'alpha', '--quiet', ...own]],
      ['backup', ['backup', 'local', '--output', path.join(base, 'quiet.tar.gz'), '--quiet', ...own]],
      ['media clean', ['media', 'clean', 'local', '--older-than', '1d', '--media-dir', media, '--quiet']],
      ['purge', ['purge', 'mongo', '--session', 'alpha', '--yes', '--quiet', ...own]],
    ];
    for (const [name, args] of runs) {
      const result = await runCli(args);
      expect({ name, code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ name, code: 0, stdout: '', stderr: '' });
    }
    // on a terminal too (the spinner stays off)
    const tty = await runCli(['inspect', 'local', '--quiet', ...own], { tty: true, columns: 80 });
    expect(tty.code).toBe(0);
    expect(plain(tty.stdout).trim()).toBe('');
    await rm(base, { recursive: true, force: true });
  }, 120_000);

  it('--quiet --json still prints the document; a failure still says what failed, on stderr', async () => {
    const result = await runCli(['inspect', 'local', '--quiet', '--json', ...sessionArgs]);
    expect(json(result).schemaVersion).toBe(1);
    const failed = await runCli(['migrate', 'local', 'mongo', '--quiet', '--engine', 'NOWEB', ...sessionArgs]);
    expect(failed.code).toBe(3); // the fixtures hold sessions that must fail
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(/broken\s+failed\s+creds-corrupt/);
  }, 60_000);
});

describe('one name for one thing', () => {
  it('the invalid-name problem code is the same in inspect and in a transfer', async () => {
    const inspected = json(await runCli(['inspect', 'local', '--json', ...sessionArgs]));
    const oldName = inspected.sessions.find((session: { name: string }) => session.name === 'old name');
    expect(oldName.problems.map((item: { code: string }) => item.code)).toEqual(['invalid-name']);
    const migrated = json(await runCli(['migrate', 'local', 'mongo', '--dry-run', '--json', '--session', 'old name', ...sessionArgs]));
    expect(migrated.sessions[0]).toMatchObject({ status: 'failed', reason: 'invalid-name' });
    expect(JSON.stringify(inspected) + JSON.stringify(migrated)).not.toContain('name-invalid');
  });

  it('the logged-in state is yes, no or unknown in every table (never "?")', async () => {
    const verify = plain((await runCli(['backup', 'verify', archive], { tty: true, columns: 120 })).stdout);
    const purge = plain((await runCli(['purge', 'local', '--all', '--dry-run', ...sessionArgs], { tty: true, columns: 120 })).stdout);
    const inspect = plain((await runCli(['inspect', 'local', ...sessionArgs], { tty: true, columns: 200 })).stdout);
    expect(verify).toMatch(/alpha\s+│ yes\s+│/);
    expect(purge).toMatch(/broken\s+│ unknown\s+│/); // its creds.json cannot be read: unknown, as inspect says
    expect(inspect).toMatch(/broken\s+│ local\s+│ unknown\s+│/);
  });

  it('one session is "1 session", one entry "1 entry"', async () => {
    const inspected = await runCli(['inspect', 'local', '--session', 'alpha', '--session', 'ghost', ...sessionArgs]);
    expect(inspected.stdout).toMatch(/^2 sessions, 1 logged in/m);
    const one = await runCli(['migrate', 'local', 'mongo', '--dry-run', '--session', 'ghost', ...sessionArgs]);
    expect(one.stdout).toMatch(/^1 session: /m);
    expect(one.stdout).not.toMatch(/\b1 sessions\b|\b1 entries\b/);
    const verify = await runCli(['backup', 'verify', archive]);
    expect(verify.stdout).not.toMatch(/\b1 sessions\b|\b1 entries\b/);
  });

  it('a worker row without a worker id is null in the JSON, not ""; WAHA\'s default worker stays ""', async () => {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path.join(scenario.folder, 'waha.sqlite3'));
    db.prepare('INSERT INTO session_worker (id, worker) VALUES (?, NULL)').run('fresh');
    db.close();
    const inspected = json(await runCli(['inspect', 'local', '--json', ...sessionArgs]));
    const alpha = inspected.sessions.find((session: { name: string }) => session.name === 'alpha');
    expect(alpha.worker).toBe(''); // the fixture's row: WAHA_WORKER_ID's default
    const fresh = inspected.sessions.find((session: { name: string }) => session.name === 'fresh');
    expect(fresh.worker).toBeNull();
  });
});

describe('media clean --dry-run and backup verify problems', () => {
  it('a dry run lists each object it would delete: a line each, NDJSON with --json when piped', async () => {
    const text = await runCli(['media', 'clean', 'local', '--older-than', '1d', '--dry-run', '--media-dir', mediaDir]);
    expect(text.code).toBe(0);
    expect(text.stdout.match(/^would delete a-session-with-a-rather-long-name\/\S+\.jpeg/gm)).toHaveLength(3);
    expect(text.stdout).not.toContain('default/true_111');
    const ndjson = await runCli(['media', 'clean', 'local', '--older-than', '1d', '--dry-run', '--json', '--media-dir', mediaDir]);
    const lines = ndjson.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ schemaVersion: 1, type: 'header', command: 'media clean', dryRun: true });
    expect(lines.slice(1, -1)).toHaveLength(3);
    expect(lines[1]).toMatchObject({ session: 'a-session-with-a-rather-long-name', bytes: 1 });
    expect(lines.at(-1)).toMatchObject({ type: 'summary', summary: { matched: 3, deleted: 0 } });
  });

  it('backup verify puts each problem on stderr too', async () => {
    const damaged = path.join(work, 'damaged.tar.gz');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const bytes = readFileSync(archive);
    writeFileSync(damaged, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const result = await runCli(['backup', 'verify', damaged, '--json']);
    expect(result.code).toBe(3);
    expect(json(result).problems.length).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/error: .*(truncated|corrupt)/);
  });
});

describe('help', () => {
  const commands = ['', 'inspect', 'health', 'media', 'media list', 'media clean', 'media verify', 'migrate', 'backup', 'backup verify', 'backup prune', 'restore', 'purge', 'diff', 'usage', 'messages', 'messages prune'];

  it('every command has examples and wraps at 80 columns when piped', async () => {
    for (const name of commands) {
      const result = await runCli([...name.split(' ').filter(Boolean), '--help']);
      expect(result.code, name).toBe(0);
      expect(result.stdout, name).toMatch(/\nExamples:\n(  # .+\n)?  \$ waha-storage /);
      expect((result.stdout.match(/^ {2}\$ waha-storage /gm) ?? []).length, name).toBeGreaterThanOrEqual(2);
      expect(widest(result.stdout).width, `${name}: ${widest(result.stdout).line}`).toBeLessThanOrEqual(80);
    }
  }, 120_000);

  it('wraps at the terminal width', async () => {
    const wide = await runCli(['migrate', '--help'], { tty: true, columns: 120 });
    expect(widest(wide.stdout).width).toBeGreaterThan(80);
    expect(widest(wide.stdout).width).toBeLessThanOrEqual(120);
    const narrow = await runCli(['migrate', '--help'], { tty: true, columns: 60 });
    expect(widest(narrow.stdout).width).toBeLessThanOrEqual(60);
  });

  it('media list does not talk about unlinking', async () => {
    const list = await runCli(['media', 'list', '--help']);
    expect(list.stdout).not.toMatch(/unlink/);
    const clean = await runCli(['media', 'clean', '--help']);
    expect(clean.stdout).toMatch(/unlink/);
  });
});
