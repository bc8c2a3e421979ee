/** backup -> backup verify -> restore through the real binary: every engine, from and into local and mongo, identical by digest. */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { connectMongo, dropNamespace, uniqueNamespace } from '../support/mongo.js';
import { cli, localScenario, localStore, mongoStore, sessionDigest, tempDir } from './helpers.js';
import type { Engine } from '../../src/sessions/engines.js';

let client: MongoClient;
const namespaces: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => {
  for (const namespace of namespaces) await dropNamespace(client, namespace);
  for (const cleanup of cleanups) await cleanup();
  await client.close();
});

interface Case {
  folder: string;
  engine: Engine;
  sessions: string[];
  /** Sessions the source itself refuses (they fail the backup, exit 3). */
  refused?: string[];
  mongo: boolean;
}

const CASES: Case[] = [
  { folder: 'noweb', engine: 'NOWEB', sessions: ['alpha', 'fresh', 'My-Sess'], refused: ['broken', 'old name', 'my-sess'], mongo: true },
  { folder: 'webjs', engine: 'WEBJS', sessions: ['web1', 'web2', 'default'], mongo: true },
  { folder: 'gows', engine: 'GOWS', sessions: ['gopher', 'gonew'], mongo: false },
  { folder: 'wpp', engine: 'WPP', sessions: ['wpp1'], mongo: false },
];

describe.each(CASES)('$engine round trip', ({ folder, engine, sessions, refused, mongo }) => {
  it('local -> archive -> verify -> local (and mongo -> archive -> local) gives identical sessions', async () => {
    const scenario = await localScenario(folder);
    cleanups.push(scenario.cleanup);
    const out = await tempDir();
    cleanups.push(async () => { const { rm } = await import('node:fs/promises'); await rm(out, { recursive: true, force: true }); });
    const archive = path.join(out, 'one.tar.gz');
    const names = sessions.flatMap((name) => ['--session', name]);
    const made = await cli(['backup', 'local', '-o', archive, '--engine', engine, '--force', ...names, '--json'], scenario.base, scenario.namespace);
    expect(made.code, made.stderr).toBe(0);
    const document = json(made);
    expect(document.summary.done).toBe(sessions.length);
    expect(statSync(archive).mode & 0o777).toBe(0o600);

    const verified = await cli(['backup', 'verify', archive, '--json'], scenario.base, scenario.namespace);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const report = json(verified);
    expect(report.sound).toBe(true);
    expect(report.sessions.map((session: { name: string }) => session.name).sort()).toEqual([...sessions].sort());
    expect(report.source).toMatchObject({ store: 'local' });

    // into an empty local store
    const back = await tempDir();
    cleanups.push(async () => { const { rm } = await import('node:fs/promises'); await rm(back, { recursive: true, force: true }); });
    const restored = await cli(['restore', archive, 'local', '--json'], back, scenario.namespace);
    expect(restored.code, restored.stderr).toBe(0);
    expect(json(restored).summary).toMatchObject({ done: sessions.length, failed: 0 });
    const source = localStore(scenario.base, scenario.namespace);
    const target = localStore(back, scenario.namespace);
    for (const name of sessions) {
      const expected = await sessionDigest(source, engine, name);
      expect(await sessionDigest(target, engine, name), `${engine} ${name}`).toEqual(expected);
    }
    // a rerun is idempotent: every session identical
    const again = await cli(['restore', archive, 'local', '--json'], back, scenario.namespace);
    expect(again.code).toBe(0);
    expect(json(again).sessions.every((session: { reason?: string }) => session.reason === 'identical')).toBe(true);

    const ns = uniqueNamespace('bkm');
    namespaces.push(ns);
    const toMongo = await cli(['restore', archive, 'mongo', '--json'], back, ns);
    expect(toMongo.code, toMongo.stderr).toBe(0);
    const intoMongo = json(toMongo);
    if (!mongo) {
      // WAHA cannot keep these engines in MongoDB: skipped with the reason, nothing written
      expect(intoMongo.sessions.every((session: { status: string; reason: string }) => session.status === 'skipped' && session.reason === 'unsupported')).toBe(true);
      const databases = (await client.db().admin().listDatabases({ nameOnly: true })).databases.map((db) => db.name);
      expect(databases.filter((name) => name.startsWith(`waha_${ns}`))).toEqual([]);
      return;
    }
    expect(intoMongo.summary).toMatchObject({ done: sessions.length });
    const inMongo = mongoStore(client, ns);
    for (const name of sessions) {
      expect(await sessionDigest(inMongo, engine, name), `mongo ${engine} ${name}`).toEqual(await sessionDigest(source, engine, name));
    }
    // mongo -> archive -> local
    const fromMongo = path.join(out, 'from-mongo.tar.gz');
    const made2 = await cli(['backup', 'mongo', '-o', fromMongo, '--force', '--json'], back, ns);
    expect(made2.code, made2.stderr).toBe(0);
    expect(json(made2).summary.done).toBe(sessions.length);
    const third = await tempDir();
    cleanups.push(async () => { const { rm } = await import('node:fs/promises'); await rm(third, { recursive: true, force: true }); });
    const restored2 = await cli(['restore', fromMongo, 'local', '--json'], third, scenario.namespace);
    expect(restored2.code, restored2.stderr).toBe(0);
    const target2 = localStore(third, scenario.namespace);
    for (const name of sessions) {
      expect(await sessionDigest(target2, engine, name), `mongo->local ${engine} ${name}`).toEqual(await sessionDigest(source, engine, name));
    }
  });

  if (refused) {
    it('reports the sessions it cannot carry and keeps the archive of the others (exit 3)', async () => {
      const scenario = await localScenario(folder);
      cleanups.push(scenario.cleanup);
      const archive = path.join(scenario.base, 'all.tar.gz');
      const made = await cli(['backup', 'local', '-o', archive, '--engine', engine, '--json'], scenario.base, scenario.namespace);
      expect(made.code, made.stderr).toBe(3);
      const byName = new Map(json(made).sessions.map((session: { name: string }) => [session.name, session]));
      for (const name of refused) expect(byName.get(name)).toMatchObject({ status: 'failed' });
      const verified = await cli(['backup', 'verify', archive], scenario.base, scenario.namespace);
      expect(verified.code, verified.stdout).toBe(0);
    });
  }
});
