/** Conflicts, --overwrite, --dry-run, the liveness guard and --move, through the real binary. */
import { existsSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { age, byName, emptyBase, localScenario, migrate, type MigrateDocument, type Scenario } from './helpers.js';

let client: MongoClient;
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => { await client.close(); });

const scenarios: Scenario[] = [];
async function scenario(): Promise<Scenario> {
  const created = await localScenario('noweb');
  scenarios.push(created);
  return created;
}
afterAll(async () => {
  for (const item of scenarios) {
    await dropNamespace(client, item.namespace);
    await item.cleanup();
  }
});

describe('conflicts', () => {
  it('skips a different session as exists, refuses --overwrite without --yes, replaces it with --overwrite --yes', async () => {
    const { base, namespace, folder } = await scenario();
    const first = await migrate(['local', 'mongo', '--session', 'alpha', '--json'], base, namespace);
    expect(byName(first).get('alpha')).toMatchObject({ status: 'done' });
    const file = path.join(folder, 'alpha', 'pre-key-1.json');
    await writeFile(file, JSON.stringify({ public: { type: 'Buffer', data: 'AAAA' }, private: { type: 'Buffer', data: 'BBBB' } }));
    await age(folder);

    const second = await migrate(['local', 'mongo', '--session', 'alpha', '--json'], base, namespace);
    expect(second.code).toBe(0);
    expect(byName(second).get('alpha')).toMatchObject({ status: 'skipped', reason: 'exists' });

    const refused = await migrate(['local', 'mongo', '--session', 'alpha', '--overwrite'], base, namespace);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    const auth = client.db(`waha_${namespace}_alpha`).collection('auth');
    expect((await auth.findOne({ key: 'pre-key-1' }))!.data.public.data).not.toBe('AAAA');
    const third = await migrate(['local', 'mongo', '--session', 'alpha', '--overwrite', '--yes', '--json'], base, namespace);
    expect(third.code, third.stderr).toBe(0);
    expect(byName(third).get('alpha')).toMatchObject({ status: 'done' });
    expect((await auth.findOne({ key: 'pre-key-1' }))!.data).toEqual({ public: { type: 'Buffer', data: 'AAAA' }, private: { type: 'Buffer', data: 'BBBB' } });
    expect(await auth.countDocuments({ key: 'pre-key-1' })).toBe(1);

    const fourth = await migrate(['local', 'mongo', '--session', 'alpha', '--json'], base, namespace);
    expect(byName(fourth).get('alpha')).toMatchObject({ status: 'skipped', reason: 'identical' });
  });
});

describe('--dry-run', () => {
  it('runs the same plan, prints the same totals, and writes nothing', async () => {
    const { base, namespace } = await scenario();
    const dry = await migrate(['local', 'mongo', '--engine', 'NOWEB', '--dry-run', '--json'], base, namespace);
    expect(dry.code).toBe(3); // the refused sessions are failures in the plan too
    const planned = json<MigrateDocument>(dry);
    expect(byName(dry).get('alpha')).toMatchObject({ status: 'planned' });
    expect(byName(dry).get('broken')).toMatchObject({ status: 'failed', reason: 'creds-corrupt' });
    const names = (await client.db().admin().listDatabases({ nameOnly: true })).databases.map((db) => db.name);
    expect(names.filter((name) => name.startsWith(`waha_${namespace}`))).toEqual([]);

    const real = await migrate(['local', 'mongo', '--engine', 'NOWEB', '--json'], base, namespace);
    const done = json<MigrateDocument>(real);
    expect(planned.summary.planned).toBe(done.summary.done);
    expect(planned.summary.entries).toBe(done.summary.entries);
    expect(planned.summary.bytes).toBe(done.summary.bytes);
    for (const session of done.sessions.filter((item) => item.status === 'done')) {
      expect(byName(dry).get(session.name)).toMatchObject({ status: 'planned', entries: session.entries, bytes: session.bytes });
    }
  });
});

describe('liveness guard', () => {
  it('refuses a session whose files changed in the last 60 seconds unless --force', async () => {
    const { base, namespace, folder } = await scenario();
    const now = new Date();
    await utimes(path.join(folder, 'fresh', 'creds.json'), now, now);
    const refused = await migrate(['local', 'mongo', '--session', 'fresh', '--session', 'alpha', '--json'], base, namespace);
    expect(refused.code).toBe(3);
    const sessions = byName(refused);
    expect(sessions.get('fresh')).toMatchObject({ status: 'failed', reason: 'live' });
    expect(sessions.get('fresh')!.message).toContain('creds.json');
    expect(sessions.get('alpha')).toMatchObject({ status: 'done' });
    expect(refused.stdout + refused.stderr).toMatch(/must be stopped/);
    const forced = await migrate(['local', 'mongo', '--session', 'fresh', '--force', '--json'], base, namespace);
    expect(byName(forced).get('fresh')).toMatchObject({ status: 'done' });
  });
});

describe('--move', () => {
  it('removes the source only after the copy is committed, in both directions', async () => {
    const { base, namespace, folder } = await scenario();
    const result = await migrate(['local', 'mongo', '--session', 'alpha', '--move', '--yes', '--json'], base, namespace);
    expect(result.code, result.stderr).toBe(0);
    expect(byName(result).get('alpha')).toMatchObject({ status: 'done' });
    expect(existsSync(path.join(folder, 'alpha'))).toBe(false);
    const db = new Database(path.join(folder, 'waha.sqlite3'), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM me WHERE id = ?').get('alpha')).toEqual({ n: 0 });
    expect(db.prepare('SELECT COUNT(*) AS n FROM session_worker WHERE id = ?').get('alpha')).toEqual({ n: 0 });
    db.close();
    expect(existsSync(path.join(folder, 'fresh'))).toBe(true);
    expect(await client.db(`waha_${namespace}_alpha`).collection('auth').countDocuments()).toBe(36);

    const back = await emptyBase();
    const returned = await migrate(['mongo', 'local', '--session', 'alpha', '--move', '--yes', '--json'], back, namespace);
    expect(returned.code, returned.stderr).toBe(0);
    expect(existsSync(path.join(back, namespace, 'alpha', 'creds.json'))).toBe(true);
    const names = (await client.db().admin().listDatabases({ nameOnly: true })).databases.map((item) => item.name);
    expect(names).not.toContain(`waha_${namespace}_alpha`);
    const main = client.db(`waha_${namespace}`);
    expect(await main.collection('sessions').countDocuments({ name: 'alpha' })).toBe(0);
    expect(await main.collection('me').countDocuments({ session: 'alpha' })).toBe(0);
    expect(await main.collection('session_worker').countDocuments({ id: 'alpha' })).toBe(0);
    expect(JSON.parse(await readFile(path.join(back, namespace, 'alpha', '.waha.session.config.json'), 'utf8')).metadata).toEqual({ team: 'ops' });
  });
});
