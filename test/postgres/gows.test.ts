/**
 * GOWS on PostgreSQL through the binary: gows.db <-> the same tables in waha_<ns>_<slug>, both ways
 * row for row (the fixture's newer whatsmeow tables by their own columns); --dry-run, identical,
 * exists and --overwrite, --move both ways, the liveness guard at both ends, --skip-messages (GOWS
 * and NOWEB: exactly the message tables left out), tables of a newer GOWS (copied when their columns
 * map, else the session fails naming them), and archives (a gows.db file entry) into PostgreSQL.
 */
import { copyFile, mkdir, rm, utimes } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { json, type CliResult } from '../support/cli.js';
import { localScenario, type Scenario } from '../support/scenario.js';
import { uniqueNamespace } from '../support/mongo.js';
import { emptyBase } from '../migrate/helpers.js';
import { cliIn, databasesOf, dropNamespace, stagingLeft, tableNames, urlWith, withDatabase } from './helpers.js';
import { addGowsTables } from '../oracles/gows-shape.js';
import { Database } from '../../src/util/sqlite.js';

interface Outcome { name: string; status: string; reason?: string; message?: string; action?: string }
const outcomes = (result: CliResult) => new Map((json(result).sessions as Outcome[]).map((session) => [session.name, session]));
const statuses = (result: CliResult) => Object.fromEntries([...outcomes(result).values()].map((session) => [session.name, session.reason ? `${session.status}:${session.reason}` : session.status]));
const GOWS = ['--engine', 'GOWS'];

