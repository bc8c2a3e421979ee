/**
 * One flag surface, through the built binary: the short forms -s/-e/-y on every command that takes
 * them, --timeout as the session store's connect timeout everywhere (health: --http-timeout),
 * --env / --env-file on this Node, MongoDB URLs the driver rejects (exit 2) and a refused port
 * (at once, not after the timeout).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, cleanEnv, json, runCli } from '../support/cli.js';
import { mongoUrl } from '../support/mongo.js';
import { localScenario, type Scenario } from '../support/scenario.js';
import { DAY, createBucket, putObjects, s3Client, s3Env, tempDir as mediaDir, uniqueBucket, wahaMetadata, writeLocal } from '../media/seed.js';

const cleanups: (() => Promise<unknown>)[] = [];
let scenario: Scenario;
beforeAll(async () => {
  scenario = await localScenario('noweb', 'flg');
  cleanups.push(scenario.cleanup);
});
afterAll(async () => { for (const cleanup of cleanups.reverse()) await cleanup(); });

/** The options commander lists in a command's --help. */
async function helpOf(command: string[]): Promise<string> {
  const result = await runCli([...command, '--help']);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

const ndjson = (text: string): any[] => text.trim().split('\n').map((line) => JSON.parse(line));

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server that accepts connections and never answers (a firewall that lets the SYN through). */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => { sockets.push(socket); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `mongodb://127.0.0.1:${port}/`,
    close: () => { for (const socket of sockets) socket.destroy(); return new Promise((resolve) => server.close(() => resolve())); },
  };
}

