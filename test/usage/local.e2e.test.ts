/**
 * `usage local` through the built binary, against the fixtures of every engine: each session's size
 * is the exact sum of its files, each table's figures are what SQLite's own dbstat and COUNT(*)
 * say, nothing is written beside the SQLite files, and a database a writer holds open is measured.
 */
import { copyFileSync, cpSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, cleanEnv, json, runCli } from '../support/cli.js';
import { writeLocalFixtures, type FixtureSet } from '../support/fixtures/index.js';

let base: string;
let fixtures: FixtureSet;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'waha-usage-local-'));
  base = path.join(work, 'sessions');
  fixtures = await writeLocalFixtures(base);
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every regular file under `dir` (relative path, size). */
function files(dir: string, prefix = ''): { path: string; size: number }[] {
  const found: { path: string; size: number }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...files(path.join(dir, entry.name), relative));
    else if (entry.isFile()) found.push({ path: relative, size: lstatSync(path.join(dir, entry.name)).size });
  }
  return found;
}

function sideFiles(root: string): string[] {
  return files(root).map((file) => file.path).filter((name) => /-(wal|shm|journal)$/.test(name)).sort();
}

const sum = (items: { size: number }[]) => items.reduce((total, item) => total + item.size, 0);

/** What SQLite itself says of a table (pages of it and its indexes, from dbstat; rows from COUNT(*)), read from a copy. */
function sqliteTruth(file: string): Map<string, { bytes: number; rows: number }> {
  const copy = path.join(mkdtempSync(path.join(work, 'copy-')), path.basename(file));
  copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name);
    return new Map(tables.map((table) => {
      const { bytes } = db.prepare("SELECT COALESCE(SUM(pgsize), 0) AS bytes FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)").get(table) as { bytes: number };
      const { rows } = db.prepare(`SELECT COUNT(*) AS rows FROM "${table}"`).get() as { rows: number };
      return [table, { bytes, rows }];
    }));
  } finally {
    db.close();
  }
}