/** Every table of a gows.db with its rows in key order (SQLite's own values). */
function sqliteTables(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name);
    return Object.fromEntries(names.map((name) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}

async function rowCounts(database: string): Promise<Record<string, number>> {
  return withDatabase(database, async (client) => {
    const out: Record<string, number> = {};
    for (const table of await tableNames(client)) out[table] = Number((await client.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n);
    return out;
  });
}

function sqliteCounts(file: string): Record<string, number> {
  return Object.fromEntries(Object.entries(sqliteTables(file)).map(([name, rows]) => [name, rows.length]));
}

const scenarios: Scenario[] = [];
const namespaces: string[] = [];
afterAll(async () => {
  for (const namespace of namespaces) await dropNamespace(namespace);
  for (const scenario of scenarios) {
    await dropNamespace(scenario.namespace);
    await scenario.cleanup();
  }
});

async function gowsScenario(prefix: string): Promise<Scenario> {
  const scenario = await localScenario('gows', prefix);
  scenarios.push(scenario);
  return scenario;
}

describe('GOWS local <-> postgres', () => {
  it('a dry run writes nothing; both sessions go row for row and come back equal (newer whatsmeow tables by their columns); a rerun is identical; inspect sees the device', async () => {
    const { base, namespace, folder } = await gowsScenario('pgw');
    const dry = await cliIn(['migrate', 'local', 'postgres', ...GOWS, '--dry-run', '--json'], base, namespace);
    expect(dry.code, dry.stderr).toBe(0);
    expect(statuses(dry)).toEqual({ gopher: 'planned', gonew: 'planned' });
    expect(await databasesOf(namespace)).toEqual([]);

    const there = await cliIn(['migrate', 'local', 'postgres', ...GOWS, '--json'], base, namespace);
    expect(there.code, there.stdout + there.stderr).toBe(0);
    expect(statuses(there)).toEqual({ gopher: 'done', gonew: 'done' });
    const source = path.join(folder, 'gopher', 'gows.db');
    // whatsmeow v15's tables that this tool has no DDL of (nct_salt, retry_buffer, a sender_timestamp column) are there with their rows
    const counts = await rowCounts(`waha_${namespace}_gopher`);
    expect(counts).toEqual(sqliteCounts(source));
    expect(counts.whatsmeow_nct_salt).toBe(0);
    const columns = await withDatabase(`waha_${namespace}_gopher`, async (client) => (await client.query<{ column_name: string; data_type: string }>(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'whatsmeow_privacy_tokens' ORDER BY ordinal_position")).rows.map((row) => `${row.column_name} ${row.data_type}`));
    expect(columns).toContain('sender_timestamp bigint');
    expect(columns).toContain('token bytea');

    const back = await emptyBase();
    const returned = await cliIn(['migrate', 'postgres', 'local', ...GOWS, '--json'], back, namespace);
    expect(returned.code, returned.stderr).toBe(0);
    expect(statuses(returned)).toEqual({ gopher: 'done', gonew: 'done' });
    for (const name of ['gopher', 'gonew']) {
      expect(sqliteTables(path.join(back, namespace, name, 'gows.db')), name).toEqual(sqliteTables(path.join(folder, name, 'gows.db')));
    }
    await rm(back, { recursive: true, force: true });

    const again = await cliIn(['migrate', 'local', 'postgres', ...GOWS, '--json'], base, namespace);
    expect(statuses(again)).toEqual({ gopher: 'skipped:identical', gonew: 'skipped:identical' });
    const inspect = await cliIn(['inspect', 'postgres', ...GOWS, '--json'], base, namespace);
    expect(inspect.code, inspect.stderr).toBe(0);
    const reports = json(inspect).sessions as { name: string; loggedIn: boolean; details: { account?: string; pushName?: string; tables?: Record<string, number> } }[];
    expect(Object.fromEntries(reports.map((report) => [report.name, report.loggedIn]))).toEqual({ gopher: true, gonew: false });
    const gopher = reports.find((report) => report.name === 'gopher')!;
    expect(gopher.details).toMatchObject({ pushName: 'Gopher', account: expect.stringMatching(/@s\.whatsapp\.net$/) });
    expect(Object.keys(gopher.details.tables!).sort()).toEqual(Object.keys(sqliteCounts(source)).sort());
    expect(gopher.details.tables!.whatsmeow_device).toBeGreaterThan(0);
    expect(await stagingLeft(namespace, ['gopher', 'gonew'], 'GOWS')).toEqual([]);
  }, 120_000);

  it('a changed row in PostgreSQL is exists; --overwrite replaces it', async () => {
    const { base, namespace } = await gowsScenario('pgx');
    expect((await cliIn(['migrate', 'local', 'postgres', ...GOWS, '-s', 'gopher', '--json'], base, namespace)).code).toBe(0);
    const database = `waha_${namespace}_gopher`;
    await withDatabase(database, (client) => client.query("UPDATE whatsmeow_device SET push_name = 'Changed'"));
    const exists = await cliIn(['migrate', 'local', 'postgres', ...GOWS, '-s', 'gopher', '--json'], base, namespace);
    expect(exists.code, exists.stderr).toBe(0);
    expect(statuses(exists)).toEqual({ gopher: 'skipped:exists' });
    const replaced = await cliIn(['migrate', 'local', 'postgres', ...GOWS, '-s', 'gopher', '--overwrite', '--yes', '--json'], base, namespace);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(outcomes(replaced).get('gopher')).toMatchObject({ status: 'done', action: 'overwrite' });
    expect(await withDatabase(database, async (client) => (await client.query('SELECT push_name FROM whatsmeow_device')).rows[0].push_name)).toBe('Gopher');
  }, 120_000);

  it('--move local -> postgres removes the folder; --move postgres -> local drops the database and the main rows', async () => {
    const { base, namespace, folder } = await gowsScenario('pgm');
    const before = sqliteTables(path.join(folder, 'gopher', 'gows.db'));
    const moved = await cliIn(['migrate', 'local', 'postgres', ...GOWS, '--move', '--yes', '--json'], base, namespace);
    expect(moved.code, moved.stderr).toBe(0);
    expect(statuses(moved)).toEqual({ gopher: 'done', gonew: 'done' });
    expect(existsSync(path.join(folder, 'gopher'))).toBe(false);
    expect(existsSync(path.join(folder, 'gonew'))).toBe(false);
    const home = await cliIn(['migrate', 'postgres', 'local', ...GOWS, '--move', '--yes', '--json'], base, namespace);
    expect(home.code, home.stderr).toBe(0);
    expect(statuses(home)).toEqual({ gopher: 'done', gonew: 'done' });
    expect(sqliteTables(path.join(folder, 'gopher', 'gows.db'))).toEqual(before);
    expect(await databasesOf(namespace)).toEqual([`waha_${namespace}`]);
    const left = await withDatabase(`waha_${namespace}`, async (client) => (await client.query('SELECT id FROM session_config')).rows);
    expect(left).toEqual([]);
  }, 120_000);

  it('the liveness guard: a GOWS connection to the session database, a gows.db changed just now', async () => {
    const { base, namespace, folder } = await gowsScenario('pgl');
    expect((await cliIn(['migrate', 'local', 'postgres', ...GOWS, '-s', 'gopher', '--json'], base, namespace)).code).toBe(0);
    const gows = new pg.Client({ connectionString: urlWith({ database: `waha_${namespace}_gopher` }), application_name: 'GOWS' });
    await gows.connect();
    try {
      const live = await cliIn(['migrate', 'postgres', 'local', ...GOWS, '-s', 'gopher', '--json'], await emptyBase(), namespace);
      expect(live.code).toBe(1);
      expect(outcomes(live).get('gopher')).toMatchObject({ status: 'failed', reason: 'live' });
      expect(outcomes(live).get('gopher')!.message).toMatch(/"GOWS"/);
      // inspect says it is running: the GOWS connection, named
      const inspect = await cliIn(['inspect', 'postgres', ...GOWS, '-s', 'gopher', '--json'], base, namespace);
      const [report] = json(inspect).sessions as { details: { connections?: string[] }; problems: { code: string }[] }[];
      expect(report!.details.connections).toEqual([expect.stringMatching(/^"GOWS" \(pid \d+/)]);
      expect(report!.problems.map((item) => item.code)).toContain('waha-connected');
    } finally {
      await gows.end();
    }
    const now = new Date();
    await utimes(path.join(folder, 'gonew', 'gows.db'), now, now);
    const changed = await cliIn(['migrate', 'local', 'postgres', ...GOWS, '-s', 'gonew', '--json'], base, namespace);
    expect(changed.code).toBe(1);
    expect(outcomes(changed).get('gonew')).toMatchObject({ status: 'failed', reason: 'live' });
    expect(await databasesOf(namespace)).not.toContain(`waha_${namespace}_gonew`);
  }, 120_000);

  it('tables of a newer GOWS: copied when their columns map, else the session fails naming them and nothing is written', async () => {
    const { base, namespace, folder } = await gowsScenario('pgu');
    const edit = (name: string, sql: string) => {
      const db = new Database(path.join(folder, name, 'gows.db'));
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    };
    edit('gopher', "CREATE TABLE gows_future (id TEXT PRIMARY KEY, payload BLOB, seen_at DATETIME, n INTEGER); INSERT INTO gows_future VALUES ('a', x'00ff10', '2026-05-16 15:33:09.5+02:00', 7)");
    edit('gonew', 'CREATE TABLE gows_untyped (id, value); INSERT INTO gows_untyped VALUES (1, 2)');
    const { age } = await import('../support/scenario.js');
    await age(folder);
    const result = await cliIn(['migrate', 'local', 'postgres', ...GOWS, '--json'], base, namespace);
    expect(result.code).toBe(3);
    expect(outcomes(result).get('gopher')).toMatchObject({ status: 'done' });
    const gonew = outcomes(result).get('gonew')!;
    expect(gonew).toMatchObject({ status: 'failed', reason: 'gows-unknown-table' });
    expect(gonew.message).toMatch(/gows_untyped \(id without a type, value without a type\)/);
    expect(await databasesOf(namespace)).not.toContain(`waha_${namespace}_gonew`);
    const future = await withDatabase(`waha_${namespace}_gopher`, async (client) => (await client.query("SELECT id, encode(payload, 'hex') AS payload, seen_at::text AS seen_at, n FROM gows_future")).rows);
    // the +02:00 time is kept as the same instant, in UTC (as GOWS on PostgreSQL keeps times)
    expect(future).toEqual([{ id: 'a', payload: '00ff10', seen_at: '2026-05-16 13:33:09.5', n: 7 }]);
    expect(await stagingLeft(namespace, ['gopher', 'gonew'], 'GOWS')).toEqual([]);
  }, 120_000);
});

describe('purge postgres of GOWS sessions', () => {
  it('--logout --backup drops the session database (the archive restores it); delete drops the config row too', async () => {
    const { base, namespace, folder } = await gowsScenario('pgp');
    expect((await cliIn(['migrate', 'local', 'postgres', ...GOWS, '--json'], base, namespace)).code).toBe(0);
    const archive = path.join(base, 'before-logout.tar.gz');
    const logout = await cliIn(['purge', 'postgres', ...GOWS, '-s', 'gopher', '--logout', '--backup', archive, '--yes', '--json'], base, namespace);
    expect(logout.code, logout.stdout + logout.stderr).toBe(0);
    expect(await databasesOf(namespace)).not.toContain(`waha_${namespace}_gopher`);
    const configs = async () => withDatabase(`waha_${namespace}`, async (client) => (await client.query<{ id: string }>('SELECT id FROM session_config ORDER BY id')).rows.map((row) => row.id));
    expect(await configs()).toEqual(['gonew', 'gopher']);
    const restored = await cliIn(['restore', archive, 'postgres', '--overwrite', '--yes', '--json'], base, namespace);
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    expect(await rowCounts(`waha_${namespace}_gopher`)).toEqual(sqliteCounts(path.join(folder, 'gopher', 'gows.db')));
    const deleted = await cliIn(['purge', 'postgres', ...GOWS, '--all', '--yes', '--json'], base, namespace);
    expect(deleted.code, deleted.stdout + deleted.stderr).toBe(0);
    expect(await databasesOf(namespace)).toEqual([`waha_${namespace}`]);
    expect(await configs()).toEqual([]);
  }, 120_000);
});

describe('--skip-messages', () => {
  it('GOWS: gows_messages arrives empty and every other table complete; a full copy afterwards finds only the messages missing', async () => {
    const { base, namespace, folder } = await gowsScenario('pgs');
    const file = path.join(folder, 'gopher', 'gows.db');
    addGowsTables(file, 1200, { replace: true });
    const { age } = await import('../support/scenario.js');
    await age(folder);
    const skipped = await cliIn(['migrate', 'local', 'postgres', ...GOWS, '-s', 'gopher', '--skip-messages', '--json'], base, namespace);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(statuses(skipped)).toEqual({ gopher: 'done' });
    const source = sqliteCounts(file);
    expect(source.gows_messages).toBe(1200);
    expect(await rowCounts(`waha_${namespace}_gopher`)).toEqual({ ...source, gows_messages: 0 });
    // with --skip-messages the two compare equal; without, they differ (by the messages)
    expect(statuses(await cliIn(['migrate', 'local', 'postgres', ...GOWS, '-s', 'gopher', '--skip-messages', '--json'], base, namespace))).toEqual({ gopher: 'skipped:identical' });
    expect(statuses(await cliIn(['migrate', 'local', 'postgres', ...GOWS, '-s', 'gopher', '--json'], base, namespace))).toEqual({ gopher: 'skipped:exists' });

    // backup --skip-messages -> restore: the same
    const archive = path.join(base, 'no-messages.tar.gz');
    const made = await cliIn(['backup', 'local', ...GOWS, '-s', 'gopher', '--skip-messages', '-o', archive, '--json'], base, namespace);
    expect(made.code, made.stderr).toBe(0);
    const restored = await emptyBase();
    const into = await cliIn(['restore', archive, 'local', '--json'], restored, namespace);
    expect(into.code, into.stderr).toBe(0);
    expect(sqliteCounts(path.join(restored, namespace, 'gopher', 'gows.db'))).toEqual({ ...source, gows_messages: 0 });
    await rm(restored, { recursive: true, force: true });
  }, 120_000);

  it('NOWEB: the store\'s messages rows stay behind, every other store row and every key goes', async () => {
    const scenario = await localScenario('noweb', 'pgn');
    scenarios.push(scenario);
    const { base, namespace } = scenario;
    const full = uniqueNamespace('pgf');
    namespaces.push(full);
    const only = ['-s', 'alpha', '-s', 'fresh', '-s', 'ghost'];
    const all = await cliIn(['migrate', 'local', 'postgres', '--engine', 'NOWEB', ...only, '--json', '--to-session-namespace', full, '--to-namespace', full], base, namespace);
    expect(all.code, all.stdout + all.stderr).toBe(0);
    const skipped = await cliIn(['migrate', 'local', 'postgres', '--engine', 'NOWEB', ...only, '--skip-messages', '--json'], base, namespace);
    expect(skipped.code, skipped.stderr).toBe(0);
    let withMessages = 0;
    for (const session of outcomes(skipped).keys()) {
      const fullCounts = await rowCounts(`waha_${full}_${session}`).catch(() => ({} as Record<string, number>));
      const counts = await rowCounts(`waha_${namespace}_${session}`).catch(() => ({} as Record<string, number>));
      const { messages = 0, ...rest } = fullCounts;
      withMessages += messages;
      expect(counts.messages ?? 0, session).toBe(0);
      const { messages: none, ...others } = counts;
      expect(none ?? 0).toBe(0);
      expect(others, session).toEqual(rest);
    }
    expect(withMessages).toBeGreaterThan(0);
  }, 120_000);
});

describe('archives of GOWS sessions into PostgreSQL', () => {
  it('a backup (gows.db as a file entry) restores into PostgreSQL, and a backup of that restores locally equal', async () => {
    const { base, namespace, folder } = await gowsScenario('pga');
    const archive = path.join(base, 'gows.tar.gz');
    const made = await cliIn(['backup', 'local', ...GOWS, '-o', archive, '--json'], base, namespace);
    expect(made.code, made.stderr).toBe(0);
    const restored = await cliIn(['restore', archive, 'postgres', '--json'], base, namespace);
    expect(restored.code, restored.stderr).toBe(0);
    expect(statuses(restored)).toEqual({ gopher: 'done', gonew: 'done' });
    expect(await rowCounts(`waha_${namespace}_gopher`)).toEqual(sqliteCounts(path.join(folder, 'gopher', 'gows.db')));
    const second = path.join(base, 'from-postgres.tar.gz');
    const again = await cliIn(['backup', 'postgres', ...GOWS, '-o', second, '--json'], base, namespace);
    expect(again.code, again.stderr).toBe(0);
    const back = await emptyBase();
    await mkdir(back, { recursive: true });
    const home = await cliIn(['restore', second, 'local', '--json'], back, namespace);
    expect(home.code, home.stderr).toBe(0);
    expect(sqliteTables(path.join(back, namespace, 'gopher', 'gows.db'))).toEqual(sqliteTables(path.join(folder, 'gopher', 'gows.db')));
    // the first archive restored over the PostgreSQL copy: identical
    expect(statuses(await cliIn(['restore', archive, 'postgres', '--json'], base, namespace))).toEqual({ gopher: 'skipped:identical', gonew: 'skipped:identical' });
    await copyFile(archive, path.join(back, 'kept.tar.gz'));
    await rm(back, { recursive: true, force: true });
  }, 120_000);
});
