/** NOWEB local <-> MongoDB through the real binary: WAHA's layout, byte-identical round trips, legacy data. */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALPHA_CONFIG, bufferJsonText, fileNameForKey, mongoKeyFor, nowebAuth, toBufferJson } from '../support/fixtures/index.js';
import { writeMongoFixtures } from '../support/fixtures/mongo.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { byName, emptyBase, localScenario, migrate, type Scenario } from './helpers.js';

let client: MongoClient;
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => { await client.close(); });

function mainRows(file: string): { me: Map<string, string>; workers: Map<string, string> } {
  const db = new Database(file, { readonly: true });
  try {
    const me = new Map((db.prepare('SELECT id, data FROM me').all() as { id: string; data: string }[]).map((row) => [row.id, row.data]));
    const workers = new Map((db.prepare('SELECT id, data FROM session_worker').all() as { id: string; data: string }[]).map((row) => [row.id, row.data]));
    return { me, workers };
  } finally {
    db.close();
  }
}

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dir)) if (name.endsWith('.json')) files.set(name, await readFile(path.join(dir, name)));
  return files;
}

/** What a file is after local -> mongo -> local: MongoDB keeps a null and a {} config alike (`{name}`), and WAHA reads that as {}. */
function comesBack(file: string, bytes: Buffer): Buffer {
  return file === '.waha.session.config.json' && bytes.toString() === 'null' ? Buffer.from('{}') : bytes;
}

describe('migrate NOWEB local -> mongo -> local', () => {
  let scenario: Scenario;
  let back: string;
  afterAll(async () => {
    await dropNamespace(client, scenario.namespace);
    await scenario.cleanup();
  });

  it('copies the good sessions, refuses the bad ones by name, and exits 3', async () => {
    scenario = await localScenario('noweb');
    const result = await migrate(['local', 'mongo', '--engine', 'NOWEB', '--json'], scenario.base, scenario.namespace);
    expect(result.code, result.stderr).toBe(3);
    const sessions = byName(result);
    expect(sessions.get('alpha')).toMatchObject({ engine: 'NOWEB', status: 'done' });
    expect(sessions.get('alpha')!.entries).toBeGreaterThan(40);
    expect(sessions.get('fresh')).toMatchObject({ status: 'done' });
    expect(sessions.get('ghost')).toMatchObject({ status: 'done' });
    expect(sessions.get('broken')).toMatchObject({ status: 'failed', reason: 'creds-corrupt' });
    expect(sessions.get('broken')!.message).toContain(path.join('broken', 'creds.json'));
    expect(sessions.get('My-Sess')).toMatchObject({ status: 'failed', reason: 'slug-collision' });
    expect(sessions.get('my-sess')).toMatchObject({ status: 'failed', reason: 'slug-collision' });
    expect(sessions.get('my-sess')!.message).toContain('My-Sess');
    expect(sessions.get('old name')).toMatchObject({ status: 'failed', reason: 'invalid-name' });
    const { summary } = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ sessions: 7, done: 3, failed: 4, skipped: 0 });
    // nothing of the refused sessions reached MongoDB
    const names = (await client.db().admin().listDatabases({ nameOnly: true })).databases.map((db) => db.name);
    expect(names).not.toContain(`waha_${scenario.namespace}_broken`);
    expect(names).not.toContain(`waha_${scenario.namespace}_my-sess`);
  });

  it("writes exactly WAHA's layout: per-key documents under WAHA's key names, unique index, main documents", async () => {
    const alpha = nowebAuth('alpha', { loggedIn: true, full: true, pushName: 'Alpha Ops' });
    const auth = client.db(`waha_${scenario.namespace}_alpha`).collection('auth');
    const documents = await auth.find({}, { projection: { _id: 0 } }).toArray();
    const expected = [{ key: 'creds', value: alpha.creds }, ...alpha.keys];
    expect(documents).toHaveLength(expected.length);
    const byKey = new Map(documents.map((document) => [document.key as string, document]));
    for (const { key, value } of expected) {
      // the key WAHA computes for the logical key, by its own rule (fixtures), not by the converter
      const document = byKey.get(mongoKeyFor(key));
      expect(document, key).toBeDefined();
      expect(document).toEqual({ key: mongoKeyFor(key), data: toBufferJson(value), type: 'kv' });
    }
    const indexes = await auth.indexes();
    expect(indexes.some((index) => index.key.key === 1 && index.unique)).toBe(true);
    const main = client.db(`waha_${scenario.namespace}`);
    expect(await main.collection('sessions').findOne({ name: 'alpha' }, { projection: { _id: 0 } })).toEqual({ ...ALPHA_CONFIG, name: 'alpha' });
    expect(await main.collection('sessions').findOne({ name: 'fresh' }, { projection: { _id: 0 } })).toEqual({ name: 'fresh' });
    expect(await main.collection('me').findOne({ session: 'alpha' }, { projection: { _id: 0 } }))
      .toEqual({ session: 'alpha', me: { id: alpha.account!.cusJid, pushName: 'Alpha Ops' } });
    expect(await main.collection('session_worker').findOne({ id: 'alpha' }, { projection: { _id: 0 } })).toEqual({ id: 'alpha', worker: '' });
    // the NOWEB store went to its collections with a unique id index
    const chats = client.db(`waha_${scenario.namespace}_alpha`).collection('chats');
    expect(await chats.countDocuments()).toBeGreaterThan(0);
    expect((await chats.indexes()).some((index) => index.key.id === 1 && index.unique)).toBe(true);
    // no staging collections or markers remain
    const collections = (await client.db(`waha_${scenario.namespace}_alpha`).listCollections().toArray()).map((item) => item.name);
    expect(collections.filter((name) => name.startsWith('wst_') || name.includes('incomplete'))).toEqual([]);
  });

  it('a rerun is cheap and idempotent: every copied session is skipped as identical', async () => {
    const result = await migrate(['local', 'mongo', '--engine', 'NOWEB', '--json'], scenario.base, scenario.namespace);
    const sessions = byName(result);
    for (const name of ['alpha', 'fresh', 'ghost']) expect(sessions.get(name)).toMatchObject({ status: 'skipped', reason: 'identical' });
  });

  it('back to local gives byte-identical key files, config, me and session_worker', async () => {
    back = await emptyBase();
    const result = await migrate(['mongo', 'local', '--json'], back, scenario.namespace);
    expect(result.code, result.stderr).toBe(0);
    const sessions = byName(result);
    expect([...sessions.values()].map((session) => `${session.name}:${session.status}`).sort()).toEqual(['alpha:done', 'fresh:done', 'ghost:done']);
    for (const name of ['alpha', 'fresh']) {
      const original = await filesOf(path.join(scenario.folder, name));
      const copy = await filesOf(path.join(back, scenario.namespace, name));
      expect([...copy.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [file, bytes] of original) expect(copy.get(file)!.equals(comesBack(file, bytes)), `${name}/${file}`).toBe(true);
    }
    for (const name of ['alpha', 'fresh']) {
      const config = '.waha.session.config.json';
      expect(await readFile(path.join(back, scenario.namespace, name, config))).toEqual(comesBack(config, await readFile(path.join(scenario.folder, name, config))));
    }
    const before = mainRows(path.join(scenario.folder, 'waha.sqlite3'));
    const after = mainRows(path.join(back, scenario.namespace, 'waha.sqlite3'));
    expect(after.me.get('alpha')).toBe(before.me.get('alpha'));
    expect(after.workers.get('alpha')).toBe(before.workers.get('alpha'));
    // store.sqlite3 rows came back
    const store = new Database(path.join(back, scenario.namespace, 'alpha', 'store.sqlite3'), { readonly: true });
    const original = new Database(path.join(scenario.folder, 'alpha', 'store.sqlite3'), { readonly: true });
    for (const table of ['contacts', 'chats', 'messages']) {
      expect(store.prepare(`SELECT * FROM ${table} ORDER BY id`).all()).toEqual(original.prepare(`SELECT * FROM ${table} ORDER BY id`).all());
    }
    store.close();
    original.close();
    expect(existsSync(path.join(back, '.waha-storage-staging'))).toBe(false);
  });
});

