/**
 * whatsmeow as the oracle for GOWS: a Go helper (test/oracles/gows, built by this run into
 * .cache/bin) creates a device in gows.db with whatsmeow's own sqlstore; `inspect` must see it
 * logged in, and backup -> restore must give a gows.db whose device GetFirstDevice reads back equal.
 * local -> postgres -> local: whatsmeow opens both ends (sqlite and postgres dialects) and reads the
 * same device and key material, with no schema migration run; GOWS's tables, written into the -wal
 * only by a killed writer, arrive complete and row for row.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { uniqueNamespace } from '../support/mongo.js';
import { age } from '../support/scenario.js';
import { buildGowsOracle, cli, tempBase } from './support.js';
import { addGowsTables } from './gows-shape.js';
import { cliIn, dropNamespace, urlWith, withDatabase } from '../postgres/helpers.js';
import { Database } from '../../src/util/sqlite.js';

let oracle: string;
beforeAll(async () => { oracle = await buildGowsOracle(); }, 320_000);

const device = (command: 'create' | 'read', db: string): Record<string, unknown> =>
  JSON.parse(execFileSync(oracle, [command, db], { encoding: 'utf8', timeout: 30_000 })) as Record<string, unknown>;
const oracleJson = (...args: string[]): Record<string, unknown> =>
  JSON.parse(execFileSync(oracle, args, { encoding: 'utf8', timeout: 60_000 })) as Record<string, unknown>;

/** Every row of a gows.db table, in key order, as SQLite holds it. */
function rowsOf(file: string, table: string, order: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all();
  } finally {
    db.close();
  }
}

describe('GOWS against whatsmeow', () => {
  it('inspect sees a whatsmeow device logged in; backup -> restore gives a gows.db whose device whatsmeow reads back equal', async () => {
    const base = await tempBase('gows');
    const namespace = uniqueNamespace('org');
    const folder = path.join(base, namespace, 'gopher');
    await mkdir(folder, { recursive: true });
    const created = device('create', path.join(folder, 'gows.db'));
    expect(created).toMatchObject({ id: '5511912345678:12@s.whatsapp.net', pushName: 'Oracle' });
    await age(path.join(base, namespace));

    const inspect = await cli(['inspect', 'local', '--engine', 'GOWS', '--json'], base, namespace);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(json(inspect).sessions).toMatchObject([{ engine: 'GOWS', name: 'gopher', loggedIn: true }]);

    const archive = path.join(base, 'gows.tar.gz');
    const backup = await cli(['backup', 'local', '--engine', 'GOWS', '--output', archive, '--json'], base, namespace);
    expect(backup.code, backup.stderr).toBe(0);
    const target = await tempBase('gows-restore');
    const restore = await cli(['restore', archive, 'local', '--json'], target, namespace);
    expect(restore.code, restore.stderr).toBe(0);
    expect(device('read', path.join(target, namespace, 'gopher', 'gows.db'))).toEqual(created);
  });
});

describe('GOWS local -> postgres -> local against whatsmeow', () => {
  const namespace = uniqueNamespace('gpg');
  afterAll(() => dropNamespace(namespace));

  it('whatsmeow reads the same device and key material from gows.db, from PostgreSQL and from the gows.db made from it; no migration runs; WAL-only GOWS rows arrive', async () => {
    const base = await tempBase('gows-pg');
    const folder = path.join(base, namespace, 'gopher');
    await mkdir(folder, { recursive: true });
    const file = path.join(folder, 'gows.db');
    const seeded = oracleJson('seed', file);
    expect(seeded).toMatchObject({ versionBefore: [11, 8], versionAfter: [11, 8], devices: 1, uploadedPreKeys: 15 });
    expect(Object.keys(seeded.sessions as object)).toHaveLength(3);
    expect(Object.values(seeded.identities as object)).toEqual([true, true, true]);
    expect(Object.keys(seeded.senderKeys as object)).toHaveLength(4);
    expect(Object.keys(seeded.appStateKeys as object)).toHaveLength(3);
    expect(Object.values(seeded.lidMappings as object).every((value) => !String(value).startsWith('|'))).toBe(true);
    // GOWS's own tables, committed to the -wal only (the writer was killed before any checkpoint)
    addGowsTables(file, 700, { kill: true });
    const sourceMessages = rowsOf(file, 'gows_messages', 'id');
    expect(sourceMessages).toHaveLength(700);
    await age(path.join(base, namespace));

    const there = await cliIn(['migrate', 'local', 'postgres', '--engine', 'GOWS', '--json'], base, namespace);
    expect(there.code, there.stderr).toBe(0);
    expect(json(there).sessions).toMatchObject([{ name: 'gopher', status: 'done' }]);
    const database = `waha_${namespace}_gopher`;
    const counts = await withDatabase(database, async (client) => {
      const out: Record<string, number> = {};
      for (const table of ['gows_messages', 'whatsmeow_pre_keys', 'whatsmeow_sessions', 'gows_version', 'whatsmeow_version']) {
        out[table] = Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
      }
      const types = await client.query<{ column_name: string; data_type: string }>(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'gows_messages' AND column_name IN ('timestamp', 'from_me') ORDER BY 1");
      out.types = types.rows.map((row) => `${row.column_name}:${row.data_type}`).join(',') as unknown as number;
      return out;
    });
    expect(counts).toEqual({ gows_messages: 700, whatsmeow_pre_keys: 30, whatsmeow_sessions: 3, gows_version: 1, whatsmeow_version: 1, types: 'from_me:boolean,timestamp:timestamp without time zone' });
    expect(oracleJson('dump', 'postgres', urlWith({ database }))).toEqual(seeded);

    const back = await tempBase('gows-pg-back');
    const returned = await cliIn(['migrate', 'postgres', 'local', '--engine', 'GOWS', '--json'], back, namespace);
    expect(returned.code, returned.stderr).toBe(0);
    expect(json(returned).sessions).toMatchObject([{ name: 'gopher', status: 'done' }]);
    const backFile = path.join(back, namespace, 'gopher', 'gows.db');
    // go-sqlite3's timestamp text and 0/1 booleans again, row for row
    expect(rowsOf(backFile, 'gows_messages', 'id')).toEqual(sourceMessages);
    expect(rowsOf(backFile, 'whatsmeow_pre_keys', 'key_id')).toEqual(rowsOf(file, 'whatsmeow_pre_keys', 'key_id'));
    expect(oracleJson('dump', 'sqlite', backFile)).toEqual(seeded);
  }, 180_000);
});
