import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALPHA_CONFIG, categoryOfKey, writeLocalFixtures, writeLocalNowebSessions, type ExpectedSession, type FixtureSet,
} from '../support/fixtures/index.js';
import { bufferNodes, findFiles, isBase64, tempDir, treeDigest, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

let base: string;
let set: FixtureSet;
/** Taken right after writing: opening a WAL database read-only later leaves -wal/-shm behind. */
let digestAfterWrite: string;
let sideFilesAfterWrite: number;
const session = (name: string, engine?: string): ExpectedSession => {
  const found = set.sessions.find((s) => s.name === name && (!engine || s.engine === engine));
  if (!found) throw new Error(`no expected session ${name}`);
  return found;
};
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

beforeAll(async () => {
  base = tempDir('local');
  set = await writeLocalFixtures(base);
  digestAfterWrite = treeDigest(base);
  sideFilesAfterWrite = findFiles(base, ['-name', '*-wal']).entries + findFiles(base, ['-name', '*-shm']).entries;
});

describe('writeLocalFixtures', () => {
  it('returns every session of the standard scenario', () => {
    expect(set.sessions.map((s) => `${s.engine}/${s.name}`).sort()).toEqual([
      'GOWS/gonew', 'GOWS/gopher', 'NOWEB/My-Sess', 'NOWEB/alpha', 'NOWEB/broken', 'NOWEB/fresh', 'NOWEB/ghost',
      'NOWEB/my-sess', 'NOWEB/old name', 'WEBJS/default', 'WEBJS/web1', 'WEBJS/web2', 'WPP/wpp1',
    ]);
    expect(set.problems).toEqual(['slug-collision']);
    expect(set.sessions.every((s) => s.store === 'local' && typeof s.bytes === 'number')).toBe(true);
  });

  it('counts entries and bytes the way find(1) does', () => {
    for (const s of set.sessions) {
      let counted: { entries: number; bytes: number };
      if (s.engine === 'WEBJS') {
        const own = path.join(base, 'webjs', s.name);
        const profile = s.layout === 'plus' ? path.join(own, `session-${s.name}`) : path.join(base, 'webjs', 'default', `session-${s.name}`);
        counted = findFiles(profile);
        if (existsSync(own)) {
          const config = findFiles(own, ['-maxdepth', '1', '-name', '.waha.session.*']);
          counted = { entries: counted.entries + config.entries, bytes: counted.bytes + config.bytes };
        }
      } else {
        counted = findFiles(path.join(base, s.engine!.toLowerCase(), s.name));
      }
      expect({ name: s.name, ...counted }).toEqual({ name: s.name, entries: s.entries, bytes: s.bytes });
    }
    expect(session('web2').layout).toBe('core');
    expect(existsSync(path.join(base, 'webjs', 'web2'))).toBe(false);
    expect(session('default').entries).toBe(session('web2').entries + 1);
  });

  it('names alpha keys with every hard shape', () => {
    const files = readdirSync(path.join(base, 'noweb', 'alpha'));
    const creds = json(path.join(base, 'noweb', 'alpha', 'creds.json'));
    const patterns = [
      /^pre-key-\d+\.json$/, /^session-\d+\.0\.json$/, /^session-\d+_1\.12\.json$/,
      /^sender-key-\d+@g\.us--\d+_1--0\.json$/, /^sender-key-\d+-\d+@g\.us--\d+--3\.json$/,
      /^sender-key-status@broadcast--\d+_1--0\.json$/, /^sender-key-memory-\d+@g\.us\.json$/,
      /^app-state-sync-key-[A-Za-z0-9+=]*__[A-Za-z0-9+_=]*\.json$/, /^app-state-sync-version-regular_high\.json$/,
      /^lid-mapping-\d+\.json$/, /^lid-mapping-\d+_reverse\.json$/, /^device-list-\d+\.json$/,
      /^tctoken-\d+@lid\.json$/, /^tctoken-__index\.json$/, /^identity-key-\d+\.0\.json$/, /^future-thing-abc\.json$/,
      /^store\.sqlite3$/, /^\.waha\.session\.config\.json$/,
    ];
    for (const pattern of patterns) expect(files.some((f) => pattern.test(f)), String(pattern)).toBe(true);
    expect(files.filter((f) => /[:/]/.test(f))).toEqual([]);
    expect(files).toContain(`pre-key-${(creds.nextPreKeyId as number) - 1}.json`);
    expect((creds.me as { id: string }).id).toMatch(/^\d+:12@s\.whatsapp\.net$/);
    expect(creds.account).toBeTruthy();
    expect((creds.signalIdentities as unknown[]).length).toBeGreaterThan(0);
    expect(json(path.join(base, 'noweb', 'alpha', '.waha.session.config.json'))).toEqual(ALPHA_CONFIG);
  });

  it('counts keysByCategory by longest prefix, matching the files', () => {
    for (const s of set.sessions.filter((x) => x.engine === 'NOWEB')) {
      const counts: Record<string, number> = {};
      for (const file of readdirSync(path.join(base, 'noweb', s.name))) {
        if (!file.endsWith('.json') || file.startsWith('.waha.session.')) continue;
        const category = categoryOfKey(file.slice(0, -'.json'.length));
        counts[category] = (counts[category] ?? 0) + 1;
      }
      expect(counts, s.name).toEqual(s.keysByCategory);
    }
    expect(session('alpha').keysByCategory).toMatchObject({ creds: 1, other: 1, 'sender-key': 4, 'sender-key-memory': 2 });
  });

  it('writes every buffer as {type:"Buffer", data:<base64>}', () => {
    const dir = path.join(base, 'noweb', 'alpha');
    let nodes = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      for (const node of bufferNodes(JSON.parse(readFileSync(path.join(dir, file), 'utf8')))) {
        nodes += 1;
        expect(isBase64(node.data), file).toBe(true);
      }
    }
    expect(nodes).toBeGreaterThan(30);
    expect(readFileSync(path.join(dir, 'creds.json'), 'utf8')).not.toMatch(/"data":\[/);
  });

  it('writes the broken, fresh, ghost and oddly named sessions', () => {
    const broken = path.join(base, 'noweb', 'broken');
    const text = readFileSync(path.join(broken, 'creds.json'), 'utf8');
    expect(() => JSON.parse(text)).toThrow();
    expect(text.endsWith('}}garbage')).toBe(true);
    expect(() => JSON.parse(text.slice(0, -'}garbage'.length))).not.toThrow();
    expect(existsSync(path.join(broken, 'creds.json.1234567890'))).toBe(true);
    expect(session('broken')).toMatchObject({ loggedIn: null, problems: ['creds-corrupt', 'temp-files'] });

    expect(readFileSync(path.join(base, 'noweb', 'fresh', '.waha.session.config.json'), 'utf8')).toBe('null');
    expect(json(path.join(base, 'noweb', 'fresh', 'creds.json')).me).toBeUndefined();
    expect(session('fresh')).toMatchObject({ loggedIn: false, config: null, me: null, worker: null });

    expect(readdirSync(path.join(base, 'noweb', 'ghost'))).toEqual(['.waha.session.config.json']);
    expect(session('ghost')).toMatchObject({ engine: 'NOWEB', loggedIn: false, config: {}, entries: 1, problems: ['no-auth'] });
    expect(session('old name').problems).toEqual(['invalid-name']);
    expect(session('My-Sess').problems).toEqual(['slug-collision']);
    expect(session('my-sess').problems).toEqual(['slug-collision']);
  });

  it('leaves Singleton* symlinks only in web1', () => {
    const profile = path.join(base, 'webjs', 'web1', 'session-web1');
    for (const name of ['SingletonLock', 'SingletonSocket', 'SingletonCookie']) {
      expect(lstatSync(path.join(profile, name)).isSymbolicLink()).toBe(true);
      expect(existsSync(path.join(profile, name))).toBe(false); // dangling
    }
    expect(readlinkSync(path.join(profile, 'SingletonLock'))).toBe('host-1234');
    expect(readFileSync(path.join(profile, 'Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/CURRENT'), 'utf8')).toBe('MANIFEST-000001\n');
    expect(existsSync(path.join(base, 'webjs/default/session-default/SingletonLock'))).toBe(false);
    expect(session('web1').problems).toEqual(['browser-running']);
  });

  it('writes waha.sqlite3 per engine with exactly WAHA\'s tables, in WAL mode, with no -wal left', () => {
    for (const engine of ['noweb', 'webjs', 'gows', 'wpp']) {
      const db = new Database(path.join(base, engine, 'waha.sqlite3'), { readonly: true });
      try {
        const objects = db.prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
        expect(objects).toEqual([
          { type: 'table', name: 'api_key' }, { type: 'table', name: 'me' }, { type: 'index', name: 'me_id_index' },
          { type: 'table', name: 'session_worker' }, { type: 'index', name: 'session_worker_id_idx' },
          { type: 'index', name: 'session_worker_worker_idx' },
        ]);
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        const rows = db.prepare('SELECT id, data FROM me').all() as { id: string; data: string }[];
        for (const row of rows) {
          const expected = set.sessions.find((s) => s.engine?.toLowerCase() === engine && s.name === row.id);
          expect(JSON.parse(row.data)).toEqual({ id: row.id, me: expected?.me });
        }
        const workers = db.prepare('SELECT id, worker, data FROM session_worker').all() as { id: string; worker: string; data: string }[];
        for (const row of workers) {
          expect(set.sessions.find((s) => s.engine?.toLowerCase() === engine && s.name === row.id)?.worker).toBe(row.worker);
          expect(JSON.parse(row.data)).toEqual({ id: row.id, worker: row.worker });
        }
        const withMe = set.sessions.filter((s) => s.engine?.toLowerCase() === engine && s.me).length;
        expect(rows.length).toBe(withMe);
      } finally {
        db.close();
      }
    }
    expect(sideFilesAfterWrite).toBe(0);
  });

  it('writes gows.db with the whatsmeow and gows tables; one device only when logged in', () => {
    for (const [name, devices] of [['gopher', 1], ['gonew', 0]] as const) {
      const db = new Database(path.join(base, 'gows', name, 'gows.db'), { readonly: true });
      try {
        const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[]).map((t) => t.name);
        for (const table of ['whatsmeow_device', 'whatsmeow_identity_keys', 'whatsmeow_pre_keys', 'whatsmeow_sessions',
          'whatsmeow_sender_keys', 'whatsmeow_app_state_sync_keys', 'whatsmeow_app_state_version',
          'whatsmeow_app_state_mutation_macs', 'whatsmeow_contacts', 'whatsmeow_chat_settings', 'whatsmeow_message_secrets',
          'whatsmeow_privacy_tokens', 'whatsmeow_nct_salt', 'whatsmeow_lid_map', 'whatsmeow_event_buffer',
          'whatsmeow_retry_buffer', 'whatsmeow_version', 'gows_messages', 'gows_groups', 'gows_chat_ephemeral_setting',
          'gows_labels', 'gows_label_associations']) expect(tables, table).toContain(table);
        expect(db.prepare('SELECT COUNT(*) AS n FROM whatsmeow_device').get()).toEqual({ n: devices });
        expect(db.prepare('SELECT version, compat FROM whatsmeow_version').all()).toEqual([{ version: 15, compat: 8 }]);
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
    }
    expect(session('gopher')).toMatchObject({ loggedIn: true, worker: 'worker-b' });
    expect(session('gonew').loggedIn).toBe(false);
  });

  it('writes the NOWEB store tables into alpha/store.sqlite3', () => {
    const db = new Database(path.join(base, 'noweb', 'alpha', 'store.sqlite3'), { readonly: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
      expect(tables).toEqual(['chats', 'contacts', 'groups', 'labelAssociations', 'labels', 'lid_map', 'messages']);
      expect((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('is deterministic, and scale grows the keys', async () => {
    const again = tempDir('local-again');
    expect(await writeLocalFixtures(again)).toEqual(set);
    expect(treeDigest(again)).toBe(digestAfterWrite);
    const bigger = await writeLocalFixtures(tempDir('local-scale'), { scale: 3 });
    const big = bigger.sessions.find((s) => s.name === 'alpha')!;
    expect(big.entries).toBeGreaterThan(session('alpha').entries);
    expect(big.keysByCategory!['pre-key']).toBe(15);
  });

  it('portable mode leaves out my-sess so no two paths differ only by case', async () => {
    const dir = tempDir('local-portable');
    const portable = await writeLocalFixtures(dir, { portable: true });
    expect(portable.sessions.map((s) => s.name)).not.toContain('my-sess');
    expect(portable.problems).toEqual([]);
    const paths = findFilesList(dir).map((p) => p.toLowerCase());
    expect(new Set(paths).size).toBe(paths.length);
  });
});

function findFilesList(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      out.push(path.join(current, entry.name));
      if (entry.isDirectory()) walk(path.join(current, entry.name));
    }
  };
  walk(dir);
  return out;
}

describe('writeLocalNowebSessions', () => {
  it('writes count logged-in sessions with keysPerSession keys each, and their me/worker rows', async () => {
    const dir = tempDir('many');
    await writeLocalNowebSessions(dir, { count: 4, keysPerSession: 25, namespace: 'nspace' });
    const sessions = readdirSync(path.join(dir, 'nspace')).filter((f) => f.startsWith('bench-')).sort();
    expect(sessions).toEqual(['bench-00000', 'bench-00001', 'bench-00002', 'bench-00003']);
    for (const name of sessions) {
      const files = readdirSync(path.join(dir, 'nspace', name));
      expect(files.length).toBe(25 + 2);
      expect(files).toContain('creds.json');
      expect((json(path.join(dir, 'nspace', name, 'creds.json')).me as { id: string }).id).toMatch(/@s\.whatsapp\.net$/);
    }
    const db = new Database(path.join(dir, 'nspace', 'waha.sqlite3'), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM me').get()).toEqual({ n: 4 });
    expect(db.prepare("SELECT COUNT(*) AS n FROM session_worker WHERE worker = ''").get()).toEqual({ n: 4 });
    db.close();
  });
});
