/**
 * What a round trip through MongoDB keeps besides the bytes (issue 9 §1 smaller findings, §2 liveness):
 * the tool's own core-layout output read back has no phantom `default`, a `{}` config stays `{}`,
 * empty WEBJS folders and file times come back, and the tool's own upload does not look like WAHA saving.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GridFSBucket, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { age, byName, emptyBase, localScenario, migrate, type Scenario } from './helpers.js';

let client: MongoClient;
const scenarios: Scenario[] = [];
const bases: string[] = [];
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => {
  for (const scenario of scenarios) {
    await dropNamespace(client, scenario.namespace);
    await scenario.cleanup();
  }
  for (const base of bases) await rm(base, { recursive: true, force: true });
  await client.close();
});

const KEPT_TIME = new Date('2021-05-06T07:08:09Z');
const EMPTY_DIR = 'Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/2';
const TIMED_FILE = 'Default/Local Storage/leveldb/CURRENT';

async function base(): Promise<string> {
  const folder = await emptyBase();
  bases.push(folder);
  return folder;
}

function inspectNames(folder: string, namespace: string): Promise<string[]> {
  return runCli(['inspect', 'local', '--sessions-dir', folder, '--namespace', namespace, '--session-namespace', namespace, '--json'])
    .then((result) => json(result).sessions.map((session: { name: string }) => session.name).sort());
}

describe('WEBJS through MongoDB', () => {
  it('keeps empty folders and file times, reads its own core layout back without a phantom "default", and its own upload is not "live"', async () => {
    const scenario = await localScenario('webjs', 'fid');
    scenarios.push(scenario);
    const profile = path.join(scenario.folder, 'default', 'session-web2');
    await mkdir(path.join(profile, ...EMPTY_DIR.split('/')), { recursive: true });
    await age(scenario.folder);
    await utimes(path.join(profile, ...TIMED_FILE.split('/')), KEPT_TIME, KEPT_TIME);
    await utimes(path.join(profile, ...EMPTY_DIR.split('/')), KEPT_TIME, KEPT_TIME);

    const up = await migrate(['local', 'mongo', '--session', 'web2', '--json'], scenario.base, scenario.namespace);
    expect(byName(up).get('web2'), up.stderr).toMatchObject({ status: 'done' });

    // right after the tool's own upload: not WAHA saving the session, so no --force is needed
    const core = await base();
    const down = await migrate(['mongo', 'local', '--session', 'web2', '--webjs-layout', 'core', '--json'], core, scenario.namespace);
    expect(byName(down).get('web2'), down.stdout + down.stderr).toMatchObject({ status: 'done' });
    const copy = path.join(core, scenario.namespace, 'default', 'session-web2');
    const dir = path.join(copy, ...EMPTY_DIR.split('/'));
    expect(existsSync(dir)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect((await stat(dir)).mtimeMs).toBe(KEPT_TIME.getTime());
    expect((await stat(path.join(copy, ...TIMED_FILE.split('/')))).mtimeMs).toBe(KEPT_TIME.getTime());

    // the core layout this tool wrote, read back: web2 only (default/ is LocalAuth's data path here)
    expect(await inspectNames(core, scenario.namespace)).toEqual(['web2']);
    const again = await migrate(['local', 'mongo', '--json'], core, scenario.namespace);
    expect([...byName(again).keys()]).toEqual(['web2']);
    expect(byName(again).get('web2')).toMatchObject({ status: 'skipped', reason: 'identical' });
    expect(await client.db(`waha_${scenario.namespace}`).collection('sessions').countDocuments({ name: 'default' })).toBe(0);

    // a revision WAHA uploads (no marker of this tool) is WAHA saving the session: the guard fires
    const db = client.db(`waha_${scenario.namespace}_web2`);
    const emptyZip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)]);
    await pipeline(Readable.from([emptyZip]), new GridFSBucket(db, { bucketName: 'auth' }).openUploadStream('RemoteAuth-web2.zip'));
    const live = await migrate(['mongo', 'local', '--session', 'web2', '--json'], await base(), scenario.namespace);
    expect(byName(live).get('web2')).toMatchObject({ status: 'failed', reason: 'live' });
  });
});

describe('a {} config through MongoDB', () => {
  it('comes back as {} (WAHA writes {}), and null stays "no config" for the comparison', async () => {
    const scenario = await localScenario('noweb', 'fcf');
    scenarios.push(scenario);
    await writeFile(path.join(scenario.folder, 'fresh', '.waha.session.config.json'), '{}');
    await age(scenario.folder);
    const up = await migrate(['local', 'mongo', '--session', 'fresh', '--json'], scenario.base, scenario.namespace);
    expect(byName(up).get('fresh'), up.stderr).toMatchObject({ status: 'done' });
    const back = await base();
    const down = await migrate(['mongo', 'local', '--session', 'fresh', '--json'], back, scenario.namespace);
    expect(byName(down).get('fresh'), down.stderr).toMatchObject({ status: 'done' });
    expect(await readFile(path.join(back, scenario.namespace, 'fresh', '.waha.session.config.json'), 'utf8')).toBe('{}');
    // and the rerun sees the same session
    const rerun = await migrate(['mongo', 'local', '--session', 'fresh', '--json'], back, scenario.namespace);
    expect(byName(rerun).get('fresh')).toMatchObject({ status: 'skipped', reason: 'identical' });
  });
});
