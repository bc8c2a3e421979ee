import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { writeLocalFixtures } from '../support/fixtures/index.js';
import { json, runCli, type CliResult } from '../support/cli.js';
import { freePort } from '../support/servers.js';
import { mongoUrl } from '../support/mongo.js';

const PASSWORD = 'Sup3rS3cretPw';
let base: string;

function expectOneLineError(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('(run with --help'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  base = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-errors-'));
  await writeLocalFixtures(base);
});

describe('inspect: bad input gives one clear line and the documented exit code', () => {
  it('unknown engine → 2', async () => {
    expectOneLineError(await runCli(['inspect', '--sessions-dir', base, '--engine', 'VENOM']), 2, /Unknown engine "VENOM".*WEBJS, NOWEB, GOWS, WPP/);
  });

  it('unknown store word → 2', async () => {
    expectOneLineError(await runCli(['inspect', 'redis', '--sessions-dir', base]), 2, /Unknown session store "redis".*local, mongo/);
  });

  it('mongo without a URL → 2 naming the flag and the variable', async () => {
    expectOneLineError(await runCli(['inspect', 'mongo']), 2, /--mongo-url \/ WHATSAPP_SESSIONS_MONGO_URL/);
  });

  it('malformed Mongo URL → 2, password not printed', async () => {
    const result = await runCli(['inspect', 'mongo'], { env: { WHATSAPP_SESSIONS_MONGO_URL: `mongo://admin:${PASSWORD}@db` } });
    expectOneLineError(result, 2, /Invalid MongoDB URL for --mongo-url \/ WHATSAPP_SESSIONS_MONGO_URL \(from env WHATSAPP_SESSIONS_MONGO_URL\)/);
    expect(result.stderr).not.toContain(PASSWORD);
  });

  it('unreachable Mongo → 1 within a few seconds, password never printed, even with --verbose', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await runCli(['inspect', 'mongo', '--mongo-url', `mongodb://admin:${PASSWORD}@127.0.0.1:${port}/`, '--timeout', '1500', '--verbose']);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Cannot connect to MongoDB at mongodb:\/\/\*\*\*@127\.0\.0\.1:\d+\/: connection refused/);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });

  it('a Mongo server that accepts but never answers → 1 within the timeout', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const started = Date.now();
      const result = await runCli(['inspect', 'mongo', '--mongo-url', `mongodb://u:${PASSWORD}@127.0.0.1:${port}/`, '--timeout', '1000']);
      expect(Date.now() - started).toBeLessThan(8000);
      expectOneLineError(result, 1, /Cannot connect to MongoDB at mongodb:\/\/\*\*\*@127\.0\.0\.1:\d+\/: no answer within the timeout/);
      expect(result.stderr).not.toContain(PASSWORD);
    } finally {
      silent.close();
    }
  });

  it('wrong credentials → 1 saying authentication failed, password never printed', async () => {
    const url = new URL(mongoUrl());
    url.username = 'nobody';
    url.password = PASSWORD;
    const result = await runCli(['inspect', 'mongo', '--mongo-url', url.toString()]);
    expectOneLineError(result, 1, /authentication failed/);
    expect(result.stderr).not.toContain(PASSWORD);
    // with --json the same failure is also one document on stdout (test/e2e/json-errors.test.ts)
    const document = await runCli(['inspect', 'mongo', '--mongo-url', url.toString(), '--json']);
    expect(json(document).error).toMatchObject({ code: 'authentication', exitCode: 1 });
    expect(document.stdout + document.stderr).not.toContain(PASSWORD);
  });

  it('a password from --mongo-url-file never appears either', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-secretfile-'));
    writeFileSync(path.join(dir, 'mongo-url'), `mongodb://admin:${PASSWORD}@127.0.0.1:${await freePort()}/\n`);
    const result = await runCli(['inspect', '--mongo-url-file', path.join(dir, 'mongo-url'), '--sessions-dir', base, '--timeout', '1000']);
    expect(result.code).toBe(3); // the local sessions are listed; MongoDB is reported unreachable
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });

  it('sessions dir that does not exist → 2; a file instead of a folder → 2; under a file → 1', async () => {
    expectOneLineError(await runCli(['inspect', '--sessions-dir', path.join(base, 'missing')]), 2, /The sessions dir .*missing does not exist.*WAHA_LOCAL_STORE_BASE_DIR/);
    const file = path.join(base, 'a-file');
    writeFileSync(file, 'x');
    expectOneLineError(await runCli(['inspect', '--sessions-dir', file]), 2, /is not a folder/);
    expectOneLineError(await runCli(['inspect', '--sessions-dir', path.join(file, 'below')]), 1, /Cannot read the sessions dir .*ENOTDIR/);
  });

  it('a corrupt creds.json is a per-session problem and the listing goes on', async () => {
    const result = await runCli(['inspect', '--sessions-dir', base, '--json']);
    expect(result.code).toBe(0);
    const sessions = json(result).sessions;
    const broken = sessions.find((session: any) => session.name === 'broken');
    expect(broken.problems.find((item: any) => item.code === 'creds-corrupt').message).toMatch(/creds\.json does not parse/);
    expect(sessions.length).toBeGreaterThan(10);
  });

  it('a waha.sqlite3 locked by a running server is reported, not fatal', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-locked-'));
    await writeLocalFixtures(dir);
    const holder = new Database(path.join(dir, 'noweb', 'waha.sqlite3'));
    holder.pragma('journal_mode = DELETE');
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE; DELETE FROM me;');
    try {
      const result = await runCli(['inspect', '--sessions-dir', dir, '--engine', 'noweb', '--json']);
      expect(result.code).toBe(0);
      const document = json(result);
      expect(document.problems.map((item: any) => item.code)).toContain('main-db-unreadable');
      expect(document.sessions.find((session: any) => session.name === 'alpha').loggedIn).toBe(true);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('a session folder with unexpected contents is reported as such', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-odd-'));
    mkdirSync(path.join(dir, 'shared', 'mystery'), { recursive: true });
    writeFileSync(path.join(dir, 'shared', 'mystery', 'notes.txt'), 'hello');
    const document = json(await runCli(['inspect', '--sessions-dir', dir, '--session-namespace', 'shared', '--namespace', 'shared', '--json']));
    expect(document.sessions).toHaveLength(1);
    expect(document.sessions[0].engine).toBeNull();
    expect(document.sessions[0].problems.map((item: any) => item.code)).toEqual(['unexpected-content']);
  });

  it('an unknown flag → 2', async () => {
    const result = await runCli(['inspect', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--frobnicate'/);
  });
});
