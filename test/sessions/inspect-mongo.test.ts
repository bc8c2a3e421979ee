import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeMongoFixtures, type FixtureSet } from '../support/fixtures/index.js';
import { json, runCli } from '../support/cli.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';

let client: MongoClient;
let namespace: string;
let fixtures: FixtureSet;

beforeAll(async () => {
  client = await connectMongo();
  namespace = uniqueNamespace('insp');
  fixtures = await writeMongoFixtures(mongoUrl(), namespace);
});

afterAll(async () => {
  await dropNamespace(client, namespace);
  await client.close();
});

const mongoArgs = () => ['--mongo-url', mongoUrl(), '--namespace', namespace, '--session-namespace', namespace];

describe('inspect mongo (through the binary)', () => {
  it('reports every fixture session: engine, login, me, worker, config, entries, problems', async () => {
    const result = await runCli(['inspect', 'mongo', ...mongoArgs(), '--json']);
    expect(result.code).toBe(0);
    const document = json(result);
    expect(document.sessions).toHaveLength(fixtures.sessions.length);
    for (const expected of fixtures.sessions) {
      const session = document.sessions.find((item: any) => item.name === expected.name);
      expect(session, expected.name).toBeDefined();
      expect({ engine: session.engine, store: session.store, loggedIn: session.loggedIn, me: session.me, config: session.config, worker: session.worker, documents: session.details.documents ?? 0 })
        .toEqual({ engine: expected.engine, store: 'mongo', loggedIn: expected.loggedIn, me: expected.me, config: expected.config, worker: expected.worker, documents: expected.entries }); // the fixture counts documents; `entries` is tested in test/e2e/entries
      expect(session.problems.map((item: any) => item.code).sort(), expected.name).toEqual([...expected.problems].sort());
      if (expected.keysByCategory) expect(session.details.keysByCategory, expected.name).toEqual(expected.keysByCategory);
      if (expected.revisions !== undefined) expect(session.details.revisions).toBe(expected.revisions);
      if ((session.details.documents ?? 0) > 0) expect(session.bytes).toBeGreaterThan(0);
    }
    expect(document.problems.map((item: any) => item.code).sort()).toEqual([...fixtures.problems].sort());
  });

  it('reads the legacy single-document format, the per-key format, and merges both (per-key wins)', async () => {
    const document = json(await runCli(['inspect', 'mongo', ...mongoArgs(), '--json', '--session', 'legacy', '--session', 'mixed', '--session', 'alpha']));
    const byName = Object.fromEntries(document.sessions.map((session: any) => [session.name, session]));
    expect(byName.legacy.details.formats).toEqual(['legacy']);
    expect(byName.alpha.details.formats).toEqual(['per-key']);
    expect(byName.mixed.details.formats).toEqual(['per-key', 'legacy']);
    expect(byName.mixed.loggedIn).toBe(true);
  });

  it('covers local and mongo together when a URL is configured and no store word is given', async () => {
    // an empty sessions folder: a missing one given explicitly is a typo (exit 2, test/e2e/typos.test.ts)
    const empty = mkdtempSync(path.join(os.tmpdir(), 'waha-empty-sessions-'));
    const result = await runCli(['inspect', '--sessions-dir', empty, ...mongoArgs(), '--json']);
    rmSync(empty, { recursive: true, force: true });
    expect(result.code).toBe(0);
    expect(json(result).sessions.every((session: any) => session.store === 'mongo')).toBe(true);
    expect(result.stderr).toBe('');
  });

  it('shows a table with the detail view for one WEBJS session', async () => {
    const result = await runCli(['inspect', 'mongo', ...mongoArgs(), '--session', 'web1']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/zip revisions\s+2/);
  });
});
