/** Bad input through the real binary: one clear line, the documented exit code, nothing half-written. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { age, byName, emptyBase, localScenario, migrate, type Scenario } from './helpers.js';

let client: MongoClient;
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => { await client.close(); });
const scenarios: Scenario[] = [];
afterAll(async () => {
  for (const item of scenarios) {
    await dropNamespace(client, item.namespace);
    await item.cleanup();
  }
});

function oneLine(stderr: string): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('migrate bad input', () => {
  it('refuses source = target with exit 2', async () => {
    const base = await emptyBase();
    const result = await migrate(['local', 'local'], base, 'x');
    expect(result.code).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toContain('both local');
  });

  it('refuses an unknown store word with exit 2', async () => {
    const result = await migrate(['local', 'postgres'], await emptyBase(), 'x');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('postgres');
  });

  it('an unreachable MongoDB is exit 1 with one line and no password', async () => {
    const base = await emptyBase();
    const result = await runCli(['migrate', 'local', 'mongo', '--sessions-dir', base, '--mongo-url', 'mongodb://admin:s3cret@127.0.0.1:1/', '--timeout', '1000']);
    expect(result.code).toBe(1);
    oneLine(result.stderr);
    expect(result.stderr).toContain('MongoDB');
    expect(result.stderr).not.toContain('s3cret');
  });

  it('a local target that is a file is exit 2 (a typo: issue 14, item 5) before anything is copied', async () => {
    const base = await emptyBase();
    const file = path.join(base, 'not-a-folder');
    await writeFile(file, 'x');
    const result = await runCli(['migrate', 'mongo', 'local', '--sessions-dir', file, '--mongo-url', 'mongodb://127.0.0.1:1/', '--timeout', '1000']);
    expect(result.code).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toContain('is not a folder');
  });

  it('a key name that does not round-trip fails that session only, and nothing of it is committed', async () => {
    const scenario = await localScenario('noweb');
    scenarios.push(scenario);
    // a pre-2022 file name with raw ":" and an unknown category holding a "." that MongoDB would turn into "-"
    await writeFile(path.join(scenario.folder, 'fresh', 'sender-key-123@g.us::456::0.json'), '{"a":1}');
    await mkdir(path.join(scenario.folder, 'odd'));
    await writeFile(path.join(scenario.folder, 'odd', 'creds.json'), '{}');
    await writeFile(path.join(scenario.folder, 'odd', 'future-thing-a.b.json'), '{"a":1}');
    await age(scenario.folder);
    const result = await migrate(['local', 'mongo', '--session', 'fresh', '--session', 'odd', '--session', 'alpha', '--json'], scenario.base, scenario.namespace);
    expect(result.code).toBe(3);
    const sessions = byName(result);
    expect(sessions.get('fresh')).toMatchObject({ status: 'failed', reason: 'key-name' });
    expect(sessions.get('fresh')!.message).toContain('sender-key-123@g.us::456::0.json');
    expect(sessions.get('odd')).toMatchObject({ status: 'failed', reason: 'key-name' });
    expect(sessions.get('odd')!.message).toContain('future-thing-a.b.json');
    expect(sessions.get('alpha')).toMatchObject({ status: 'done' });
    const names = (await client.db().admin().listDatabases({ nameOnly: true })).databases.map((db) => db.name);
    expect(names).not.toContain(`waha_${scenario.namespace}_fresh`);
    expect(names).not.toContain(`waha_${scenario.namespace}_odd`);
    expect(await client.db(`waha_${scenario.namespace}`).collection('sessions').countDocuments({ name: { $in: ['fresh', 'odd'] } })).toBe(0);
  });

  it('GOWS and WPP are skipped for MongoDB with the reason, and that alone is exit 0', async () => {
    for (const engineFolder of ['gows', 'wpp']) {
      const scenario = await localScenario(engineFolder);
      scenarios.push(scenario);
      const result = await migrate(['local', 'mongo', '--engine', engineFolder, '--json'], scenario.base, scenario.namespace);
      expect(result.code, result.stderr).toBe(0);
      const sessions = [...byName(result).values()];
      expect(sessions.length).toBeGreaterThan(0);
      for (const session of sessions) expect(session).toMatchObject({ status: 'skipped', reason: 'unsupported' });
      if (engineFolder === 'gows') expect(sessions[0]!.message).toContain('cannot keep GOWS');
      const names = (await client.db().admin().listDatabases({ nameOnly: true })).databases.map((db) => db.name);
      expect(names.filter((name) => name.startsWith(`waha_${scenario.namespace}`))).toEqual([]);
    }
  });

  it('leaves no staging folder behind when a session fails', async () => {
    const scenario = await localScenario('noweb');
    scenarios.push(scenario);
    const back = await emptyBase();
    await migrate(['local', 'mongo', '--session', 'alpha'], scenario.base, scenario.namespace);
    const result = await migrate(['mongo', 'local', '--session', 'alpha', '--json'], back, scenario.namespace);
    expect(byName(result).get('alpha')).toMatchObject({ status: 'done' });
    expect(await readdir(back)).toEqual([scenario.namespace]);
    expect(existsSync(path.join(back, '.waha-storage-staging'))).toBe(false);
  });
});
