/**
 * `--json` always prints one document, failures included: `{"schemaVersion":1,"error":{code,
 * message, hint, exitCode}}` (issue 14 item 8). Usage errors from commander, an unreachable MongoDB
 * (a closed port), wrong credentials, a bad URL and a missing setting, for every command; and `inspect` with both
 * stores configured still lists the local sessions when MongoDB is down (exit 3).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli, type CliResult } from '../support/cli.js';
import { localScenario, type Scenario } from '../support/scenario.js';
import { freePort } from '../support/servers.js';
import { mongoUrl } from '../support/mongo.js';

const PASSWORD = 'Js0nErr0rPassw0rd';
let scenario: Scenario;
let out: string;
let archive: string;
let closedUrl: string;

beforeAll(async () => {
  scenario = await localScenario('noweb', 'jerr');
  out = await mkdtemp(path.join(os.tmpdir(), 'waha-json-errors-'));
  archive = path.join(out, 'alpha.tar.gz');
  const made = await runCli(['backup', 'local', '-o', archive, '--session', 'alpha', ...local()]);
  expect(made.code, made.stderr).toBe(0);
  closedUrl = `mongodb://admin:${PASSWORD}@127.0.0.1:${await freePort()}/`;
});

afterAll(async () => {
  await scenario?.cleanup();
  if (out) await rm(out, { recursive: true, force: true });
});

function local(): string[] {
  return ['--sessions-dir', scenario.base, '--namespace', scenario.namespace, '--session-namespace', scenario.namespace];
}

function unreachable(): string[] {
  return ['--mongo-url', closedUrl, '--timeout', '1000'];
}

/** stdout is exactly one JSON document with schemaVersion 1 and an error that matches the exit code. */
function expectErrorDocument(result: CliResult, code: string, exitCode: number, { verbose = false } = {}): Record<string, any> {
  const document = json(result);
  expect(document.schemaVersion).toBe(1);
  expect(document.error, result.stdout).toMatchObject({ code, exitCode });
  expect(typeof document.error.message).toBe('string');
  expect(document.error.message.length).toBeGreaterThan(0);
  expect(document.error).toHaveProperty('hint');
  expect(result.code, result.stderr).toBe(exitCode);
  expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  if (!verbose) expect(result.stderr).not.toMatch(/\n\s+at /); // stack traces only with --verbose
  return document;
}

