/** The NOWEB key-name codec against names computed by WAHA's own rules (fixtures), independently; and key names the tool cannot decode, through the binary. */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeKey, fileNameOf, mongoKeyOf, parseKeyName } from '../../src/sessions/engines/noweb-keys.js';
import { json, runCli } from '../support/cli.js';
import { fileNameForKey, mongoKeyFor, nowebAuth, sessionDbName } from '../support/fixtures/index.js';
import { bufferJsonText } from '../support/fixtures/naming.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { age, byName, migrate } from './helpers.js';

describe('NOWEB key names', () => {
  const keys = ['creds', ...nowebAuth('codec', { loggedIn: true, full: true }).keys.map(({ key }) => key)];

  it('parses every file name and Mongo key WAHA writes back to its logical key', () => {
    for (const key of keys) {
      expect(fileNameOf(key)).toBe(fileNameForKey(key));
      expect(mongoKeyOf(key)).toBe(mongoKeyFor(key));
      expect(parseKeyName(fileNameForKey(key), 'file'), key).toEqual({ ok: true, key });
      expect(parseKeyName(mongoKeyFor(key), 'mongo'), key).toEqual({ ok: true, key });
    }
  });

  // ids as real WhatsApp hands them to Baileys' key store (one per category and id shape)
  const REAL = [
    'pre-key-1', 'pre-key-812',
    'session-5511912345678.0', 'session-5511912345678.12', 'session-123456789012345_1.0', 'session-123456789012345_1.12', 'session-5511912345678_128.99',
    'identity-key-5511912345678.0', 'identity-key-123456789012345_1.3',
    'sender-key-120363021234567890@g.us::123456789012345_1::0', 'sender-key-5511912345678-1600000000@g.us::5511987654321::3',
    'sender-key-status@broadcast::123456789012345_1::0', 'sender-key-status@broadcast::5511912345678::12',
    'sender-key-memory-120363021234567890@g.us', 'sender-key-memory-5511912345678-1600000000@g.us', 'sender-key-memory-status@broadcast',
    'app-state-sync-key-AAAAAJyq', 'app-state-sync-key-AAAAAM/+ab3=', 'app-state-sync-key-AAAAAB+/Qw==',
    'app-state-sync-version-critical_block', 'app-state-sync-version-critical_unblock_low', 'app-state-sync-version-regular_high',
    'lid-mapping-5511912345678', 'lid-mapping-123456789012345_reverse',
    'device-list-5511912345678', 'device-list-123456789012345',
    'tctoken-5511912345678@s.whatsapp.net', 'tctoken-123456789012345@lid', 'tctoken-5511912345678:12@s.whatsapp.net', 'tctoken-__index',
    'contacts-tc-token-5511912345678@s.whatsapp.net', 'contacts-tc-token-123456789012345@lid', 'contacts-tc-token-__index',
  ];

  it('round-trips every category with ids from real WhatsApp (jids with "." and ":", @lid, @g.us, status@broadcast, base64 with "/" and "+")', () => {
    for (const key of REAL) {
      expect(parseKeyName(fileNameOf(key), 'file'), key).toEqual({ ok: true, key });
      expect(parseKeyName(mongoKeyOf(key), 'mongo'), key).toEqual({ ok: true, key });
    }
  });

  it('handles the hard names: old group ids with "-", sender keys, "/" in app-state ids, tctoken-__index', () => {
    expect(decodeKey('sender-key-123-456@g.us--789--3.json', 'file')).toBe('sender-key-123-456@g.us::789::3');
    expect(decodeKey('sender-key-123-456@g-us::789::3', 'mongo')).toBe('sender-key-123-456@g.us::789::3');
    expect(decodeKey('sender-key-status@broadcast--11_1--0.json', 'file')).toBe('sender-key-status@broadcast::11_1::0');
    expect(decodeKey('app-state-sync-key-AAAAab__cd.json', 'file')).toBe('app-state-sync-key-AAAAab/cd');
    expect(decodeKey('session-123_1-12', 'mongo')).toBe('session-123_1.12');
    expect(decodeKey('sender-key-memory-1@g-us', 'mongo')).toBe('sender-key-memory-1@g.us');
    expect(decodeKey('tctoken-__index', 'mongo')).toBe('tctoken-__index');
    expect(decodeKey('tctoken-5@s-whatsapp-net', 'mongo')).toBe('tctoken-5@s.whatsapp.net');
    expect(decodeKey('contacts-tc-token-5511912345678@s-whatsapp-net', 'mongo')).toBe('contacts-tc-token-5511912345678@s.whatsapp.net');
    expect(decodeKey('tctoken-5511912345678-12@s.whatsapp.net.json', 'file')).toBe('tctoken-5511912345678:12@s.whatsapp.net');
  });

  it('refuses names that do not round-trip or cannot be decoded without guessing', () => {
    expect(parseKeyName('sender-key-1@g.us::2::0.json', 'file').ok).toBe(false); // raw ":" (Baileys before 2022)
    expect(parseKeyName('future-a.b.json', 'file').ok).toBe(false); // unknown category with "."
    expect(parseKeyName('creds.json.123', 'file').ok).toBe(false);
    expect(parseKeyName('future-thing-abc.json', 'file')).toEqual({ ok: true, key: 'future-thing-abc' });
    // a future JID-keyed category: in MongoDB every "-" may have been a "."
    expect(parseKeyName('newcat-5511912345678@s-whatsapp-net', 'mongo').ok).toBe(false);
    expect(parseKeyName('newcat-5511912345678@s.whatsapp.net.json', 'file').ok).toBe(false);
    // a jid whose user part holds a "." (agent): MongoDB's "-" there cannot be told from a group id's "-"
    expect(parseKeyName('tctoken-5511912345678-1@s-whatsapp-net', 'mongo').ok).toBe(false);
    expect(parseKeyName('session-5511912345678-3-0', 'mongo').ok).toBe(false);
    expect(parseKeyName('pre-key-1-2', 'mongo').ok).toBe(false);
  });
});

