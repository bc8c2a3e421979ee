/**
 * `health --extended` PostgreSQL preflight: postgresql.collation, postgresql.connections and
 * postgresql.orphans, through the built binary against real servers, in both states; the collation
 * mismatch itself (this cluster's C.UTF-8 has no collation version) on the server's answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  collationDetail, collationProblems, connectionsDetail, connectionsNeeded, orphansDetail, POOL_MAX, PROCESS_POOLS, SESSION_POOLS,
} from '../../src/health/postgres-preflight.js';
import { MAIN_DDL } from '../../src/sessions/stores/postgres/layout.js';
import { json, runCli } from '../support/cli.js';
import { uniqueNamespace } from '../support/mongo.js';
import { startPostgres, type RunningServer } from '../support/servers.js';
import { postgresUrl, withDatabase } from '../postgres/helpers.js';
import { tmpDir } from './helpers.js';

async function health(url: string, namespace: string, extra: string[] = []) {
  const dir = tmpDir('pg-preflight');
  const result = await runCli(['health', '--extended', '--json', '--sessions-dir', dir, '--media-dir', dir,
    '--namespace', namespace, '--session-namespace', namespace, ...extra], { env: { WHATSAPP_SESSIONS_POSTGRESQL_URL: url } });
  return { result, body: json(result) };
}

async function sql(url: string, database: string, statements: string[]): Promise<void> {
  const target = new URL(url);
  target.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: target.toString() });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** waha_<ns> as WAHA creates it, with these session_config rows. */
async function mainWith(url: string, namespace: string, names: readonly string[]): Promise<void> {
  await sql(url, 'postgres', [`CREATE DATABASE "waha_${namespace}"`]);
  await sql(url, `waha_${namespace}`, [...MAIN_DDL, ...names.map((name) =>
    `INSERT INTO session_config (id, data) VALUES ('${name}', '${JSON.stringify({ id: name, config: null })}')`)]);
}

