/**
 * Ctrl-C, SIGINT and SIGTERM in the middle of every command that changes data (issue 14, items 1
 * and 2). On a terminal the keystroke is sent into a real pseudo-terminal (tmux) while the spinner
 * runs; piped runs get the signal from `kill`. Every run must stop early with exit 130, and its
 * summary must count exactly what is gone or copied (checked against what the stores hold after).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, cleanEnv } from '../support/cli.js';
import { scaleSessionName, writeLocalNowebSessions } from '../support/fixtures/index.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { age } from '../support/scenario.js';
import { ROOT } from '../support/servers.js';
import { DAY, createBucket, s3Client, s3Env, uniqueBucket } from '../media/seed.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const SOCKET = `waha-storage-interrupt-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'waha-interrupt-'));
const OLD = new Date(Date.now() - 3 * DAY);

afterAll(() => {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  rmSync(work, { recursive: true, force: true });
});

/** A pause at each safe point (src/util/test-pace.ts): an idle machine would finish before the keystroke lands. */
const PACE = { WAHA_STORAGE_TEST_PACE_MS: '150' };

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

/** The child's environment as cleanEnv gives it (with the pace), by name. */
function variables_of(env: Record<string, string>): NodeJS.ProcessEnv {
  return cleanEnv({ ...PACE, ...env });
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

interface TerminalRun {
  code: number;
  /** Everything the terminal showed (stdout and stderr), wrapped lines joined. */
  screen: string;
}

let runs = 0;
/**
 * Runs the binary in a tmux pane (stdin, stdout and stderr are the pseudo-terminal, so the
 * spinner runs), presses Ctrl-C once `ready(screen)` holds, and returns the exit code and screen.
 */
async function ctrlC(args: string[], env: Record<string, string>, ready: (screen: string) => boolean | Promise<boolean>, answer?: { question: RegExp; keys: string[] }): Promise<TerminalRun> {
  const name = `run${++runs}`;
  const rc = path.join(work, `${name}.rc`);
  const script = path.join(work, `${name}.sh`);
  const variables = Object.entries({ ...cleanEnv({ ...PACE, ...env }), TERM: 'xterm-256color' })
    .filter(([key, value]) => value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
    .map(([key, value]) => `export ${key}=${quote(value!)}`);
  // The shell traps INT so that it outlives the Ctrl-C and records the command's exit code.
  // the tmux server has the test run's own environment (CI=true in CI turns spinners off): drop what cleanEnv drops
  const unset = Object.keys(process.env).filter((key) => !(key in variables_of(env))).filter((key) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(key));
  writeFileSync(script, [unset.length ? `unset ${unset.join(' ')}` : '', ...variables, "trap 'true' INT", `cd ${quote(ROOT)}`,
    `${[process.execPath, BIN, ...args].map(quote).join(' ')}`, `echo $? > ${quote(rc)}`, 'sleep 120', ''].join('\n'));
  const tmux = (...rest: string[]) => spawnSync('tmux', ['-L', SOCKET, ...rest], { encoding: 'utf8' });
  const started = tmux('new-session', '-d', '-x', '250', '-y', '50', '-s', name, `bash ${quote(script)}`);
  expect(started.status, started.stderr).toBe(0);
  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', name).stdout;
  try {
    if (answer) {
      await until(`the question ${answer.question}`, () => answer.question.test(screen()));
      tmux('send-keys', '-t', name, ...answer.keys);
    }
    await until(`${args.join(' ')} to get going`, async () => existsSync(rc) || await ready(screen()));
    expect(existsSync(rc), `it finished before Ctrl-C could be pressed:\n${screen()}`).toBe(false);
    tmux('send-keys', '-t', name, 'C-c');
    await until(`${args.join(' ')} to stop after Ctrl-C`, () => existsSync(rc), 20_000);
    return { code: Number(readFileSync(rc, 'utf8').trim()), screen: screen() };
  } finally {
    tmux('kill-session', '-t', name);
  }
}

interface PipedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary without a terminal (as cron does) and sends `signal` once `ready()` holds. */
async function piped(args: string[], env: Record<string, string>, signal: NodeJS.Signals, ready: () => boolean | Promise<boolean>, again = false): Promise<PipedRun> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv({ ...PACE, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const closed = new Promise<PipedRun>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig, stdout, stderr })));
  let finished = false;
  void closed.then(() => { finished = true; });
  await until(`${args.join(' ')} to get going`, async () => finished || await ready());
  expect(finished, `it finished before ${signal} could be sent:\n${stderr}`).toBe(false);
  child.kill(signal);
  if (again) {
    await new Promise((resolve) => setTimeout(resolve, 20)); // two signals at once would be one
    child.kill(signal);
  }
  return closed;
}

