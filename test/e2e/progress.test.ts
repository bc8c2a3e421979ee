/**
 * Progress of long commands (issue 11, item 4): on a terminal (a pseudo-terminal from `script`)
 * the progress line appears (planning, done/total, bytes, rate, ETA); on a pipe, with --json and
 * with NO_COLOR it does not. What the terminal got is the raw transcript, frames erased later included.
 */
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, runCli } from '../support/cli.js';
import { writeLocalNowebSessions } from '../support/fixtures/index.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { age } from '../support/scenario.js';
import { ROOT } from '../support/servers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'waha-progress-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Runs the binary on a pseudo-terminal of 200 columns; returns the exit code and everything the terminal got. */
function onTerminal(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const line = `stty cols 200 rows 50; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qefc', line, '/dev/null'], { cwd: ROOT, env: { ...cleanEnv(env), TERM: 'xterm-256color' } });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${args.join(' ')} did not finish:\n${output}`)); }, 90_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

const PROGRESS = /\[[#-]{20}\] \d+\/\d+ sessions/;

describe('session commands', () => {
  const SESSIONS = 40;
  const namespace = uniqueNamespace('prog');
  const base = path.join(work, 'sessions');
  let client: MongoClient;
  const stores = () => ['--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl()];

  beforeAll(async () => {
    client = await connectMongo();
    await writeLocalNowebSessions(base, { count: SESSIONS, keysPerSession: 150, namespace });
    await age(path.join(base, namespace));
  }, 60_000);
  afterAll(async () => {
    await dropNamespace(client, namespace);
    await client.close();
  });

  it('migrate local mongo on a terminal: planning, then done/total with bytes, rate and ETA', async () => {
    const run = await onTerminal(['migrate', 'local', 'mongo', '--concurrency', '2', ...stores()]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('migrating local -> mongo: planning: listing the sessions in local');
    expect(run.output).toMatch(PROGRESS);
    expect(run.output).toMatch(new RegExp(`\\d+/${SESSIONS} sessions · [\\d.]+ (B|KiB|MiB) · [\\d.]+ (B|KiB|MiB)/s · ETA \\d+`));
    expect(run.output).toMatch(/· (reading|copying) bench-\d+/);
    expect(run.output).toMatch(new RegExp(`${SESSIONS} sessions: ${SESSIONS} done`));
  }, 120_000);

  it('migrate local mongo on a pipe: no progress line in stderr (the plain line per session only)', async () => {
    await dropNamespace(client, namespace);
    const run = await runCli(['migrate', 'local', 'mongo', '--concurrency', '2', ...stores()], { timeoutMs: 90_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(PROGRESS);
    expect(run.stderr).not.toMatch(/planning|ETA|\/s\b/);
    expect(run.stderr).toMatch(/^done NOWEB bench-00000 \(\d+ entries/m);
  }, 120_000);

  it('backup on a terminal with --json, and with NO_COLOR: no progress line', async () => {
    const json = await onTerminal(['backup', 'local', '-o', path.join(work, 'a.tar.gz'), '--json', ...stores()]);
    expect(json.code, json.output).toBe(0);
    expect(json.output).not.toMatch(PROGRESS);
    expect(json.output).not.toMatch(/planning:/);
    const plain = await onTerminal(['backup', 'local', '-o', path.join(work, 'b.tar.gz'), ...stores()], { NO_COLOR: '1' });
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output).not.toMatch(PROGRESS);
    expect(plain.output).not.toMatch(/planning:/);
  }, 120_000);

  it('backup on a terminal: the progress line appears', async () => {
    const run = await onTerminal(['backup', 'local', '-o', path.join(work, 'c.tar.gz'), ...stores()]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/backing up local \[[#-]{20}\] \d+\/40 sessions/);
  }, 120_000);
});

describe('media clean', () => {
  /** `count` expired files: hard links of one aged file (fast to make). */
  function mediaFolder(count: number): string {
    const dir = mkdtempSync(path.join(work, 'media-'));
    const folder = path.join(dir, 'default');
    mkdirSync(folder);
    const seed = path.join(folder, '0.jpeg');
    writeFileSync(seed, 'x'.repeat(100));
    const old = new Date(Date.now() - 3 * 86_400_000);
    utimesSync(seed, old, old);
    for (let i = 1; i < count; i++) linkSync(seed, path.join(folder, `${i}.jpeg`));
    return dir;
  }

  it('on a terminal: a live count with rate; with --max-delete (counted first): done/total and ETA', async () => {
    const live = await onTerminal(['media', 'clean', 'local', '--older-than', '1d', '--media-dir', mediaFolder(30_000)]);
    expect(live.code, live.output).toBe(0);
    expect(live.output).toMatch(/cleaning \S+: \d+ scanned, \d+ match, \d+ deleted \(\d+s\)/);
    const counted = await onTerminal(['media', 'clean', 'local', '--older-than', '1d', '--max-delete', '100000', '--media-dir', mediaFolder(30_000)]);
    expect(counted.code, counted.output).toBe(0);
    expect(counted.output).toMatch(/cleaning \S+: counting: \d+ scanned/);
    expect(counted.output).toMatch(/cleaning \S+ \[[#-]{20}\] \d+\/30000 deleted/);
  }, 120_000);

  it('on a pipe: no progress line in stderr', async () => {
    const run = await runCli(['media', 'clean', 'local', '--older-than', '1d', '--max-delete', '100000', '--media-dir', mediaFolder(30_000)]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/Deleted 30000 of 30000 objects/);
  }, 120_000);
});
