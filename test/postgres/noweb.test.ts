/** NOWEB local <-> PostgreSQL, and MongoDB -> PostgreSQL, through the binary: WAHA's layout (checked from the spec), byte-identical round trips. */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ALPHA_CONFIG, bufferJsonText, nowebAuth, toBufferJson } from '../support/fixtures/index.js';
import { writeMongoFixtures } from '../support/fixtures/mongo.js';
import { json } from '../support/cli.js';
import { connectMongo, dropNamespace as dropMongo, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import pg from 'pg';
import { localScenario, type Scenario } from '../support/scenario.js';
import { emptyBase } from '../migrate/helpers.js';
import { cliIn, databasesOf, dropNamespace, indexesOf, stagingLeft, tableNames, urlWith, withDatabase } from './helpers.js';

const byName = (stdout: string) => new Map((JSON.parse(stdout).sessions as { name: string; status: string; reason?: string }[]).map((session) => [session.name, session]));

async function keyFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dir)) if (name.endsWith('.json')) files.set(name, await readFile(path.join(dir, name)));
  return files;
}

describe('migrate NOWEB local -> postgres -> local', () => {
  let scenario: Scenario;
  afterAll(async () => {
    await dropNamespace(scenario.namespace);
    await scenario.cleanup();
  });

  it('copies the good sessions, refuses the bad ones, exits 3, and leaves no staging database', async () => {
    scenario = await localScenario('noweb', 'pgn');
    const result = await cliIn(['migrate', 'local', 'postgres', '--engine', 'NOWEB', '--json'], scenario.base, scenario.namespace);
    expect(result.code, result.stderr).toBe(3);
    const sessions = byName(result.stdout);
    for (const name of ['alpha', 'fresh', 'ghost']) expect(sessions.get(name), name).toMatchObject({ status: 'done' });
    expect(sessions.get('broken')).toMatchObject({ status: 'failed', reason: 'creds-corrupt' });
    expect(sessions.get('my-sess')).toMatchObject({ status: 'failed', reason: 'slug-collision' });
    const ns = scenario.namespace;
    // ghost has a config and no auth: no database, as WAHA after a logout
    expect(await databasesOf(ns)).toEqual([`waha_${ns}`, `waha_${ns}_alpha`, `waha_${ns}_fresh`]);
    expect(await stagingLeft(ns, [...sessions.keys()])).toEqual([]);
  });

  it("writes WAHA's layout: auth(id, data) with raw ids and {id, data} wrappers, WAHA's indexes, main-database wrappers", async () => {
    const ns = scenario.namespace;
    const alpha = nowebAuth('alpha', { loggedIn: true, full: true, pushName: 'Alpha Ops' });
    await withDatabase(`waha_${ns}_alpha`, async (client) => {
      const { rows } = await client.query<{ id: string; data: string }>('SELECT id, data FROM auth');
      const expected = [{ key: 'creds', value: alpha.creds }, ...alpha.keys];
      expect(rows).toHaveLength(expected.length);
      const byId = new Map(rows.map((row) => [row.id, row.data]));
      for (const { key, value } of expected) {
        // the spec: id = the logical key, no escaping; data = JSON.stringify({id, data}, BufferJSON.replacer)
        expect(byId.get(key), key).toBeDefined();
        expect(JSON.parse(byId.get(key)!), key).toEqual({ id: key, data: toBufferJson(value) });
      }
      expect(rows.some((row) => /[:.@/]/.test(row.id))).toBe(true); // raw ids keep ':', '.', '@', '/'
      expect(await indexesOf(client, 'auth')).toEqual(['auth_id_index', 'auth_pkey']);
      expect(await indexesOf(client, 'messages')).toEqual(['messages_id_index', 'messages_jid_id_index', 'messages_jid_timestamp_index', 'timestamp_index']);
      expect(await indexesOf(client, 'chats')).toEqual(['chats_conversationTimestamp_index', 'chats_id_index', 'chats_pkey']);
      const chats = await client.query<{ id: string; conversationTimestamp: number | null; data: string }>('SELECT * FROM chats');
      expect(chats.rows.length).toBeGreaterThan(0);
      expect(typeof chats.rows[0]!.data).toBe('string'); // TEXT holding the entity itself, not wrapped
      expect(JSON.parse(chats.rows[0]!.data).id).toBe(chats.rows[0]!.id);
      expect(await tableNames(client)).not.toContain('waha_storage_incomplete');
    });
    await withDatabase(`waha_${ns}`, async (client) => {
      expect(await tableNames(client)).toEqual(['api_key', 'me', 'session_config', 'session_worker']);
      expect(await indexesOf(client, 'session_worker')).toEqual(['session_worker_id_idx', 'session_worker_worker_idx']);
      expect(await indexesOf(client, 'api_key')).toEqual(['api_key_id_index', 'api_key_key_idx', 'api_key_pkey', 'api_key_session_idx']);
      const config = await client.query<{ id: string; data: string }>('SELECT id, data FROM session_config ORDER BY id');
      expect(config.rows.map((row) => row.id)).toEqual(['alpha', 'fresh', 'ghost']);
      expect(JSON.parse(config.rows[0]!.data)).toEqual({ id: 'alpha', config: ALPHA_CONFIG });
      for (const row of config.rows) expect(Object.keys(JSON.parse(row.data)).sort()).toEqual(['config', 'id']);
      const me = await client.query<{ data: string }>("SELECT data FROM me WHERE id = 'alpha'");
      expect(JSON.parse(me.rows[0]!.data)).toEqual({ id: 'alpha', me: { id: alpha.account!.cusJid, pushName: 'Alpha Ops' } });
      const worker = await client.query<{ worker: string; data: string }>("SELECT worker, data FROM session_worker WHERE id = 'alpha'");
      expect(worker.rows[0]).toEqual({ worker: '', data: JSON.stringify({ id: 'alpha', worker: '' }) });
    });
  });

  it('a rerun skips every copied session as identical', async () => {
    const result = await cliIn(['migrate', 'local', 'pg', '--engine', 'NOWEB', '--json'], scenario.base, scenario.namespace);
    const sessions = byName(result.stdout);
    for (const name of ['alpha', 'fresh', 'ghost']) expect(sessions.get(name), name).toMatchObject({ status: 'skipped', reason: 'identical' });
  });

  it('back to local gives byte-identical key files, config, me, session_worker and store rows', async () => {
    const back = await emptyBase();
    const result = await cliIn(['migrate', 'postgres', 'local', '--json'], back, scenario.namespace);
    expect(result.code, result.stderr).toBe(0);
    expect([...byName(result.stdout).values()].map((session) => `${session.name}:${session.status}`).sort()).toEqual(['alpha:done', 'fresh:done', 'ghost:done']);
    for (const name of ['alpha', 'fresh']) {
      const original = await keyFiles(path.join(scenario.folder, name));
      const copy = await keyFiles(path.join(back, scenario.namespace, name));
      expect([...copy.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [file, bytes] of original) expect(copy.get(file)!.equals(bytes), `${name}/${file}`).toBe(true);
      const config = '.waha.session.config.json';
      expect(await readFile(path.join(back, scenario.namespace, name, config), 'utf8')).toBe(await readFile(path.join(scenario.folder, name, config), 'utf8'));
    }
    const rows = (file: string, sql: string) => {
      const db = new Database(file, { readonly: true });
      try { return db.prepare(sql).all(); } finally { db.close(); }
    };
    for (const sql of ['SELECT id, data FROM me ORDER BY id', 'SELECT id, worker, data FROM session_worker ORDER BY id']) {
      expect(rows(path.join(back, scenario.namespace, 'waha.sqlite3'), sql)).toEqual(rows(path.join(scenario.folder, 'waha.sqlite3'), sql));
    }
    for (const table of ['contacts', 'chats', 'messages']) {
      const sql = `SELECT * FROM ${table} ORDER BY id`;
      expect(rows(path.join(back, scenario.namespace, 'alpha', 'store.sqlite3'), sql)).toEqual(rows(path.join(scenario.folder, 'alpha', 'store.sqlite3'), sql));
    }
  });
});

describe('migrate mongo -> postgres (legacy and per-key MongoDB formats)', () => {
  const namespace = uniqueNamespace('pgm');
  afterAll(async () => {
    await dropNamespace(namespace);
    const client = await connectMongo();
    await dropMongo(client, namespace).finally(() => client.close());
  });

  it("writes every key under its logical id with WAHA's wrapper; orphans and collisions are refused", async () => {
    await writeMongoFixtures(mongoUrl(), namespace);
    const base = await emptyBase();
    const result = await cliIn(['migrate', 'mongo', 'postgres', '--engine', 'NOWEB', '--json'], base, namespace);
    const sessions = byName(result.stdout);
    expect(sessions.get('legacy'), result.stdout).toMatchObject({ status: 'done' });
    expect(sessions.get('mixed')).toMatchObject({ status: 'done' });
    expect(sessions.get('orphan')).toMatchObject({ status: 'skipped', reason: 'orphan-database' });
    expect(sessions.get('My-Sess')).toMatchObject({ status: 'failed', reason: 'slug-collision' });
    for (const name of ['legacy', 'mixed']) {
      const pushName = name === 'legacy' ? 'Legacy Line' : 'Mixed Media';
      const auth = nowebAuth(name, { loggedIn: true, full: true, pushName });
      await withDatabase(`waha_${namespace}_${name}`, async (client) => {
        const byId = new Map((await client.query<{ id: string; data: string }>('SELECT id, data FROM auth')).rows.map((row) => [row.id, row.data]));
        expect(byId.get('creds')).toBe(JSON.stringify({ id: 'creds', data: JSON.parse(bufferJsonText(auth.creds)) }));
        for (const { key, value } of auth.keys) expect(JSON.parse(byId.get(key)!), key).toEqual({ id: key, data: toBufferJson(value) });
        expect(byId.size).toBe(auth.keys.length + 1);
      });
    }
    await withDatabase(`waha_${namespace}`, async (client) => {
      const worker = await client.query<{ worker: string }>("SELECT worker FROM session_worker WHERE id = 'legacy'");
      expect(worker.rows[0]!.worker).toBe('worker-a');
    });
  });
});

describe('inspect postgres', () => {
  const namespace = uniqueNamespace('pgi');
  afterAll(async () => { await dropNamespace(namespace); });

  it('lists sessions from session_config, a row without a database as logged out, orphan databases, collisions and WAHA connections', async () => {
    const scenario = await localScenario('noweb', 'pgi');
    try {
      const copied = await cliIn(['migrate', 'local', 'postgres', '--session', 'alpha', '--session', 'fresh', '--json'], scenario.base, scenario.namespace);
      expect(copied.code, copied.stderr).toBe(0);
      const ns = scenario.namespace;
      await withDatabase(`waha_${ns}`, async (client) => {
        for (const id of ['gone', 'Twin', 'twin']) await client.query('INSERT INTO session_config (id, data) VALUES ($1, $2)', [id, JSON.stringify({ id, config: null })]);
      });
      await withDatabase('postgres', async (client) => {
        await client.query(`CREATE DATABASE "waha_${ns}_stray"`);
        // namespace <ns>_other beside it: its main database and a session database are not orphans of <ns>
        await client.query(`CREATE DATABASE "waha_${ns}_other"`);
        await client.query(`CREATE DATABASE "waha_${ns}_other_s1"`);
      });
      await withDatabase(`waha_${ns}_other`, (client) => client.query('CREATE TABLE session_config (id TEXT PRIMARY KEY, data TEXT)'));
      const waha = new pg.Client({ connectionString: urlWith({ database: `waha_${ns}_alpha` }), application_name: 'WAHA(NOWEB) 2026.9.1 - Session/Auth' });
      await waha.connect();
      try {
        const result = await cliIn(['inspect', 'postgres', '--engine', 'NOWEB', '--json'], scenario.base, ns);
        expect(result.code, result.stderr).toBe(0);
        const document = json(result);
        const sessions = new Map((document.sessions as any[]).map((session) => [session.name, session]));
        expect(sessions.get('alpha')).toMatchObject({ engine: 'NOWEB', store: 'postgres', loggedIn: true, me: { pushName: 'Alpha Ops' }, config: ALPHA_CONFIG });
        expect(sessions.get('alpha').bytes).toBeGreaterThan(0);
        expect(sessions.get('alpha').problems.map((item: any) => item.code)).toEqual(['waha-connected']);
        expect(sessions.get('alpha').problems[0].message).toContain('WAHA(NOWEB) 2026.9.1 - Session/Auth');
        expect(sessions.get('fresh')).toMatchObject({ loggedIn: false });
        expect(sessions.get('gone')).toMatchObject({ loggedIn: false, problems: [expect.objectContaining({ code: 'no-auth' })] });
        expect(sessions.get('stray').problems.map((item: any) => item.code)).toContain('orphan-database');
        expect(sessions.has('other')).toBe(false);
        expect((document.problems as any[]).map((item) => item.code)).not.toContain('namespace-missing');
        const typo = await cliIn(['inspect', 'postgres', '--json'], scenario.base, `${ns}x`);
        expect(json(typo).problems).toContainEqual(expect.objectContaining({ code: 'namespace-missing', message: expect.stringContaining(`did you mean "${ns}"?`) }));
        expect(sessions.has('other_s1')).toBe(false);
        expect(sessions.get('Twin').problems.map((item: any) => item.code)).toContain('slug-collision');
        expect((document.problems as any[]).map((item) => item.code)).toContain('slug-collision');
      } finally {
        await waha.end();
      }
    } finally {
      await dropNamespace(scenario.namespace);
      await scenario.cleanup();
    }
  });
});