describe('migrate NOWEB mongo -> local from legacy and mixed formats', () => {
  const namespace = uniqueNamespace('leg');
  let base: string;
  beforeAll(async () => {
    await writeMongoFixtures(mongoUrl(), namespace);
    base = await emptyBase();
  });
  afterAll(async () => { await dropNamespace(client, namespace); });

  it('writes every legacy key as the file Baileys would have written, and per-key wins over legacy', async () => {
    const result = await migrate(['mongo', 'local', '--json'], base, namespace);
    const sessions = byName(result);
    expect(sessions.get('legacy')).toMatchObject({ status: 'done' });
    expect(sessions.get('mixed')).toMatchObject({ status: 'done' });
    expect(sessions.get('orphan')).toMatchObject({ status: 'skipped', reason: 'orphan-database' });
    expect(sessions.get('My-Sess')).toMatchObject({ status: 'failed', reason: 'slug-collision' });
    expect(result.code).toBe(3);
    const legacy = nowebAuth('legacy', { loggedIn: true, full: true, pushName: 'Legacy Line' });
    const dir = path.join(base, namespace, 'legacy');
    expect(await readFile(path.join(dir, 'creds.json'), 'utf8')).toBe(bufferJsonText(legacy.creds));
    for (const { key, value } of legacy.keys) {
      expect(await readFile(path.join(dir, fileNameForKey(key)), 'utf8'), key).toBe(bufferJsonText(value));
    }
    expect((await readdir(dir)).filter((name) => name.endsWith('.json') && !name.startsWith('.')).length).toBe(legacy.keys.length + 1);
    const mixed = nowebAuth('mixed', { loggedIn: true, full: true, pushName: 'Mixed Media' });
    const mixedDir = path.join(base, namespace, 'mixed');
    expect(await readFile(path.join(mixedDir, 'creds.json'), 'utf8')).toBe(bufferJsonText(mixed.creds));
    for (const { key, value } of mixed.keys) {
      expect(await readFile(path.join(mixedDir, fileNameForKey(key)), 'utf8'), key).toBe(bufferJsonText(value));
    }
    const rows = mainRows(path.join(base, namespace, 'waha.sqlite3'));
    expect(JSON.parse(rows.workers.get('legacy')!)).toEqual({ id: 'legacy', worker: 'worker-a' });
    expect(JSON.parse(await readFile(path.join(dir, '.waha.session.config.json'), 'utf8'))).toEqual({ metadata: { era: '2025' } });
  });
});
