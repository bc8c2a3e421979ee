/**
 * `usage postgres` through the built binary against session databases of every engine written with
 * WAHA's DDL (postgres.md §1.3-1.4, §2; GOWS tables created here from §GOWS, not by a migration):
 * every table's bytes are what pg_total_relation_size says, each session's bytes what
 * pg_database_size says, rows what reltuples (analysed) or COUNT(*) (never analysed) say.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { uniqueNamespace } from '../support/mongo.js';
import { cliIn, dropNamespace, postgresUrl, withDatabase, urlWith } from '../postgres/helpers.js';
import { MEDIA_DDL } from '../media/postgres-seed.js';
import { AUTH_DDL, FILES_DDL, MAIN_DDL, STORE_DDL } from '../../src/sessions/stores/postgres/layout.js';
import { postgresUsage } from '../../src/usage/postgres.js';
import { PostgresServer } from '../../src/util/postgres.js';
import type { SessionReport } from '../../src/sessions/report.js';

const ns = uniqueNamespace('usg');
const db = (name: string) => `waha_${ns}_${name}`;

/** GOWS tables as postgres.md §GOWS gives them (a few of whatsmeow's, and GOWS's own). */
const GOWS_DDL = [
  'CREATE TABLE whatsmeow_version (version INTEGER, compat INTEGER)',
  'CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY, lid TEXT, registration_id BIGINT NOT NULL, noise_key bytea NOT NULL, identity_key bytea NOT NULL, push_name TEXT NOT NULL DEFAULT \'\')',
  'CREATE TABLE whatsmeow_sessions (our_jid TEXT, their_id TEXT, session bytea, PRIMARY KEY (our_jid, their_id), FOREIGN KEY (our_jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE)',
  'CREATE TABLE whatsmeow_lid_map (lid TEXT PRIMARY KEY, pn TEXT UNIQUE NOT NULL)',
  'CREATE TABLE gows_messages (jid VARCHAR(100) NOT NULL, id VARCHAR(100) NOT NULL, timestamp TIMESTAMP NOT NULL, from_me BOOLEAN NOT NULL, data TEXT NOT NULL, PRIMARY KEY (id))',
  'ALTER TABLE gows_messages ADD COLUMN is_real BOOLEAN NOT NULL DEFAULT TRUE',
  'CREATE INDEX gows_messages_jid_timestamp_idx ON gows_messages (jid, timestamp)',
  'CREATE INDEX gows_messages_timestamp_idx ON gows_messages (timestamp)',
  'CREATE TABLE gows_groups (id VARCHAR(100) PRIMARY KEY, name VARCHAR(100), data TEXT)',
];

async function createDatabase(name: string, statements: readonly string[], seed: (client: import('pg').Client) => Promise<void>): Promise<void> {
  await withDatabase('postgres', (client) => client.query(`CREATE DATABASE "${name}"`));
  await withDatabase(name, async (client) => {
    for (const statement of statements) await client.query(statement);
    await seed(client);
    // autovacuum would change reltuples (and the catalogs' size) under the test
    const { rows } = await client.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace");
    for (const { relname } of rows) await client.query(`ALTER TABLE "${relname}" SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)`);
  });
}

const text = (length: number) => randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);

