/**
 * bench/prune: `waha-storage messages prune` on a GOWS session with N messages (default 1,000,000),
 * half older than the cutoff, against the floor: one bare `DELETE FROM gows_messages WHERE
 * timestamp < …` (one statement, one transaction holding the write lock for all of it, nothing
 * counted or reported). Both on a local gows.db (SQLite, TEXT times as GOWS writes them) and on a
 * PostgreSQL gows_messages (TIMESTAMP, postgres.md's DDL); each side starts from the same rows (a
 * copy of the file, a database made from the other as template). Memory: the peak RSS of the prune
 * at N/10 and N rows, to show it does not grow with the table. Uses the tests' PostgreSQL 15.
 * Run: npx tsc -p . && npx tsx bench/prune.ts [rows] [bytes]
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startPostgres } from '../test/support/servers.js';
import { BIN, measure, ratio, requireOk, row } from './common.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const BYTES = Number(process.argv[3] ?? 200);
const DAY = 86_400_000;
const CUTOFF_DAYS = 100;
const NOW = Date.now();
const cutoff = new Date(NOW - CUTOFF_DAYS * DAY);
/** Even rows are 150-246 days old, odd ones 10-92: exactly half go, interleaved as a history sync writes them. */
const ageDays = (i: number) => (i % 2 === 0 ? 150 + (i % 97) : 10 + (i % 83));
const goTime = (at: Date) => `${at.toISOString().slice(0, 10)} ${at.toISOString().slice(11, 23)}+00:00`;

const GOWS_SQLITE = `
  CREATE TABLE whatsmeow_version (version INTEGER, compat INTEGER);
  INSERT INTO whatsmeow_version VALUES (15, 8);
  CREATE TABLE gows_messages (jid VARCHAR(100) NOT NULL, id VARCHAR(100) NOT NULL, timestamp TIMESTAMP NOT NULL, from_me BOOLEAN NOT NULL, data TEXT NOT NULL, is_real BOOLEAN NOT NULL DEFAULT TRUE, PRIMARY KEY (id));
  CREATE INDEX gows_messages_jid_id_idx ON gows_messages (jid, id);
  CREATE INDEX gows_messages_jid_timestamp_idx ON gows_messages (jid, timestamp);
  CREATE INDEX gows_messages_timestamp_idx ON gows_messages (timestamp);
`;

