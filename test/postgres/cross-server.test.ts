/**
 * postgres -> postgres and mongo -> mongo through the binary: to a second server (--to-postgres-url,
 * --to-mongo-url, and their -file forms) or into other namespaces of one server (--to-namespace);
 * the same databases at both ends are refused, however the URL names the server.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { connectMongo, dropNamespace as dropMongo, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { localScenario, type Scenario } from '../support/scenario.js';
import { startMongo, startPostgres, type RunningServer } from '../support/servers.js';
import { cliIn, dropNamespace, postgresUrl, snapshot } from './helpers.js';

const SESSIONS = ['alpha', 'fresh', 'ghost'];
const only = SESSIONS.flatMap((name) => ['--session', name]);
const statuses = (stdout: string) => Object.fromEntries((JSON.parse(stdout).sessions as { name: string; status: string; reason?: string }[]).map((session) => [session.name, session.reason ? `${session.status}:${session.reason}` : session.status]));

describe('migrate postgres postgres', () => {
  let second: RunningServer;
  let scenario: Scenario;
  let before: Awaited<ReturnType<typeof snapshot>>;
  const other = uniqueNamespace('pgx');

  beforeAll(async () => {
    const given = process.env.WAHA_STORAGE_TEST_POSTGRES_URL;
    delete process.env.WAHA_STORAGE_TEST_POSTGRES_URL; // a second server of our own, even when the suite's is given
    try {
      second = await startPostgres();
    } finally {
      if (given !== undefined) process.env.WAHA_STORAGE_TEST_POSTGRES_URL = given;
    }
    scenario = await localScenario('noweb', 'pgx');
    const seeded = await cliIn(['migrate', 'local', 'postgres', ...only, '--json'], scenario.base, scenario.namespace);
    expect(seeded.code, seeded.stderr).toBe(0);
    before = await snapshot(postgresUrl(), scenario.namespace);
  }, 60_000);
  afterAll(async () => {
    await dropNamespace(scenario.namespace);
    await dropNamespace(other);
    await second?.stop();
    await scenario?.cleanup();
  });

  it('refuses the same server and namespaces, also when the target URL names the server another way (exit 2)', async () => {
    const same = await cliIn(['migrate', 'postgres', 'postgres', '--json'], scenario.base, scenario.namespace);
    expect(same.code, same.stderr).toBe(2);
    expect(json(same).error.message).toMatch(/same postgres databases/);
    expect(json(same).error.hint).toMatch(/--to-postgres-url/);
    const alias = new URL(postgresUrl());
    alias.hostname = 'localhost';
    alias.pathname = '/template1';
    const aliased = await cliIn(['migrate', 'pg', 'postgres', '--to-postgres-url', alias.toString(), '--move', '--yes', '--json'], scenario.base, scenario.namespace);
    expect(aliased.code, aliased.stderr).toBe(2);
    expect(aliased.stdout + aliased.stderr).not.toContain(alias.password);
    expect(await snapshot(postgresUrl(), scenario.namespace)).toEqual(before);
  });

  it('copies into other namespaces of the same server, verified (a rerun finds every session identical)', async () => {
    const args = ['migrate', 'postgres', 'postgres', '--to-namespace', other, '--to-session-namespace', other, ...only, '--json'];
    const copied = await cliIn(args, scenario.base, scenario.namespace);
    expect(copied.code, copied.stderr).toBe(0);
    expect(statuses(copied.stdout)).toEqual({ alpha: 'done', fresh: 'done', ghost: 'done' });
    expect(await snapshot(postgresUrl(), other)).toEqual(before);
    const rerun = await cliIn(args, scenario.base, scenario.namespace);
    expect(statuses(rerun.stdout)).toEqual({ alpha: 'skipped:identical', fresh: 'skipped:identical', ghost: 'skipped:identical' });
    // only the main namespace differs: the session databases would be the source's own
    const half = await cliIn(['migrate', 'postgres', 'postgres', '--to-namespace', other, '--json'], scenario.base, scenario.namespace);
    expect(half.code).toBe(2);
  });

  it('moves every session to a second server (--to-postgres-url-file), byte for byte, and removes it from the first', async () => {
    const file = path.join(scenario.base, 'target-url');
    await writeFile(file, `${second.url}\n`);
    const moved = await cliIn(['migrate', 'postgres', 'postgres', '--to-postgres-url-file', file, '--move', '--yes', ...only, '--json'], scenario.base, scenario.namespace);
    expect(moved.code, moved.stderr).toBe(0);
    expect(statuses(moved.stdout)).toEqual({ alpha: 'done', fresh: 'done', ghost: 'done' });
    expect(moved.stdout + moved.stderr).not.toContain(new URL(second.url).password);
    expect(await snapshot(second.url, scenario.namespace)).toEqual(before);
    const left = await snapshot(postgresUrl(), scenario.namespace);
    expect(Object.keys(left)).toEqual(['main']);
    expect(left.main!.session_config).toEqual([]);
    // and back with the flag itself: the first server holds what it held
    const back = await cliIn(['migrate', 'postgres', 'postgres', '--to-postgres-url', postgresUrl(), '--move', '--yes', '--json'], scenario.base, scenario.namespace, { url: second.url });
    expect(back.code, back.stderr).toBe(0);
    expect(await snapshot(postgresUrl(), scenario.namespace)).toEqual(before);
  });

  it('a target that refuses the password is one line naming --to-postgres-url (exit 1), the password never shown', async () => {
    const wrong = new URL(second.url);
    wrong.password = 'Wr0ng-Target-Pw';
    const result = await cliIn(['migrate', 'postgres', 'postgres', '--to-postgres-url', wrong.toString(), '--json'], scenario.base, scenario.namespace);
    expect(result.code).toBe(1);
    expect(json(result).error).toMatchObject({ code: 'authentication', hint: 'check --to-postgres-url (or --to-postgres-url-file)' });
    expect(result.stdout + result.stderr).not.toContain('Wr0ng-Target-Pw');
  });
});

describe('migrate mongo mongo', () => {
  let second: RunningServer;
  let scenario: Scenario;
  const other = uniqueNamespace('mgx');

  beforeAll(async () => {
    const given = process.env.WAHA_STORAGE_TEST_MONGO_URL;
    delete process.env.WAHA_STORAGE_TEST_MONGO_URL;
    try {
      second = await startMongo();
    } finally {
      if (given !== undefined) process.env.WAHA_STORAGE_TEST_MONGO_URL = given;
    }
    scenario = await localScenario('noweb', 'mgx');
    const seeded = await cliIn(['migrate', 'local', 'mongo', ...only, '--json'], scenario.base, scenario.namespace);
    expect(seeded.code, seeded.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    const client = await connectMongo();
    await dropMongo(client, scenario.namespace);
    await dropMongo(client, other);
    await client.close();
    await second?.stop();
    await scenario?.cleanup();
  });

  const mongo = (args: string[]) => runCli(['migrate', 'mongo', 'mongo', ...args, '--sessions-dir', scenario.base, '--namespace', scenario.namespace,
    '--session-namespace', scenario.namespace, '--mongo-url', mongoUrl(), '--json']);

  it('refuses the same server and namespaces (exit 2)', async () => {
    const same = await mongo([]);
    expect(same.code, same.stderr).toBe(2);
    expect(json(same).error.message).toMatch(/same mongo databases/);
    const aliased = await mongo(['--to-mongo-url', mongoUrl().replace('127.0.0.1', 'localhost'), '--move', '--yes']);
    expect(aliased.code, aliased.stderr).toBe(2);
  });

  it('copies to other namespaces, and moves to a second server (--to-mongo-url), verified', async () => {
    const copied = await mongo(['--to-namespace', other, '--to-session-namespace', other]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(statuses(copied.stdout)).toEqual({ alpha: 'done', fresh: 'done', ghost: 'done' });
    const moved = await mongo(['--to-mongo-url', second.url, '--move', '--yes']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(statuses(moved.stdout)).toEqual({ alpha: 'done', fresh: 'done', ghost: 'done' });
    // the second server holds the same sessions as the copy in the other namespace: identical both ways
    const check = await runCli(['migrate', 'mongo', 'mongo', '--mongo-url', second.url, '--to-mongo-url', mongoUrl(), '--namespace', scenario.namespace,
      '--session-namespace', scenario.namespace, '--to-namespace', other, '--to-session-namespace', other, '--json']);
    expect(statuses(check.stdout)).toEqual({ alpha: 'skipped:identical', fresh: 'skipped:identical', ghost: 'skipped:identical' });
    const left = await mongo(['--to-namespace', other, '--to-session-namespace', other]);
    expect(json(left).sessions).toEqual([]);
  });
});
