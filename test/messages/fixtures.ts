/**
 * Message-history fixtures for `messages prune`: NOWEB's store and GOWS's gows.db with rows of
 * known ages (and the same tables in PostgreSQL, with WAHA's DDL), plus digests of every table so a
 * test can tell that nothing but the old messages changed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { writeGowsDb, writeNowebStore } from '../support/fixtures/sqlite.js';

export const DAY_MS = 86_400_000;
/** What the tests prune by: --older-than 30d. */
export const CUTOFF_DAYS = 30;

export const CHATS = ['111111111@s.whatsapp.net', '222222222@s.whatsapp.net', '120363000000000001@g.us'] as const;

export interface MessageRow {
  jid: string;
  id: string;
  /** The instant the timestamp column means (null: no readable time). */
  at: Date | null;
}

/** Rows aged 1..80 days (odd days) over three chats, plus rows just either side of the cutoff. */
export function messageRows(prefix: string, now = Date.now()): MessageRow[] {
  const rows: MessageRow[] = [];
  for (let day = 1, i = 0; day <= 80; day += 2, i++) rows.push({ jid: CHATS[i % 3]!, id: `${prefix}${String(i).padStart(3, '0')}`, at: new Date(now - day * DAY_MS) });
  // an hour either side of the cutoff (the run starts a little after `now`: an hour is far)
  rows.push({ jid: CHATS[0], id: `${prefix}EDGE-OLD`, at: new Date(now - CUTOFF_DAYS * DAY_MS - 3_600_000) });
  rows.push({ jid: CHATS[0], id: `${prefix}EDGE-NEW`, at: new Date(now - CUTOFF_DAYS * DAY_MS + 3_600_000) });
  return rows;
}

export function isOld(row: MessageRow, now = Date.now()): boolean {
  return row.at !== null && row.at.getTime() < now - CUTOFF_DAYS * DAY_MS;
}

