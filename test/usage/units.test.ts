/** usage's pieces: which table is which part, the bars' arithmetic, and SQLite measured with and without dbstat. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { PART_GLYPHS, shares, usageBars } from '../../src/cli/usage.js';
import { displayWidth } from '../../src/cli/text.js';
import { isMessageTable, partOfTable, PARTS, type PartName } from '../../src/usage/parts.js';
import { emptyParts, sessionBytes, type SessionUsage } from '../../src/usage/report.js';
import { measureSqlite } from '../../src/usage/sqlite.js';
import { localUsage } from '../../src/usage/local.js';
import { writeLocalFixtures } from '../support/fixtures/index.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

describe('parts', () => {
  it('puts each engine\'s tables where the brief says', () => {
    expect(partOfTable('auth')).toBe('auth'); // NOWEB auth (PostgreSQL table, MongoDB collection)
    expect(partOfTable('files')).toBe('auth'); // WEBJS/WPP RemoteAuth in PostgreSQL
    expect(partOfTable('auth.files')).toBe('auth'); // ... and in MongoDB GridFS
    expect(partOfTable('auth.chunks')).toBe('auth');
    expect(partOfTable('whatsmeow_device')).toBe('auth');
    expect(partOfTable('whatsmeow_sessions')).toBe('auth');
    expect(partOfTable('messages')).toBe('messages');
    expect(partOfTable('gows_messages')).toBe('messages');
    for (const table of ['contacts', 'chats', 'groups', 'labels', 'labelAssociations', 'lid_map', 'gows_groups', 'gows_labels', 'gows_label_associations', 'gows_chat_ephemeral_setting']) {
      expect(partOfTable(table), table).toBe('store');
    }
    expect(partOfTable('media')).toBe('media');
    expect(partOfTable('sqlite_sequence')).toBe('other');
    expect(partOfTable('something_else')).toBe('other');
    expect(isMessageTable('gows_messages') && isMessageTable('messages') && !isMessageTable('chats')).toBe(true);
  });
});

describe('shares', () => {
  it('shares the cells out by size, summing to the length', () => {
    expect(shares([50, 25, 25], 8)).toEqual([4, 2, 2]);
    expect(shares([1, 1, 1], 10).reduce((a, b) => a + b, 0)).toBe(10);
    expect(shares([0, 0], 5)).toEqual([0, 0]);
    expect(shares([3, 0, 1], 4)).toEqual([3, 0, 1]);
  });
});

function session(name: string, bytes: Partial<Record<PartName, number>>): SessionUsage {
  const parts = emptyParts({}, 'rows');
  for (const [part, value] of Object.entries(bytes)) parts[part as PartName].bytes = value;
  return { name, engine: 'NOWEB', location: name, bytes: sessionBytes(parts), parts, sources: ['files'], problems: [] };
}

describe('usage bars', () => {
  const sessions = [
    session('big-one', { auth: 4000, messages: 12000, store: 4000 }),
    session('half', { auth: 10000 }),
    session('a-session-with-a-rather-long-name-that-does-not-fit', { cache: 1000, other: 1000 }),
    session('empty', {}),
  ];

  it.each([80, 120])('fits %i columns: the biggest bar reaches the edge, the others to scale, one glyph per part', (width) => {
    const lines = usageBars(sessions, { width, color: false });
    const bars = lines.slice(0, sessions.length);
    for (const line of lines) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
    expect(displayWidth(bars[0]!)).toBe(width);
    const barOf = (line: string) => line.slice(line.lastIndexOf(' ') + 1);
    const full = barOf(bars[0]!).length;
    expect(full).toBeGreaterThan(width / 2);
    // the biggest: 20% auth, 60% messages, 20% store, in that order
    expect(barOf(bars[0]!)).toMatch(/^#+=+\++$/);
    expect(Math.abs(barOf(bars[0]!).split('=').length - 1 - full * 0.6)).toBeLessThanOrEqual(1);
    expect(Math.abs(barOf(bars[1]!).length - full / 2)).toBeLessThanOrEqual(1);
    expect(barOf(bars[1]!)).toMatch(/^#+$/);
    expect(barOf(bars[2]!)).toMatch(/^~+\.+$/);
    expect(bars[2]!.startsWith('a-session')).toBe(true);
    expect(bars[2]!).toContain('…'); // a long name shortened in the middle
    expect(bars[3]!.trimEnd()).toMatch(/^empty\s+0 B$/);
    expect(lines.at(-1)).toBe('# auth  = messages  + store  ~ cache  . other');
  });

  it('with colour: a block per cell in each part\'s colour, the same widths', () => {
    const lines = usageBars(sessions, { width: 80, color: true });
    expect(displayWidth(lines[0]!)).toBe(80);
    expect(lines[0]).toMatch(/\u001b\[31m█+\u001b\[0m\u001b\[33m█+\u001b\[0m\u001b\[36m█+\u001b\[0m$/);
    expect(lines.at(-1)!.replace(ANSI, '')).toBe('█ auth  █ messages  █ store  █ cache  █ other');
    expect(new Set(Object.values(PART_GLYPHS)).size).toBe(PARTS.length);
  });
});

describe('SQLite measured', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'waha-usage-sqlite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'store.sqlite3');
  const db = new Database(file);
  db.exec(`CREATE TABLE messages (jid TEXT, id TEXT, "messageTimestamp" INTEGER, data TEXT);
    CREATE UNIQUE INDEX messages_id_index ON messages (id);
    CREATE TABLE chats (id TEXT PRIMARY KEY, data TEXT);
    CREATE TABLE keys (a TEXT, b TEXT, v BLOB, PRIMARY KEY (a, b)) WITHOUT ROWID;`);
  const insert = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?)');
  for (let i = 0; i < 3000; i++) insert.run('j', `m${i}`, i, 'x'.repeat(200 + (i % 50)));
  for (let i = 0; i < 40; i++) db.prepare('INSERT INTO chats VALUES (?, ?)').run(`c${i}`, 'y'.repeat(100));
  for (let i = 0; i < 2500; i++) db.prepare('INSERT INTO keys VALUES (?, ?, ?)').run(`a${i % 7}`, `b${i}`, Buffer.alloc(64, i % 256));
  db.prepare('DELETE FROM messages WHERE "messageTimestamp" < 1000').run(); // free pages
  const truth = {
    pages: db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[],
    size: (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number),
  };
  db.close();
  const pagesOf = (...names: string[]) => truth.pages.filter((row) => names.includes(row.name)).reduce((sum, row) => sum + row.bytes, 0);

  it('with dbstat: each table\'s pages and its indexes\', exact rows (a WITHOUT ROWID table too)', () => {
    const usage = measureSqlite(file);
    expect(usage.source).toBe('dbstat');
    expect(usage.bytes).toBe(truth.size);
    expect(usage.tables.get('messages')).toEqual({ bytes: pagesOf('messages', 'messages_id_index'), rows: 2000, estimated: false });
    expect(usage.tables.get('chats')).toEqual({ bytes: pagesOf('chats', 'sqlite_autoindex_chats_1'), rows: 40, estimated: false });
    expect(usage.tables.get('keys')).toEqual({ bytes: pagesOf('keys'), rows: 2500, estimated: false });
  });

  it('without dbstat: rows counted, the used pages shared out by payload (estimated)', () => {
    const usage = measureSqlite(file, { dbstat: false });
    expect(usage.source).toBe('count');
    expect(usage.tables.get('messages')).toMatchObject({ rows: 2000, estimated: true });
    expect(usage.tables.get('chats')).toMatchObject({ rows: 40, estimated: true });
    expect(usage.tables.get('keys')).toMatchObject({ rows: 2500, estimated: true });
    const total = [...usage.tables.values()].reduce((sum, table) => sum + table.bytes!, 0);
    expect(total).toBeLessThanOrEqual(truth.size);
    expect(usage.tables.get('messages')!.bytes!).toBeGreaterThan(usage.tables.get('chats')!.bytes! * 10);
  });

  it('leaves no -wal or -shm beside the file', async () => {
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir).sort()).toEqual(['store.sqlite3']);
  });
});

describe('local usage without dbstat', () => {
  it('says so: the SQLite parts are estimated, sources has count, a note explains, sizes still add up to the files', async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'waha-usage-nodbstat-'));
    try {
      const fixtures = await writeLocalFixtures(base);
      const options = { sessionsDir: base, engines: ['NOWEB', 'GOWS'] as const, concurrency: 2 };
      const exact = await localUsage({ ...options, engines: [...options.engines] });
      const counted = await localUsage({ ...options, engines: [...options.engines], dbstat: false });
      expect(exact.notes).toEqual([]);
      expect(counted.notes).toEqual([expect.stringContaining('no dbstat')]);
      for (const session of counted.sessions) {
        const expected = fixtures.sessions.find((item) => item.name === session.name)!;
        expect(session.bytes, session.name).toBe(expected.bytes);
        const withDb = session.parts.messages.tables !== undefined;
        expect(session.sources, session.name).toEqual(withDb ? ['files', 'count'] : ['files']);
        if (withDb) {
          const twin = exact.sessions.find((item) => item.name === session.name)!;
          expect(session.parts.messages).toMatchObject({ rows: twin.parts.messages.rows, estimated: true });
        }
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