beforeAll(async () => {
  await createDatabase(`waha_${ns}`, MAIN_DDL, async (client) => {
    for (const id of ['nw', 'wj', 'go', 'wp', 'gone']) await client.query('INSERT INTO session_config (id, data) VALUES ($1, $2)', [id, JSON.stringify({ id, config: null })]);
  });
  // NOWEB with its store and PostgreSQL media in the session database; analysed (rows are estimates)
  await createDatabase(db('nw'), [...AUTH_DDL, ...STORE_DDL.messages!, ...STORE_DDL.contacts!, ...STORE_DDL.chats!, ...MEDIA_DDL], async (client) => {
    await client.query('INSERT INTO auth (id, data) SELECT \'pre-key-\' || i, repeat(\'k\', 150) FROM generate_series(1, 60) AS i');
    await client.query("INSERT INTO auth (id, data) VALUES ('creds', '{\"id\":\"creds\",\"data\":{}}')");
    await client.query('INSERT INTO messages (jid, id, "messageTimestamp", data) SELECT \'1@s.whatsapp.net\', \'M\' || i, 1700000000 + i, $1 FROM generate_series(1, 3000) AS i', [text(400)]);
    await client.query('INSERT INTO contacts (id, data) SELECT i || \'@s.whatsapp.net\', $1 FROM generate_series(1, 40) AS i', [text(120)]);
    for (let i = 0; i < 4; i++) await client.query('INSERT INTO media (fullpath, content, metadata) VALUES ($1, $2, $3)', [`M${i}.jpeg`, randomBytes(40_000), { 'waha-session': 'nw' }]);
    await client.query('ANALYZE');
  });
  await createDatabase(db('wj'), FILES_DDL, async (client) => {
    await client.query('INSERT INTO files (fullpath, content, metadata) VALUES ($1, $2, $3)', ['RemoteAuth-wj.zip', randomBytes(300_000), {}]);
  });
  await createDatabase(db('wp'), FILES_DDL, async (client) => {
    await client.query('INSERT INTO files (fullpath, content, metadata) VALUES ($1, $2, $3)', ['wp.zip', randomBytes(90_000), {}]);
  });
  // GOWS never analysed: rows are counted
  await createDatabase(db('go'), GOWS_DDL, async (client) => {
    await client.query('INSERT INTO whatsmeow_version VALUES (11, 8)');
    await client.query("INSERT INTO whatsmeow_device (jid, registration_id, noise_key, identity_key) VALUES ('111:3@s.whatsapp.net', 1, $1, $1)", [randomBytes(32)]);
    await client.query("INSERT INTO whatsmeow_sessions SELECT '111:3@s.whatsapp.net', i || '.0', $1 FROM generate_series(1, 25) AS i", [randomBytes(900)]);
    await client.query("INSERT INTO gows_messages (jid, id, timestamp, from_me, data) SELECT '2@s.whatsapp.net', 'G' || i, now(), false, $1 FROM generate_series(1, 1500) AS i", [text(600)]);
    await client.query("INSERT INTO gows_groups (id, name, data) VALUES ('1@g.us', 'g', '{}')");
  });
  // a database no session_config row accounts for
  await createDatabase(db('orphan'), AUTH_DDL, async () => {});
}, 120_000);

afterAll(() => dropNamespace(ns));

/** What the server says: every table's pg_total_relation_size and rows, and the database's size. */
async function serverFigures(database: string) {
  return withDatabase(database, async (client) => {
    const { rows } = await client.query<{ name: string; bytes: string; tuples: number }>(
      "SELECT relname AS name, pg_total_relation_size(oid)::text AS bytes, reltuples::float8 AS tuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace");
    const tables = new Map<string, { bytes: number; rows: number; analysed: boolean }>();
    for (const row of rows) {
      const count = await client.query<{ n: string }>(`SELECT COUNT(*)::text AS n FROM "${row.name}"`);
      tables.set(row.name, { bytes: Number(row.bytes), rows: Number(count.rows[0]!.n), analysed: row.tuples >= 0 });
    }
    const size = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
    return { tables, size: Number(size.rows[0]!.size) };
  });
}

const PART: Record<string, string> = {
  auth: 'auth', files: 'auth', whatsmeow_version: 'auth', whatsmeow_device: 'auth', whatsmeow_sessions: 'auth', whatsmeow_lid_map: 'auth',
  messages: 'messages', gows_messages: 'messages', contacts: 'store', chats: 'store', gows_groups: 'store', media: 'media',
};