function seedSqlite(file: string, rows: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(GOWS_SQLITE);
  const insert = db.prepare('INSERT INTO gows_messages (jid, id, timestamp, from_me, data) VALUES (?, ?, ?, 0, ?)');
  const data = 'x'.repeat(BYTES);
  for (let start = 0; start < rows; start += 100_000) {
    db.transaction(() => {
      for (let i = start; i < Math.min(rows, start + 100_000); i++) insert.run(`${1000 + (i % 500)}@s.whatsapp.net`, `3EB0${i.toString(16).padStart(12, '0')}`, goTime(new Date(NOW - ageDays(i) * DAY - (i % 86_400) * 1000)), data);
    })();
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

const count = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM gows_messages').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

async function pruneLocal(base: string): Promise<ReturnType<typeof measure>> {
  return measure(process.execPath, [BIN, 'messages', 'prune', 'local', '--older-than', `${CUTOFF_DAYS}d`, '--sessions-dir', base, '--yes', '--json'], { ...process.env, WAHA_LOCAL_STORE_BASE_DIR: '' });
}

const work = mkdtempSync(path.join(os.tmpdir(), 'bench-prune-'));
const server = await startPostgres();
const urlOf = (database?: string) => {
  const url = new URL(server.url);
  if (database) url.pathname = `/${database}`;
  return url.toString();
};
async function withDb<T>(database: string | undefined, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlOf(database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
const NS = 'benchprune';
const OURS = `waha_${NS}_gamma`;
const BARE = `waha_${NS}_bare`;

try {
  const expected = Math.ceil(ROWS / 2);
  console.log(`prune: seeding a gows.db with ${ROWS} messages of ${BYTES} bytes (half older than ${CUTOFF_DAYS} days) ...`);
  const small = path.join(work, 'small', 'gows', 'gamma', 'gows.db');
  seedSqlite(small, Math.round(ROWS / 10));
  const ours = path.join(work, 'ours', 'gows', 'gamma', 'gows.db');
  seedSqlite(ours, ROWS);
  const bare = path.join(work, 'bare.db');
  copyFileSync(ours, bare);

  const bareStarted = process.hrtime.bigint();
  const bareDb = new Database(bare);
  const bareDeleted = bareDb.prepare('DELETE FROM gows_messages WHERE timestamp < ?').run(goTime(cutoff)).changes;
  bareDb.close();
  const bareSeconds = Number(process.hrtime.bigint() - bareStarted) / 1e9;

  const smallRun = await pruneLocal(path.join(work, 'small'));
  requireOk('waha-storage (N/10)', smallRun);
  const local = await pruneLocal(path.join(work, 'ours'));
  requireOk('waha-storage', local);
  const localDeleted = JSON.parse(local.stdout).summary.deleted;
  if (localDeleted !== expected || bareDeleted !== expected || count(ours) !== ROWS - expected) {
    throw new Error(`unexpected (SQLite): waha-storage deleted ${localDeleted} (left ${count(ours)}), bare DELETE ${bareDeleted}; expected ${expected}`);
  }

  console.log(`prune: seeding PostgreSQL gows_messages with ${ROWS} rows ...`);
  await withDb(undefined, async (client) => {
    for (const database of [OURS, BARE, `waha_${NS}`]) await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "waha_${NS}"`);
    await client.query(`CREATE DATABASE "${OURS}"`);
  });
  await withDb(`waha_${NS}`, (client) => client.query(`CREATE TABLE session_config (id TEXT PRIMARY KEY, data TEXT); INSERT INTO session_config VALUES ('gamma', '{"id":"gamma","config":null}')`));
  await withDb(OURS, async (client) => {
    await client.query(`CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY);
      CREATE TABLE gows_messages (jid VARCHAR(100) NOT NULL, id VARCHAR(100) NOT NULL, timestamp TIMESTAMP NOT NULL, from_me BOOLEAN NOT NULL, data TEXT NOT NULL, PRIMARY KEY (id));
      ALTER TABLE gows_messages ADD COLUMN is_real BOOLEAN NOT NULL DEFAULT TRUE;
      CREATE INDEX gows_messages_jid_id_idx ON gows_messages (jid, id);
      CREATE INDEX gows_messages_jid_timestamp_idx ON gows_messages (jid, timestamp);
      CREATE INDEX gows_messages_timestamp_idx ON gows_messages (timestamp);
      CREATE INDEX gows_messages_jid_timestamp_real_idx ON gows_messages (jid, timestamp DESC) WHERE is_real = true;`);
    await client.query(`INSERT INTO gows_messages (jid, id, timestamp, from_me, data)
      SELECT (1000 + i % 500) || '@s.whatsapp.net', '3EB0' || lpad(to_hex(i), 12, '0'),
             ($1::timestamp - make_interval(days => CASE WHEN i % 2 = 0 THEN 150 + i % 97 ELSE 10 + i % 83 END, secs => i % 86400)), false, repeat('x', $2)
      FROM generate_series(0, $3::int - 1) AS i`, [new Date(NOW).toISOString().replace('T', ' ').replace('Z', ''), BYTES, ROWS]);
    await client.query('VACUUM ANALYZE gows_messages');
  });
  await withDb(undefined, (client) => client.query(`CREATE DATABASE "${BARE}" TEMPLATE "${OURS}"`));

  const pgBareStarted = process.hrtime.bigint();
  const pgBareDeleted = await withDb(BARE, async (client) => (await client.query('DELETE FROM gows_messages WHERE timestamp < $1::timestamp', [cutoff.toISOString().replace('T', ' ').replace('Z', '')])).rowCount ?? 0);
  const pgBareSeconds = Number(process.hrtime.bigint() - pgBareStarted) / 1e9;
  const postgres = await measure(process.execPath, [BIN, 'messages', 'prune', 'postgres', '--older-than', `${CUTOFF_DAYS}d`, '--postgres-url', server.url,
    '--namespace', NS, '--session-namespace', NS, '--session', 'gamma', '--yes', '--json'], process.env);
  requireOk('waha-storage postgres', postgres);
  const pgDeleted = JSON.parse(postgres.stdout).summary.deleted;
  const pgLeft = await withDb(OURS, async (client) => Number((await client.query('SELECT count(*) AS n FROM gows_messages')).rows[0].n));
  if (pgDeleted !== expected || pgBareDeleted !== expected || pgLeft !== ROWS - expected) {
    throw new Error(`unexpected (PostgreSQL): waha-storage deleted ${pgDeleted} (left ${pgLeft}), bare DELETE ${pgBareDeleted}; expected ${expected}`);
  }

  console.log(`${ROWS} GOWS messages of ${BYTES} bytes, ${expected} older than ${CUTOFF_DAYS} days; batches of 2,000; ${server.description}`);
  console.log(row(['', 'wall s', 'peak RSS MB', 'rows/s deleted']));
  console.log(row(['SQLite: bare DELETE WHERE timestamp < …', bareSeconds.toFixed(2), '-', Math.round(expected / bareSeconds)]));
  console.log(row([`SQLite: messages prune local, ${Math.round(ROWS / 10)} rows`, smallRun.seconds.toFixed(2), smallRun.peakRssMb.toFixed(0), Math.round(expected / 10 / smallRun.seconds)]));
  console.log(row([`SQLite: messages prune local, ${ROWS} rows`, local.seconds.toFixed(2), local.peakRssMb.toFixed(0), Math.round(expected / local.seconds)]));
  console.log(row(['PostgreSQL: bare DELETE WHERE timestamp < …', pgBareSeconds.toFixed(2), '-', Math.round(expected / pgBareSeconds)]));
  console.log(row([`PostgreSQL: messages prune postgres, ${ROWS} rows`, postgres.seconds.toFixed(2), postgres.peakRssMb.toFixed(0), Math.round(expected / postgres.seconds)]));
  console.log(`wall time (waha-storage / bare DELETE): SQLite ${ratio(local.seconds, bareSeconds)}, PostgreSQL ${ratio(postgres.seconds, pgBareSeconds)} (waha-storage includes Node's start, the session listing, the count, the lock and the size report)`);
  console.log(`peak RSS at ${Math.round(ROWS / 10)} rows vs ${ROWS} rows: ${smallRun.peakRssMb.toFixed(0)} MB vs ${local.peakRssMb.toFixed(0)} MB`);
} finally {
  rmSync(work, { recursive: true, force: true });
  for (const database of [OURS, BARE, `waha_${NS}`]) await withDb(undefined, (client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)).catch(() => undefined);
  await server.stop();
}
