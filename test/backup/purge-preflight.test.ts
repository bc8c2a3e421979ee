/**
 * purge checks everything that can fail before it removes anything (issue 14, item 4): an
 * unreadable or locked waha.sqlite3, a file that cannot be removed. And a session that still
 * fails half-way is reported with exactly what of it is gone and what stays, checked on disk.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { json, privileged } from '../support/cli.js';
import { preflight, purge, type PurgeItem } from '../../src/sessions/purge.js';
import { cli, localScenario, localStore, type Scenario } from './helpers.js';

const scenarios: Scenario[] = [];
afterAll(async () => {
  for (const scenario of scenarios) await scenario.cleanup();
});

async function scenario(): Promise<Scenario> {
  const made = await localScenario('noweb', 'pf');
  scenarios.push(made);
  return made;
}

/** Every path under the namespace folder (files and folders), the main database aside. */
function tree(folder: string, prefix = ''): string[] {
  return readdirSync(path.join(folder, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(prefix, entry.name);
    if (/^waha\.sqlite3/.test(relative)) return [];
    return entry.isDirectory() ? [relative + '/', ...tree(folder, relative)] : [relative];
  }).sort();
}

function rowsOf(file: string, name: string): { me: boolean; worker: boolean } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      me: Boolean(db.prepare('SELECT 1 FROM me WHERE id = ?').get(name)),
      worker: Boolean(db.prepare('SELECT 1 FROM session_worker WHERE id = ?').get(name)),
    };
  } finally {
    db.close();
  }
}

describe('purge local: nothing is removed when a step would fail', () => {
  it('an unreadable waha.sqlite3: exit 1 "nothing was removed", and the folder is still there', async () => {
    const s = await scenario();
    writeFileSync(path.join(s.folder, 'waha.sqlite3'), 'this is not a database, it only has the name of one\n'.repeat(20));
    const before = tree(s.folder);
    const result = await cli(['purge', 'local', '--session', 'alpha', '--yes'], s.base, s.namespace);
    expect(result.code, result.stderr + result.stdout).toBe(1);
    expect(result.stderr).toMatch(/waha\.sqlite3 cannot be updated: .*not a database.*nothing was removed/);
    expect(tree(s.folder)).toEqual(before);
    expect(existsSync(path.join(s.folder, 'alpha'))).toBe(true);
    // --dry-run says the same (it runs the same checks), and --json gets an error document
    const dry = await cli(['purge', 'local', '--session', 'alpha', '--dry-run', '--json'], s.base, s.namespace);
    expect(dry.code).toBe(1);
    expect(json(dry).error.message).toMatch(/not a database/);
    expect(tree(s.folder)).toEqual(before);
  });

  it('a waha.sqlite3 locked by a running WAHA: exit 1, nothing removed (not the folder first and the rows never)', async () => {
    const s = await scenario();
    const before = tree(s.folder);
    const holder = new Database(path.join(s.folder, 'waha.sqlite3'));
    holder.exec('BEGIN IMMEDIATE');
    try {
      const result = await cli(['purge', 'local', '--session', 'alpha', '--session', 'fresh', '--yes'], s.base, s.namespace);
      expect(result.code, result.stderr + result.stdout).toBe(1);
      expect(result.stderr).toMatch(/locked.*nothing was removed/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(tree(s.folder)).toEqual(before);
    expect(rowsOf(path.join(s.folder, 'waha.sqlite3'), 'alpha')).toEqual({ me: true, worker: true });
  }, 30_000);

  it.runIf(privileged)('a file that cannot be removed (chattr +i) in the second session: exit 1, the first is not removed either', async () => {
    const s = await scenario();
    const pinned = path.join(s.folder, 'fresh', 'creds.json');
    execFileSync('chattr', ['+i', pinned]);
    try {
      const before = tree(s.folder);
      const result = await cli(['purge', 'local', '--session', 'alpha', '--session', 'fresh', '--yes'], s.base, s.namespace);
      expect(result.code, result.stderr + result.stdout).toBe(1);
      expect(result.stderr).toMatch(/fresh.*cannot be removed.*nothing was removed/);
      expect(tree(s.folder)).toEqual(before);
    } finally {
      execFileSync('chattr', ['-i', pinned]);
    }
  });
});

describe('purge: a session that fails half-way says exactly what of it is gone', () => {
  it('waha.sqlite3 locked after the checks: the folder is gone, the rows stay, and the outcome says so', async () => {
    const s = await scenario();
    const store = localStore(s.base, s.namespace);
    const mainDb = path.join(s.folder, 'waha.sqlite3');
    const item: PurgeItem = { engine: 'NOWEB', name: 'alpha', loggedIn: true, phone: null, entries: 1, bytes: 1 };
    const target = store;
    await preflight(target, [item], 'delete');
    // WAHA starts and takes the database between the checks and the removal
    const holder = new Database(mainDb);
    holder.exec('BEGIN IMMEDIATE');
    let result;
    try {
      result = await purge(target, [item], 'delete');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    const [outcome] = result.sessions;
    expect(outcome).toMatchObject({ status: 'failed', reason: 'partly-removed' });
    expect(outcome!.removed).toEqual([`the folder ${path.join(s.folder, 'alpha')}`]);
    expect(outcome!.kept).toEqual([`the me row in ${mainDb}`, `the session_worker row in ${mainDb}`]);
    expect(outcome!.message).toMatch(/locked; removed: the folder .*alpha; still there: the me row .*, the session_worker row/);
    // and that is what is on disk
    expect(existsSync(path.join(s.folder, 'alpha'))).toBe(false);
    expect(rowsOf(mainDb, 'alpha')).toEqual({ me: true, worker: true });
    expect(result.summary).toMatchObject({ done: 0, failed: 1 });
    await store.close();
  }, 30_000);

  it('nothing removed: the outcome says so instead of leaving it to guess', async () => {
    const s = await scenario();
    const store = localStore(s.base, s.namespace);
    const before = tree(s.folder);
    const item: PurgeItem = { engine: 'NOWEB', name: 'alpha', loggedIn: true, phone: null, entries: 1, bytes: 1 };
    writeFileSync(path.join(s.folder, 'waha.sqlite3'), 'not a database\n'.repeat(50));
    const target = store;
    await expect(preflight(target, [item], 'delete')).rejects.toThrow(/not a database.*nothing was removed/);
    expect(tree(s.folder)).toEqual(before);
    await store.close();
  });
});