describe('NOWEB keys the tool cannot decode, through the binary', () => {
  let client: MongoClient;
  const namespaces: string[] = [];
  beforeAll(async () => { client = await connectMongo(); });
  afterAll(async () => {
    for (const namespace of namespaces) await dropNamespace(client, namespace);
    await client.close();
  });

  const creds = bufferJsonText(nowebAuth('undecodable', { loggedIn: true, full: false, preKeys: 1 }).creds);
  /** Key files of a session that holds names only files can carry, with their exact bytes. */
  const FILES: Record<string, string> = {
    'creds.json': creds,
    'pre-key-1.json': '{"public":{"type":"Buffer","data":"AAEC"},"private":{"type":"Buffer","data":"AwQF"}}',
    'contacts-tc-token-5511912345678@s.whatsapp.net.json': '{"token":{"type":"Buffer","data":"q83v"},"timestamp":"1700000000"}',
    'newcat-5511912345678@s.whatsapp.net.json': '{"a":1}',
    'sender-key-120363021234567890@g.us::5511912345678::0.json': '{"type":"Buffer","data":"AA=="}',
  };

  async function sessionFolder(name: string): Promise<{ base: string; namespace: string; folder: string }> {
    const base = await mkdtemp(path.join(os.tmpdir(), 'waha-keys-'));
    const namespace = uniqueNamespace('keys');
    namespaces.push(namespace);
    const folder = path.join(base, namespace, name);
    await mkdir(folder, { recursive: true });
    for (const [file, text] of Object.entries(FILES)) await writeFile(path.join(folder, file), text);
    await age(path.join(base, namespace));
    return { base, namespace, folder };
  }

  async function filesOf(folder: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const file of (await readdir(folder)).sort()) if (file.endsWith('.json') && !file.startsWith('.waha')) out[file] = await readFile(path.join(folder, file), 'utf8');
    return out;
  }

  function cli(args: string[], base: string, namespace: string) {
    return runCli([...args, '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl(), '--engine', 'NOWEB']);
  }

  it('local -> archive -> local carries every key file byte for byte under its own name, whatever its category', async () => {
    const { base, namespace } = await sessionFolder('odd');
    const archive = path.join(base, 'odd.tar.gz');
    const backup = await cli(['backup', 'local', '--output', archive, '--json'], base, namespace);
    expect(backup.code, backup.stderr).toBe(0);
    const verify = await runCli(['backup', 'verify', archive, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    const target = await mkdtemp(path.join(os.tmpdir(), 'waha-keys-restore-'));
    const restore = await cli(['restore', archive, 'local', '--json'], target, namespace);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await filesOf(path.join(target, namespace, 'odd'))).toEqual(FILES);
  });

  it('purge --backup of such a session backs it up and purges it', async () => {
    const { base, namespace, folder } = await sessionFolder('odd');
    const archive = path.join(base, 'purged.tar.gz');
    const purge = await cli(['purge', 'local', '--session', 'odd', '--backup', archive, '--yes', '--json'], base, namespace);
    expect(purge.code, purge.stderr).toBe(0);
    expect(existsSync(folder)).toBe(false);
    const target = await mkdtemp(path.join(os.tmpdir(), 'waha-keys-restore-'));
    const restore = await cli(['restore', archive, 'local', '--json'], target, namespace);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await filesOf(path.join(target, namespace, 'odd'))).toEqual(FILES);
  });

  it('local -> mongo fails that session (nothing committed) when a name cannot be given to MongoDB', async () => {
    const { base, namespace } = await sessionFolder('odd');
    const result = await migrate(['local', 'mongo', '--json'], base, namespace);
    expect(result.code).toBe(1);
    const odd = byName(result).get('odd')!;
    expect(odd).toMatchObject({ status: 'failed', reason: 'key-name' });
    expect(odd.message).toMatch(/newcat-5511912345678@s\.whatsapp\.net\.json|sender-key-120363021234567890@g\.us::/);
    const names = (await client.db().admin().listDatabases({ nameOnly: true })).databases.map((db) => db.name);
    expect(names).not.toContain(sessionDbName(namespace, 'odd'));
  });

  async function mongoSession(name: string, extra: Record<string, unknown>): Promise<{ base: string; namespace: string }> {
    const base = await mkdtemp(path.join(os.tmpdir(), 'waha-keys-'));
    const namespace = uniqueNamespace('keys');
    namespaces.push(namespace);
    await mkdir(path.join(base, namespace, name), { recursive: true });
    await writeFile(path.join(base, namespace, name, 'creds.json'), creds);
    await age(path.join(base, namespace));
    const up = await migrate(['local', 'mongo', '--json'], base, namespace);
    expect(up.code, up.stderr).toBe(0);
    const auth = client.db(sessionDbName(namespace, name)).collection('auth');
    for (const [key, data] of Object.entries(extra)) await auth.insertOne({ key, data, type: 'kv' });
    return { base: await mkdtemp(path.join(os.tmpdir(), 'waha-keys-down-')), namespace };
  }

  it('mongo -> local writes WAHA\'s contacts-tc-token-<jid with "-"> under the name Baileys reads', async () => {
    const token = { token: { type: 'Buffer', data: 'q83v' }, timestamp: '1700000000' };
    const { base, namespace } = await mongoSession('tc', { 'contacts-tc-token-5511912345678@s-whatsapp-net': token });
    const result = await migrate(['mongo', 'local', '--force', '--json'], base, namespace);
    expect(result.code, result.stderr).toBe(0);
    const files = await filesOf(path.join(base, namespace, 'tc'));
    expect(Object.keys(files)).toContain('contacts-tc-token-5511912345678@s.whatsapp.net.json');
    expect(Object.keys(files)).not.toContain('contacts-tc-token-5511912345678@s-whatsapp-net.json');
    expect(JSON.parse(files['contacts-tc-token-5511912345678@s.whatsapp.net.json']!)).toEqual(token);
  });

  it('mongo -> local fails the session (nothing committed) for a key name it would have to guess at; mongo -> archive -> mongo keeps it', async () => {
    const { base, namespace } = await mongoSession('guess', { 'newcat-5511912345678@s-whatsapp-net': { a: 1 } });
    const result = await migrate(['mongo', 'local', '--force', '--json'], base, namespace);
    expect(result.code).toBe(1);
    const guess = byName(result).get('guess')!;
    expect(guess).toMatchObject({ status: 'failed', reason: 'key-name' });
    expect(guess.message).toContain('newcat-5511912345678@s-whatsapp-net');
    expect(existsSync(path.join(base, namespace, 'guess'))).toBe(false);

    const archive = path.join(base, 'guess.tar.gz');
    const backup = await cli(['backup', 'mongo', '--output', archive, '--force', '--json'], base, namespace);
    expect(backup.code, backup.stderr).toBe(0);
    await client.db(sessionDbName(namespace, 'guess')).dropDatabase();
    const restore = await cli(['restore', archive, 'mongo', '--overwrite', '--yes', '--json'], base, namespace);
    expect(restore.code, restore.stderr).toBe(0);
    expect(json(restore).sessions).toMatchObject([{ name: 'guess', status: 'done' }]);
    const kept = await client.db(sessionDbName(namespace, 'guess')).collection('auth').findOne({ key: 'newcat-5511912345678@s-whatsapp-net' });
    expect(kept?.data).toEqual({ a: 1 });
  });
});