const number = (screen: string, pattern: RegExp): number => {
  const match = pattern.exec(screen);
  if (!match) throw new Error(`${pattern} not on the screen:\n${screen}`);
  return Number(match[1]);
};

// ---------------------------------------------------------------------------------------------
// media clean local

/** `count` expired files in `sessions` session folders: hard links of one aged file per folder (fast to make). */
function mediaFolder(count: number, sessions: number): string {
  const dir = mkdtempSync(path.join(work, 'media-'));
  for (let s = 0; s < sessions; s++) {
    const folder = path.join(dir, `session${s}`);
    mkdirSync(folder);
    const seed = path.join(folder, '0.jpeg');
    writeFileSync(seed, 'x');
    utimesSync(seed, OLD, OLD);
    for (let i = 1; i < count / sessions; i++) linkSync(seed, path.join(folder, `${i}.jpeg`));
  }
  return dir;
}

function filesIn(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + readdirSync(path.join(dir, name)).length, 0);
}

describe.runIf(hasTmux)('media clean local, interrupted', () => {
  it('Ctrl-C on a terminal while the spinner runs: stops early, exit 130, counts exactly what was deleted', async () => {
    const total = 200_000;
    const dir = mediaFolder(total, 4);
    const run = await ctrlC(['media', 'clean', 'local', '--older-than', '1d'], { WHATSAPP_FILES_FOLDER: dir }, (screen) => /[1-9]\d* deleted/.test(screen));
    const left = filesIn(dir);
    expect(run.code, run.screen).toBe(130);
    expect(left, 'Ctrl-C stopped nothing').toBeGreaterThan(0);
    expect(run.screen).toMatch(/Interrupted: Deleted \d+ of \d+ objects/);
    expect(number(run.screen, /Deleted (\d+) of/)).toBe(total - left);
  }, 60_000);

  it('a second SIGINT stops at once and still prints one JSON document saying so', async () => {
    const total = 100_000;
    const dir = mediaFolder(total, 4);
    const run = await piped(['media', 'clean', 'local', '--older-than', '1d', '--json'], { WHATSAPP_FILES_FOLDER: dir }, 'SIGINT', () => filesIn(dir) < total, true);
    expect(run.code, run.stderr).toBe(130);
    // one document either way: the error of the second signal, or (when the first stop was quicker than
    // the second signal) the interrupted summary; before, a second signal left stdout empty
    const document = JSON.parse(run.stdout);
    if (/SIGINT again/.test(run.stderr)) {
      expect(document).toMatchObject({ schemaVersion: 1, error: { code: 'interrupted', message: expect.stringMatching(/SIGINT again: stopped at once/) } });
    } else {
      expect(document).toMatchObject({ schemaVersion: 1, interrupted: true });
    }
  }, 60_000);

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} on a piped run (--json): exit 130, interrupted: true, deleted = what is gone`, async () => {
      const total = 100_000;
      const dir = mediaFolder(total, 4);
      const run = await piped(['media', 'clean', 'local', '--older-than', '1d', '--json'], { WHATSAPP_FILES_FOLDER: dir }, signal, () => filesIn(dir) < total);
      const left = filesIn(dir);
      expect(run.code, run.stderr).toBe(130);
      expect(left).toBeGreaterThan(0);
      const document = JSON.parse(run.stdout);
      expect(document).toMatchObject({ schemaVersion: 1, interrupted: true });
      expect(document.summary.deleted).toBe(total - left);
      expect(document.summary.failed).toBe(0);
    }, 60_000);
  }
});

// ---------------------------------------------------------------------------------------------
// media clean s3

describe.runIf(hasTmux)('media clean s3, interrupted', () => {
  const endpoint = inject('s3Endpoint');
  const s3Directory = inject('s3Directory');
  let client: S3Client;
  beforeAll(() => { client = s3Client(endpoint); });
  afterAll(() => client.destroy());

  async function count(bucket: string): Promise<number> {
    let total = 0;
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      total += page.KeyCount ?? 0;
      token = page.NextContinuationToken;
    } while (token);
    return total;
  }

  /** One object put through the API, then its stored files linked under more keys (s3rver serves them all). */
  async function bucketWith(objects: number, sessions: number): Promise<string> {
    const bucket = uniqueBucket();
    await createBucket(client, bucket);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'seed/0.jpeg', Body: 'x', ContentType: 'image/jpeg' }));
    await new Promise((resolve) => setTimeout(resolve, 300)); // s3rver answers before its files are closed
    const stored = (suffix: string) => path.join(s3Directory, bucket, 'seed', `0.jpeg._S3rver_${suffix}`);
    utimesSync(stored('object'), OLD, OLD);
    for (let s = 0; s < sessions; s++) {
      const folder = path.join(s3Directory, bucket, `session${s}`);
      mkdirSync(folder, { recursive: true });
      for (let i = 0; i < objects / sessions; i++) {
        for (const suffix of ['object', 'object.md5', 'metadata.json']) {
          if (existsSync(stored(suffix))) linkSync(stored(suffix), path.join(folder, `${i}.jpeg._S3rver_${suffix}`));
        }
      }
    }
    rmSync(path.join(s3Directory, bucket, 'seed'), { recursive: true, force: true });
    return bucket;
  }

  it('Ctrl-C on a terminal while the spinner runs: stops early, exit 130, counts exactly what was deleted', async () => {
    const total = 8_000;
    const bucket = await bucketWith(total, 8);
    expect(await count(bucket)).toBe(total);
    const run = await ctrlC(['media', 'clean', 's3', '--older-than', '1d'], s3Env(endpoint, bucket), (screen) => /[1-9]\d* deleted/.test(screen));
    const left = await count(bucket);
    expect(run.code, run.screen).toBe(130);
    expect(left, 'Ctrl-C stopped nothing').toBeGreaterThan(0);
    expect(run.screen).toMatch(/Interrupted: Deleted \d+ of \d+ objects/);
    expect(number(run.screen, /Deleted (\d+) of/)).toBe(total - left);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// migrate, backup, restore, purge

describe.runIf(hasTmux)('inspect local, interrupted', () => {
  let base: string;
  beforeAll(async () => {
    base = mkdtempSync(path.join(work, 'inspect-'));
    await writeLocalNowebSessions(base, { count: 80, keysPerSession: 20 });
  });

  for (const [label, env] of [['GNU find', {}], ['the Node walk', { WAHA_STORAGE_FIND: '0' }]] as const) {
    it(`Ctrl-C on a terminal stops a long listing at once (${label}): exit 130, no find left running`, async () => {
      const started = Date.now();
      const run = await ctrlC(['inspect', 'local', '--sessions-dir', base], env, (screen) => /reading sessions/.test(screen));
      expect(run.code, run.screen).toBe(130);
      expect(run.screen).toMatch(/interrupted/);
      expect(Date.now() - started, 'it ran to the end (80 sessions x 150 ms)').toBeLessThan(10_000);
      const finds = spawnSync('pgrep', ['-f', `find -P ${base}`], { encoding: 'utf8' }).stdout.trim();
      expect(finds).toBe('');
    }, 60_000);
  }
});

describe.runIf(hasTmux)('session commands, interrupted', () => {
  const SESSIONS = 60;
  const namespace = uniqueNamespace('int');
  const base = path.join(work, 'sessions');
  const archive = path.join(work, 'complete.tar.gz');
  let client: MongoClient;
  const stores = (dir = base) => ['--sessions-dir', dir, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl()];
  const sessionsIn = (dir: string) => existsSync(path.join(dir, namespace))
    ? readdirSync(path.join(dir, namespace), { withFileTypes: true }).filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).length : 0;
  const inMongo = () => client.db(`waha_${namespace}`).collection('sessions').countDocuments();

  beforeAll(async () => {
    client = await connectMongo();
    await writeLocalNowebSessions(base, { count: SESSIONS, keysPerSession: 150, namespace });
    await age(path.join(base, namespace));
  }, 60_000);
  afterAll(async () => {
    await dropNamespace(client, namespace);
    await client.close();
  });

  it('migrate local mongo: after a yes to the question, Ctrl-C on a terminal stops early, exit 130, "done" = the sessions MongoDB holds', async () => {
    // the question puts the terminal in raw mode; after it, ^C must be SIGINT again
    const run = await ctrlC(['migrate', 'local', 'mongo', '--overwrite', '--concurrency', '2', ...stores()], {},
      (screen) => Number(/(\d+)\/\d+ sessions/.exec(screen.split('\n').reverse().join('\n'))?.[1] ?? 0) >= 2,
      { question: /replace sessions that already exist/, keys: ['y', 'Enter'] });
    const committed = await inMongo();
    expect(run.code, run.screen).toBe(130);
    expect(committed).toBeLessThan(SESSIONS);
    expect(number(run.screen, /\d+ sessions?: (\d+) done/)).toBe(committed);
    expect(run.screen).toMatch(/interrupted: committed sessions stay/);
  }, 60_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`migrate local mongo, piped, ${signal}: exit 130, interrupted: true, done = what was added to MongoDB`, async () => {
      const before = await inMongo();
      const run = await piped(['migrate', 'local', 'mongo', '--concurrency', '2', '--json', ...stores()], {}, signal, async () => await inMongo() >= before + 2);
      const after = await inMongo();
      expect(run.code, run.stderr).toBe(130);
      expect(after).toBeLessThan(SESSIONS);
      const document = JSON.parse(run.stdout);
      expect(document).toMatchObject({ schemaVersion: 1, interrupted: true });
      expect(document.summary.done).toBe(after - before);
    }, 60_000);
  }

  it('backup local -o file: Ctrl-C on a terminal leaves no archive and does not claim anything was backed up', async () => {
    const output = path.join(work, 'interrupted.tar.gz');
    const run = await ctrlC(['backup', 'local', '-o', output, ...stores()], {},
      (screen) => Number(/(\d+)\/\d+ sessions/.exec(screen.split('\n').reverse().join('\n'))?.[1] ?? 0) >= 2);
    expect(run.code, run.screen).toBe(130);
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.partial`)).toBe(false);
    expect(run.screen).toMatch(/\d+ sessions?: 0 done, .*backed up 0 entries/);
    expect(run.screen).toMatch(/no archive was written.*nothing was backed up/);
  }, 60_000);

  it('restore file local: Ctrl-C on a terminal stops early, exit 130, "done" = the sessions now in the store, no staging left', async () => {
    const some = Array.from({ length: 20 }, (_, index) => ['--session', scaleSessionName(index)]).flat();
    const complete = spawnSync(process.execPath, [BIN, 'backup', 'local', '-o', archive, ...some, ...stores()], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8' });
    expect(complete.status, complete.stderr).toBe(0);
    const target = mkdtempSync(path.join(work, 'restored-'));
    const run = await ctrlC(['restore', archive, 'local', '--concurrency', '1', ...stores(target)], {},
      (screen) => Number(/(\d+)\/\d+ sessions/.exec(screen.split('\n').reverse().join('\n'))?.[1] ?? 0) >= 2);
    const restored = sessionsIn(target);
    expect(run.code, run.screen).toBe(130);
    expect(restored).toBeLessThan(20);
    expect(number(run.screen, /\d+ sessions?: (\d+) done/)).toBe(restored);
    expect(readdirSync(target).filter((name) => name.includes('staging'))).toEqual([]);
  }, 90_000);

  it('purge local --all --yes: Ctrl-C on a terminal stops early, exit 130, the sessions listed deleted are exactly the ones gone', async () => {
    const run = await ctrlC(['purge', 'local', '--all', '--yes', ...stores()], {}, () => sessionsIn(base) < SESSIONS);
    const left = sessionsIn(base);
    expect(run.code, run.screen).toBe(130);
    expect(left).toBeGreaterThan(0);
    expect(number(run.screen, /\d+ sessions?: (\d+) deleted/)).toBe(SESSIONS - left);
    expect(run.screen).toMatch(/interrupted: \d+ sessions? (was|were) deleted/);
  }, 60_000);
});
