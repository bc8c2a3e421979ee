/** purge through the real binary: WAHA's delete and logout, checked against the store contents. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { cli, localScenario, type Scenario } from './helpers.js';

let client: MongoClient;
const scenarios: Scenario[] = [];
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => {
  for (const scenario of scenarios) {
    await dropNamespace(client, scenario.namespace);
    await scenario.cleanup();
  }
  await client.close();
});

async function scenario(): Promise<Scenario> {
  const made = await localScenario('noweb', 'pg');
  scenarios.push(made);
  return made;
}

function rows(file: string): { me: string[]; workers: string[] } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      me: (db.prepare('SELECT id FROM me ORDER BY id').all() as { id: string }[]).map((row) => row.id),
      workers: (db.prepare('SELECT id FROM session_worker ORDER BY id').all() as { id: string }[]).map((row) => row.id),
    };
  } finally {
    db.close();
  }
}

const snapshot = (folder: string) => ({ folders: readdirSync(folder).filter((name) => !/-(wal|shm)$/.test(name)).sort(), rows: rows(path.join(folder, 'waha.sqlite3')) });

describe('purge local', () => {
  it("delete removes the folder and the me / session_worker rows of exactly that session", async () => {
    const s = await scenario();
    const before = snapshot(s.folder);
    expect(before.rows.me).toContain('alpha');
    expect(before.rows.workers).toContain('alpha');
    const result = await cli(['purge', 'local', '--session', 'alpha', '--yes', '--json'], s.base, s.namespace);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).summary).toMatchObject({ done: 1, failed: 0 });
    const after = snapshot(s.folder);
    expect(after.folders).toEqual(before.folders.filter((name) => name !== 'alpha'));
    expect(after.rows.me).toEqual(before.rows.me.filter((id) => id !== 'alpha'));
    expect(after.rows.workers).toEqual(before.rows.workers.filter((id) => id !== 'alpha'));
  });

  it('--logout keeps only .waha.session.* in the folder, removes the me row, keeps session_worker', async () => {
    const s = await scenario();
    const before = snapshot(s.folder);
    const result = await cli(['purge', 'local', '--session', 'alpha', '--logout', '--yes', '--json'], s.base, s.namespace);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(path.join(s.folder, 'alpha'))).toEqual(['.waha.session.config.json']);
    const after = snapshot(s.folder);
    expect(after.folders).toEqual(before.folders);
    expect(after.rows.me).toEqual(before.rows.me.filter((id) => id !== 'alpha'));
    expect(after.rows.workers).toEqual(before.rows.workers);
  });

  it('refuses without a terminal unless --yes (naming the flag), and --dry-run prints the same list and totals', async () => {
    const s = await scenario();
    const before = snapshot(s.folder);
    const refused = await cli(['purge', 'local', '--session', 'alpha', '--session', 'fresh'], s.base, s.namespace);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(snapshot(s.folder)).toEqual(before);
    const dry = await cli(['purge', 'local', '--session', 'alpha', '--session', 'fresh', '--dry-run', '--json'], s.base, s.namespace);
    expect(dry.code, dry.stderr).toBe(0);
    expect(snapshot(s.folder)).toEqual(before);
    const real = await cli(['purge', 'local', '--session', 'alpha', '--session', 'fresh', '--yes', '--json'], s.base, s.namespace);
    expect(real.code).toBe(0);
    const planned = json(dry);
    const done = json(real);
    expect(planned.sessions.map((x: { name: string; status: string }) => x.status)).toEqual(['planned', 'planned']);
    expect({ ...planned.summary, planned: 0, done: 0 }).toEqual({ ...done.summary, planned: 0, done: 0 });
    expect(planned.summary.bytes).toBeGreaterThan(0);
    expect(existsSync(path.join(s.folder, 'alpha'))).toBe(false);
  });

  it('asks on a terminal: "n" keeps everything, "y" deletes', async () => {
    const s = await scenario();
    const before = snapshot(s.folder);
    const no = await cli(['purge', 'local', '--session', 'fresh'], s.base, s.namespace, { tty: true, input: 'n\r' });
    expect(no.code, no.stdout).toBe(1);
    expect(no.stdout).toContain('fresh');
    expect(snapshot(s.folder)).toEqual(before);
    const yes = await cli(['purge', 'local', '--session', 'fresh'], s.base, s.namespace, { tty: true, input: 'y\r' });
    expect(yes.code, yes.stdout).toBe(0);
    expect(existsSync(path.join(s.folder, 'fresh'))).toBe(false);
  });

  it('bad input: unknown session, --all with --session, neither: exit 2 and nothing purged', async () => {
    const s = await scenario();
    const before = snapshot(s.folder);
    const unknown = await cli(['purge', 'local', '--session', 'alpha', '--session', 'nobody', '--yes'], s.base, s.namespace);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"nobody"');
    const both = await cli(['purge', 'local', '--all', '--session', 'alpha', '--yes'], s.base, s.namespace);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--all');
    const neither = await cli(['purge', 'local', '--yes'], s.base, s.namespace);
    expect(neither.code).toBe(2);
    expect(snapshot(s.folder)).toEqual(before);
  });

  it('--backup takes a verified backup of exactly those sessions first, and aborts the purge when it cannot', async () => {
    const s = await scenario();
    const archive = path.join(s.base, 'before-purge.tar.gz');
    const result = await cli(['purge', 'local', '--session', 'alpha', '--session', 'fresh', '--backup', archive, '--yes', '--json'], s.base, s.namespace);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(path.join(s.folder, 'alpha'))).toBe(false);
    const verified = json(await cli(['backup', 'verify', archive, '--json'], s.base, s.namespace));
    expect(verified.sessions.map((x: { name: string }) => x.name).sort()).toEqual(['alpha', 'fresh']);
    // the backup cannot be made (folder missing): nothing purged
    const before = snapshot(s.folder);
    const missing = await cli(['purge', 'local', '--session', 'ghost', '--backup', path.join(s.base, 'nope', 'x.tar.gz'), '--yes'], s.base, s.namespace);
    expect(missing.code).toBe(2);
    expect(snapshot(s.folder)).toEqual(before);
    // a session the backup refuses (corrupt creds.json): nothing purged, no archive left
    const broken = path.join(s.base, 'broken.tar.gz');
    const refused = await cli(['purge', 'local', '--session', 'broken', '--session', 'ghost', '--backup', broken, '--yes'], s.base, s.namespace);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('nothing was purged');
    expect(snapshot(s.folder)).toEqual(before);
    expect(existsSync(broken)).toBe(false);
    expect(existsSync(`${broken}.partial`)).toBe(false);
  });
});

describe('purge mongo', () => {
  async function inMongo(): Promise<Scenario> {
    const s = await scenario();
    const migrated = await cli(['migrate', 'local', 'mongo', '--session', 'alpha', '--session', 'fresh'], s.base, s.namespace);
    expect(migrated.code, migrated.stderr).toBe(0);
    return s;
  }
  const state = async (ns: string) => {
    const main = client.db(`waha_${ns}`);
    const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
    return {
      databases: databases.map((db) => db.name).filter((name) => name.startsWith(`waha_${ns}_`)).sort(),
      sessions: (await main.collection('sessions').find().toArray()).map((doc) => doc.name).sort(),
      me: (await main.collection('me').find().toArray()).map((doc) => doc.session).sort(),
      workers: (await main.collection('session_worker').find().toArray()).map((doc) => doc.id).sort(),
    };
  };

  it("delete drops waha_<ns>_<slug> and its sessions, me, session_worker documents", async () => {
    const s = await inMongo();
    const before = await state(s.namespace);
    expect(before.databases).toEqual([`waha_${s.namespace}_alpha`, `waha_${s.namespace}_fresh`]);
    expect(before.me).toContain('alpha');
    const result = await cli(['purge', 'mongo', '--session', 'alpha', '--yes'], s.base, s.namespace);
    expect(result.code, result.stderr).toBe(0);
    expect(await state(s.namespace)).toEqual({
      databases: [`waha_${s.namespace}_fresh`],
      sessions: before.sessions.filter((name) => name !== 'alpha'),
      me: before.me.filter((name) => name !== 'alpha'),
      workers: before.workers.filter((name) => name !== 'alpha'),
    });
  });

  it('--logout drops the per-session database and the me document, keeps sessions and session_worker', async () => {
    const s = await inMongo();
    const before = await state(s.namespace);
    const result = await cli(['purge', 'mongo', '--session', 'alpha', '--logout', '--yes'], s.base, s.namespace);
    expect(result.code, result.stderr).toBe(0);
    expect(await state(s.namespace)).toEqual({
      databases: [`waha_${s.namespace}_fresh`],
      sessions: before.sessions,
      me: before.me.filter((name) => name !== 'alpha'),
      workers: before.workers,
    });
  });
});
