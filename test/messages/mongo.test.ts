/** messages prune mongo: NOWEB's `messages` collection (GOWS does not run on MongoDB), through the built binary. */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { CHATS, digestRows, isOld, messageRows, type MessageRow } from './fixtures.js';

let client: MongoClient;
const namespaces: string[] = [];
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => {
  for (const namespace of namespaces) await dropNamespace(client, namespace);
  await client.close();
});

async function store(): Promise<{ namespace: string; rows: MessageRow[] }> {
  const namespace = uniqueNamespace('prune');
  namespaces.push(namespace);
  await client.db(`waha_${namespace}`).collection('sessions').insertOne({ name: 'alpha' });
  const db = client.db(`waha_${namespace}_alpha`);
  await db.collection('auth').insertOne({ key: 'creds', type: 'kv', data: { registered: true } });
  await db.collection('contacts').insertMany([{ id: CHATS[0], data: '{}' }, { id: CHATS[1], data: '{}' }]);
  await db.collection('chats').insertOne({ id: CHATS[0], conversationTimestamp: 1_700_000_000, data: '{}' });
  const rows: MessageRow[] = [...messageRows('N'), { jid: CHATS[1], id: 'NOWEB-NULL', at: null }];
  await db.collection('messages').insertMany(rows.map((row, index) => ({
    jid: row.jid, id: row.id, data: `{"n":${index}}`,
    // one in milliseconds: judged by the instant it means
    ...(row.at === null ? {} : { messageTimestamp: index === 30 ? row.at.getTime() : Math.floor(row.at.getTime() / 1000) }),
  })));
  return { namespace, rows };
}

async function digests(namespace: string): Promise<Record<string, string>> {
  const db = client.db(`waha_${namespace}_alpha`);
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name).sort();
  const result: Record<string, string> = {};
  for (const name of names) result[name] = digestRows(await db.collection(name).find({}).sort({ _id: 1 }).toArray());
  return result;
}

const prune = (namespace: string, ...args: string[]) => runCli(['messages', 'prune', 'mongo', '--older-than', '30d', '--mongo-url', mongoUrl(),
  '--namespace', namespace, '--session-namespace', namespace, '--engine', 'NOWEB', ...args]);

describe('messages prune mongo', () => {
  it('plans, then deletes exactly the old messages in batches; every other collection is identical', async () => {
    const s = await store();
    const old = s.rows.filter((row) => isOld(row)).length;
    const before = await digests(s.namespace);
    const dry = await prune(s.namespace, '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(json(dry).sessions).toEqual([expect.objectContaining({ engine: 'NOWEB', name: 'alpha', table: 'messages', planned: old, rows: s.rows.length, unreadable: 1 })]);
    expect(await digests(s.namespace)).toEqual(before);

    const result = await prune(s.namespace, '--yes', '--json', '--batch-size', '5');
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).summary).toMatchObject({ planned: old, deleted: old, failed: 0 });
    const left = (await client.db(`waha_${s.namespace}_alpha`).collection('messages').find({}).toArray()).map((document) => document.id).sort();
    expect(left).toEqual(s.rows.filter((row) => !isOld(row)).map((row) => row.id).sort());
    const after = await digests(s.namespace);
    const { messages: _before, ...otherBefore } = before;
    const { messages: _after, ...otherAfter } = after;
    expect(otherAfter).toEqual(otherBefore);
  });

  it('--vacuum is refused for MongoDB (exit 2); --engine GOWS finds nothing there', async () => {
    const s = await store();
    const vacuum = await prune(s.namespace, '--yes', '--vacuum');
    expect(vacuum.code).toBe(2);
    const gows = await runCli(['messages', 'prune', 'mongo', '--older-than', '30d', '--mongo-url', mongoUrl(), '--namespace', s.namespace, '--session-namespace', s.namespace, '--engine', 'GOWS', '--yes', '--json']);
    expect(gows.code, gows.stderr).toBe(0);
    expect(json(gows).sessions).toEqual([]);
  });
});
