/**
 * `usage mongo` through the built binary against the MongoDB fixtures (NOWEB with its store, WEBJS
 * GridFS) and a WPP session: every collection's bytes and documents are what the server's own
 * collStats says (totalSize, count), marked estimated; parts as for the other stores.
 * (GOWS has no MongoDB store in WAHA.)
 */
import { GridFSBucket, type MongoClient } from 'mongodb';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { writeMongoFixtures } from '../support/fixtures/index.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { collectionUsage } from '../../src/usage/mongo.js';

const ns = uniqueNamespace('usm');
const wppNs = uniqueNamespace('usw');
let client: MongoClient;

const cli = (args: string[], namespace = ns) => runCli(['usage', 'mongo', ...args, '--mongo-url', mongoUrl(), '--namespace', namespace, '--session-namespace', namespace, '--json']);

beforeAll(async () => {
  client = await connectMongo();
  await writeMongoFixtures(mongoUrl(), ns);
  await client.db(`waha_${wppNs}`).collection('sessions').insertOne({ name: 'wpp1' });
  const bucket = new GridFSBucket(client.db(`waha_${wppNs}_wpp1`), { bucketName: 'auth' });
  await new Promise<void>((resolve, reject) => bucket.openUploadStream('wpp1.zip').on('finish', () => resolve()).on('error', reject).end(randomBytes(700_000)));
}, 120_000);

afterAll(async () => {
  await dropNamespace(client, ns);
  await dropNamespace(client, wppNs);
  await client.close();
});

/** The server's own figures for every collection of a database. */
async function collStats(database: string): Promise<Map<string, { bytes: number; rows: number }>> {
  const db = client.db(database);
  const figures = new Map<string, { bytes: number; rows: number }>();
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    const stats = await db.command({ collStats: name }) as { totalSize: number; count: number };
    figures.set(name, { bytes: stats.totalSize, rows: stats.count });
  }
  return figures;
}

const PART: Record<string, string> = {
  auth: 'auth', 'auth.files': 'auth', 'auth.chunks': 'auth', messages: 'messages',
  contacts: 'store', chats: 'store', groups: 'store', labels: 'store', labelAssociations: 'store', lid_map: 'store',
};

describe('usage mongo', () => {
  let document: any;
  const byName = (name: string) => document.sessions.find((session: any) => session.name === name);

  beforeAll(async () => {
    const result = await cli([]);
    expect(result.code, result.stderr).toBe(0);
    document = json(result);
  }, 60_000);

  it('every collection as collStats gives it, the session the sum, biggest first', async () => {
    expect(document.store).toBe('mongo');
    const names = document.sessions.map((session: any) => session.name);
    expect(names).toEqual(expect.arrayContaining(['alpha', 'legacy', 'mixed', 'web1', 'ghost']));
    const sizes = document.sessions.map((session: any) => session.bytes);
    expect(sizes).toEqual([...sizes].sort((a: number, b: number) => b - a));
    for (const session of document.sessions) {
      if (session.bytes === 0) continue;
      const truth = await collStats(session.location);
      const reported = new Map<string, any>();
      for (const [part, usage] of Object.entries<any>(session.parts)) {
        for (const [name, figures] of Object.entries<any>(usage.tables ?? {})) reported.set(name, { part, ...figures });
      }
      expect([...reported.keys()].sort(), session.name).toEqual([...truth.keys()].sort());
      for (const [name, figures] of truth) {
        expect(reported.get(name), `${session.name} ${name}`).toEqual({ part: PART[name] ?? 'other', ...figures, estimated: true });
      }
      expect(session.bytes).toBe([...truth.values()].reduce((total, item) => total + item.bytes, 0));
      expect(session.sources.length).toBe(1);
      expect(['$collStats', 'collStats']).toContain(session.sources[0]);
    }
  });

  it('NOWEB: auth, the messages collection and the store; WEBJS: the GridFS bucket is auth', () => {
    const alpha = byName('alpha');
    expect(alpha.engine).toBe('NOWEB');
    expect(alpha.parts.auth.rows).toBeGreaterThan(10);
    expect(alpha.parts.messages).toMatchObject({ unit: 'documents', estimated: true });
    expect(alpha.parts.messages.rows).toBeGreaterThan(0);
    expect(Object.keys(alpha.parts.store.tables)).toEqual(expect.arrayContaining(['contacts', 'chats']));
    const web1 = byName('web1');
    expect(web1.engine).toBe('WEBJS');
    expect(Object.keys(web1.parts.auth.tables).sort()).toEqual(['auth.chunks', 'auth.files']);
    expect(web1.parts.messages.bytes).toBe(0);
    expect(byName('ghost')).toMatchObject({ bytes: 0 });
    expect(document.totals.parts.auth.bytes).toBe(document.sessions.reduce((total: number, session: any) => total + session.parts.auth.bytes, 0));
  });

  it('WPP: its GridFS zip is auth', async () => {
    const result = await cli(['--engine', 'WPP'], wppNs);
    expect(result.code, result.stderr).toBe(0);
    const [wpp] = json(result).sessions;
    expect(wpp).toMatchObject({ name: 'wpp1', engine: 'WPP' });
    const truth = await collStats(`waha_${wppNs}_wpp1`);
    expect(wpp.parts.auth.bytes).toBe(truth.get('auth.chunks')!.bytes + truth.get('auth.files')!.bytes);
    expect(wpp.parts.auth.bytes).toBeGreaterThan(0);
  });

  it('without a store word it is MongoDB when its URL is set (WAHA\'s precedence, over PostgreSQL)', async () => {
    const result = await runCli(['usage', '--mongo-url', mongoUrl(), '--postgres-url', 'postgres://nobody@127.0.0.1:1/postgres', '--namespace', ns, '--session-namespace', ns, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const other = json(result);
    expect(other.store).toBe('mongo');
    expect(other.sessions.map((session: any) => session.name)).toEqual(document.sessions.map((session: any) => session.name));
  });

  it('a typo in --session fails with did-you-mean (exit 2)', async () => {
    const typo = await cli(['--session', 'alhpa']);
    expect(typo.code).toBe(2);
    expect(json(typo).error.message).toMatch(/No session "alhpa" in mongo .*did you mean "alpha"\?/);
  });
});

describe('MongoDB statistics, each way of asking', () => {
  it('$collStats, the collStats command and countDocuments give the server\'s figures (the last without bytes)', async () => {
    const database = `waha_${ns}_alpha`;
    const db = client.db(database);
    const truth = await collStats(database);
    const messages = truth.get('messages')!;
    expect(await collectionUsage(db, 'messages', ['$collStats'])).toEqual({ source: '$collStats', figures: { ...messages, estimated: true } });
    expect(await collectionUsage(db, 'messages', ['collStats'])).toEqual({ source: 'collStats', figures: { ...messages, estimated: true } });
    expect(await collectionUsage(db, 'messages', ['countDocuments'])).toEqual({
      source: 'countDocuments', figures: { bytes: null, rows: await db.collection('messages').countDocuments(), estimated: false },
    });
  });
});
