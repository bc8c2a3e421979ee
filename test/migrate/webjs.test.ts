/** WEBJS local <-> MongoDB: RemoteAuth-<name>.zip in GridFS bucket auth, what RemoteAuth keeps, both layouts. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { GridFSBucket, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webjsProfileFiles } from '../support/fixtures/index.js';
import { writeMongoFixtures } from '../support/fixtures/mongo.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { byName, emptyBase, localScenario, migrate, type Scenario } from './helpers.js';

let client: MongoClient;
beforeAll(async () => { client = await connectMongo(); });
afterAll(async () => { await client.close(); });

/** Every file under `root`, as paths relative to it with `/`. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
}

/** Extracts the zip as WAHA's RemoteAuth does with adm-zip (`extractAllTo`) and checks every byte. */
async function expectAdmZipExtracts(zip: string, expected: { path: string; data: Buffer }[]): Promise<void> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'waha-admzip-'));
  try {
    const archive = new AdmZip(zip);
    expect(archive.getEntries().filter((entry) => !entry.isDirectory).map((entry) => entry.entryName).sort()).toEqual(expected.map((file) => file.path).sort());
    archive.extractAllTo(folder, true);
    expect((await filesUnder(folder)).sort()).toEqual(expected.map((file) => file.path).sort());
    for (const file of expected) {
      expect((await readFile(path.join(folder, ...file.path.split('/')))).equals(file.data), file.path).toBe(true);
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function download(namespace: string, name: string): Promise<string> {
  const db = client.db(`waha_${namespace}_${name}`);
  const files = await db.collection('auth.files').find({}).toArray();
  expect(files.map((file) => file.filename)).toEqual([`RemoteAuth-${name}.zip`]);
  const chunks: Buffer[] = [];
  for await (const chunk of new GridFSBucket(db, { bucketName: 'auth' }).openDownloadStream(files[0]!._id)) chunks.push(chunk as Buffer);
  const file = path.join(os.tmpdir(), `${namespace}-${name}.zip`);
  await writeFile(file, Buffer.concat(chunks));
  return file;
}

describe('migrate WEBJS', () => {
  let scenario: Scenario;
  afterAll(async () => {
    await dropNamespace(client, scenario.namespace);
    await scenario.cleanup();
  });

  it('uploads exactly what RemoteAuth keeps as one zip that unzip and adm-zip both extract, and refuses a running profile', async () => {
    scenario = await localScenario('webjs');
    const result = await migrate(['local', 'mongo', '--engine', 'WEBJS', '--json'], scenario.base, scenario.namespace);
    expect(result.code).toBe(3);
    const sessions = byName(result);
    expect(sessions.get('web1')).toMatchObject({ status: 'failed', reason: 'live' });
    expect(sessions.get('web1')!.message).toContain('Singleton');
    expect(sessions.get('web2')).toMatchObject({ status: 'done', engine: 'WEBJS' });
    expect(sessions.get('default')).toMatchObject({ status: 'done' });
    const zip = await download(scenario.namespace, 'web2');
    execFileSync('unzip', ['-tq', zip]); // throws on a damaged archive
    const listed = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').filter((name) => !name.endsWith('/'));
    const expected = webjsProfileFiles('web2').filter((file) => file.auth).map((file) => file.path);
    expect(listed.sort()).toEqual(expected.sort());
    for (const file of webjsProfileFiles('web2').filter((item) => item.auth)) {
      expect(execFileSync('unzip', ['-p', zip, file.path]).equals(file.data), file.path).toBe(true);
    }
    await expectAdmZipExtracts(zip, webjsProfileFiles('web2').filter((item) => item.auth));
    expect(await client.db(`waha_${scenario.namespace}_web2`).listCollections({ name: /^wst_|incomplete/ }).toArray()).toEqual([]);
  });

  it('with --force copies the running profile but never its Singleton links', async () => {
    const result = await migrate(['local', 'mongo', '--session', 'web1', '--force', '--json'], scenario.base, scenario.namespace);
    expect(byName(result).get('web1')).toMatchObject({ status: 'done' });
    const zip = await download(scenario.namespace, 'web1');
    execFileSync('unzip', ['-tq', zip]);
    expect(execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' })).not.toContain('Singleton');
    await expectAdmZipExtracts(zip, webjsProfileFiles('web1').filter((item) => item.auth));
    const rerun = await migrate(['local', 'mongo', '--session', 'web1', '--force', '--json'], scenario.base, scenario.namespace);
    expect(byName(rerun).get('web1')).toMatchObject({ status: 'skipped', reason: 'identical' });
  });

  it('back to local in the core layout and in the plus layout, files byte-identical', async () => {
    const core = await emptyBase();
    // just uploaded, but by this tool (its GridFS metadata says so): not WAHA saving it, no refusal
    const own = await migrate(['mongo', 'local', '--session', 'web2', '--json'], await emptyBase(), scenario.namespace);
    expect(byName(own).get('web2')).toMatchObject({ status: 'done' });
    const result = await migrate(['mongo', 'local', '--session', 'web2', '--webjs-layout', 'core', '--force', '--json'], core, scenario.namespace);
    expect(byName(result).get('web2'), result.stderr).toMatchObject({ status: 'done' });
    for (const file of webjsProfileFiles('web2').filter((item) => item.auth)) {
      const copy = await readFile(path.join(core, scenario.namespace, 'default', 'session-web2', ...file.path.split('/')));
      expect(copy.equals(file.data), file.path).toBe(true);
    }
    const plus = await emptyBase();
    const again = await migrate(['mongo', 'local', '--session', 'web2', '--force', '--json'], plus, scenario.namespace);
    expect(byName(again).get('web2')).toMatchObject({ status: 'done' });
    expect(existsSync(path.join(plus, scenario.namespace, 'web2', 'session-web2', 'Default', 'Local Storage', 'leveldb', 'CURRENT'))).toBe(true);
  });
});

describe('migrate WEBJS from WAHA-written GridFS', () => {
  const namespace = uniqueNamespace('wgf');
  afterAll(async () => { await dropNamespace(client, namespace); });

  it('extracts the newest revision only', async () => {
    await writeMongoFixtures(mongoUrl(), namespace);
    const base = await emptyBase();
    const result = await migrate(['mongo', 'local', '--session', 'web1', '--json'], base, namespace);
    expect(byName(result).get('web1'), result.stderr).toMatchObject({ status: 'done', engine: 'WEBJS' });
    for (const file of webjsProfileFiles('web1').filter((item) => item.auth)) {
      const copy = await readFile(path.join(base, namespace, 'web1', 'session-web1', ...file.path.split('/')));
      expect(copy.equals(file.data), file.path).toBe(true);
    }
  });
});