describe('usage errors from commander print an error document with --json', () => {
  const commands: string[][] = [
    ['inspect'],
    ['health'],
    ['media', 'list', 'local'],
    ['media', 'clean', 'local'],
    ['media', 'verify'],
    ['migrate', 'local', 'mongo'],
    ['backup', 'local', '-o', 'x.tar.gz'],
    ['backup', 'verify', 'x.tar.gz'],
    ['backup', 'prune', '.', '--keep-last', '1'],
    ['restore', 'x.tar.gz', 'local'],
    ['purge', 'local', '--session', 'alpha'],
    ['diff', 'local', 'mongo'],
    ['usage', 'local'],
    ['messages', 'prune', 'local', '--older-than', '30d'],
  ];
  it.each(commands.map((args) => [args.join(' '), args]))('%s --frobnicate --json', async (_name, args) => {
    const result = await runCli([...(args as string[]), '--frobnicate', '--json']);
    const document = expectErrorDocument(result, 'usage', 2);
    expect(document.error.message).toMatch(/unknown option '--frobnicate'/);
    expect(result.stderr).toMatch(/unknown option '--frobnicate'/);
  });

  it.each([
    [['migrate', 'local'], /missing required argument 'target'/],
    [['backup'], /missing required argument 'store'/],
    [['restore', 'x.tar.gz'], /missing required argument 'store'/],
    [['backup', 'verify'], /missing required argument 'file'/],
    [['diff', 'local'], /missing required argument 'b'/],
    [['purge'], /missing required argument 'store'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('%j --json: missing argument or unknown command', async (args, pattern) => {
    const document = expectErrorDocument(await runCli([...args, '--json']), 'usage', 2);
    expect(document.error.message).toMatch(pattern);
  });

  it('a value the option parser refuses (--timeout 0)', async () => {
    expectErrorDocument(await runCli(['inspect', 'mongo', '--timeout', '0', '--json']), 'usage', 2);
  });

  it('help and --version stay what they are: no error document, exit 0', async () => {
    const version = await runCli(['--version', '--json']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\s*$/);
  });

  it('without --json nothing goes to stdout', async () => {
    const result = await runCli(['inspect', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
  });
});

describe('an unreachable MongoDB (a closed port) is an error document, password never printed', () => {
  const cases: [string, () => string[]][] = [
    ['inspect mongo', () => ['inspect', 'mongo', ...unreachable()]],
    ['migrate local mongo', () => ['migrate', 'local', 'mongo', ...local(), ...unreachable()]],
    ['migrate mongo local', () => ['migrate', 'mongo', 'local', ...local(), ...unreachable()]],
    ['backup mongo', () => ['backup', 'mongo', '-o', path.join(out, 'mongo.tar.gz'), ...local(), ...unreachable()]],
    ['restore <archive> mongo', () => ['restore', archive, 'mongo', ...local(), ...unreachable()]],
    ['purge mongo', () => ['purge', 'mongo', '--session', 'alpha', '--yes', ...local(), ...unreachable()]],
    ['diff local mongo', () => ['diff', 'local', 'mongo', ...local(), ...unreachable()]],
    ['usage mongo', () => ['usage', 'mongo', ...local(), ...unreachable()]],
    ['messages prune mongo', () => ['messages', 'prune', 'mongo', '--older-than', '30d', '--yes', ...local(), ...unreachable()]],
  ];
  it.each(cases)('%s --json', async (_name, args) => {
    for (const verbose of [false, true]) {
      const result = await runCli([...args(), ...(verbose ? ['--verbose'] : []), '--json']);
      const document = expectErrorDocument(result, 'mongo-unreachable', 1, { verbose });
      expect(document.error.message).toMatch(/Cannot connect to MongoDB at mongodb:\/\/\*\*\*@127\.0\.0\.1:\d+\/: connection refused/);
      expect(document.error.hint).toMatch(/--mongo-url/);
    }
  });
});

describe('wrong credentials are an authentication error document', () => {
  it.each([
    ['inspect mongo', (url: string) => ['inspect', 'mongo', '--mongo-url', url]],
    ['backup mongo', (url: string) => ['backup', 'mongo', '-o', path.join(out, 'auth.tar.gz'), ...local(), '--mongo-url', url]],
    ['migrate mongo local', (url: string) => ['migrate', 'mongo', 'local', ...local(), '--mongo-url', url]],
  ])('%s --json', async (_name, args) => {
    const url = new URL(mongoUrl());
    url.username = 'nobody';
    url.password = PASSWORD;
    const document = expectErrorDocument(await runCli([...args(url.toString()), '--json']), 'authentication', 1);
    expect(document.error.message).toMatch(/authentication failed/);
  });
});

describe('a bad URL and a missing setting are usage error documents', () => {
  it('a URL that is not mongodb:// (bad-url, exit 2)', async () => {
    const result = await runCli(['backup', 'mongo', '-o', path.join(out, 'bad.tar.gz'), '--json', '--mongo-url', `mongo://admin:${PASSWORD}@db`]);
    expectErrorDocument(result, 'bad-url', 2);
  });

  it('a mongodb:// URL the driver refuses (bad-url, exit 2)', async () => {
    const result = await runCli(['inspect', 'mongo', '--json', '--mongo-url', `mongodb://admin:${PASSWORD}@127.0.0.1:notaport/`]);
    expectErrorDocument(result, 'bad-url', 2);
  });

  it('no MongoDB URL for a mongo command (missing-setting, exit 2)', async () => {
    const inspect = expectErrorDocument(await runCli(['inspect', 'mongo', '--json']), 'missing-setting', 2);
    expect(inspect.error.hint).toMatch(/WHATSAPP_SESSIONS_MONGO_URL/);
    expectErrorDocument(await runCli(['backup', 'mongo', '-o', path.join(out, 'none.tar.gz'), '--json']), 'missing-setting', 2);
    expectErrorDocument(await runCli(['migrate', 'local', 'mongo', ...local(), '--json']), 'missing-setting', 2);
  });

  it('no S3 bucket for media list s3 (missing-setting, exit 2)', async () => {
    const document = expectErrorDocument(await runCli(['media', 'list', 's3', '--json']), 'missing-setting', 2);
    expect(document.error.message).toMatch(/S3 is not configured/);
  });

  it('a sessions dir that does not exist (usage, exit 2)', async () => {
    expectErrorDocument(await runCli(['inspect', 'local', '--sessions-dir', path.join(out, 'missing'), '--json']), 'usage', 2);
  });
});

describe('inspect with both stores configured and MongoDB down', () => {
  it('--json lists the local sessions, reports MongoDB as a problem and an error, exit 3', async () => {
    const result = await runCli(['inspect', ...local(), ...unreachable(), '--json']);
    const document = expectErrorDocument(result, 'mongo-unreachable', 3);
    const names = document.sessions.map((session: { name: string }) => session.name);
    expect(names).toContain('alpha');
    expect(document.sessions.every((session: { store: string }) => session.store === 'local')).toBe(true);
    const unreachableProblem = document.problems.find((item: { code: string }) => item.code === 'store-unreachable');
    expect(unreachableProblem).toMatchObject({ store: 'mongo', message: expect.stringMatching(/connection refused/) });
  });

  it('the table lists the local sessions on stdout and says on stderr that MongoDB is not listed, exit 3', async () => {
    const result = await runCli(['inspect', ...local(), ...unreachable()]);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/^NOWEB\s+alpha\s+local/m);
    expect(result.stdout).not.toMatch(/connection refused/);
    expect(result.stderr).toMatch(/^error: mongo not listed: Cannot connect to MongoDB at mongodb:\/\/\*\*\*@127\.0\.0\.1:\d+\/: connection refused/m);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });

  it('an explicit store word still fails on its own (inspect mongo: exit 1)', async () => {
    expectErrorDocument(await runCli(['inspect', 'mongo', ...local(), ...unreachable(), '--json']), 'mongo-unreachable', 1);
  });
});
