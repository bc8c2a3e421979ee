/**
 * messages prune postgres: NOWEB `messages` and GOWS `gows_messages` (created here with the DDL
 * of postgres.md) in session databases of a namespace of our own, through the built binary.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { uniqueNamespace } from '../support/mongo.js';
import { MAIN_DDL } from '../../src/sessions/stores/postgres/layout.js';
import { connectPostgres, dropNamespace, postgresUrl, urlWith, withDatabase } from '../postgres/helpers.js';
import { CHATS, isOld, messageRows, PG_GOWS_DDL, PG_NOWEB_DDL, postgresDigests, without, type MessageRow } from './fixtures.js';

const namespaces: string[] = [];
const files: string[] = [];
afterAll(async () => {
  for (const namespace of namespaces) await dropNamespace(namespace);
  for (const file of files) rmSync(file, { force: true });
});

interface Store {
  namespace: string;
  noweb: MessageRow[];
  gows: MessageRow[];
}

async function createDatabase(name: string, ddl: string): Promise<void> {
  await withDatabase('postgres', (client) => client.query(`CREATE DATABASE "${name}"`));
  await withDatabase(name, (client) => client.query(ddl));
}

async function store(): Promise<Store> {
  const namespace = uniqueNamespace('prune');
  namespaces.push(namespace);
  await createDatabase(`waha_${namespace}`, MAIN_DDL.join(';\n'));
  await withDatabase(`waha_${namespace}`, async (client) => {
    for (const name of ['alpha', 'gamma']) await client.query('INSERT INTO session_config (id, data) VALUES ($1, $2)', [name, JSON.stringify({ id: name, config: null })]);
  });
  // a few thousand old rows beside the hand-made ones, so the tables span many pages
  const bulk = (prefix: string) => Array.from({ length: 3000 }, (_, n): MessageRow => ({ jid: CHATS[n % 3]!, id: `${prefix}BULK-${n}`, at: new Date(Date.now() - (31 + (n % 300)) * 86_400_000) }));
  const noweb: MessageRow[] = [...messageRows('N'), { jid: CHATS[1], id: 'NOWEB-NULL', at: null }, ...bulk('N')];
  await createDatabase(`waha_${namespace}_alpha`, PG_NOWEB_DDL);
  await withDatabase(`waha_${namespace}_alpha`, async (client) => {
    await client.query(`INSERT INTO auth VALUES ('creds', '{"id":"creds","data":{"registered":true}}')`);
    await client.query(`INSERT INTO contacts VALUES ('${CHATS[0]}', '{}'), ('${CHATS[1]}', '{}')`);
    await client.query(`INSERT INTO chats VALUES ('${CHATS[0]}', 1700000000, '{}')`);
    await client.query(`INSERT INTO lid_map VALUES ('1@lid', '1', '{}')`);
    // INTEGER: Unix seconds (a millisecond value would not fit)
    await client.query(`INSERT INTO messages (jid, id, "messageTimestamp", data) SELECT jid, id, ts, '{"n":"' || repeat('x', 100) || '"}' FROM unnest($1::text[], $2::text[], $3::int[]) AS r(jid, id, ts)`,
      [noweb.map((row) => row.jid), noweb.map((row) => row.id), noweb.map((row) => (row.at === null ? null : Math.floor(row.at.getTime() / 1000)))]);
  });
  const gows = [...messageRows('G'), ...bulk('G')];
  await createDatabase(`waha_${namespace}_gamma`, PG_GOWS_DDL);
  await withDatabase(`waha_${namespace}_gamma`, async (client) => {
    await client.query("INSERT INTO whatsmeow_version VALUES (15, 8); INSERT INTO whatsmeow_device VALUES ('4900000001:7@s.whatsapp.net', 'Gamma')");
    await client.query(`INSERT INTO gows_groups VALUES ('${CHATS[2]}', 'Group', '{}'); INSERT INTO gows_labels VALUES ('1', '{}'); INSERT INTO gows_label_associations VALUES ('${CHATS[0]}', '1', '{}')`);
    // TIMESTAMP without a zone holding UTC, as GOWS writes it
    await client.query(`INSERT INTO gows_messages (jid, id, timestamp, from_me, data) SELECT jid, id, ts::timestamp, false, '{"Info":{"ID":"' || id || '"},"x":"' || repeat('x', 100) || '"}' FROM unnest($1::text[], $2::text[], $3::text[]) AS r(jid, id, ts)`,
      [gows.map((row) => row.jid), gows.map((row) => row.id), gows.map((row) => row.at!.toISOString().replace('T', ' ').replace('Z', ''))]);
  });
  return { namespace, noweb, gows };
}

const prune = (s: Store, ...args: string[]) => runCli(['messages', 'prune', 'postgres', '--older-than', '30d', '--postgres-url', postgresUrl(),
  '--namespace', s.namespace, '--session-namespace', s.namespace, ...args]);
const old = (rows: readonly MessageRow[]) => rows.filter((row) => isOld(row)).length;
const kept = (rows: readonly MessageRow[]) => rows.filter((row) => !isOld(row)).map((row) => row.id).sort();
const ids = (database: string, table: string) => withDatabase(database, async (client) => (await client.query<{ id: string }>(`SELECT id FROM ${table} ORDER BY id COLLATE "C"`)).rows.map((row) => row.id));
const digests = (database: string) => withDatabase(database, postgresDigests);
const sortC = (list: string[]) => list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('messages prune postgres', () => {
  let s: Store;
  beforeAll(async () => { s = await store(); });

  it('--dry-run plans exactly the old rows of NOWEB messages and GOWS gows_messages, and changes nothing', async () => {
    const before = [await digests(`waha_${s.namespace}_alpha`), await digests(`waha_${s.namespace}_gamma`)];
    const result = await prune(s, '--dry-run', '--json');
    expect(result.code, result.stderr).toBe(0);
    const byTable = Object.fromEntries(json(result).sessions.map((session: any) => [session.table, session]));
    expect(byTable.messages).toMatchObject({ engine: 'NOWEB', name: 'alpha', planned: old(s.noweb), rows: s.noweb.length, unreadable: 1, deleted: 0 });
    expect(byTable.gows_messages).toMatchObject({ engine: 'GOWS', name: 'gamma', planned: old(s.gows), rows: s.gows.length, deleted: 0 });
    expect([await digests(`waha_${s.namespace}_alpha`), await digests(`waha_${s.namespace}_gamma`)]).toEqual(before);
  });

  it('--vacuum refuses while WAHA is connected (nothing deleted)', async () => {
    const before = await digests(`waha_${s.namespace}_gamma`);
    const gows = new pg.Client({ connectionString: urlWith({ database: `waha_${s.namespace}_gamma` }), application_name: 'GOWS' });
    await gows.connect();
    try {
      const result = await prune(s, '--yes', '--vacuum');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/--vacuum needs WAHA stopped.*"GOWS".*nothing was deleted/);
    } finally {
      await gows.end();
    }
    expect(await digests(`waha_${s.namespace}_gamma`)).toEqual(before);
  });

  it('--backup writes and verifies an archive of the affected sessions before deleting; when it cannot, nothing is deleted', async () => {
    const t = await store();
    const archive = path.join(os.tmpdir(), `prune-pg-${t.namespace}.tar.gz`);
    files.push(archive, `${archive}.2`);
    const result = await prune(t, '--yes', '--force', '--backup', archive, '--session', 'alpha', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).backup).toEqual({ file: archive, sessions: 1 });
    expect(await ids(`waha_${t.namespace}_alpha`, 'messages')).toEqual(sortC(kept(t.noweb)));
    const verify = await runCli(['backup', 'verify', archive, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    // a row the backup cannot carry: the backup fails, and nothing is deleted
    const u = await store();
    await withDatabase(`waha_${u.namespace}_alpha`, (client) => client.query(`UPDATE messages SET data = 'not json' WHERE id = 'N000'`));
    const before = await digests(`waha_${u.namespace}_alpha`);
    const failed = await prune(u, '--yes', '--force', '--backup', `${archive}.2`, '--session', 'alpha');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/The backup before pruning .*nothing was deleted/);
    expect(await digests(`waha_${u.namespace}_alpha`)).toEqual(before);
  });

  it('--chat limits it to those chats in both tables (a @c.us chat finds its @s.whatsapp.net rows)', async () => {
    const t = await store();
    const wanted = [CHATS[2], CHATS[1].replace('@s.whatsapp.net', '@c.us')];
    const result = await prune(t, '--yes', '--json', '--chat', wanted[0]!, '--chat', wanted[1]!);
    expect(result.code, result.stderr).toBe(0);
    const hit = (row: MessageRow) => isOld(row) && (row.jid === CHATS[2] || row.jid === CHATS[1]);
    expect(json(result).summary.deleted).toBe(t.noweb.filter(hit).length + t.gows.filter(hit).length);
    expect(await ids(`waha_${t.namespace}_alpha`, 'messages')).toEqual(sortC(t.noweb.filter((row) => !hit(row)).map((row) => row.id)));
    expect(await ids(`waha_${t.namespace}_gamma`, 'gows_messages')).toEqual(sortC(t.gows.filter((row) => !hit(row)).map((row) => row.id)));
  });

  it('one prune at a time per server: a held advisory lock is exit 1', async () => {
    const client = await connectPostgres();
    const digest = createHash('sha256').update(`waha-storage messages prune|${new URL(postgresUrl()).hostname}:${new URL(postgresUrl()).port}|${s.namespace}|${s.namespace}`).digest();
    await client.query('SELECT pg_advisory_lock($1::int, $2::int)', [digest.readInt32BE(0), digest.readInt32BE(4)]);
    try {
      const result = await prune(s, '--yes');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Another messages prune is running/);
    } finally {
      await client.end();
    }
  });

  it('deletes exactly the old rows in batches and leaves every other table identical; --vacuum (VACUUM FULL) shrinks the tables', async () => {
    const before = [await digests(`waha_${s.namespace}_alpha`), await digests(`waha_${s.namespace}_gamma`)];
    const result = await prune(s, '--yes', '--json', '--batch-size', '500', '--vacuum');
    expect(result.code, result.stderr).toBe(0);
    const doc = json(result);
    expect(doc.summary).toMatchObject({ planned: old(s.noweb) + old(s.gows), deleted: old(s.noweb) + old(s.gows), failed: 0 });
    for (const session of doc.sessions) {
      expect(session).toMatchObject({ status: 'done', vacuumed: true });
      expect(session.bytesAfter).toBeLessThan(session.bytesBefore);
    }
    expect(await ids(`waha_${s.namespace}_alpha`, 'messages')).toEqual(sortC(kept(s.noweb)));
    expect(await ids(`waha_${s.namespace}_gamma`, 'gows_messages')).toEqual(sortC(kept(s.gows)));
    expect(without(await digests(`waha_${s.namespace}_alpha`), 'messages')).toEqual(without(before[0]!, 'messages'));
    expect(without(await digests(`waha_${s.namespace}_gamma`), 'gows_messages')).toEqual(without(before[1]!, 'gows_messages'));
    const main = await digests(`waha_${s.namespace}`);
    expect(Object.keys(main)).toContain('session_config');
  });
});
