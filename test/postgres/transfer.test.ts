/**
 * The transfer guarantees on PostgreSQL through the binary: backup postgres -> restore postgres and
 * archive -> postgres -> archive with equal digests; conflicts (exists, identical, --overwrite),
 * --dry-run, --move both ways; GOWS into its session database; WPP round trip; a database under a
 * session's name that is not WAHA's is refused and left as it was.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { age, localScenario, type Scenario } from '../support/scenario.js';
import { emptyBase } from '../migrate/helpers.js';
import { cliIn, databasesOf, dropNamespace, postgresUrl, snapshot, stagingLeft, withDatabase } from './helpers.js';
import { uniqueNamespace } from '../support/mongo.js';

interface Outcome { name: string; status: string; reason?: string; message?: string; action?: string }
const outcomes = (stdout: string) => new Map((JSON.parse(stdout).sessions as Outcome[]).map((session) => [session.name, session]));
const statuses = (stdout: string) => Object.fromEntries([...outcomes(stdout).values()].map((session) => [session.name, session.reason ? `${session.status}:${session.reason}` : session.status]));
const only = (...names: string[]) => names.flatMap((name) => ['--session', name]);

describe('backup postgres -> restore postgres, archive -> postgres -> archive', () => {
  let scenario: Scenario;
  const other = uniqueNamespace('pgr');
  afterAll(async () => {
    await dropNamespace(scenario.namespace);
    await dropNamespace(other);
    await scenario.cleanup();
  });

  it('restores into another namespace row for row, and the second archive has the first one\'s digests', async () => {
    scenario = await localScenario('noweb', 'pgb');
    const ns = scenario.namespace;
    const seeded = await cliIn(['migrate', 'local', 'postgres', ...only('alpha', 'fresh', 'ghost'), '--json'], scenario.base, ns);
    expect(seeded.code, seeded.stderr).toBe(0);
    const first = path.join(scenario.base, 'first.tar.gz');
    const made = await cliIn(['backup', 'postgres', '-o', first, '--json'], scenario.base, ns);
    expect(made.code, made.stderr).toBe(0);
    expect(statuses(made.stdout)).toEqual({ alpha: 'done', fresh: 'done', ghost: 'done' });

    const restored = await cliIn(['restore', first, 'postgres', '--json'], scenario.base, other);
    expect(restored.code, restored.stderr).toBe(0);
    expect(statuses(restored.stdout)).toEqual({ alpha: 'done', fresh: 'done', ghost: 'done' });
    expect(await snapshot(postgresUrl(), other)).toEqual(await snapshot(postgresUrl(), ns));

    const second = path.join(scenario.base, 'second.tar.gz');
    const again = await cliIn(['backup', 'pg', '-o', second, '--json'], scenario.base, other);
    expect(again.code, again.stderr).toBe(0);
    const digests = async (file: string) => {
      const verified = await cliIn(['backup', 'verify', file, '--json'], scenario.base, ns);
      expect(verified.code, verified.stderr).toBe(0);
      return Object.fromEntries((json(verified).sessions as { name: string; digest: string; entries: number }[]).map((session) => [session.name, `${session.entries} ${session.digest}`]));
    };
    const before = await digests(first);
    expect(Object.keys(before).sort()).toEqual(['alpha', 'fresh', 'ghost']);
    expect(await digests(second)).toEqual(before);

    // the same archive again: identical; into a changed session: exists, then --overwrite
    expect(statuses((await cliIn(['restore', first, 'postgres', '--json'], scenario.base, other)).stdout)).toEqual({ alpha: 'skipped:identical', fresh: 'skipped:identical', ghost: 'skipped:identical' });
    await withDatabase(`waha_${other}_alpha`, (client) => client.query("UPDATE auth SET data = '{\"id\":\"creds\",\"data\":{}}' WHERE id = 'creds'"));
    expect(statuses((await cliIn(['restore', first, 'postgres', '--session', 'alpha', '--json'], scenario.base, other)).stdout)).toEqual({ alpha: 'skipped:exists' });
    const overwritten = await cliIn(['restore', first, 'postgres', '--session', 'alpha', '--overwrite', '--yes', '--json'], scenario.base, other);
    expect(statuses(overwritten.stdout)).toEqual({ alpha: 'done' });
    expect(await snapshot(postgresUrl(), other)).toEqual(await snapshot(postgresUrl(), ns));
  });
});

describe('conflicts, --dry-run and --move', () => {
  let scenario: Scenario;
  afterAll(async () => {
    await dropNamespace(scenario.namespace);
    await scenario.cleanup();
  });

  it('a dry run plans and writes nothing; a changed session is exists, --overwrite replaces it, a rerun is identical', async () => {
    scenario = await localScenario('noweb', 'pgc');
    const ns = scenario.namespace;
    const dry = await cliIn(['migrate', 'local', 'postgres', ...only('alpha', 'fresh'), '--dry-run', '--json'], scenario.base, ns);
    expect(dry.code, dry.stderr).toBe(0);
    expect(statuses(dry.stdout)).toEqual({ alpha: 'planned', fresh: 'planned' });
    expect(json(dry).summary.entries).toBeGreaterThan(0);
    expect(await databasesOf(ns)).toEqual([]);

    const copied = await cliIn(['migrate', 'local', 'postgres', ...only('alpha', 'fresh'), '--json'], scenario.base, ns);
    expect(copied.code, copied.stderr).toBe(0);
    expect(json(copied).summary.entries).toBe(json(dry).summary.entries);
    const creds = path.join(scenario.folder, 'alpha', 'creds.json');
    const original = await readFile(creds, 'utf8');
    const changed = { ...JSON.parse(original), advSecretKey: 'Y2hhbmdlZCBieSB0aGUgdGVzdA==' };
    await writeFile(creds, JSON.stringify(changed));
    await age(scenario.folder); // not a session WAHA is writing

    expect(statuses((await cliIn(['migrate', 'local', 'postgres', ...only('alpha', 'fresh'), '--json'], scenario.base, ns)).stdout)).toEqual({ alpha: 'skipped:exists', fresh: 'skipped:identical' });
    const before = await snapshot(postgresUrl(), ns);
    const planned = await cliIn(['migrate', 'local', 'postgres', '--session', 'alpha', '--overwrite', '--dry-run', '--json'], scenario.base, ns);
    expect(outcomes(planned.stdout).get('alpha')).toMatchObject({ status: 'planned', action: 'overwrite' });
    expect(await snapshot(postgresUrl(), ns)).toEqual(before);
    const refused = await cliIn(['migrate', 'local', 'postgres', '--session', 'alpha', '--overwrite', '--json'], scenario.base, ns);
    expect(refused.code).toBe(2); // no terminal, no --yes
    const overwritten = await cliIn(['migrate', 'local', 'postgres', '--session', 'alpha', '--overwrite', '--yes', '--json'], scenario.base, ns);
    expect(outcomes(overwritten.stdout).get('alpha')).toMatchObject({ status: 'done', action: 'overwrite' });
    await withDatabase(`waha_${ns}_alpha`, async (client) => {
      const { rows } = await client.query<{ data: string }>("SELECT data FROM auth WHERE id = 'creds'");
      expect(JSON.parse(rows[0]!.data).data.advSecretKey).toBe(changed.advSecretKey);
    });
    expect(statuses((await cliIn(['migrate', 'local', 'postgres', '--session', 'alpha', '--json'], scenario.base, ns)).stdout)).toEqual({ alpha: 'skipped:identical' });
    expect(await stagingLeft(ns, ['alpha', 'fresh'])).toEqual([]);
  });

  it('--move: an identical copy only removes the source; postgres -> local --move empties PostgreSQL as WAHA\'s delete', async () => {
    const ns = scenario.namespace;
    const moved = await cliIn(['migrate', 'local', 'postgres', ...only('alpha', 'fresh'), '--move', '--yes', '--json'], scenario.base, ns);
    expect(moved.code, moved.stderr).toBe(0);
    expect(outcomes(moved.stdout).get('alpha')).toMatchObject({ status: 'done', action: 'remove-source' });
    expect(existsSync(path.join(scenario.folder, 'alpha'))).toBe(false);
    expect(existsSync(path.join(scenario.folder, 'fresh'))).toBe(false);
    const inPostgres = await snapshot(postgresUrl(), ns);

    const back = await emptyBase();
    try {
      const returned = await cliIn(['migrate', 'postgres', 'local', '--move', '--yes', '--json'], back, ns);
      expect(returned.code, returned.stderr).toBe(0);
      expect(statuses(returned.stdout)).toEqual({ alpha: 'done', fresh: 'done' });
      expect(await databasesOf(ns)).toEqual([`waha_${ns}`]);
      const main = (await snapshot(postgresUrl(), ns)).main!;
      expect([main.session_config, main.me, main.session_worker]).toEqual([[], [], []]);
      // and in again: PostgreSQL holds what it held
      const again = await cliIn(['migrate', 'local', 'postgres', '--json'], back, ns);
      expect(again.code, again.stderr).toBe(0);
      expect(await snapshot(postgresUrl(), ns)).toEqual(inPostgres);
    } finally {
      await rm(back, { recursive: true, force: true });
    }
  });
});

describe('engines: GOWS, WPP round trip', () => {
  const scenarios: Scenario[] = [];
  afterAll(async () => {
    for (const scenario of scenarios) {
      await dropNamespace(scenario.namespace);
      await scenario.cleanup();
    }
  });

  it('GOWS goes into its session database (test/postgres/gows.test.ts has the rest)', async () => {
    const scenario = await localScenario('gows', 'pgg');
    scenarios.push(scenario);
    const result = await cliIn(['migrate', 'local', 'postgres', '--engine', 'GOWS', '--json'], scenario.base, scenario.namespace);
    expect(result.code, result.stderr).toBe(0);
    expect(outcomes(result.stdout).get('gopher')).toMatchObject({ status: 'done' });
    expect(await databasesOf(scenario.namespace)).toContain(`waha_${scenario.namespace}_gopher`);
  });

  it("WPP keeps <name>.zip in files and comes back byte-identical", async () => {
    const scenario = await localScenario('wpp', 'pgp');
    scenarios.push(scenario);
    const ns = scenario.namespace;
    const result = await cliIn(['migrate', 'local', 'postgres', '--engine', 'WPP', '--json'], scenario.base, ns);
    expect(result.code, result.stderr).toBe(0);
    expect(statuses(result.stdout)).toEqual({ wpp1: 'done' });
    await withDatabase(`waha_${ns}_wpp1`, async (client) => {
      expect((await client.query('SELECT fullpath FROM files')).rows).toEqual([{ fullpath: 'wpp1.zip' }]);
    });
    const back = await emptyBase();
    try {
      const restored = await cliIn(['migrate', 'postgres', 'local', '--engine', 'WPP', '--json'], back, ns);
      expect(restored.code, restored.stderr).toBe(0);
      for (const file of ['userDataDir/Default/Preferences', 'userDataDir/Default/IndexedDB/data.bin', 'userDataDir/Local State', '.waha.session.config.json']) {
        expect((await readFile(path.join(back, ns, 'wpp1', file))).equals(await readFile(path.join(scenario.folder, 'wpp1', file))), file).toBe(true);
      }
    } finally {
      await rm(back, { recursive: true, force: true });
    }
  });
});

describe("a database under a session's name that is not WAHA's", () => {
  let scenario: Scenario;
  beforeAll(async () => { scenario = await localScenario('noweb', 'pgf'); });
  afterAll(async () => {
    await dropNamespace(scenario.namespace);
    await scenario.cleanup();
  });

  it('is refused, with --overwrite too, and never dropped (foreign tables, or no tables at all)', async () => {
    const ns = scenario.namespace;
    await withDatabase('postgres', async (client) => {
      await client.query(`CREATE DATABASE "waha_${ns}_alpha"`);
      await client.query(`CREATE DATABASE "waha_${ns}_fresh"`);
    });
    await withDatabase(`waha_${ns}_alpha`, async (client) => {
      await client.query('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total NUMERIC)');
      await client.query('INSERT INTO invoices VALUES (1, 99.5)');
      await client.query('CREATE TABLE auth (id TEXT PRIMARY KEY, data TEXT)'); // even beside a table named like WAHA's
    });
    for (const extra of [[], ['--overwrite', '--yes'], ['--overwrite', '--yes', '--move']]) {
      const result = await cliIn(['migrate', 'local', 'postgres', ...only('alpha', 'fresh'), ...extra, '--json'], scenario.base, ns);
      expect(result.code, result.stderr).toBe(1);
      const sessions = outcomes(result.stdout);
      expect(sessions.get('alpha'), extra.join(' ')).toMatchObject({ status: 'failed', reason: 'foreign-database' });
      expect(sessions.get('alpha')!.message).toMatch(/is not WAHA's \(tables WAHA never creates: invoices\)/);
      expect(sessions.get('fresh')).toMatchObject({ status: 'failed', reason: 'foreign-database' });
      expect(sessions.get('fresh')!.message).toMatch(/no tables at all/);
    }
    await withDatabase(`waha_${ns}_alpha`, async (client) => {
      expect((await client.query('SELECT id, total FROM invoices')).rows).toEqual([{ id: 1, total: '99.5' }]);
    });
    expect(await databasesOf(ns)).toEqual([`waha_${ns}_alpha`, `waha_${ns}_fresh`]);
    expect(existsSync(path.join(scenario.folder, 'alpha'))).toBe(true);
  });
});