describe('usage local', () => {
  let document: any;
  const byName = (name: string) => document.sessions.find((session: any) => session.name === name);

  beforeAll(async () => {
    const before = sideFiles(base);
    const result = await runCli(['usage', 'local', '--sessions-dir', base, '--json']);
    expect(result.code, result.stderr).toBe(0);
    document = json(result);
    expect(sideFiles(base)).toEqual(before); // read only: no -wal, -shm or -journal appeared
  }, 60_000);

  it('lists every session of every engine, its size the exact sum of its files, biggest first, with totals', () => {
    expect(document).toMatchObject({ schemaVersion: 1, store: 'local', location: base, notes: [], problems: [] });
    expect(document.sessions.map((session: any) => session.name).sort()).toEqual(fixtures.sessions.map((session) => session.name).sort());
    for (const expected of fixtures.sessions) {
      const session = byName(expected.name);
      expect(session.engine, expected.name).toBe(expected.engine);
      expect(session.bytes, expected.name).toBe(expected.bytes);
      const parts = Object.values(session.parts) as { bytes: number }[];
      expect(parts.reduce((total, part) => total + part.bytes, 0), expected.name).toBe(session.bytes);
    }
    const sizes = document.sessions.map((session: any) => session.bytes);
    expect(sizes).toEqual([...sizes].sort((a: number, b: number) => b - a));
    expect(document.totals.sessions).toBe(fixtures.sessions.length);
    expect(document.totals.bytes).toBe(fixtures.sessions.reduce((total, session) => total + session.bytes!, 0));
    for (const part of ['auth', 'messages', 'store', 'cache', 'media', 'other']) {
      expect(document.totals.parts[part].bytes, part).toBe(document.sessions.reduce((total: number, session: any) => total + session.parts[part].bytes, 0));
    }
  });

  it('NOWEB: auth is creds.json and the key files; messages and the other store tables as dbstat and COUNT(*) give them', () => {
    const alpha = byName('alpha');
    const folder = path.join(base, 'noweb', 'alpha');
    const keys = files(folder).filter((file) => !file.path.includes('/') && file.path.endsWith('.json') && !file.path.startsWith('.waha.session.'));
    expect(alpha.parts.auth).toMatchObject({ bytes: sum(keys), rows: keys.length, unit: 'files', estimated: false });
    const truth = sqliteTruth(path.join(folder, 'store.sqlite3'));
    expect(truth.get('messages')!.rows).toBeGreaterThan(0);
    expect(alpha.parts.messages).toEqual({ bytes: truth.get('messages')!.bytes, rows: truth.get('messages')!.rows, unit: 'rows', estimated: false, tables: { messages: { ...truth.get('messages'), estimated: false } } });
    for (const table of ['contacts', 'chats', 'groups', 'labels', 'labelAssociations', 'lid_map']) {
      expect(alpha.parts.store.tables[table], table).toEqual({ ...truth.get(table), estimated: false });
    }
    expect(alpha.sources).toEqual(['files', 'dbstat']);
    // no store: auth and the config only
    expect(byName('fresh').parts.messages.bytes).toBe(0);
    expect(byName('fresh').parts.other.bytes).toBe(lstatSync(path.join(base, 'noweb', 'fresh', '.waha.session.config.json')).size);
  });

  it('GOWS: the whatsmeow tables are auth, gows_messages the messages, the other gows_* tables the store', () => {
    const gopher = byName('gopher');
    const truth = sqliteTruth(path.join(base, 'gows', 'gopher', 'gows.db'));
    for (const [table, figures] of truth) {
      const part = table.startsWith('whatsmeow_') ? 'auth' : table === 'gows_messages' ? 'messages' : table.startsWith('gows_') ? 'store' : 'other';
      expect(gopher.parts[part].tables[table], table).toEqual({ ...figures, estimated: false });
    }
    expect(gopher.parts.messages.rows).toBe(truth.get('gows_messages')!.rows);
    expect(gopher.parts.auth.tables.whatsmeow_device.rows).toBe(1);
    expect(byName('gonew').parts.auth.tables.whatsmeow_device.rows).toBe(0);
  });

  it('WEBJS: IndexedDB and Local Storage are auth, the rest of the profile cache; WPP: its folder is auth', () => {
    for (const [name, profile] of [['web1', path.join(base, 'webjs', 'web1', 'session-web1')], ['web2', path.join(base, 'webjs', 'default', 'session-web2')]] as const) {
      const all = files(profile);
      const auth = all.filter((file) => /^(Default\/)?(IndexedDB|Local Storage)\//.test(file.path));
      const session = byName(name);
      expect(auth.length, name).toBeGreaterThan(0);
      expect(session.parts.auth, name).toMatchObject({ bytes: sum(auth), rows: auth.length, unit: 'files' });
      expect(session.parts.cache, name).toMatchObject({ bytes: sum(all) - sum(auth), rows: all.length - auth.length, unit: 'files' });
      expect(session.parts.cache.bytes, name).toBeGreaterThan(0);
    }
    const wpp = files(path.join(base, 'wpp', 'wpp1'));
    const config = wpp.filter((file) => file.path === '.waha.session.config.json');
    expect(byName('wpp1').parts.auth).toMatchObject({ bytes: sum(wpp) - sum(config), rows: wpp.length - config.length });
    expect(byName('wpp1').parts.other.bytes).toBe(sum(config));
  });

  it('--engine and --session narrow it; a typo fails with did-you-mean (exit 2, a JSON error document too)', async () => {
    const gows = json(await runCli(['usage', 'local', '--sessions-dir', base, '--engine', 'gows', '--json']));
    expect(gows.sessions.map((session: any) => session.name).sort()).toEqual(['gonew', 'gopher']);
    const one = json(await runCli(['usage', 'local', '--sessions-dir', base, '--session', 'alpha', '--json']));
    expect(one.sessions.map((session: any) => session.name)).toEqual(['alpha']);
    expect(one.sessions[0]).toEqual(byName('alpha'));
    const typo = await runCli(['usage', 'local', '--sessions-dir', base, '--session', 'alpah']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/No session "alpah" in local .*did you mean "alpha"\?/);
    expect(typo.stdout).toBe('');
    const typoJson = await runCli(['usage', 'local', '--sessions-dir', base, '--session', 'alpah', '--json']);
    expect(typoJson.code).toBe(2);
    expect(json(typoJson).error).toMatchObject({ code: 'usage', exitCode: 2 });
    expect((await runCli(['usage', 'local', '--sessions-dir', path.join(work, 'missing')])).code).toBe(2);
  });

  it('without a store word it is the local store when no URL is set; --quiet prints nothing; the detail view lists the tables', async () => {
    const plain = await runCli(['usage', '--sessions-dir', base]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^session\s+engine\s+size\s+auth\s+messages\s+store\s+cache\s+other/);
    expect(plain.stdout.split('\n')[1]).toMatch(new RegExp(`^${document.sessions[0].name}\\s`)); // biggest first
    expect(plain.stdout).toMatch(/^total\s/m);
    expect(plain.stdout).not.toContain('#'); // bars only on a terminal
    const quiet = await runCli(['usage', '--sessions-dir', base, '--quiet']);
    expect(quiet).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const detail = await runCli(['usage', 'local', '--sessions-dir', base, '--session', 'gopher']);
    expect(detail.stdout).toMatch(/^auth\s+\S+ KiB\s+\d+$/m);
    expect(detail.stdout).toMatch(/^\s+whatsmeow_device\s+\S+ (KiB|B)\s+1$/m);
    expect(detail.stdout).toMatch(/^\s+gows_messages\s/m);
  });
});

describe('usage local, partly measured; metrics', () => {
  it('a store.sqlite3 that is not SQLite: that session has sqlite-unreadable and its file in other, the others are measured, exit 3', async () => {
    const damaged = path.join(work, 'damaged');
    cpSync(path.join(base, 'noweb'), path.join(damaged, 'noweb'), { recursive: true });
    writeFileSync(path.join(damaged, 'noweb', 'fresh', 'store.sqlite3'), 'this is not a database, it is text, long enough to look like a header of a file');
    const result = await runCli(['usage', 'local', '--sessions-dir', damaged, '--json']);
    expect(result.code, result.stderr).toBe(3);
    const document = json(result);
    expect(document.error).toMatchObject({ code: 'partial', exitCode: 3 });
    expect(document.error.message).toContain('fresh');
    const fresh = document.sessions.find((session: any) => session.name === 'fresh');
    expect(fresh.problems.map((item: any) => item.code)).toEqual(['sqlite-unreadable']);
    expect(fresh.parts.other.bytes).toBeGreaterThanOrEqual(lstatSync(path.join(damaged, 'noweb', 'fresh', 'store.sqlite3')).size);
    expect(document.sessions.find((session: any) => session.name === 'alpha').parts.messages.rows).toBeGreaterThan(0);
    const plain = await runCli(['usage', 'local', '--sessions-dir', damaged]);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/error: 1 session could not be measured in full: fresh/);
  });

  it('--metrics-file: the sessions measured and the bytes of each part', async () => {
    const file = path.join(work, 'usage.prom');
    expect((await runCli(['usage', 'local', '--sessions-dir', base, '--quiet', '--metrics-file', file])).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(new RegExp(`waha_storage_items_total\\{command="usage",store="local",status="measured"\\} ${fixtures.sessions.length}\\b`));
    const auth = /waha_storage_bytes_total\{command="usage",store="local",action="auth"\} (\d+)/.exec(text);
    expect(Number(auth?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/action="messages"/);
  });
});

describe('usage local beside a running writer', () => {
  it('measures a WAL database another connection holds open mid-transaction, and adds no file', async () => {
    const live = path.join(work, 'live');
    cpSync(path.join(base, 'noweb'), path.join(live, 'noweb'), { recursive: true });
    const file = path.join(live, 'noweb', 'alpha', 'store.sqlite3');
    const writer = new Database(file);
    try {
      writer.pragma('journal_mode = WAL');
      const insert = writer.prepare('INSERT INTO messages (jid, id, "messageTimestamp", data) VALUES (?, ?, ?, ?)');
      for (let i = 0; i < 200; i++) insert.run('1@s.whatsapp.net', `LIVE${i}`, 1_700_000_000 + i, 'z'.repeat(500));
      const committed = (writer.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
      writer.exec('BEGIN IMMEDIATE');
      insert.run('1@s.whatsapp.net', 'UNCOMMITTED', 1, 'u');
      const before = files(path.join(live, 'noweb')).map((item) => item.path).sort();
      expect(before).toContain('alpha/store.sqlite3-wal');
      const result = await runCli(['usage', 'local', '--sessions-dir', live, '--session', 'alpha', '--json'], { timeoutMs: 30_000 });
      expect(result.code, result.stderr).toBe(0);
      const alpha = json(result).sessions[0];
      expect(alpha.parts.messages.rows).toBe(committed); // what is committed, without waiting for the writer
      expect(alpha.parts.messages.bytes).toBeGreaterThan(200 * 500);
      expect(files(path.join(live, 'noweb')).map((item) => item.path).sort()).toEqual(before);
      writer.exec('COMMIT');
    } finally {
      writer.close();
    }
  });
});

describe('usage local, interrupted', () => {
  it('Ctrl-C between sessions stops it: exit 130 and the interrupted error document', async () => {
    const child = spawn(process.execPath, [BIN, 'usage', 'local', '--sessions-dir', base, '--concurrency', '1', '--json'], {
      env: cleanEnv({ WAHA_STORAGE_TEST_PACE_MS: '400' }), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1500)); // 13 sessions one at a time, 400 ms each: well before the end
    child.kill('SIGINT');
    const killedAt = Date.now();
    expect(await code, stderr).toBe(130);
    expect(Date.now() - killedAt).toBeLessThan(1500); // at the next safe point, not after the sessions left
    expect(JSON.parse(stdout).error).toMatchObject({ code: 'interrupted', exitCode: 130 });
    expect(stderr).toContain('interrupted');
  });
});
