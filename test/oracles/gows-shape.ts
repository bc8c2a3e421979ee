/**
 * A GOWS-shaped gows.db: the GOWS store tables with GOWS's PostgreSQL-era DDL (postgres.md §GOWS),
 * messages with go-sqlite3's timestamp text (`2026-05-16 15:33:09+00:00`) and 0/1 booleans, written
 * in WAL mode by a child process that is SIGKILLed before it checkpoints (like a killed GOWS): the
 * rows are in `gows.db-wal` only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { ROOT } from '../support/servers.js';

const SCRIPT = String.raw`
const { createRequire } = require('node:module');
const req = createRequire(process.env.ROOT + '/package.json');
const Database = req('better-sqlite3');
const [file, count, kill] = [process.env.FILE, Number(process.env.COUNT), process.env.KILL === '1'];
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('wal_autocheckpoint = 0');
db.pragma('foreign_keys = ON');
if (process.env.REPLACE === '1') for (const t of ['gows_label_associations', 'gows_labels', 'gows_messages', 'gows_groups', 'gows_chat_ephemeral_setting']) db.exec('DROP TABLE IF EXISTS ' + t);
for (const s of [
  'CREATE TABLE IF NOT EXISTS gows_messages (jid VARCHAR(100) NOT NULL, id VARCHAR(100) NOT NULL, timestamp TIMESTAMP NOT NULL, from_me BOOLEAN NOT NULL, data TEXT NOT NULL, is_real BOOLEAN NOT NULL DEFAULT TRUE, PRIMARY KEY (id))',
  'CREATE INDEX IF NOT EXISTS gows_messages_jid_timestamp_idx ON gows_messages (jid, timestamp)',
  'CREATE TABLE IF NOT EXISTS gows_groups (id VARCHAR(100) PRIMARY KEY, name VARCHAR(100), data TEXT)',
  'CREATE TABLE IF NOT EXISTS gows_chat_ephemeral_setting (id VARCHAR(100) PRIMARY KEY, data TEXT)',
  'CREATE TABLE IF NOT EXISTS gows_labels (id VARCHAR(100) PRIMARY KEY, data TEXT)',
  'CREATE TABLE IF NOT EXISTS gows_label_associations (jid VARCHAR(100) NOT NULL, label_id VARCHAR(100) NOT NULL, data TEXT, PRIMARY KEY (jid, label_id), FOREIGN KEY (label_id) REFERENCES gows_labels (id) ON DELETE CASCADE)',
  'CREATE TABLE IF NOT EXISTS gows_version (version INTEGER, compat INTEGER)',
]) db.exec(s);
db.exec('DELETE FROM gows_version; INSERT INTO gows_version VALUES (4, 3)');
const insert = db.prepare('INSERT INTO gows_messages (jid, id, timestamp, from_me, data, is_real) VALUES (?, ?, ?, ?, ?, ?)');
db.transaction(() => {
  for (let i = 0; i < count; i++) {
    const t = new Date(Date.UTC(2026, 4, 16, 15, 33, 9) + i * 1000);
    const text = t.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') + (i % 7 === 0 ? '.25' : '') + '+00:00';
    insert.run('55119000' + String(i % 40).padStart(5, '0') + '@s.whatsapp.net', '3EB0' + String(i).padStart(16, '0'), text, i % 2,
      JSON.stringify({ body: 'message ' + i + ' \u2713', n: i, tricky: 'a\tb\\c\nd' }), i % 5 ? 1 : 0);
  }
})();
db.prepare("INSERT OR REPLACE INTO gows_groups VALUES ('120363000000000001@g.us', 'Group \u2713', '{\"subject\":\"x\"}')").run();
db.prepare("INSERT OR REPLACE INTO gows_labels VALUES ('1', '{\"name\":\"New\"}')").run();
db.prepare("INSERT OR REPLACE INTO gows_label_associations VALUES ('5511900000001@s.whatsapp.net', '1', NULL)").run();
db.prepare("INSERT OR REPLACE INTO gows_chat_ephemeral_setting VALUES ('5511900000001@s.whatsapp.net', '{\"expiration\":86400}')").run();
if (kill) process.kill(process.pid, 'SIGKILL');
db.close();
`;

/** Adds GOWS's tables with `messages` rows to `file` (a whatsmeow gows.db); `kill`: leaves them in the -wal only; `replace`: drops GOWS tables of another shape first. */
export function addGowsTables(file: string, messages: number, options: { kill?: boolean; replace?: boolean } = {}): void {
  const run = spawnSync(process.execPath, ['-e', SCRIPT], { env: { ...process.env, ROOT, FILE: file, COUNT: String(messages), KILL: options.kill ? '1' : '0', REPLACE: options.replace ? '1' : '0' }, encoding: 'utf8' });
  if (options.kill ? run.signal !== 'SIGKILL' : run.status !== 0) throw new Error(`writing GOWS tables into ${file} failed: ${run.stderr}`);
  if (options.kill && !(existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0)) throw new Error(`${file}-wal is empty after the kill`);
}
