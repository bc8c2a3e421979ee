/**
 * GOWS (whatsmeow in SQLite, `gows.db` in WAL mode). Logged in when `whatsmeow_device` has a row
 * (engine-auth-formats §3.3). The database is opened read-only through openReadOnly, so neither a
 * running server nor the folder is disturbed.
 */
import { Database, openReadOnly } from '../../util/sqlite.js';

export const GOWS_DB = 'gows.db';

export interface GowsState {
  loggedIn: boolean;
  devices: number;
  device: { jid: string; pushName: string | null } | null;
  whatsmeowVersion: number | null;
}

/** What inspect reports of a `gows.db` file. */
export function readGowsDb(file: string): GowsState {
  return withDb(openReadOnly(file), gowsState);
}

/** The same for a `gows.db` held in memory (a snapshot in an archive or a transfer). */
export function readGowsBytes(data: Buffer): GowsState {
  return withDb(new Database(rollbackMode(data), { readonly: true }), gowsState);
}

/**
 * An in-memory database cannot be in WAL mode, and a snapshot of gows.db says WAL in its header
 * (bytes 18 and 19 are 2): a copy that says rollback journal (1) opens, with the same pages.
 */
function rollbackMode(data: Buffer): Buffer {
  if (data.length < 20 || (data[18] !== 2 && data[19] !== 2)) return data;
  const copy = Buffer.from(data);
  copy[18] = 1;
  copy[19] = 1;
  return copy;
}

function withDb<T>(db: Database, work: (db: Database) => T): T {
  try {
    return work(db);
  } finally {
    db.close();
  }
}

function gowsState(db: Database): GowsState {
  const hasTable = (name: string) =>
    Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name));
  if (!hasTable('whatsmeow_device')) return { loggedIn: false, devices: 0, device: null, whatsmeowVersion: null };
  const { count } = db.prepare('SELECT COUNT(*) AS count FROM whatsmeow_device').get() as { count: number };
  const first = db.prepare('SELECT jid, push_name AS pushName FROM whatsmeow_device LIMIT 1').get() as
    | { jid: string; pushName: string | null }
    | undefined;
  const version = hasTable('whatsmeow_version')
    ? ((db.prepare('SELECT version FROM whatsmeow_version LIMIT 1').get() as { version: number } | undefined)?.version ?? null)
    : null;
  return { loggedIn: count > 0, devices: count, device: first ?? null, whatsmeowVersion: version };
}
