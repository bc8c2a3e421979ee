/**
 * Baileys as the oracle for NOWEB: a folder made by Baileys' own useMultiFileAuthState, initAuthCreds
 * and key store (`keys.set` of every category), carried local -> archive -> local and
 * local -> mongo -> local through the built binary, then read back with Baileys: every `keys.get`
 * deep-equal, creds equal, and the archive leg byte for byte.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferJSON, initAuthCreds, useMultiFileAuthState } from 'baileys';
import { json } from '../support/cli.js';
import { connectMongo, dropNamespace, uniqueNamespace } from '../support/mongo.js';
import { age } from '../support/scenario.js';
import { cli, tempBase, treeOf } from './support.js';

type KeyData = Record<string, Record<string, unknown>>;

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const keyPair = () => ({ public: bytes(32), private: bytes(32) });

/**
 * One value of every category Baileys 7 keeps, with ids as WhatsApp hands them out. `participants`
 * is the jid server of sender-key-memory's participants: FerretDB (the test MongoDB) rejects field
 * names containing "." (`<jid>@s.whatsapp.net`, which real MongoDB accepts), so the mongo leg uses `@lid`.
 */
function everyCategory(participants: 'lid' | 's.whatsapp.net'): KeyData {
  return {
    'pre-key': { 1: keyPair(), 2: keyPair(), 812: keyPair() },
    session: { '5511912345678.0': bytes(900), '123456789012345_1.12': bytes(1100), '5511987654321_128.99': bytes(700) },
    'sender-key': {
      '120363021234567890@g.us::123456789012345_1::0': bytes(400),
      '5511912345678-1600000000@g.us::5511987654321::3': bytes(300),
      'status@broadcast::123456789012345_1::0': bytes(200),
    },
    'sender-key-memory': {
      '120363021234567890@g.us': { [`123456789012345@${participants}`]: true, [`5511987654321@${participants}`]: false },
      'status@broadcast': { [`123456789012346@${participants}`]: true },
    },
    'app-state-sync-key': {
      'AAAAAM/+ab0=': { keyData: bytes(32), fingerprint: { rawId: 7, currentIndex: 1, deviceIndexes: [0, 12] }, timestamp: 1700000000000 },
      AAAAAJyqQw: { keyData: bytes(32), fingerprint: { rawId: 8, currentIndex: 0, deviceIndexes: [0] }, timestamp: 1700000000001 },
    },
    'app-state-sync-version': {
      regular_high: { version: 12, hash: Buffer.from(bytes(128)), indexValueMap: { [Buffer.from(bytes(32)).toString('base64')]: { valueMac: bytes(32) } } },
      critical_unblock_low: { version: 1, hash: Buffer.from(bytes(128)), indexValueMap: {} },
    },
    'lid-mapping': { '5511912345678': '123456789012345', '123456789012345_reverse': '5511912345678' },
    'device-list': { '5511912345678': ['0', '12'], '123456789012345': ['0'] },
    tctoken: {
      '123456789012345@lid': { token: Buffer.from(bytes(24)), timestamp: '1700000000' },
      '5511912345678@s.whatsapp.net': { token: Buffer.from(bytes(24)), timestamp: '1700000001', senderTimestamp: 1700000002 },
      __index: ['123456789012345@lid', '5511912345678@s.whatsapp.net'] as unknown as Record<string, unknown>,
    },
    // tctoken's name until 2025-11 (Baileys 247c717881); WAHA folders still hold it
    'contacts-tc-token': { '5511912345678@s.whatsapp.net': { token: Buffer.from(bytes(24)), timestamp: '1700000003' } },
    'identity-key': { '5511912345678.0': bytes(32), '123456789012345_1.0': bytes(32) },
  };
}

/** Writes a NOWEB session with Baileys itself: fresh creds (logged in) and the given keys. */
async function writeWithBaileys(folder: string, data: KeyData): Promise<void> {
  const { state, saveCreds } = await useMultiFileAuthState(folder);
  expect(state.creds).toMatchObject({ registered: false, nextPreKeyId: 1 }); // initAuthCreds: nothing was there
  Object.assign(state.creds, {
    me: { id: '5511912345678:12@s.whatsapp.net', name: 'Oracle', lid: '123456789012345:12@lid' },
    nextPreKeyId: 813, firstUnuploadedPreKeyId: 813, platform: 'smba',
  });
  await state.keys.set(data as Parameters<typeof state.keys.set>[0]);
  await saveCreds();
}

