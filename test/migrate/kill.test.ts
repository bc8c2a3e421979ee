/** SIGKILL at several points of a migration, then a rerun: identical results, no leftovers. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv } from '../support/cli.js';
import { writeLocalNowebSessions } from '../support/fixtures/index.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { age, byName, emptyBase, migrate, type MigrateDocument } from './helpers.js';
import { json } from '../support/cli.js';

const COUNT = 24;
const KEYS = 400;
let client: MongoClient;
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => { await client.close(); });

/** Starts a migration and SIGKILLs it once `doneLines` sessions finished (0: after `delayMs`). */
function killDuring(args: string[], when: { doneLines?: number; delayMs?: number }): Promise<{ killed: boolean; done: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'migrate', ...args], { env: cleanEnv() });
    let done = 0;
    let killed = false;
    const kill = () => {
      if (!killed && child.exitCode === null) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    child.stderr.on('data', (chunk: Buffer) => {
      done += (chunk.toString().match(/^done /gm) ?? []).length;
      if (when.doneLines && done >= when.doneLines) kill();
    });
    if (when.delayMs) setTimeout(kill, when.delayMs);
    child.on('close', () => resolve({ killed, done }));
  });
}

async function leftovers(namespace: string): Promise<string[]> {
  const found: string[] = [];
  const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
  for (const { name } of databases.filter((db) => db.name.startsWith(`waha_${namespace}_`))) {
    for (const collection of await client.db(name).listCollections({}, { nameOnly: true }).toArray()) {
      if (collection.name.startsWith('wst_') || collection.name.includes('incomplete')) found.push(`${name}.${collection.name}`);
    }
  }
  return found;
}

describe('interrupted migrations', () => {
  const namespace = uniqueNamespace('kil');
  let base: string;
  afterAll(async () => {
    await dropNamespace(client, namespace);
    await rm(base, { recursive: true, force: true });
  });

  it('local -> mongo: killed after some sessions and in the middle of one, a rerun completes with identical results', async () => {
    base = await emptyBase();
    await writeLocalNowebSessions(base, { count: COUNT, keysPerSession: KEYS, namespace });
    await age(path.join(base, namespace));
    const args = ['local', 'mongo', '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl(), '--concurrency', '2'];
    const first = await killDuring(args, { doneLines: 3 });
    expect(first.killed).toBe(true);
    const second = await killDuring(args, { delayMs: 700 });
    expect(second.killed).toBe(true);

    const rerun = await migrate(['local', 'mongo', '--concurrency', '2', '--json'], base, namespace, { timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const statuses = [...byName(rerun).values()].map((session) => session.status);
    expect(statuses).toHaveLength(COUNT);
    expect(statuses.every((status) => status === 'done' || status === 'skipped')).toBe(true);
    expect(statuses.filter((status) => status === 'skipped').length).toBeGreaterThanOrEqual(3);
    for (const session of byName(rerun).values()) if (session.status === 'skipped') expect(session.reason).toBe('identical');
    expect(await leftovers(namespace)).toEqual([]);

    // identical = every entry's digest equals the source's, for every session
    const check = await migrate(['local', 'mongo', '--json'], base, namespace, { timeoutMs: 120_000 });
    const document = json<MigrateDocument>(check);
    expect(document.sessions.every((session) => session.status === 'skipped' && session.reason === 'identical')).toBe(true);
    expect(await client.db(`waha_${namespace}_bench-00007`).collection('auth').countDocuments()).toBe(KEYS + 1);
    expect(await client.db(`waha_${namespace}`).collection('sessions').countDocuments()).toBe(COUNT);
  }, 180_000);

  it('mongo -> local: killed mid-run, a rerun completes and leaves no staging folder', async () => {
    const target = await emptyBase();
    const args = ['mongo', 'local', '--sessions-dir', target, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl(), '--concurrency', '2'];
    const first = await killDuring(args, { doneLines: 2 });
    expect(first.killed).toBe(true);
    const rerun = await migrate(['mongo', 'local', '--json'], target, namespace, { timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = await migrate(['mongo', 'local', '--json'], target, namespace, { timeoutMs: 120_000 });
    expect(json<MigrateDocument>(check).sessions.every((session) => session.reason === 'identical')).toBe(true);
    expect(existsSync(path.join(target, '.waha-storage-staging'))).toBe(false);
    await rm(target, { recursive: true, force: true });
  }, 180_000);
});