/** Go's time.Time as mattn/go-sqlite3 writes it: `2006-01-02 15:04:05.999999999-07:00`, in the given zone. */
export function goTime(at: Date, offsetMinutes: number): string {
  const wall = new Date(at.getTime() + offsetMinutes * 60_000);
  const iso = wall.toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}123456` : ''}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * A NOWEB session folder with WAHA's store.sqlite3: every store table from the fixture, the
 * messages replaced by `rows` (Unix seconds; one in milliseconds; one without a time).
 */
export function writeNowebSession(sessionDir: string, rows: readonly MessageRow[]): MessageRow[] {
  mkdirSync(sessionDir, { recursive: true });
  writeFileSync(path.join(sessionDir, 'creds.json'), JSON.stringify({ me: { id: '4900000000:1@s.whatsapp.net' }, registered: true }));
  const file = path.join(sessionDir, 'store.sqlite3');
  writeNowebStore(file, path.basename(sessionDir));
  const db = new Database(file);
  try {
    db.exec('DELETE FROM messages');
    const insert = db.prepare('INSERT INTO messages (jid, id, "messageTimestamp", data) VALUES (?, ?, ?, ?)');
    const all = [...rows, { jid: CHATS[1], id: 'NOWEB-MS', at: rows[rows.length - 3]!.at }, { jid: CHATS[1], id: 'NOWEB-NULL', at: null }];
    for (const [index, row] of all.entries()) {
      const value = row.at === null ? null : row.id === 'NOWEB-MS' ? row.at.getTime() : Math.floor(row.at.getTime() / 1000);
      insert.run(row.jid, row.id, value, JSON.stringify({ key: { remoteJid: row.jid, id: row.id }, message: { conversation: `text ${index}`.repeat(20) } }));
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    return all;
  } finally {
    db.close();
  }
}

/**
 * A GOWS session folder with a gows.db (whatsmeow tables and a device from the shared fixture),
 * gows_messages replaced by `rows` as GOWS writes them (TEXT times in several zones, chosen so a
 * text comparison would get rows near the cutoff wrong), and rows in the other gows_* tables.
 */
export function writeGowsSession(sessionDir: string, rows: readonly MessageRow[]): MessageRow[] {
  mkdirSync(sessionDir, { recursive: true });
  const file = path.join(sessionDir, 'gows.db');
  writeGowsDb(file, path.basename(sessionDir), { jid: '4900000001:7@s.whatsapp.net', lid: '12345:7@lid', pushName: 'Gamma' });
  const db = new Database(file);
  try {
    db.exec(`
      CREATE TABLE IF NOT EXISTS gows_groups (id VARCHAR(100) PRIMARY KEY, name VARCHAR(100), data TEXT);
      CREATE TABLE IF NOT EXISTS gows_chat_ephemeral_setting (id VARCHAR(100) PRIMARY KEY, data TEXT);
      CREATE TABLE IF NOT EXISTS gows_labels (id VARCHAR(100) PRIMARY KEY, data TEXT);
      CREATE TABLE IF NOT EXISTS gows_label_associations (jid VARCHAR(100), label_id VARCHAR(100), data TEXT, PRIMARY KEY (jid, label_id));
      DELETE FROM gows_messages;
      INSERT INTO gows_groups VALUES ('${CHATS[2]}', 'Group', '{"subject":"Group"}');
      INSERT INTO gows_chat_ephemeral_setting VALUES ('${CHATS[0]}', '{"expiration":0}');
      INSERT INTO gows_labels VALUES ('1', '{"name":"New"}');
      INSERT INTO gows_label_associations VALUES ('${CHATS[0]}', '1', '{}');
    `);
    const insert = db.prepare('INSERT INTO gows_messages (jid, id, timestamp, from_me, is_real, data) VALUES (?, ?, ?, ?, ?, ?)');
    const zones = [0, 120, -300, 330];
    const all = [...rows];
    // old in UTC, but its wall time (+05:00) reads newer than the cutoff; and the other way round
    const cutoff = Date.now() - CUTOFF_DAYS * DAY_MS;
    const tricky: [MessageRow, number][] = [
      [{ jid: CHATS[1], id: 'GOWS-ZONE-OLD', at: new Date(cutoff - 3_600_000) }, 300],
      [{ jid: CHATS[1], id: 'GOWS-ZONE-NEW', at: new Date(cutoff + 3_600_000) }, -300],
    ];
    for (const [index, row] of all.entries()) insert.run(row.jid, row.id, goTime(row.at!, zones[index % zones.length]!), index % 2, 1, Buffer.from(`{"Info":{"ID":"${row.id}"}}`.repeat(10)));
    for (const [row, zone] of tricky) {
      insert.run(row.jid, row.id, goTime(row.at!, zone), 0, 1, Buffer.from('{}'));
      all.push(row);
    }
    insert.run(CHATS[1], 'GOWS-BAD-TIME', 'not a time', 0, 1, Buffer.from('{}'));
    all.push({ jid: CHATS[1], id: 'GOWS-BAD-TIME', at: null });
    db.pragma('wal_checkpoint(TRUNCATE)');
    return all;
  } finally {
    db.close();
  }
}

/** sha256 of every table's rows in rowid order (buffers as hex), by table name. */
export function sqliteDigests(file: string): Record<string, string> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name);
    return Object.fromEntries(tables.map((table) => [table, digestRows(db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all())]));
  } finally {
    db.close();
  }
}

export function sqliteIds(file: string, table: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT id FROM "${table}" ORDER BY id`).all() as { id: string }[]).map((row) => row.id);
  } finally {
    db.close();
  }
}

export function digestRows(rows: unknown[]): string {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(JSON.stringify(row, (_key, value) => (Buffer.isBuffer(value) ? value.toString('hex') : typeof value === 'bigint' ? String(value) : value)) + '\n');
  return hash.digest('hex');
}

/** Every file of a session folder back by `ms`, so the liveness guard sees no recent writes. */
export function ageFolder(folder: string, ms = 10 * 60_000): void {
  const when = new Date(Date.now() - ms);
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) utimesSync(path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name), when, when);
  }
  utimesSync(folder, when, when);
}

export function fileSize(file: string): number {
  return statSync(file).size;
}