/** What Baileys reads from a folder: creds (as BufferJSON text) and `keys.get` of every id. */
async function readWithBaileys(folder: string, data: KeyData): Promise<{ creds: string; keys: KeyData }> {
  const { state } = await useMultiFileAuthState(folder);
  const keys: KeyData = {};
  for (const [category, values] of Object.entries(data)) {
    keys[category] = await state.keys.get(category as 'session', Object.keys(values));
  }
  return { creds: JSON.stringify(state.creds, BufferJSON.replacer), keys };
}

let client: MongoClient;
const namespaces: string[] = [];
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => {
  for (const namespace of namespaces) await dropNamespace(client, namespace);
  await client.close();
});

async function baileysSession(name: string, data: KeyData): Promise<{ base: string; namespace: string; folder: string }> {
  const base = await tempBase('baileys');
  const namespace = uniqueNamespace('orb');
  namespaces.push(namespace);
  const folder = path.join(base, namespace, name);
  await writeWithBaileys(folder, data);
  await age(path.join(base, namespace));
  return { base, namespace, folder };
}

describe('NOWEB against Baileys 7', () => {
  it('the key store writes a file per key of every category, and Baileys reads each back (the oracle works)', async () => {
    const data = everyCategory('s.whatsapp.net');
    const { folder } = await baileysSession('self', data);
    const read = await readWithBaileys(folder, data);
    for (const [category, values] of Object.entries(data)) {
      for (const id of Object.keys(values)) expect(read.keys[category]![id], `${category}-${id}`).toBeTruthy();
    }
    expect(read.creds).toContain('5511912345678:12@s.whatsapp.net');
    expect((await treeOf(folder)).has('contacts-tc-token-5511912345678@s.whatsapp.net.json')).toBe(true);
  });

  it('local -> archive -> local: byte for byte, and Baileys reads the same creds and keys', async () => {
    const data: KeyData = {
      ...everyCategory('s.whatsapp.net'),
      // a JID-keyed category a future Baileys may add: files carry it, whatever the tool knows
      'future-cat': { '5511912345678@s.whatsapp.net': { token: Buffer.from(bytes(8)) } },
    };
    const { base, namespace, folder } = await baileysSession('archived', data);
    const before = await readWithBaileys(folder, data);
    const archive = path.join(base, 'backup.tar.gz');
    const backup = await cli(['backup', 'local', '--output', archive, '--json'], base, namespace);
    expect(backup.code, backup.stderr).toBe(0);
    const target = await tempBase('baileys-restore');
    const restore = await cli(['restore', archive, 'local', '--json'], target, namespace);
    expect(restore.code, restore.stderr).toBe(0);
    const restored = path.join(target, namespace, 'archived');
    const files = (tree: Map<string, Buffer>) => new Map([...tree].filter(([name]) => !name.startsWith('.waha.')));
    expect(files(await treeOf(restored))).toEqual(files(await treeOf(folder)));
    expect(await readWithBaileys(restored, data)).toEqual(before);
  });

  it('local -> mongo -> local: Baileys reads the same creds and keys, every file under the name it was written as', async () => {
    const data = everyCategory('lid');
    const { base, namespace, folder } = await baileysSession('mongoleg', data);
    const before = await readWithBaileys(folder, data);
    const up = await cli(['migrate', 'local', 'mongo', '--json'], base, namespace);
    expect(up.code, up.stderr).toBe(0);
    expect(json(up).sessions).toMatchObject([{ name: 'mongoleg', status: 'done' }]);
    const target = await tempBase('baileys-down');
    const down = await cli(['migrate', 'mongo', 'local', '--force', '--json'], target, namespace);
    expect(down.code, down.stderr).toBe(0);
    const back = path.join(target, namespace, 'mongoleg');
    const names = (tree: Map<string, Buffer>) => [...tree.keys()].filter((name) => !name.startsWith('.waha.')).sort();
    expect(names(await treeOf(back))).toEqual(names(await treeOf(folder)));
    expect(await readWithBaileys(back, data)).toEqual(before);
  });

  it('inspect sees the Baileys session logged in', async () => {
    const { base, namespace } = await baileysSession('seen', everyCategory('lid'));
    const result = await cli(['inspect', 'local', '--json'], base, namespace);
    expect(result.code, result.stderr).toBe(0);
    const session = json(result).sessions.find((item: { name: string }) => item.name === 'seen');
    expect(session).toMatchObject({ engine: 'NOWEB', loggedIn: true });
  });
});
