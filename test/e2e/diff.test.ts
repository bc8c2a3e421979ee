/**
 * `diff` through the binary: an archive made before "the upgrade" against the local store and the
 * MongoDB store after it, with a session whose login was lost, one that is gone and one that is new.
 */
import { rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { cli, localScenario, localStore, mongoStore, tempDir } from '../backup/helpers.js';

let client: MongoClient;
const namespaces: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => {
  for (const namespace of namespaces) await dropNamespace(client, namespace);
  for (const cleanup of cleanups) await cleanup();
  await client.close();
});

const SESSIONS = ['alpha', 'fresh', 'My-Sess'];
const only = (names: string[]) => names.flatMap((name) => ['--session', name]);

/** A NOWEB local store and an archive of three of its sessions. */
async function before(): Promise<{ base: string; namespace: string; folder: string; archive: string }> {
  const scenario = await localScenario('noweb', 'dif');
  cleanups.push(scenario.cleanup);
  const out = await tempDir();
  cleanups.push(() => rm(out, { recursive: true, force: true }));
  const archive = path.join(out, 'before-upgrade.tar.gz');
  const made = await cli(['backup', 'local', '-o', archive, '--force', ...only(SESSIONS)], scenario.base, scenario.namespace);
  expect(made.code, made.stderr).toBe(0);
  return { ...scenario, archive };
}

function byName(document: any): Record<string, any> {
  return Object.fromEntries(document.sessions.map((session: any) => [session.name, session]));
}

describe('diff', () => {
  it('archive vs local: same right after the backup (exit 0), then a lost login, a missing, a changed and an extra session (exit 3)', async () => {
    const s = await before();
    const same = await cli(['diff', s.archive, 'local', ...only(SESSIONS), '--json'], s.base, s.namespace);
    expect(same.code, same.stderr).toBe(0);
    expect(json(same).summary).toMatchObject({ sessions: 3, same: 3, changed: 0, missing: 0, extra: 0, lostLogin: 0 });
    expect(byName(json(same)).alpha).toMatchObject({ status: 'same', a: { loggedIn: true }, b: { loggedIn: true } });

    // "the upgrade": alpha's creds.json is gone, fresh was deleted, a key of My-Sess was rewritten
    await unlink(path.join(s.folder, 'alpha', 'creds.json'));
    await localStore(s.base, s.namespace).remove({ engine: 'NOWEB', name: 'fresh' });
    await writeFile(path.join(s.folder, 'My-Sess', 'creds.json'), JSON.stringify({ me: { id: '1@s.whatsapp.net' }, registrationId: 7 }));
    const names = [...SESSIONS, 'ghost'];
    const after = await cli(['diff', s.archive, 'local', ...only(names), '--json'], s.base, s.namespace);
    expect(after.code, after.stderr).toBe(3);
    const document = json(after);
    expect(document.schemaVersion).toBe(1);
    expect(document.summary).toMatchObject({ sessions: 4, same: 0, changed: 2, missing: 1, extra: 1, lostLogin: 1 });
    const sessions = byName(document);
    expect(sessions.alpha).toMatchObject({ status: 'changed', lostLogin: true, a: { loggedIn: true }, b: { loggedIn: false }, changes: { differs: 0, missing: 1, extra: 0 } });
    expect(sessions.alpha.entries).toEqual([{ id: 'key:creds', change: 'missing' }]);
    expect(sessions['My-Sess']).toMatchObject({ status: 'changed', lostLogin: false, b: { loggedIn: true } });
    expect(sessions['My-Sess'].entries).toContainEqual({ id: 'key:creds', change: 'differs' });
    expect(sessions.fresh).toMatchObject({ status: 'missing', b: null });
    expect(sessions.ghost).toMatchObject({ status: 'extra', a: null });

    const human = await cli(['diff', s.archive, 'local', ...only(names)], s.base, s.namespace);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/alpha\s+changed\s+yes -> no/);
    expect(human.stdout).toMatch(/-key:creds/);
    expect(human.stdout).toMatch(/1 missing, 1 extra; 1 lost its login/);
  });

  it('archive vs mongo: same after a restore (exit 0); auth dropped and a session removed (exit 3); an archive against itself is the same', async () => {
    const s = await before();
    const ns = s.namespace; // unique already: the same namespace in both stores
    namespaces.push(ns);
    const restored = await cli(['restore', s.archive, 'mongo'], s.base, ns);
    expect(restored.code, restored.stderr).toBe(0);
    const same = await cli(['diff', s.archive, 'mongo', '--json'], s.base, ns);
    expect(same.code, same.stderr).toBe(0);
    expect(json(same).summary).toMatchObject({ sessions: 3, same: 3 });

    const store = mongoStore(client, ns);
    await store.sessionDb({ engine: 'NOWEB', name: 'alpha' }).collection('auth').deleteOne({ key: 'creds' });
    await store.remove({ engine: 'NOWEB', name: 'fresh' });
    const moved = await cli(['migrate', 'local', 'mongo', '--session', 'ghost', '--force'], s.base, ns);
    expect(moved.code, moved.stderr).toBe(0);
    const after = await cli(['diff', s.archive, 'mongo', '--json'], s.base, ns);
    expect(after.code, after.stderr).toBe(3);
    const sessions = byName(json(after));
    expect(sessions.alpha).toMatchObject({ status: 'changed', lostLogin: true, a: { loggedIn: true }, b: { loggedIn: false } });
    expect(sessions.alpha.entries).toEqual([{ id: 'key:creds', change: 'missing' }]);
    expect(sessions.fresh.status).toBe('missing');
    expect(sessions.ghost.status).toBe('extra');
    expect(sessions['My-Sess'].status).toBe('same');
    // --session narrows both sides
    const narrowed = await cli(['diff', s.archive, 'mongo', '--session', 'My-Sess', '--json'], s.base, ns);
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(json(narrowed).summary).toMatchObject({ sessions: 1, same: 1 });

    const itself = await cli(['diff', s.archive, s.archive, '--json'], s.base, ns);
    expect(itself.code, itself.stderr).toBe(0);
    expect(json(itself).summary).toMatchObject({ sessions: 3, same: 3 });
  });

  it('a side that is neither a store word nor an archive is a usage error (exit 2)', async () => {
    const out = await tempDir();
    cleanups.push(() => rm(out, { recursive: true, force: true }));
    for (const args of [['diff', path.join(out, 'nope.tar.gz'), 'local'], ['diff', 'local', 'postgresql'], ['diff', out, 'local'], ['diff', 'local', 'local', '--engine', 'XYZ']]) {
      const run = await cli(args, out, 'x');
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(/error:/);
    }
  });
});
