/** migrate on a terminal: the spinner runs, the command finishes (no hang) and prints its summary table. */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { localScenario, migrate, type Scenario } from './helpers.js';

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

let client: MongoClient;
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => { await client.close(); });

describe('migrate on a terminal', () => {
  let scenario: Scenario;
  afterAll(async () => {
    await dropNamespace(client, scenario.namespace);
    await scenario.cleanup();
  });

  it('finishes and prints the table of sessions and the totals', async () => {
    scenario = await localScenario('noweb');
    const result = await migrate(['local', 'mongo', '--engine', 'NOWEB'], scenario.base, scenario.namespace, { tty: true, timeoutMs: 60_000 });
    const output = plain(result.stdout + result.stderr);
    expect(result.code, output).toBe(3); // the fixtures hold sessions that must fail
    const rows = output.split('\n');
    const header = rows.find((row) => /engine\W+session\W+status\W+reason\W+entries\W+size/.test(row));
    expect(header, output).toBeDefined();
    expect(rows.some((row) => /NOWEB\W+alpha\W+done\b/.test(row)), output).toBe(true);
    expect(rows.some((row) => /broken\W+failed\W+creds-corrupt/.test(row)), output).toBe(true);
    expect(output).toMatch(/7 sessions: 3 done, 0 planned, 0 skipped, 4 failed; copied \d+ entries \(.+\) local -> mongo/);
    expect(output).toContain('WAHA must be stopped before migrating');
    expect(output).not.toContain('schemaVersion'); // a table, not JSON
  }, 90_000);

  it('a rerun on a terminal reports the copied sessions as identical', async () => {
    const result = await migrate(['local', 'mongo', '--engine', 'NOWEB', '--session', 'alpha'], scenario.base, scenario.namespace, { tty: true, timeoutMs: 60_000 });
    const output = plain(result.stdout + result.stderr);
    expect(result.code, output).toBe(0);
    expect(output.split('\n').some((row) => /alpha\W+skipped\W+identical/.test(row)), output).toBe(true);
    expect(output).toContain('1 session: 0 done, 0 planned, 1 skipped, 0 failed');
  }, 90_000);
});
