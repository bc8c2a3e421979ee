/**
 * whatsapp-web.js RemoteAuth as the oracle for WEBJS: the RemoteAuth-<session>.zip that
 * `migrate local mongo` puts into GridFS is extracted the way RemoteAuth restores it
 * (`unzipper.Extract({ path, concurrency: 10 })` into the profile folder), and must give the
 * profile's auth files (Default/IndexedDB, Default/Local Storage) byte for byte.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GridFSBucket, type MongoClient } from 'mongodb';
import unzipper from 'unzipper';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { sessionDbName } from '../support/fixtures/index.js';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { localScenario, type Scenario } from '../support/scenario.js';
import { isAuthPath } from '../../src/sessions/engines/webjs.js';
import { cli, tempBase, treeOf } from './support.js';

let client: MongoClient;
let scenario: Scenario;
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => {
  if (scenario) {
    await dropNamespace(client, scenario.namespace);
    await scenario.cleanup();
  }
  await client.close();
});

/** RemoteAuth.extractRemoteSession: the zip unpacked into the profile folder by unzipper. */
async function extractLikeRemoteAuth(zip: string, profile: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    createReadStream(zip)
      .pipe(unzipper.Extract({ path: profile, concurrency: 10 }))
      .on('error', reject)
      .on('close', () => resolve());
  });
}

describe('WEBJS against RemoteAuth extraction', () => {
  it('the GridFS zip of every session unpacks with unzipper into the profile\'s auth files, byte for byte', async () => {
    scenario = await localScenario('webjs', 'orw');
    // the fixtures' good WEBJS sessions, in both layouts (`<name>/session-<name>` and `default/session-<name>`); web1 keeps
    // Chromium's Singleton links as a stopped browser leaves them, hence --force
    const names = ['web1', 'web2', 'default'];
    const result = await cli(['migrate', 'local', 'mongo', '--engine', 'WEBJS', ...names.flatMap((name) => ['--session', name]), '--force', '--json'], scenario.base, scenario.namespace);
    expect(result.code, JSON.stringify(json(result).sessions)).toBe(0);
    const done = json(result).sessions.filter((session: { status: string }) => session.status === 'done');
    expect(done.map((session: { name: string }) => session.name).sort()).toEqual([...names].sort());
    const work = await tempBase('webjs');
    for (const { name } of done as { name: string }[]) {
      const bucket = new GridFSBucket(client.db(sessionDbName(scenario.namespace, name)), { bucketName: 'auth' });
      const zip = path.join(work, `RemoteAuth-${name}.zip`);
      await pipeline(bucket.openDownloadStreamByName(`RemoteAuth-${name}.zip`), createWriteStream(zip));
      const extracted = path.join(work, `RemoteAuth-${name}`);
      await extractLikeRemoteAuth(zip, extracted);
      const profile = await findProfile(scenario.folder, name);
      const auth = new Map([...(await treeOf(profile))].filter(([file]) => isAuthPath(file)));
      expect(auth.size, name).toBeGreaterThan(0);
      expect(await treeOf(extracted), name).toEqual(auth);
    }
  });
});

/** The session's Chromium profile in either WAHA layout (`<name>/session-<name>` or `default/session-<name>`). */
async function findProfile(folder: string, name: string): Promise<string> {
  const { existsSync } = await import('node:fs');
  for (const candidate of [path.join(folder, name, `session-${name}`), path.join(folder, 'default', `session-${name}`)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`no profile for ${name} under ${folder}`);
}
