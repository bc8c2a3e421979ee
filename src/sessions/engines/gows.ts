/**
 * GOWS (whatsmeow in SQLite, `gows.db` in WAL mode). Logged in when `whatsmeow_device` has a row
 * (engine-auth-formats §3.3). The database is opened read-only, so a running server is not
 * disturbed: a read-only connection never checkpoints or removes the WAL.
 */
import { openReadOnly } from '../../util/sqlite.js';

export const GOWS_DB = 'gows.db';

export interface GowsState {
  loggedIn: boolean;
  devices: number;
  device: { jid: string; pushName: string | null } | null;
  whatsmeowVersion: number | null;
}

export function readGowsDb(file: string): GowsState {
  const db = openReadOnly(file);
  try {
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
  } finally {
    db.close();
  }
}