describe('the same short flags everywhere', () => {
  const SESSION = ['inspect', 'migrate', 'backup', 'restore', 'purge', 'diff', 'usage', 'messages prune', 'media list', 'media clean', 'media verify'];
  const ENGINE = ['inspect', 'migrate', 'backup', 'restore', 'purge', 'diff', 'usage', 'messages prune'];
  const YES = ['migrate', 'backup', 'restore', 'purge', 'backup prune', 'messages prune', 'media clean', 'media verify'];

  it('-s/--session, -e/--engine and -y/--yes are listed by every command that takes them', async () => {
    const commands = [...new Set([...SESSION, ...ENGINE, ...YES])];
    const helps = Object.fromEntries(await Promise.all(commands.map(async (command) => [command, await helpOf(command.split(' '))] as const)));
    for (const command of SESSION) expect(helps[command], command).toMatch(/-s, --session <name>/);
    for (const command of ENGINE) expect(helps[command], command).toMatch(/-e, --engine <engine>/);
    for (const command of YES) expect(helps[command], command).toMatch(/-y, --yes/);
  });

  it('inspect -s -e narrows like --session --engine', async () => {
    const args = ['inspect', 'local', '--sessions-dir', scenario.base, '--namespace', scenario.namespace, '--session-namespace', scenario.namespace, '--json'];
    const short = await runCli([...args, '-s', 'alpha', '-s', 'fresh', '-e', 'noweb']);
    const long = await runCli([...args, '--session', 'alpha', '--session', 'fresh', '--engine', 'noweb']);
    expect(short.code, short.stderr).toBe(0);
    expect(json(short).sessions.map((s: any) => s.name).sort()).toEqual(['alpha', 'fresh']);
    expect(json(short).sessions).toEqual(json(long).sessions);
  });

  it('media list -s and media clean -s -y take the short forms', async () => {
    const dir = mediaDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const old = new Date(Date.now() - 3 * DAY);
    writeLocal(dir, 'one/a.jpg', 'aaaa', old);
    writeLocal(dir, 'two/b.jpg', 'bbbbbb', old);
    const env = { WHATSAPP_FILES_FOLDER: dir };
    const keys = async (args: string[]) => {
      const listed = await runCli(['media', 'list', 'local', ...args, '--json'], { env });
      expect(listed.code, listed.stderr).toBe(0);
      return ndjson(listed.stdout).filter((line) => line.key).map((line) => line.key);
    };
    expect(await keys(['-s', 'one'])).toEqual(['one/a.jpg']);
    const cleaned = await runCli(['media', 'clean', 'local', '-s', 'two', '--older-than', '1d', '-y', '--json'], { env });
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(json(cleaned).summary).toMatchObject({ matched: 1, deleted: 1 });
    expect(await keys([])).toEqual(['one/a.jpg']);
  });

  it('media verify --fix --yes (and -y, -s) is accepted: --yes is a global flag', async () => {
    const endpoint = inject('s3Endpoint');
    const client: S3Client = s3Client(endpoint);
    cleanups.push(async () => client.destroy());
    const bucket = uniqueBucket();
    await createBucket(client, bucket);
    const key = 's1/M4.jpeg';
    await putObjects(client, inject('s3Directory'), bucket, [{ key, metadata: { ...wahaMetadata(key), 'waha-message-id': 'X' }, contentType: 'image/jpeg', body: 'x' }]);
    const env = s3Env(endpoint, bucket);
    const fixed = await runCli(['media', 'verify', '--fix', '--yes', '--json'], { env });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(json(fixed).summary).toMatchObject({ checked: 1, fixed: 1, errorsRemaining: 0 });
    const again = await runCli(['media', 'verify', '-s', 's1', '--fix', '-y', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(json(again).summary).toMatchObject({ checked: 1, ok: 1 });
  });
});

describe('--timeout is the session store connect timeout; health has --http-timeout', () => {
  it('inspect mongo --timeout 500 against a server that never answers gives up after about 0.5 s', async () => {
    const silent = await silentServer();
    cleanups.push(silent.close);
    const started = Date.now();
    const result = await runCli(['inspect', 'mongo', '--mongo-url', silent.url, '--timeout', '500', '--json']);
    const elapsed = Date.now() - started;
    expect(result.code).toBe(1);
    expect(json(result).error.message).toMatch(/no answer within the timeout/);
    expect(elapsed).toBeLessThan(4000);
  });

  it('health --http-timeout limits a --server request; --timeout still works there, with a deprecation warning', async () => {
    const silent = await silentServer();
    cleanups.push(silent.close);
    const server = silent.url.replace('mongodb:', 'http:');
    const started = Date.now();
    const modern = await runCli(['health', '--server', server, '--http-timeout', '300']);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(modern.code).toBe(1);
    expect(modern.stderr).not.toMatch(/deprecated/);
    const old = await runCli(['health', '--server', server, '--timeout', '300']);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/--timeout is deprecated: use --http-timeout/);
    const bad = await runCli(['health', '--http-timeout', 'x']);
    expect(bad.code).toBe(2);
    const help = await helpOf(['health']);
    expect(help).toMatch(/--http-timeout <ms>/);
    expect(help).not.toMatch(/--timeout <ms>/);
    for (const command of ['inspect', 'migrate', 'backup', 'restore', 'purge', 'diff']) {
      expect(await helpOf(command.split(' ')), command).toMatch(/--timeout <ms>\s+time limit for connecting to the session store/);
    }
  });
});

describe('the .env file on this Node', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'waha-envfile-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const settings = `WAHA_LOCAL_STORE_BASE_DIR=${scenario.base}\nWAHA_SESSION_NAMESPACE=${scenario.namespace}\n`;
    await writeFile(path.join(dir, 'waha.env'), settings);
    await writeFile(path.join(dir, 'other.env'), settings);
  });

  it('--env <file> and --env-file <file> read the settings from a real file', async () => {
    for (const flag of ['--env', '--env-file']) {
      const result = await runCli(['inspect', 'local', flag, path.join(dir, 'waha.env'), '-s', 'alpha', '--json'], { cwd: dir });
      expect(result.code, `${flag}: ${result.stderr}`).toBe(0);
      expect(json(result).sessions.map((s: any) => s.name)).toEqual(['alpha']);
    }
    const relative = await runCli(['inspect', 'local', '--env=waha.env', '-s', 'alpha', '--json'], { cwd: dir });
    expect(relative.code, relative.stderr).toBe(0);
  });

  it('a missing file: --env is the tool\'s own usage error (exit 2, also with --json); --env-file never passes silently', async () => {
    const missing = path.join(dir, 'nope.env');
    const own = await runCli(['inspect', 'local', '--env', missing, '--json'], { cwd: dir });
    expect(own.code).toBe(2);
    expect(json(own).error.message).toContain(`Cannot read the .env file ${missing}: ENOENT`);
    // run as users do (the bin's shebang is `node --`, so Node does not take --env-file for itself)
    const alias = spawnSync(BIN, ['inspect', 'local', '--env-file', missing], { cwd: dir, env: cleanEnv(), encoding: 'utf8' });
    expect(alias.status, alias.stderr).toBe(2);
    expect(alias.stderr).toContain('Cannot read the .env file');
    // `node bin/waha-storage.js --env-file <missing>` bypasses the shebang: Node itself stops (exit 9), never a silent success
    const bare = await runCli(['inspect', 'local', '--env-file', missing], { cwd: dir });
    expect(bare.code).not.toBe(0);
    const docker = await runCli(['inspect', 'local', '--env', 'WAHA_NAMESPACE=x'], { cwd: dir });
    expect(docker.code).toBe(2);
    expect(docker.stderr).toMatch(/not NAME=value/);
    const both = await runCli(['inspect', 'local', '--env', 'waha.env', '--env-file', 'other.env'], { cwd: dir });
    expect(both.code).toBe(2);
  });
});

