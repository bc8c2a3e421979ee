/**
 * What an archive keeps besides the bytes (issue 9 §1 smaller findings, §2 liveness): `backup verify`
 * tells logged-in by inspect's rule (GOWS from the gows.db snapshot, NOWEB from creds, never from
 * `me`), empty WEBJS folders and file times come back on restore, and a restored session does not
 * look live to the next backup.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { json } from '../support/cli.js';
import { age, cli, localScenario, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function folder(): Promise<string> {
  const made = await tempDir();
  cleanups.push(() => rm(made, { recursive: true, force: true }));
  return made;
}

const KEPT_TIME = new Date('2021-05-06T07:08:09Z');

async function verified(archive: string, base: string, namespace: string): Promise<Map<string, boolean | null>> {
  const result = await cli(['backup', 'verify', archive, '--json'], base, namespace);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return new Map(json(result).sessions.map((session: { name: string; loggedIn: boolean | null }) => [session.name, session.loggedIn]));
}

describe('backup verify: logged in', () => {
  it('GOWS from the gows.db in the archive', async () => {
    const scenario = await localScenario('gows', 'fgw');
    cleanups.push(scenario.cleanup);
    const archive = path.join(await folder(), 'gows.tar.gz');
    const made = await cli(['backup', 'local', '-o', archive, '--json'], scenario.base, scenario.namespace);
    expect(made.code, made.stderr).toBe(0);
    const loggedIn = await verified(archive, scenario.base, scenario.namespace);
    expect(loggedIn.get('gopher')).toBe(true);
    expect(loggedIn.get('gonew')).toBe(false);
  });

  it('NOWEB from creds.json, not from a me record', async () => {
    const scenario = await localScenario('noweb', 'fnw');
    cleanups.push(scenario.cleanup);
    // a me record for sessions whose creds are not logged in (fresh) or that have no creds (ghost)
    const db = new Database(path.join(scenario.folder, 'waha.sqlite3'));
    for (const name of ['fresh', 'ghost']) db.prepare('INSERT INTO me (id, data) VALUES (?, ?)').run(name, JSON.stringify({ id: name, me: { id: '5511900000000@c.us', pushName: name } }));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    await age(scenario.folder);
    const archive = path.join(await folder(), 'noweb.tar.gz');
    const made = await cli(['backup', 'local', '-o', archive, '-s', 'alpha', '-s', 'fresh', '-s', 'ghost', '--json'], scenario.base, scenario.namespace);
    expect(made.code, made.stderr).toBe(0);
    const loggedIn = await verified(archive, scenario.base, scenario.namespace);
    expect(Object.fromEntries(loggedIn)).toEqual({ alpha: true, fresh: false, ghost: false });
    const inspected = json(await cli(['inspect', 'local', '-s', 'alpha', '-s', 'fresh', '-s', 'ghost', '--json'], scenario.base, scenario.namespace));
    expect(Object.fromEntries(inspected.sessions.map((session: { name: string; loggedIn: boolean | null }) => [session.name, session.loggedIn]))).toEqual({ alpha: true, fresh: false, ghost: false });
  });
});

describe('restore keeps what a profile holds besides bytes', () => {
  it('empty WEBJS folders and file times come back, and a backup right after the restore is not refused as live', async () => {
    const scenario = await localScenario('webjs', 'fwj');
    cleanups.push(scenario.cleanup);
    const empty = 'Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/2';
    const timed = 'Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/CURRENT';
    const profile = path.join(scenario.folder, 'default', 'session-web2');
    await mkdir(path.join(profile, ...empty.split('/')), { recursive: true });
    await age(scenario.folder);
    await utimes(path.join(profile, ...timed.split('/')), KEPT_TIME, KEPT_TIME);
    await utimes(path.join(profile, ...empty.split('/')), KEPT_TIME, KEPT_TIME);
    const archive = path.join(await folder(), 'webjs.tar.gz');
    const made = await cli(['backup', 'local', '-o', archive, '-s', 'web2', '--json'], scenario.base, scenario.namespace);
    expect(made.code, made.stderr).toBe(0);

    const back = await folder();
    const restored = await cli(['restore', archive, 'local', '--json'], back, scenario.namespace);
    expect(restored.code, restored.stderr).toBe(0);
    const copy = path.join(back, scenario.namespace, 'web2', 'session-web2');
    const dir = path.join(copy, ...empty.split('/'));
    expect(existsSync(dir)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect((await stat(dir)).mtimeMs).toBe(KEPT_TIME.getTime());
    expect((await stat(path.join(copy, ...timed.split('/')))).mtimeMs).toBe(KEPT_TIME.getTime());

    const again = await cli(['backup', 'local', '-o', path.join(await folder(), 'again.tar.gz'), '--json'], back, scenario.namespace);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(json(again).sessions).toEqual([expect.objectContaining({ name: 'web2', status: 'done' })]);
  });

  it('NOWEB: key file times come back, and the restored session (store.sqlite3 written just now) backs up at once', async () => {
    const scenario = await localScenario('noweb', 'fnk');
    cleanups.push(scenario.cleanup);
    await utimes(path.join(scenario.folder, 'alpha', 'creds.json'), KEPT_TIME, KEPT_TIME);
    const archive = path.join(await folder(), 'noweb.tar.gz');
    const made = await cli(['backup', 'local', '-o', archive, '-s', 'alpha', '--json'], scenario.base, scenario.namespace);
    expect(made.code, made.stderr).toBe(0);
    const back = await folder();
    const restored = await cli(['restore', archive, 'local', '--json'], back, scenario.namespace);
    expect(restored.code, restored.stderr).toBe(0);
    expect((await stat(path.join(back, scenario.namespace, 'alpha', 'creds.json'))).mtimeMs).toBe(KEPT_TIME.getTime());
    const again = await cli(['backup', 'local', '-o', path.join(await folder(), 'again.tar.gz'), '--json'], back, scenario.namespace);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await readdir(back)).toEqual([scenario.namespace]);
  });
});