/** WAHA's NOWEB store DDL in PostgreSQL (postgres.md §1.4), for a session database. */
export const PG_NOWEB_DDL = `
  CREATE TABLE IF NOT EXISTS auth (id TEXT PRIMARY KEY, data TEXT);
  CREATE TABLE IF NOT EXISTS contacts (id TEXT PRIMARY KEY, data TEXT);
  CREATE TABLE IF NOT EXISTS chats (id TEXT PRIMARY KEY, "conversationTimestamp" INTEGER, data TEXT);
  CREATE TABLE IF NOT EXISTS groups (id TEXT PRIMARY KEY, data TEXT);
  CREATE TABLE IF NOT EXISTS messages (jid TEXT, id TEXT, "messageTimestamp" INTEGER, data TEXT);
  CREATE UNIQUE INDEX IF NOT EXISTS messages_id_index ON messages (id);
  CREATE INDEX IF NOT EXISTS messages_jid_id_index ON messages (jid, id);
  CREATE INDEX IF NOT EXISTS messages_jid_timestamp_index ON messages (jid, "messageTimestamp");
  CREATE INDEX IF NOT EXISTS timestamp_index ON messages ("messageTimestamp");
  CREATE TABLE IF NOT EXISTS labels (id TEXT PRIMARY KEY, data TEXT);
  CREATE TABLE IF NOT EXISTS lid_map (id TEXT PRIMARY KEY, pn TEXT, data TEXT);
`;

/** The GOWS tables in PostgreSQL (postgres.md §GOWS) and a whatsmeow device table. */
export const PG_GOWS_DDL = `
  CREATE TABLE IF NOT EXISTS whatsmeow_version (version INTEGER, compat INTEGER);
  CREATE TABLE IF NOT EXISTS whatsmeow_device (jid TEXT PRIMARY KEY, push_name TEXT NOT NULL DEFAULT '');
  CREATE TABLE IF NOT EXISTS gows_messages (jid VARCHAR(100) NOT NULL, id VARCHAR(100) NOT NULL, timestamp TIMESTAMP NOT NULL, from_me BOOLEAN NOT NULL, data TEXT NOT NULL, PRIMARY KEY (id));
  ALTER TABLE gows_messages ADD COLUMN IF NOT EXISTS is_real BOOLEAN NOT NULL DEFAULT TRUE;
  CREATE INDEX IF NOT EXISTS gows_messages_jid_id_idx ON gows_messages (jid, id);
  CREATE INDEX IF NOT EXISTS gows_messages_jid_timestamp_idx ON gows_messages (jid, timestamp);
  CREATE INDEX IF NOT EXISTS gows_messages_timestamp_idx ON gows_messages (timestamp);
  CREATE INDEX IF NOT EXISTS gows_messages_jid_timestamp_real_idx ON gows_messages (jid, timestamp DESC) WHERE is_real = true;
  CREATE TABLE IF NOT EXISTS gows_groups (id VARCHAR(100) PRIMARY KEY, name VARCHAR(100), data TEXT);
  CREATE TABLE IF NOT EXISTS gows_labels (id VARCHAR(100) PRIMARY KEY, data TEXT);
  CREATE TABLE IF NOT EXISTS gows_label_associations (jid VARCHAR(100), label_id VARCHAR(100) REFERENCES gows_labels (id) ON DELETE CASCADE, data TEXT, PRIMARY KEY (jid, label_id));
`;

/** sha256 of every table of a PostgreSQL database (rows ordered by their text), by table name. */
export async function postgresDigests(client: pg.Client): Promise<Record<string, string>> {
  const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  const digests: Record<string, string> = {};
  for (const { tablename } of rows) {
    const result = await client.query(`SELECT t::text AS row FROM "${tablename}" AS t ORDER BY 1`);
    digests[tablename] = digestRows(result.rows.map((row) => row.row));
  }
  return digests;
}

export function without<T extends Record<string, unknown>>(record: T, key: string): Omit<T, string> {
  const { [key]: _dropped, ...rest } = record;
  return rest;
}
