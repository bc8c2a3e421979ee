/**
 * GOWS values between the dialects and the canonical gows.db digest, as units: timestamps in the
 * forms go-sqlite3, modernc and PostgreSQL print; booleans, integers, blobs both ways; the digest
 * equal for the same rows whatever the file's bytes, different for one changed value, and naming the
 * table that differs; --skip-messages' copy keeps every table.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../../src/util/sqlite.js';
import { canonicalValue, columnKind, formatUtc, parseTimestamp, pgTextToSqlite, sqliteToCopy } from '../../src/sessions/gows/values.js';
import { gowsDigest, tableDdl, tableDifferences, withoutMessages, sqliteTables } from '../../src/sessions/gows/sqlite.js';
import { GOWS_MESSAGE_TABLES, GOWS_TABLES, NOWEB_MESSAGE_TABLES, knownTable } from '../../src/sessions/engines/gows-schema.js';
import { EntryError } from '../../src/sessions/stores/types.js';

function database(statements: string[]): Buffer {
  const db = new Database(':memory:');
  try {
    for (const statement of statements) db.exec(statement);
    return db.serialize();
  } finally {
    db.close();
  }
}

describe('GOWS values', () => {
  it('reads the timestamp forms of both dialects as one instant, and writes UTC', () => {
    const instant = parseTimestamp('2026-05-16 15:33:09.25+00:00')!;
    expect(parseTimestamp('2026-05-16 17:33:09.250+02:00')).toEqual(instant);
    expect(parseTimestamp('2026-05-16T15:33:09.25Z')).toEqual(instant);
    expect(parseTimestamp('2026-05-16 15:33:09.25 +0000 UTC')).toEqual(instant);
    expect(parseTimestamp('2026-05-16 15:33:09.25')).toEqual(instant);
    expect(formatUtc(instant)).toBe('2026-05-16 15:33:09.25');
    expect(formatUtc(parseTimestamp('2026-05-16 15:33:09.123456789+00:00')!)).toBe('2026-05-16 15:33:09.123456');
    expect(parseTimestamp('yesterday')).toBeUndefined();
  });

  it('converts each kind to COPY text and back to what SQLite held', () => {
    const cases: [unknown, string, string][] = [
      [1n, 'BOOLEAN', 't'], [0n, 'boolean', 'f'], [4294967295n, 'BIGINT', '4294967295'],
      [Buffer.from([0, 255]), 'bytea', '\\x00ff'], ['a\tb', 'TEXT', 'a\tb'],
      ['2026-05-16 15:33:09+00:00', 'TIMESTAMP', '2026-05-16 15:33:09'],
    ];
    for (const [value, type, copy] of cases) {
      const kind = columnKind(type)!;
      expect(sqliteToCopy(value, kind, 't', 'c'), type).toBe(copy);
      const pgText = kind === 'blob' ? copy : copy; // PostgreSQL prints what COPY took in these forms
      expect(pgTextToSqlite(pgText, kind), type).toEqual(kind === 'timestamp' ? '2026-05-16 15:33:09+00:00' : value);
    }
    expect(sqliteToCopy(null, 'text', 't', 'c')).toBeNull();
    expect(() => sqliteToCopy(2n, 'boolean', 'gows_messages', 'from_me')).toThrow(EntryError);
    expect(() => sqliteToCopy(1700000000n, 'timestamp', 'gows_messages', 'timestamp')).toThrow(/gows_messages, column timestamp/);
    expect(() => sqliteToCopy('a\u0000b', 'text', 't', 'c')).toThrow(/NUL/);
    expect(columnKind('')).toBeUndefined();
    expect(columnKind('timestamp without time zone')).toBe('timestamp');
    expect(columnKind('character varying(100)')).toBe('text');
  });

  it('encodes values canonically: booleans as integers, times as the instant', () => {
    expect(canonicalValue(1n, 'boolean')).toBe(canonicalValue(1n, 'integer'));
    expect(canonicalValue('2026-05-16 15:33:09+00:00', 'timestamp')).toBe(canonicalValue('2026-05-16 17:33:09+02:00', 'timestamp'));
    expect(canonicalValue('x', 'text')).not.toBe(canonicalValue(Buffer.from('x'), 'blob'));
  });
});

describe('the gows.db digest', () => {
  const schema = [
    ...knownTable('gows_messages')!.ddl,
    'CREATE TABLE whatsmeow_version (version INTEGER, compat INTEGER)',
    'INSERT INTO whatsmeow_version VALUES (11, 8)',
  ];
  const rows = (order: number[]) => order.map((i) => `INSERT INTO gows_messages VALUES ('j${i}', 'id${i}', '2026-05-16 15:33:0${i}+00:00', ${i % 2}, 'data ${i}', 1)`);

  it('is the same for the same rows inserted in another order (other bytes), and names the table one changed value is in', () => {
    const a = database([...schema, ...rows([1, 2, 3])]);
    const b = database([...schema, ...rows([3, 1, 2]), 'VACUUM']);
    expect(gowsDigest(a)).toBe(gowsDigest(b));
    const c = database([...schema, ...rows([1, 2, 3]), "UPDATE gows_messages SET from_me = 1 WHERE id = 'id2'"]);
    expect(gowsDigest(c)).not.toBe(gowsDigest(a));
    const d = database([...schema, ...rows([1, 2])]);
    expect(tableDifferences(gowsDigest(a), gowsDigest(d))).toEqual(['gows_messages (3 vs 2 rows)']);
  });

  it('--skip-messages keeps every table, the message tables empty', () => {
    const a = database([...schema, ...rows([1, 2, 3])]);
    const stripped = withoutMessages(a);
    const db = new Database(stripped, { readonly: true });
    try {
      expect(sqliteTables(db).map((table) => table.name)).toEqual(['whatsmeow_version', 'gows_messages']);
      expect((db.prepare('SELECT count(*) AS n FROM gows_messages').get() as { n: number }).n).toBe(0);
      expect((db.prepare('SELECT count(*) AS n FROM whatsmeow_version').get() as { n: number }).n).toBe(1);
    } finally {
      db.close();
    }
    expect(tableDifferences(gowsDigest(a), gowsDigest(stripped))).toEqual(['gows_messages (3 vs 0 rows)']);
  });

  it('creates known tables with their own DDL only when the columns hold the same kinds', () => {
    const own = database(["CREATE TABLE gows_messages (jid TEXT, id TEXT, timestamp INTEGER, from_me BOOLEAN, is_real BOOLEAN, data BLOB, PRIMARY KEY (jid, id))"]);
    const db = new Database(own, { readonly: true });
    try {
      const [table] = sqliteTables(db);
      expect(tableDdl(table!, 'postgres')[0]).toBe('CREATE TABLE "gows_messages" ("jid" TEXT, "id" TEXT, "timestamp" INTEGER, "from_me" BOOLEAN, "is_real" BOOLEAN, "data" BYTEA, PRIMARY KEY ("jid", "id"))');
    } finally {
      db.close();
    }
  });

  it('exports the table lists other commands read', () => {
    expect(GOWS_MESSAGE_TABLES).toEqual(['gows_messages']);
    expect(NOWEB_MESSAGE_TABLES).toEqual(['messages']);
    expect(GOWS_TABLES).toContain('whatsmeow_device');
    expect(GOWS_TABLES.indexOf('whatsmeow_device')).toBeLessThan(GOWS_TABLES.indexOf('whatsmeow_sessions'));
  });
});
