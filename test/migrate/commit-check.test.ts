/**
 * config, me and session_worker reach a store at commit, after the staged copy was verified; the
 * engine reads them back once committed. A target database that does not keep what it was given
 * (here a real SQLite trigger rewriting `me`) must fail the session and keep the source.
 */
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/util/sqlite.js';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { byName, emptyBase, localScenario, migrate, type Scenario } from './helpers.js';
import { mkdir } from 'node:fs/promises';

let client: MongoClient;
let scenario: Scenario;

beforeAll(async () => {
  client = await connectMongo();
  scenario = await localScenario('noweb');
  const copied = await migrate(['local', 'mongo', '--session', 'alpha', '--json'], scenario.base, scenario.namespace);
  expect(copied.code).toBe(0);
});

afterAll(async () => {
  await dropNamespace(client, scenario.namespace);
  await scenario.cleanup();
  await client.close();
});

async function tamperingTarget(): Promise<string> {
  const base = await emptyBase();
  await mkdir(path.join(base, scenario.namespace));
  const db = new Database(path.join(base, scenario.namespace, 'waha.sqlite3'));
  db.exec(`CREATE TABLE me (id TEXT PRIMARY KEY, data TEXT);
    CREATE TABLE session_worker (id TEXT, worker TEXT, data TEXT);
    CREATE UNIQUE INDEX session_worker_id_idx ON session_worker (id);
    CREATE TRIGGER tamper AFTER INSERT ON me BEGIN
      UPDATE me SET data = '{"id":"alpha","me":{"id":"tampered@c.us"}}' WHERE id = NEW.id;
    END;`);
  db.close();
  return base;
}

describe('the committed config, me and worker are read back', () => {
  it('a target that does not keep `me` as written fails the session', async () => {
    const base = await tamperingTarget();
    const result = await migrate(['mongo', 'local', '--session', 'alpha', '--json'], base, scenario.namespace);
    expect(result.code).toBe(1);
    const alpha = byName(result).get('alpha')!;
    expect(alpha.status).toBe('failed');
    expect(alpha.reason).toBe('verify');
    expect(alpha.message).toMatch(/me:me differs/);
  });

  it('with --move the source is kept', async () => {
    const base = await tamperingTarget();
    const result = await migrate(['mongo', 'local', '--session', 'alpha', '--move', '--yes', '--json'], base, scenario.namespace);
    expect(byName(result).get('alpha')!.status).toBe('failed');
    const still = await client.db(`waha_${scenario.namespace}`).collection('sessions').countDocuments({ name: 'alpha' });
    expect(still).toBe(1);
  });
});