describe('MongoDB URLs', () => {
  const BAD = ['mongodb://localhost:99999', 'mongodb://a:b:c@@localhost', 'mongodb://user:pw@localhost/?authMechanism=BOGUS'];

  it('a URL the driver rejects is exit 2 (bad-url) in every command, also where MongoDB is not the store used', async () => {
    const base = scenario.base;
    const commands = [
      ['inspect', 'mongo'], ['inspect', 'local'], ['migrate', 'local', 'mongo'], ['backup', 'mongo', '-o', path.join(base, 'x.tar')],
      ['purge', 'mongo', '--all', '-y'], ['diff', 'local', 'mongo'], ['health'],
    ];
    for (const url of BAD) {
      for (const command of commands) {
        const result = await runCli([...command, '--sessions-dir', base, '--namespace', scenario.namespace, '--mongo-url', url, '--json']);
        const label = `${command.join(' ')} ${url}`;
        expect(result.code, `${label}: ${result.stdout}${result.stderr}`).toBe(2);
        expect(json(result).error, label).toMatchObject({ code: 'bad-url' });
        expect(result.stdout + result.stderr, label).not.toContain('pw@');
      }
    }
  });

  it('a refused port fails at once, not after --timeout 30000 (single host and a seed list)', async () => {
    const port = await closedPort();
    const other = await closedPort();
    const urls = [`mongodb://127.0.0.1:${port}/`, `mongodb://127.0.0.1:${port},127.0.0.1:${other}/?replicaSet=rs0`];
    const runs = [
      ['inspect', 'mongo'], ['migrate', 'mongo', 'local'], ['backup', 'mongo', '-o', path.join(scenario.base, 'y.tar')],
    ];
    for (const url of urls) {
      for (const command of runs) {
        const started = Date.now();
        const result = await runCli([...command, '--sessions-dir', scenario.base, '--mongo-url', url, '--timeout', '30000', '--json']);
        const elapsed = Date.now() - started;
        expect(result.code, `${command.join(' ')}: ${result.stderr}`).toBe(1);
        expect(json(result).error.message).toMatch(/connection refused/);
        expect(elapsed, command.join(' ')).toBeLessThan(15_000); // half the timeout: a loaded machine starts node slowly, a retrying driver waits all 30 s
      }
    }
    const started = Date.now();
    const health = await runCli(['health', '--sessions-dir', scenario.base, '--mongo-url', urls[0]!, '--mongo-timeout', '30000', '--json']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(health.code).toBe(1);
    expect(json(health).details.mongodb).toMatchObject({ status: 'down', reason: 'refused' });
  });

  it('a server that answers still connects (the refusal watch does not fire on a working server)', async () => {
    const result = await runCli(['inspect', 'mongo', '--mongo-url', mongoUrl(), '--namespace', scenario.namespace, '--timeout', '10000', '--json']);
    expect(result.code, result.stderr).toBe(0);
  });
});
