/**
 * Several engines sharing one main namespace (WAHA_NAMESPACE set, session namespaces per engine): a
 * logged-out session's `sessions` document does not say its engine. It must be listed once (engine
 * unknown) and never copied into every engine's folder; a logged-in one belongs to the engine whose
 * per-session database it has.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { scaleSessionName, writeLocalNowebSessions } from '../support/fixtures/index.js';
import { connectMongo, mongoUrl } from '../support/mongo.js';

let client: MongoClient;
let base: string;
let namespace: string;
const loggedIn = `shared-${Date.now().toString(36)}`; // its database waha_noweb_<name> must be this file's own

beforeAll(async () => {
  client = await connectMongo();
  base = mkdtempSync(path.join(os.tmpdir(), 'waha-shared-ns-'));
  namespace = `shared${Date.now().toString(36)}`;
  await writeLocalNowebSessions(path.join(base, 'src'), { count: 1, keysPerSession: 5 });
  renameSync(path.join(base, 'src', 'noweb', scaleSessionName(0)), path.join(base, 'src', 'noweb', loggedIn));
  const copied = await runCli(['migrate', 'local', 'mongo', '--sessions-dir', path.join(base, 'src'), '--mongo-url', mongoUrl(), '--namespace', namespace, '--force', '--json']);
  expect(copied.code, copied.stderr).toBe(0);
  // WAHA keeps the config of a logged-out session and drops its database
  await client.db(`waha_${namespace}`).collection('sessions').insertOne({ name: 'gone', webhooks: [] });
});

afterAll(async () => {
  const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
  for (const { name } of databases) if (name === `waha_${namespace}` || name === `waha_noweb_${loggedIn}`) await client.db(name).dropDatabase();
  await client.close();
  rmSync(base, { recursive: true, force: true });
});

describe('engines sharing one main namespace', () => {
  it('inspect lists each session once: the logged-in one as NOWEB, the logged-out one with engine unknown', async () => {
    const result = await runCli(['inspect', 'mongo', '--mongo-url', mongoUrl(), '--namespace', namespace, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const sessions = json(result).sessions.map((session: any) => ({ engine: session.engine, name: session.name, codes: session.problems.map((item: any) => item.code) }));
    expect(sessions).toHaveLength(2);
    expect(sessions).toContainEqual({ engine: 'NOWEB', name: loggedIn, codes: [] });
    expect(sessions.find((session: any) => session.name === 'gone')).toMatchObject({ engine: null, codes: expect.arrayContaining(['engine-unknown']) });
  });

  it('migrate mongo local copies the logged-in session, skips the other with engine-unknown, and writes no folder for other engines', async () => {
    const target = path.join(base, 'dst');
    const result = await runCli(['migrate', 'mongo', 'local', '--sessions-dir', target, '--mongo-url', mongoUrl(), '--namespace', namespace, '--force', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const outcomes = json(result).sessions.map((session: any) => [session.engine, session.name, session.status, session.reason ?? null]);
    expect(outcomes).toEqual(expect.arrayContaining([['NOWEB', loggedIn, 'done', null], [null, 'gone', 'skipped', 'engine-unknown']]));
    expect(outcomes).toHaveLength(2);
    for (const engine of ['webjs', 'gows', 'wpp']) expect(existsSync(path.join(target, engine)), engine).toBe(false);
    expect(readdirSync(path.join(target, 'noweb'))).toEqual([loggedIn]);
  });

  it('a namespace the server holds nothing of is said, with the one it may have meant', async () => {
    const typo = `${namespace.slice(0, -1)}`;
    const result = await runCli(['inspect', 'mongo', '--mongo-url', mongoUrl(), '--namespace', typo, '--session-namespace', typo, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).problems).toContainEqual(expect.objectContaining({ code: 'namespace-missing', message: expect.stringContaining(`did you mean "${namespace}"?`) }));
    const right = await runCli(['inspect', 'mongo', '--mongo-url', mongoUrl(), '--namespace', namespace, '--json']);
    expect(json(right).problems.map((item: any) => item.code)).not.toContain('namespace-missing');
  });

  it('with --engine the logged-out session is that engine\'s', async () => {
    const result = await runCli(['inspect', 'mongo', '--mongo-url', mongoUrl(), '--namespace', namespace, '--engine', 'GOWS', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).sessions.find((session: any) => session.name === 'gone')).toMatchObject({ engine: 'GOWS' });
  });
});

describe('engines sharing one session namespace locally (WAHA_SESSION_NAMESPACE)', () => {
  let root: string;
  const ns = 'together';
  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'waha-shared-session-ns-'));
    await writeLocalNowebSessions(path.join(root, 'src'), { count: 1, keysPerSession: 5 });
    mkdirSync(path.join(root, ns));
    renameSync(path.join(root, 'src', 'noweb', scaleSessionName(0)), path.join(root, ns, 'nwb'));
    const profile = path.join(root, ns, 'wjs', 'session-wjs', 'Default', 'Local Storage', 'leveldb');
    mkdirSync(profile, { recursive: true });
    writeFileSync(path.join(profile, '000003.log'), 'x'.repeat(100));
    mkdirSync(path.join(root, ns, 'cfg'));
    writeFileSync(path.join(root, ns, 'cfg', '.waha.session.config.json'), '{}');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const inspect = async (...engine: string[]) => {
    const result = await runCli(['inspect', 'local', '--sessions-dir', root, '--session-namespace', ns, '--namespace', ns, ...engine, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return Object.fromEntries(json(result).sessions.map((session: any) => [session.name, session.engine]));
  };

  it('each folder is the engine its content says; --engine selects among them, and a folder that does not tell is that engine', async () => {
    expect(await inspect()).toEqual({ cfg: null, nwb: 'NOWEB', wjs: 'WEBJS' });
    expect(await inspect('--engine', 'WEBJS')).toEqual({ cfg: 'WEBJS', wjs: 'WEBJS' });
    expect(await inspect('--engine', 'NOWEB')).toEqual({ cfg: 'NOWEB', nwb: 'NOWEB' });
  });

  it('usage --engine measures only that engine\'s folders', async () => {
    const result = await runCli(['usage', 'local', '--sessions-dir', root, '--session-namespace', ns, '--namespace', ns, '--engine', 'WEBJS', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(Object.fromEntries(json(result).sessions.map((session: any) => [session.name, session.engine]))).toEqual({ cfg: 'WEBJS', wjs: 'WEBJS' });
  });

  it('a session namespace with no folder is said, with the folder it may have meant (a typo is not an empty store)', async () => {
    const result = await runCli(['inspect', 'local', '--sessions-dir', root, '--session-namespace', 'togehter', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).sessions).toEqual([]);
    expect(json(result).problems).toEqual([expect.objectContaining({ code: 'namespace-missing', message: expect.stringMatching(/no folder "togehter" .*did you mean "together"\?/) })]);
    expect((await runCli(['inspect', 'local', '--sessions-dir', root, '--session-namespace', ns, '--json'])).stdout).not.toContain('namespace-missing');
  });

  it('migrate --engine WEBJS never carries the NOWEB folder as a WEBJS session', async () => {
    const result = await runCli(['migrate', 'local', 'mongo', '--sessions-dir', root, '--session-namespace', ns, '--namespace', `${namespace}x`,
      '--mongo-url', mongoUrl(), '--engine', 'WEBJS', '--dry-run', '--force', '--json']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(json(result).sessions.map((session: any) => [session.name, session.engine]).sort()).toEqual([['cfg', 'WEBJS'], ['wjs', 'WEBJS']]);
  });
});
