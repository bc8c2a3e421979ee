/**
 * "Entries" mean one thing (src/sessions/entries.ts, README): for one fixture session per engine,
 * inspect, backup, backup verify, diff, purge --dry-run, migrate, restore (and the MongoDB side of
 * PostgreSQL side of each where the engine goes there) all report the number of entries the transfer engine reads.
 */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { cli, localScenario, localStore, mongoStore, sessionDigest, tempDir } from '../backup/helpers.js';
import type { Engine } from '../../src/sessions/engines.js';
import { dropNamespace as dropPostgres, postgresUrl } from '../postgres/helpers.js';

let client: MongoClient;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await client.close();
});

const CASES: { folder: string; engine: Engine; name: string; mongo: boolean }[] = [
  { folder: 'noweb', engine: 'NOWEB', name: 'alpha', mongo: true }, // keys, a store.sqlite3, me and worker
  { folder: 'webjs', engine: 'WEBJS', name: 'web1', mongo: true },
  { folder: 'gows', engine: 'GOWS', name: 'gopher', mongo: false }, // WAHA keeps GOWS only in local folders
];

describe('one session shows the same number of entries in every command', () => {
  for (const { folder, engine, name, mongo } of CASES) {
    it(`${engine} ${name}`, async () => {
      const s = await localScenario(folder, 'ent');
      const out = await tempDir();
      cleanups.push(s.cleanup, () => rm(out, { recursive: true, force: true }), () => dropNamespace(client, s.namespace), () => dropPostgres(s.namespace));
      const archive = path.join(out, 'a.tar');
      const run = async (args: string[], expectedCode = 0) => {
        const result = await cli([...args, '--json'], s.base, s.namespace);
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(expectedCode);
        return json(result);
      };
      const session = (document: any) => document.sessions.find((entry: any) => entry.name === name);
      const reference = (await sessionDigest(localStore(s.base, s.namespace), engine, name)).entries;
      const counts: Record<string, number> = {};

      const inspected = session(await run(['inspect', 'local', '-s', name]));
      counts['inspect local'] = inspected.entries;
      expect(inspected.details.files, 'the file count stays under details').toBeGreaterThan(0);
      counts['backup'] = session(await run(['backup', 'local', '-o', archive, '-s', name, '--force'])).entries;
      counts['backup verify'] = session(await run(['backup', 'verify', archive])).entries;
      const diffed = session(await run(['diff', archive, 'local', '-s', name]));
      counts['diff archive'] = diffed.a.entries;
      counts['diff local'] = diffed.b.entries;
      counts['purge --dry-run local'] = session(await run(['purge', 'local', '-s', name, '--dry-run'])).entries;
      counts['restore'] = session(await run(['restore', archive, 'local', '-s', name, '--overwrite', '-y', '--force'])).entries;
      if (mongo) {
        counts['migrate local mongo'] = session(await run(['migrate', 'local', 'mongo', '-s', name, '--force'])).entries;
        counts['inspect mongo'] = session(await run(['inspect', 'mongo', '-s', name])).entries;
        counts['diff local mongo'] = session(await run(['diff', 'local', 'mongo', '-s', name])).b.entries;
        counts['purge --dry-run mongo'] = session(await run(['purge', 'mongo', '-s', name, '--dry-run'])).entries;
        expect((await sessionDigest(mongoStore(client, s.namespace), engine, name)).entries).toBe(reference);
      }
      const pg = ['--postgres-url', postgresUrl()];
      counts['migrate local postgres'] = session(await run(['migrate', 'local', 'postgres', '-s', name, '--force', ...pg])).entries;
      counts['inspect postgres'] = session(await run(['inspect', 'postgres', '-s', name, ...pg])).entries;
      counts['diff local postgres'] = session(await run(['diff', 'local', 'postgres', '-s', name, ...pg])).b.entries;
      counts['purge --dry-run postgres'] = session(await run(['purge', 'postgres', '-s', name, '--dry-run', ...pg])).entries;
      expect(reference).toBeGreaterThan(3);
      for (const [command, count] of Object.entries(counts)) expect({ command, count }).toEqual({ command, count: reference });
    });
  }
});
