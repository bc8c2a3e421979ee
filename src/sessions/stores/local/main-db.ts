/**
 * The local main database `<sessions dir>/<namespace>/waha.sqlite3`: tables `me` and
 * `session_worker` (waha-facts §1.4). Opened read-only with a busy timeout, so a running WAHA
 * (WAL mode) is not disturbed and a locked file is a reported problem, not a hang.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openReadOnly, type Database } from '../../../util/sqlite.js';
import type { SessionMe } from '../../report.js';

export const MAIN_DB = 'waha.sqlite3';

export interface MainDbContents {
  file: string;
  exists: boolean;
  me: Map<string, SessionMe>;
  /** session_worker.worker by session; null when the row has no worker id (WAHA restarts only rows whose worker is its WAHA_WORKER_ID, '' by default). */
  workers: Map<string, string | null>;
  error?: string;
}

export function readMainDb(directory: string): MainDbContents {
  const file = path.join(directory, MAIN_DB);
  const contents: MainDbContents = { file, exists: existsSync(file), me: new Map(), workers: new Map() };
  if (!contents.exists) return contents;
  let db: Database | undefined;
  try {
    db = openReadOnly(file);
    const tables = tableNames(db);
    if (tables.has('me')) {
      for (const row of db.prepare('SELECT id, data FROM me').iterate() as Iterable<{ id: string; data: string }>) {
        const me = parseMe(row.data);
        if (me) contents.me.set(row.id, me);
      }
    }
    if (tables.has('session_worker')) {
      for (const row of db.prepare('SELECT id, worker FROM session_worker').iterate() as Iterable<{ id: string; worker: string | null }>) {
        contents.workers.set(row.id, row.worker ?? null);
      }
    }
  } catch (error) {
    contents.error = (error as Error).message;
  } finally {
    db?.close();
  }
  return contents;
}

/** One session's raw rows, for copying it exactly (`me.data` is kept as WAHA wrote it). Throws when unreadable. */
export function readSessionRows(file: string, name: string): { me?: { data: string }; worker?: { worker: string | null } } {
  const db = openReadOnly(file, 5000);
  try {
    const tables = tableNames(db);
    return {
      me: tables.has('me') ? (db.prepare('SELECT data FROM me WHERE id = ?').get(name) as { data: string } | undefined) : undefined,
      worker: tables.has('session_worker')
        ? (db.prepare('SELECT worker FROM session_worker WHERE id = ?').get(name) as { worker: string | null } | undefined)
        : undefined,
    };
  } finally {
    db.close();
  }
}

function tableNames(db: Database): Set<string> {
  return new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
}

/** `me.data` is JSON of the whole entity: `{"id":"<session>","me":{"id":…,"pushName":…}}`. */
function parseMe(data: string): SessionMe | null {
  try {
    const entity = JSON.parse(data) as { me?: { id?: unknown; pushName?: unknown } | null };
    const me = entity?.me;
    if (!me || typeof me.id !== 'string') return null;
    return { id: me.id, pushName: typeof me.pushName === 'string' ? me.pushName : null };
  } catch {
    return null;
  }
}
