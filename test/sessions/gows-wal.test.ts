/**
 * Reads never write: inspect of a GOWS session whose gows.db has WAL content not yet in the main
 * file sees that content and leaves the folder as it was (no -shm appears), both for a WAL left
 * over without its -shm (read from a private copy) and for a live writer (read in place).
 */
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { writeGowsDb } from '../support/fixtures/sqlite.js';
import { age } from '../support/scenario.js';

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

const JID = '5511987654321:7@s.whatsapp.net';

/** gows.db without a device, and a writer that added one into the WAL only (no checkpoint). */
async function walOnlyDevice(folder: string): Promise<Database.Database> {
  const scratch = path.join(folder, 'scratch');
  await mkdir(scratch, { recursive: true });
  writeGowsDb(path.join(scratch, 'device.db'), 'wal', { jid: JID, lid: '123456789012345:7@lid', pushName: 'In WAL' });
  const file = path.join(folder, 'gows.db');
  writeGowsDb(file, 'wal', null);
  const writer = new Database(file);
  writer.pragma('journal_mode = WAL');
  writer.pragma('wal_autocheckpoint = 0');
  writer.exec(`ATTACH '${path.join(scratch, 'device.db')}' AS source; INSERT INTO whatsmeow_device SELECT * FROM source.whatsmeow_device; DETACH source;`);
  return writer;
}

async function inspectGows(base: string): Promise<{ loggedIn: boolean | null; account?: string }> {
  const result = await runCli(['inspect', 'local', '--sessions-dir', base, '--engine', 'GOWS', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const session = json(result).sessions.find((item: { name: string }) => item.name === 'walled');
  return { loggedIn: session.loggedIn, account: session.details?.account };
}

describe('inspect of a gows.db with WAL content', () => {
  it('left over without -shm: sees the device in the WAL and creates nothing in the folder', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'waha-gows-wal-'));
    folders.push(work);
    const writer = await walOnlyDevice(work);
    const base = path.join(work, 'sessions');
    const session = path.join(base, 'gows', 'walled');
    await mkdir(session, { recursive: true });
    // what a copied or crashed folder holds: the database and its WAL, no -shm
    await copyFile(path.join(work, 'gows.db'), path.join(session, 'gows.db'));
    await copyFile(path.join(work, 'gows.db-wal'), path.join(session, 'gows.db-wal'));
    writer.close();
    // the main file alone has no device: what is seen below comes from the WAL
    const alone = path.join(work, 'alone');
    await mkdir(alone);
    await copyFile(path.join(session, 'gows.db'), path.join(alone, 'gows.db'));
    const check = new Database(path.join(alone, 'gows.db'), { readonly: true });
    expect(check.prepare('SELECT COUNT(*) AS count FROM whatsmeow_device').get()).toEqual({ count: 0 });
    check.close();
    await age(base);

    const before = (await readdir(session)).sort();
    expect(before).toEqual(['gows.db', 'gows.db-wal']);
    expect(await inspectGows(base)).toEqual({ loggedIn: true, account: JID });
    expect((await readdir(session)).sort()).toEqual(before);
    // a backup reads the same copy: the device is in the archive, the folder unchanged
    const archive = path.join(work, 'gows.tar.gz');
    const made = await runCli(['backup', 'local', '-o', archive, '--sessions-dir', base, '--engine', 'GOWS', '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect((await readdir(session)).sort()).toEqual(before);
    const verified = json(await runCli(['backup', 'verify', archive, '--json']));
    expect(verified.sessions).toEqual([expect.objectContaining({ name: 'walled', loggedIn: true })]);
  });

  it('with the writer still open (its -shm there): sees the device in place and creates nothing', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'waha-gows-live-'));
    folders.push(work);
    const base = path.join(work, 'sessions');
    const session = path.join(base, 'gows', 'walled');
    await mkdir(session, { recursive: true });
    const writer = await walOnlyDevice(session);
    try {
      await rm(path.join(session, 'scratch'), { recursive: true, force: true });
      const before = (await readdir(session)).sort();
      expect(before).toEqual(['gows.db', 'gows.db-shm', 'gows.db-wal']);
      expect(await inspectGows(base)).toEqual({ loggedIn: true, account: JID });
      expect((await readdir(session)).sort()).toEqual(before);
    } finally {
      writer.close();
    }
  });
});
