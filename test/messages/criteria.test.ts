/** Units of messages prune: chat ids, and the SQLite age test on each form of timestamp GOWS and NOWEB leave. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { chatFilter, chatOf, parseChat, storedJids } from '../../src/messages/criteria.js';
import { SqliteMessageTable } from '../../src/messages/sqlite.js';
import { UsageError } from '../../src/errors.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'prune-units-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('chat ids', () => {
  it('accepts the jids WAHA shows and refuses anything else', () => {
    for (const jid of ['491701234567@c.us', '491701234567@s.whatsapp.net', '120363000000000001@g.us', '12345678901234@lid', '120363@newsletter', 'status@broadcast']) expect(parseChat(jid)).toBe(jid);
    for (const bad of ['491701234567', '@c.us', 'a b@c.us', '1@example.com', '']) expect(() => parseChat(bad)).toThrow(UsageError);
  });

  it('a user id matches both spellings; groups and lids only themselves', () => {
    expect(storedJids('1@c.us')).toEqual(['1@c.us', '1@s.whatsapp.net']);
    expect(storedJids('1@s.whatsapp.net')).toEqual(['1@c.us', '1@s.whatsapp.net']);
    expect(storedJids('2@g.us')).toEqual(['2@g.us']);
    expect(chatOf('1@s.whatsapp.net', ['2@g.us', '1@c.us'])).toBe('1@c.us');
    expect(chatFilter({ cutoff: new Date(), chats: ['1@c.us', '1@s.whatsapp.net'] })).toEqual(['1@c.us', '1@s.whatsapp.net']);
  });
});

describe('SQLite age test', () => {
  const cutoff = new Date('2026-06-01T12:00:00.000Z');
  function table(engine: 'NOWEB' | 'GOWS', values: unknown[]): SqliteMessageTable {
    const file = path.join(folder, `${engine}-${Math.random().toString(16).slice(2)}.db`);
    const db = new Database(file);
    const column = engine === 'NOWEB' ? '"messageTimestamp"' : 'timestamp';
    db.exec(`CREATE TABLE t (jid TEXT, id TEXT, ${column}, data TEXT)`);
    const insert = db.prepare(`INSERT INTO t VALUES ('1@s.whatsapp.net', ?, ?, 'x')`);
    values.forEach((value, index) => insert.run(String(index), value));
    db.close();
    return new SqliteMessageTable({ session: 's', engine, table: 't', file });
  }

  it('GOWS: Go times in any zone and with nanoseconds are compared as instants; numbers as Unix seconds or milliseconds', async () => {
    const gows = table('GOWS', [
      '2026-06-01 11:59:59.999999999+00:00', // old by a nanosecond's worth of milliseconds
      '2026-06-01 12:00:00+00:00', // the cutoff itself: kept
      '2026-06-01 16:59:00+05:00', // 11:59 UTC: old, though its text is later
      '2026-06-01 07:01:00-05:00', // 12:01 UTC: kept, though its text is earlier
      '2026-06-01T11:00:00Z',
      Math.floor(cutoff.getTime() / 1000) - 1, // seconds
      cutoff.getTime() - 1, // milliseconds
      cutoff.getTime() + 1,
      'garbage', null,
    ]);
    const plan = await gows.plan({ cutoff });
    expect(plan).toMatchObject({ rows: 10, planned: 5, unreadable: 2 });
    const batch = await gows.deleteBatch({ cutoff }, 100);
    expect(batch.deleted).toBe(5);
    await gows.close();
  });

  it('NOWEB: Unix seconds, milliseconds recognised by size; text and null are never deleted', async () => {
    const seconds = Math.floor(cutoff.getTime() / 1000);
    const noweb = table('NOWEB', [seconds - 1, seconds, seconds + 1, cutoff.getTime() - 1, cutoff.getTime(), '1', null]);
    expect(await noweb.plan({ cutoff })).toMatchObject({ rows: 7, planned: 2, unreadable: 2 });
    await noweb.close();
  });
});