describe('usage postgres', () => {
  let document: any;
  const byName = (name: string) => document.sessions.find((session: any) => session.name === name);

  beforeAll(async () => {
    const result = await cliIn(['usage', 'postgres', '--json'], '/nonexistent', ns);
    expect(result.code, result.stderr).toBe(0);
    document = json(result);
  }, 60_000);

  it('lists every engine\'s session (and the orphan database, and the logged-out one at zero), biggest first', () => {
    expect(document.store).toBe('postgres');
    expect(Object.fromEntries(document.sessions.map((session: any) => [session.name, session.engine]))).toEqual({
      nw: 'NOWEB', wj: 'WEBJS', wp: 'WPP', go: 'GOWS', gone: null, orphan: 'NOWEB',
    });
    const sizes = document.sessions.map((session: any) => session.bytes);
    expect(sizes).toEqual([...sizes].sort((a: number, b: number) => b - a));
    expect(byName('gone')).toMatchObject({ bytes: 0, location: db('gone') });
    expect(byName('gone').problems.map((item: any) => item.code)).toContain('no-auth');
    expect(byName('orphan').problems.map((item: any) => item.code)).toContain('orphan-database');
    expect(document.totals.bytes).toBe(document.sessions.reduce((total: number, session: any) => total + session.bytes, 0));
  });

  it.each(['nw', 'wj', 'wp', 'go', 'orphan'])('%s: each table as pg_total_relation_size and its rows, the session as pg_database_size', async (name) => {
    const figures = await serverFigures(db(name));
    const session = byName(name);
    expect(session.bytes).toBe(figures.size);
    expect(session.sources).toEqual(['pg_total_relation_size', 'pg_database_size']);
    const reported = new Map<string, any>();
    for (const [part, usage] of Object.entries<any>(session.parts)) {
      for (const [table, table_] of Object.entries<any>(usage.tables ?? {})) reported.set(table, { part, ...table_ });
    }
    expect([...reported.keys()].sort()).toEqual([...figures.tables.keys()].sort());
    for (const [table, truth] of figures.tables) {
      expect(reported.get(table), table).toEqual({ part: PART[table], bytes: truth.bytes, rows: truth.rows, estimated: truth.analysed });
    }
    const tableBytes = [...figures.tables.values()].reduce((total, table) => total + table.bytes, 0);
    expect(session.parts.other.bytes).toBe(figures.size - tableBytes); // the database's own catalogs
    expect(session.parts.other.bytes).toBeGreaterThan(1_000_000);
  });

  it('the parts: NOWEB messages, store and media; the WEBJS zip and the GOWS whatsmeow tables as auth', () => {
    const nw = byName('nw');
    expect(nw.parts.messages).toMatchObject({ rows: 3000, unit: 'rows', estimated: true });
    expect(nw.parts.messages.bytes).toBeGreaterThan(3000 * 400);
    expect(nw.parts.media.rows).toBe(4);
    expect(nw.parts.media.bytes).toBeGreaterThan(4 * 40_000); // TOAST included
    expect(nw.parts.auth.rows).toBe(61);
    expect(byName('wj').parts.auth.bytes).toBeGreaterThan(300_000);
    const go = byName('go');
    expect(go.parts.messages).toMatchObject({ rows: 1500, estimated: false }); // never analysed: counted
    expect(go.parts.auth.tables.whatsmeow_sessions.rows).toBe(25);
    expect(go.parts.store.tables.gows_groups.rows).toBe(1);
  });

  it('--engine GOWS: the GOWS session (and the logged-out one, which the namespace then says is GOWS); a typo in --session fails with did-you-mean', async () => {
    const gows = json(await cliIn(['usage', 'postgres', '--engine', 'GOWS', '--json'], '/nonexistent', ns));
    expect(gows.sessions.map((session: any) => [session.name, session.engine, session.bytes > 0])).toEqual([['go', 'GOWS', true], ['gone', 'GOWS', false]]);
    const typo = await cliIn(['usage', 'pg', '--session', 'nww'], '/nonexistent', ns);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/No session "nww" in postgres .*did you mean "nw"\?/);
  });

  it('without a store word it is PostgreSQL when only its URL is set', async () => {
    const result = await runCli(['usage', '--postgres-url', postgresUrl(), '--namespace', ns, '--session-namespace', ns, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ store: 'postgres', totals: { bytes: document.totals.bytes } });
  });

  it('a terminal shows a media column; no URL is exit 2; a server that refuses is exit 1', async () => {
    const table = await cliIn(['usage', 'postgres'], '/nonexistent', ns);
    expect(table.stdout).toMatch(/^session\s+engine\s+size\s+auth\s+messages\s+store\s+media\s+other/);
    const missing = await runCli(['usage', 'postgres', '--json']);
    expect(missing.code).toBe(2);
    expect(json(missing).error.code).toBe('missing-setting');
    const refused = await runCli(['usage', 'postgres', '--postgres-url', urlWith({ port: 1 }), '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).not.toContain(new URL(postgresUrl()).password || '\u0000');
  });
});

describe('rows of a never-analysed table', () => {
  it('counted up to the limit; above it, the statistics\' live rows (estimated), without reading the heap', async () => {
    const session = { name: 'go', engine: 'GOWS', details: { location: db('go') }, problems: [] } as unknown as SessionReport;
    const measure = (countLimitBytes: number) => postgresUsage({ server: new PostgresServer({ url: postgresUrl() }), sessions: [session], concurrency: 1, countLimitBytes });
    const [counted] = await measure(64 * 1024 * 1024);
    expect(counted!.parts.messages.tables!.gows_messages).toMatchObject({ rows: 1500, estimated: false });
    const [live] = await measure(0);
    expect(live!.parts.messages.tables!.gows_messages).toMatchObject({ rows: 1500, estimated: true }); // n_live_tup
    expect(live!.bytes).toBe(counted!.bytes);
  });
});
