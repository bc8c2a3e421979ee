import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { GridFSBucket, type MongoClient } from 'mongodb';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import {
  ALPHA_CONFIG, countByCategory, mainDbName, remoteAuthZipFiles, sessionDbName, writeLocalFixtures, writeMongoFixtures,
  type ExpectedSession, type FixtureSet,
} from '../support/fixtures/index.js';
import { bufferNodes, isBase64, tempDir, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

type Doc = Record<string, unknown>;
let client: MongoClient;
let namespace: string;
let set: FixtureSet;
const session = (name: string): ExpectedSession => set.sessions.find((s) => s.name === name)!;
const auth = (name: string) => client.db(sessionDbName(namespace, name)).collection<Doc>('auth');

beforeAll(async () => {
  client = await connectMongo();
  namespace = uniqueNamespace('fx');
  set = await writeMongoFixtures(mongoUrl(), namespace);
});

afterAll(async () => {
  await dropNamespace(client, namespace);
  await client.close();
});

function readZipEntries(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const names: string[] = [];
      zip.on('entry', (entry: yauzl.Entry) => { names.push(entry.fileName); zip.readEntry(); });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('writeMongoFixtures', () => {
  it('creates the main database and one database per session slug, none for ghost', async () => {
    const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
    const ours = databases.map((d) => d.name).filter((n) => n.startsWith(`waha_${namespace}`)).sort();
    expect(ours).toEqual([`waha_${namespace}`, ...['alpha', 'legacy', 'mixed', 'my-sess', 'orphan', 'web1'].map((s) => `waha_${namespace}_${s}`)]);
    expect(set.sessions.map((s) => s.name).sort()).toEqual(['My-Sess', 'alpha', 'ghost', 'legacy', 'mixed', 'my-sess', 'orphan', 'web1']);
    expect(set.problems).toEqual(['slug-collision']);
    expect(set.namespace).toBe(namespace);
    expect(set.sessions.every((s) => s.store === 'mongo' && s.bytes === null)).toBe(true);
  });

  it('writes sessions, me and session_worker in the main database', async () => {
    const main = client.db(mainDbName(namespace));
    const docs = await main.collection<Doc>('sessions').find({}, { projection: { _id: 0 } }).toArray();
    expect(docs.map((d) => d.name).sort()).toEqual(['My-Sess', 'alpha', 'ghost', 'legacy', 'mixed', 'my-sess', 'web1']);
    expect(docs.find((d) => d.name === 'alpha')).toEqual({ ...ALPHA_CONFIG, name: 'alpha' });
    expect(docs.find((d) => d.name === 'ghost')).toEqual({ name: 'ghost' });
    for (const doc of docs) {
      const { name, ...config } = doc;
      expect(session(name as string).config, String(name)).toEqual(Object.keys(config).length ? config : null);
    }
    const indexes = await main.collection('sessions').indexes();
    expect(indexes.some((i) => JSON.stringify(i.key) === '{"name":1}' && i.unique)).toBe(true);
    for (const me of await main.collection<Doc>('me').find().toArray()) expect(session(me.session as string).me).toEqual(me.me);
    for (const w of await main.collection<Doc>('session_worker').find().toArray()) expect(session(w.id as string).worker).toBe(w.worker);
    expect(session('legacy').worker).toBe('worker-a');
    expect((await main.listCollections({ name: 'api_key' }).toArray()).length).toBe(1);
  });

  it('alpha: format B only, hard names kept, buffers as base64 strings, same categories as the local alpha', async () => {
    const docs = await auth('alpha').find().toArray();
    expect(docs.every((d) => d.type === 'kv' && typeof d.key === 'string' && 'data' in d)).toBe(true);
    const keys = docs.map((d) => d.key as string);
    expect(keys.length).toBe(session('alpha').entries);
    expect(keys.filter((k) => k.includes('.'))).toEqual([]);
    for (const pattern of [/^creds$/, /^sender-key-\d+@g-us::\d+_1::0$/, /^sender-key-\d+-\d+@g-us::\d+::3$/,
      /^sender-key-status@broadcast::\d+_1::0$/, /^app-state-sync-key-.*\/.*$/, /^tctoken-__index$/, /^session-\d+_1-12$/,
      /^session-\d+-0$/, /^identity-key-\d+-0$/, /^sender-key-memory-\d+@g-us$/]) {
      expect(keys.some((k) => pattern.test(k)), String(pattern)).toBe(true);
    }
    expect(countByCategory(keys)).toEqual(session('alpha').keysByCategory);
    const local = await writeLocalFixtures(tempDir('mongo-local'));
    expect(session('alpha').keysByCategory).toEqual(local.sessions.find((s) => s.name === 'alpha')!.keysByCategory);
    const nodes = docs.flatMap((d) => bufferNodes(d.data));
    expect(nodes.length).toBeGreaterThan(30);
    expect(nodes.every((n) => isBase64(n.data))).toBe(true);
    const indexes = await auth('alpha').indexes();
    expect(indexes.some((i) => JSON.stringify(i.key) === '{"key":1}' && i.unique)).toBe(true);
    const creds = docs.find((d) => d.key === 'creds')!.data as { me: { id: string } };
    expect(creds.me.id).toMatch(/^\d+:12@s\.whatsapp\.net$/);
    const store = client.db(sessionDbName(namespace, 'alpha'));
    expect(await store.collection('chats').countDocuments()).toBeGreaterThan(0);
    expect(await store.collection('messages').countDocuments()).toBeGreaterThan(0);
  });

  it('legacy: one document, _id null, no data field, one field per key', async () => {
    const docs = await auth('legacy').find().toArray();
    expect(docs.length).toBe(1);
    expect(docs[0]!._id).toBeNull();
    expect('data' in docs[0]!).toBe(false);
    const fields = Object.keys(docs[0]!).filter((k) => k !== '_id');
    expect(fields).toContain('creds');
    expect(fields.length).toBe(session('legacy').entries);
    expect(countByCategory(fields)).toEqual(session('legacy').keysByCategory);
    expect((docs[0]!.creds as { me?: { id: string } }).me?.id).toBeTruthy();
    expect(session('legacy').loggedIn).toBe(true);
  });

  it('mixed: both formats, overlapping keys differ, entries is the union and B\'s creds is logged in', async () => {
    const docs = await auth('mixed').find().toArray();
    const legacy = docs.filter((d) => !('data' in d));
    expect(legacy.length).toBe(1);
    const a = new Map(Object.entries(legacy[0]!).filter(([k]) => k !== '_id'));
    const b = new Map(docs.filter((d) => 'data' in d).map((d) => [d.key as string, d.data]));
    const both = [...a.keys()].filter((k) => b.has(k));
    expect([...a.keys()].some((k) => !b.has(k))).toBe(true);
    expect([...b.keys()].some((k) => !a.has(k))).toBe(true);
    expect(both.length).toBeGreaterThan(1);
    for (const key of both) expect(JSON.stringify(a.get(key)), key).not.toBe(JSON.stringify(b.get(key)));
    expect(new Set([...a.keys(), ...b.keys()]).size).toBe(session('mixed').entries);
    expect(countByCategory(new Set([...a.keys(), ...b.keys()]))).toEqual(session('mixed').keysByCategory);
    expect((a.get('creds') as Doc).me).toBeUndefined();
    expect(((b.get('creds') as Doc).me as Doc).id).toBeTruthy();
    expect(session('mixed').loggedIn).toBe(true);
  });

  it('web1: two GridFS revisions, the newest a valid zip with relative paths (unzip -t and yauzl)', async () => {
    const db = client.db(sessionDbName(namespace, 'web1'));
    const files = await db.collection<Doc>('auth.files').find().sort({ uploadDate: 1 }).toArray();
    expect(files.map((f) => f.filename)).toEqual(['RemoteAuth-web1.zip', 'RemoteAuth-web1.zip']);
    expect((files[0]!.uploadDate as Date).getTime()).toBeLessThan((files[1]!.uploadDate as Date).getTime());
    expect(session('web1')).toMatchObject({ engine: 'WEBJS', entries: 1, revisions: 2, loggedIn: null });
    const newest = await new GridFSBucket(db, { bucketName: 'auth' }).openDownloadStreamByName('RemoteAuth-web1.zip').toArray();
    const file = path.join(tempDir('zip'), 'RemoteAuth-web1.zip');
    writeFileSync(file, Buffer.concat(newest));
    expect(execFileSync('unzip', ['-t', file], { encoding: 'utf8' })).toMatch(/No errors detected/);
    const entries = await readZipEntries(file);
    expect(entries.filter((e) => !e.endsWith('/')).sort()).toEqual(remoteAuthZipFiles('web1').sort());
    expect(entries.every((e) => !e.startsWith('/') && (e.startsWith('Default/IndexedDB') || e.startsWith('Default/Local Storage') || e === 'Default/'))).toBe(true);
    const current = execFileSync('unzip', ['-p', file, 'Default/Local Storage/leveldb/CURRENT'], { encoding: 'utf8' });
    expect(current).toBe('MANIFEST-000001\n');
    expect(files[0]!.length).toBeGreaterThan(0);
    expect(await text(new GridFSBucket(db, { bucketName: 'auth' }).openDownloadStream(files[0]!._id as never))).not.toBe('');
  });

  it('orphan, ghost and the slug collision', async () => {
    expect(await auth('orphan').countDocuments({ key: 'creds', type: 'kv' })).toBe(1);
    expect(session('orphan')).toMatchObject({ engine: 'NOWEB', config: null, problems: ['orphan-database'] });
    expect(session('ghost')).toMatchObject({ engine: null, loggedIn: false, entries: 0, problems: ['no-auth'] });
    expect(sessionDbName(namespace, 'My-Sess')).toBe(sessionDbName(namespace, 'my-sess'));
    expect(await auth('My-Sess').countDocuments()).toBe(1);
    expect(session('My-Sess').problems).toEqual(['slug-collision']);
    expect(session('my-sess').problems).toEqual(['slug-collision']);
  });
});