async function dropAll(url: string, namespace: string): Promise<void> {
  const target = new URL(url);
  const client = new pg.Client({ connectionString: target.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $2)', [`waha_${namespace}`, `waha_${namespace}_`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

describe('postgresql.orphans (real server)', () => {
  const ns = uniqueNamespace('pfo');
  const other = `${ns}_other`; // another namespace whose databases start with waha_<ns>_
  beforeAll(async () => {
    const url = postgresUrl();
    // a running session, a logged-out one (row, no database: WAHA's normal state) and a lossy slug
    await mainWith(url, ns, ['alive', 'loggedout', 'My.Session']);
    await sql(url, 'postgres', [`CREATE DATABASE "waha_${ns}_alive"`, `CREATE DATABASE "waha_${ns}_my_session"`]);
    await mainWith(url, other, ['x']);
    await sql(url, 'postgres', [`CREATE DATABASE "waha_${other}_x"`]);
  });
  afterAll(async () => {
    await dropAll(postgresUrl(), other);
    await dropAll(postgresUrl(), ns);
  });

  it('is up when every session database has its row; a row without a database and another namespace are no problem', async () => {
    const { body } = await health(postgresUrl(), ns);
    expect(body.details['postgresql.orphans']).toMatchObject({ status: 'up', orphans: [] });
    expect(body.details['postgresql.orphans'].message).toContain(`waha_${ns}.session_config`);
  });

  it('is down naming a database no row accounts for, and the hint\'s command fixes it', async () => {
    await sql(postgresUrl(), 'postgres', [`CREATE DATABASE "waha_${ns}_deleted"`]);
    const { result, body } = await health(postgresUrl(), ns);
    expect(result.code).toBe(1);
    const orphans = body.error['postgresql.orphans'];
    expect(orphans).toMatchObject({ status: 'down', reason: 'orphan-databases' });
    expect(orphans.orphans).toEqual([{ database: `waha_${ns}_deleted`, main: `waha_${ns}`, bytes: expect.any(Number) }]);
    expect(orphans.detail).toContain(`waha_${ns}_deleted`);
    expect(orphans.hint).toContain(`DROP DATABASE "waha_${ns}_deleted" WITH (FORCE)`);
    // purge cannot take it (no session name): the hint is PostgreSQL's own command; run it as given
    const command = /DROP DATABASE "[^"]+" WITH \(FORCE\)/.exec(orphans.hint)![0];
    await sql(postgresUrl(), 'postgres', [command]);
    const again = await health(postgresUrl(), ns);
    expect(again.body.details['postgresql.orphans'].status).toBe('up');
  });

  it('human output: one line per check with the hint', async () => {
    await sql(postgresUrl(), 'postgres', [`CREATE DATABASE "waha_${ns}_gone"`]);
    const dir = tmpDir('pg-preflight');
    const result = await runCli(['health', '--extended', '--sessions-dir', dir, '--media-dir', dir, '--namespace', ns, '--session-namespace', ns],
      { env: { WHATSAPP_SESSIONS_POSTGRESQL_URL: postgresUrl() } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`postgresql\\.orphans: down - 1 database no session accounts for: waha_${ns}_gone .*hint: .*DROP DATABASE "waha_${ns}_gone" WITH \\(FORCE\\)`));
    expect(result.stdout).toMatch(/postgresql\.connections: up - /);
    expect(result.stdout).toMatch(/postgresql\.collation: (up|down) - /);
    expect(result.stdout).not.toContain('undefined');
    expect(result.stdout + result.stderr).not.toContain(new URL(postgresUrl()).password);
    await sql(postgresUrl(), 'postgres', [`DROP DATABASE "waha_${ns}_gone"`]);
  });
});

describe('postgresql.connections (real server)', () => {
  const ns = uniqueNamespace('pfc');
  let maxConnections = 0;
  let tooMany = 0;
  beforeAll(async () => {
    maxConnections = await withDatabase('postgres', async (client) => Number((await client.query('SHOW max_connections')).rows[0].max_connections));
    // one namespace for every engine: the engine of a row cannot be told, so it counts as NOWEB's 2 pools
    tooMany = Math.ceil(maxConnections / (SESSION_POOLS.NOWEB * POOL_MAX)) + 1;
  });
  afterAll(async () => {
    await dropAll(postgresUrl(), ns);
  });

  it('is up for the process pools when the namespace has no session yet', async () => {
    const { body } = await health(postgresUrl(), ns);
    const detail = body.details['postgresql.connections'];
    expect(detail).toMatchObject({ status: 'up', sessionsExpected: 0, sessionsFrom: 'session_config', maxConnections, needed: PROCESS_POOLS * POOL_MAX });
    expect(detail.available).toBeLessThanOrEqual(maxConnections - detail.reserved);
  });

  it('is down when the sessions in session_config need more than max_connections, with the setting to raise', async () => {
    await mainWith(postgresUrl(), ns, Array.from({ length: tooMany }, (_, i) => `s${i}`));
    const { result, body } = await health(postgresUrl(), ns);
    expect(result.code).toBe(1);
    const detail = body.error['postgresql.connections'];
    expect(detail).toMatchObject({ status: 'down', reason: 'max-connections', sessionsExpected: tooMany, sessionsFrom: 'session_config', maxConnections });
    expect(detail.needed).toBe((tooMany * SESSION_POOLS.NOWEB + PROCESS_POOLS) * POOL_MAX);
    expect(detail.needed).toBeGreaterThan(maxConnections);
    expect(detail.detail).toContain('too many clients already');
    expect(detail.hint).toMatch(/ALTER SYSTEM SET max_connections = \d+; then restart PostgreSQL/);
    const target = Number(/max_connections = (\d+)/.exec(detail.hint)![1]);
    expect(target).toBeGreaterThanOrEqual(Math.max(3000, detail.needed));
  });

  it('a main namespace several engines share: each row counts with the engine whose database it has (none: as NOWEB)', async () => {
    const shared = uniqueNamespace('pfs'); // WAHA_NAMESPACE only: session databases under each engine's own name
    const [gows, noweb, out] = ['g', 'n', 'u'].map((letter) => `${letter}${shared}`);
    await mainWith(postgresUrl(), shared, [gows!, noweb!, out!]);
    await sql(postgresUrl(), 'postgres', [`CREATE DATABASE "waha_gows_${gows}"`, `CREATE DATABASE "waha_noweb_${noweb}"`]);
    try {
      const dir = tmpDir('pg-preflight');
      const result = await runCli(['health', '--extended', '--json', '--sessions-dir', dir, '--media-dir', dir, '--namespace', shared],
        { env: { WHATSAPP_SESSIONS_POSTGRESQL_URL: postgresUrl() } });
      const detail = json(result).details['postgresql.connections'];
      expect(detail).toMatchObject({ sessionsExpected: 3, byEngine: { GOWS: 1, NOWEB: 1, unknown: 1 } });
      // two WAHA processes (one per engine found), GOWS 1 pool, NOWEB 2, the logged-out one as NOWEB
      expect(detail.needed).toBe((2 * PROCESS_POOLS + SESSION_POOLS.GOWS + SESSION_POOLS.NOWEB + SESSION_POOLS.NOWEB) * POOL_MAX);
    } finally {
      await sql(postgresUrl(), 'postgres', [`DROP DATABASE "waha_gows_${gows}"`, `DROP DATABASE "waha_noweb_${noweb}"`]);
      await dropAll(postgresUrl(), shared);
    }
  });

  it('PostgreSQL media on the same server adds a pool per process (and per session)', async () => {
    const dir = tmpDir('pg-preflight');
    const result = await runCli(['health', '--extended', '--json', '--sessions-dir', dir, '--media-dir', dir, '--namespace', `${ns}m`, '--session-namespace', `${ns}m`],
      { env: { WHATSAPP_SESSIONS_POSTGRESQL_URL: postgresUrl(), WAHA_MEDIA_STORAGE: 'POSTGRESQL', WAHA_MEDIA_POSTGRESQL_URL: postgresUrl() } });
    expect(json(result).details['postgresql.connections']).toMatchObject({ sessionsExpected: 0, needed: (PROCESS_POOLS + 1) * POOL_MAX });
  });

  it('--expected-sessions overrides the rows (0 is up, many is down), a bad number is exit 2', async () => {
    const none = await health(postgresUrl(), ns, ['--expected-sessions', '0']);
    expect(none.body.details['postgresql.connections']).toMatchObject({ status: 'up', sessionsExpected: 0, sessionsFrom: 'expected-sessions' });
    const many = await health(postgresUrl(), ns, ['--expected-sessions', String(maxConnections)]);
    expect(many.body.error['postgresql.connections']).toMatchObject({ status: 'down', sessionsExpected: maxConnections, sessionsFrom: 'expected-sessions' });
    const bad = await health(postgresUrl(), ns, ['--expected-sessions', 'lots']);
    expect(bad.result.code).toBe(2);
    expect(bad.body.error.message).toMatch(/--expected-sessions "lots"/);
  });
});

describe.skipIf(Boolean(process.env.WAHA_STORAGE_TEST_POSTGRES_URL))('postgresql.collation and a low max_connections (a server of its own: a recorded version would show in every other file\'s check)', () => {
  let server: RunningServer;
  const ns = uniqueNamespace('pfl');
  const MAX_CONNECTIONS = 25; // 22 for clients beside the 3 reserved: WAHA's two process pools (20) fit, one NOWEB session's two more do not
  beforeAll(async () => {
    server = await startPostgres({ maxConnections: MAX_CONNECTIONS });
  }, 120_000);

  it('connections: up while WAHA\'s pools fit in the server\'s max_connections, down with the setting to raise once a session does not', async () => {
    const fits = await health(server.url, `${ns}c`);
    expect(fits.body.details['postgresql.connections']).toMatchObject({ status: 'up', maxConnections: MAX_CONNECTIONS, sessionsExpected: 0 });
    await sql(server.url, 'postgres', [`CREATE DATABASE "waha_${ns}c"`]);
    await sql(server.url, `waha_${ns}c`, ['CREATE TABLE session_config (id TEXT PRIMARY KEY, data TEXT)', "INSERT INTO session_config VALUES ('one', '{}')"]);
    const { result, body } = await health(server.url, `${ns}c`);
    expect(result.code).toBe(1);
    expect(body.error['postgresql.connections']).toMatchObject({ status: 'down', reason: 'max-connections', maxConnections: MAX_CONNECTIONS, sessionsExpected: 1 });
    expect(body.error['postgresql.connections'].hint).toMatch(/ALTER SYSTEM SET max_connections = \d+; then restart PostgreSQL/);
    await sql(server.url, 'postgres', [`DROP DATABASE "waha_${ns}c" WITH (FORCE)`]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is up on this cluster: template1 and waha_* record no collation version (C.UTF-8)', async () => {
    await sql(server.url, 'postgres', [`CREATE DATABASE "waha_${ns}_a"`]);
    const { body } = await health(server.url, ns);
    expect(body.details['postgresql.collation']).toMatchObject({ status: 'up', checked: 2 });
    expect(body.details['postgresql.collation'].message).toMatch(/2 databases .*none records a collation version/);
  });

  it('is down for a database that records a version the OS does not give, and the hint\'s commands fix it', async () => {
    // what an OS upgrade that dropped the locale leaves: a recorded version, no actual one
    await sql(server.url, 'postgres', [`UPDATE pg_database SET datcollversion = '2.31' WHERE datname = 'waha_${ns}_a'`]);
    const { result, body } = await health(server.url, ns);
    expect(result.code).toBe(1);
    const detail = body.error['postgresql.collation'];
    expect(detail).toMatchObject({ status: 'down', reason: 'collation-version' });
    expect(detail.databases).toEqual([{ database: `waha_${ns}_a`, recorded: '2.31', actual: null, locale: 'C.UTF-8', problem: 'undeterminable' }]);
    expect(detail.hint).toContain('install the locale C.UTF-8');
    // the server refuses REFRESH here, as the hint says; the catalog update it names clears it
    await expect(sql(server.url, 'postgres', [`ALTER DATABASE "waha_${ns}_a" REFRESH COLLATION VERSION`])).rejects.toThrow(/invalid collation version change/);
    const update = /UPDATE pg_database SET datcollversion = NULL WHERE datname IN \([^)]*\)/.exec(detail.hint)![0];
    await sql(server.url, 'postgres', [update]);
    const again = await health(server.url, ns);
    expect(again.body.details['postgresql.collation'].status).toBe('up');
  });
});

describe('preflight rules on the server\'s answer (unit)', () => {
  it('collation: a recorded version that differs from the library\'s is a mismatch, with REINDEX then REFRESH for each database', () => {
    const rows = [
      { database: 'template1', recorded: '2.31', actual: '2.36', locale: 'en_US.UTF-8' },
      { database: 'waha_noweb', recorded: '2.36', actual: '2.36' },
      { database: 'waha_noweb_bot', recorded: '2.31', actual: '2.36' },
      { database: 'waha_gows_c', recorded: null, actual: null },
    ];
    expect(collationProblems(rows)).toEqual([
      { database: 'template1', recorded: '2.31', actual: '2.36', locale: 'en_US.UTF-8', problem: 'mismatch' },
      { database: 'waha_noweb_bot', recorded: '2.31', actual: '2.36', problem: 'mismatch' },
    ]);
    const detail = collationDetail(rows, 150004);
    expect(detail).toMatchObject({ status: 'down', reason: 'collation-version', checked: 4 });
    expect(detail.detail).toMatch(/template1 was created with collation version 2\.31, the OS provides 2\.36.*new sessions cannot start/);
    expect(detail.hint).toContain('REINDEX DATABASE "template1"; then ALTER DATABASE "template1" REFRESH COLLATION VERSION');
    expect(detail.hint).toContain('ALTER DATABASE "waha_noweb_bot" REFRESH COLLATION VERSION');
    expect(detail.hint).not.toContain('waha_noweb"');
    expect(String(detail.hint).indexOf('REINDEX DATABASE "template1"')).toBeLessThan(String(detail.hint).indexOf('ALTER DATABASE "template1"'));
  });

  it('collation: all current is up; before PostgreSQL 15 nothing is recorded to compare', () => {
    expect(collationDetail([{ database: 'template1', recorded: '2.36', actual: '2.36' }], 160002)).toMatchObject({ status: 'up', checked: 1 });
    expect(collationDetail([], 140010)).toMatchObject({ status: 'up', checked: 0, message: expect.stringMatching(/PostgreSQL 14 does not record/) });
  });

  it('connections: pools per engine, media on the same server adds one per session and per process', () => {
    const expected = { byEngine: { NOWEB: 3, GOWS: 2, WEBJS: 1, unknown: 1 }, processes: 3, source: 'session_config' as const };
    expect(connectionsNeeded(expected, false)).toBe((3 * 2 + 2 * 1 + 1 * 1 + 1 * 2 + 3 * 2) * 10);
    expect(connectionsNeeded(expected, true)).toBe((3 * 3 + 2 * 2 + 1 * 2 + 1 * 3 + 3 * 3) * 10);
    const settings = { maxConnections: 100, superuserReserved: 3, reserved: 0, otherConnections: 7, wahaConnections: 12 };
    expect(connectionsDetail(settings, { byEngine: { NOWEB: 3 }, processes: 1, source: 'session_config' }, false)).toMatchObject({ status: 'up', needed: 80, available: 90 });
    const down = connectionsDetail(settings, { byEngine: { NOWEB: 4 }, processes: 1, source: 'session_config' }, false);
    expect(down).toMatchObject({ status: 'down', needed: 100, available: 90, reason: 'max-connections' });
    expect(down.hint).toContain('ALTER SYSTEM SET max_connections = 3000');
    const big = connectionsDetail(settings, { byEngine: { NOWEB: 200 }, processes: 1, source: 'session_config' }, false);
    expect(big.hint).toContain(`max_connections = ${Math.ceil((4020 + 3 + 7) / 100) * 100}`);
  });

  it('orphans: up without any, down with the DROP DATABASE for each', () => {
    expect(orphansDetail([], ['waha_noweb'])).toMatchObject({ status: 'up' });
    const down = orphansDetail([{ database: 'waha_noweb_old', main: 'waha_noweb', bytes: 8_000_000 }], ['waha_noweb']);
    expect(down).toMatchObject({ status: 'down', reason: 'orphan-databases' });
    expect(down.hint).toContain('DROP DATABASE "waha_noweb_old" WITH (FORCE)');
  });
});
