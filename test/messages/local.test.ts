/** messages prune local: NOWEB store.sqlite3 and GOWS gows.db, through the built binary. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { ageFolder, CHATS, isOld, messageRows, sqliteDigests, sqliteIds, without, writeGowsSession, writeNowebSession, type MessageRow } from './fixtures.js';

const folders: string[] = [];
afterAll(() => { for (const folder of folders) rmSync(folder, { recursive: true, force: true }); });

interface Store {
  base: string;
  noweb: { file: string; rows: MessageRow[] };
  gows: { file: string; rows: MessageRow[] };
}

function store(): Store {
  const base = mkdtempSync(path.join(os.tmpdir(), 'prune-local-'));
  folders.push(base);
  const nowebDir = path.join(base, 'noweb', 'alpha');
  const gowsDir = path.join(base, 'gows', 'gamma');
  const noweb = writeNowebSession(nowebDir, messageRows('N'));
  const gows = writeGowsSession(gowsDir, messageRows('G'));
  return { base, noweb: { file: path.join(nowebDir, 'store.sqlite3'), rows: noweb }, gows: { file: path.join(gowsDir, 'gows.db'), rows: gows } };
}

const prune = (s: Store, ...args: string[]) => runCli(['messages', 'prune', 'local', '--older-than', '30d', '--sessions-dir', s.base, ...args]);
const kept = (rows: readonly MessageRow[]) => rows.filter((row) => !isOld(row)).map((row) => row.id).sort();
const old = (rows: readonly MessageRow[]) => rows.filter((row) => isOld(row)).length;

describe('messages prune local', () => {
  it('--dry-run counts exactly the old rows of each table and changes nothing', async () => {
    const s = store();
    const before = [sqliteDigests(s.noweb.file), sqliteDigests(s.gows.file)];
    const result = await prune(s, '--dry-run', '--json');
    expect(result.code, result.stderr).toBe(0);
    const doc = json(result);
    expect(doc.dryRun).toBe(true);
    const byTable = Object.fromEntries(doc.sessions.map((session: any) => [session.table, session]));
    expect(byTable.messages).toMatchObject({ engine: 'NOWEB', name: 'alpha', planned: old(s.noweb.rows), deleted: 0, rows: s.noweb.rows.length, unreadable: 1 });
    expect(byTable.gows_messages).toMatchObject({ engine: 'GOWS', name: 'gamma', planned: old(s.gows.rows), deleted: 0, rows: s.gows.rows.length, unreadable: 1 });
    expect(doc.summary).toMatchObject({ planned: old(s.noweb.rows) + old(s.gows.rows), deleted: 0 });
    expect([sqliteDigests(s.noweb.file), sqliteDigests(s.gows.file)]).toEqual(before);
  });

  it('deletes exactly the rows older than the cutoff, in batches, and leaves every other table byte-identical', async () => {
    const s = store();
    const before = [sqliteDigests(s.noweb.file), sqliteDigests(s.gows.file)];
    const result = await prune(s, '--yes', '--json', '--batch-size', '7');
    expect(result.code, result.stderr).toBe(0);
    const doc = json(result);
    expect(doc.interrupted).toBe(false);
    expect(doc.summary).toMatchObject({ planned: old(s.noweb.rows) + old(s.gows.rows), deleted: old(s.noweb.rows) + old(s.gows.rows), failed: 0 });
    for (const session of doc.sessions) {
      expect(session.status).toBe('done');
      expect(session.deleted).toBe(session.planned);
      expect(session.freedBytes).toBeGreaterThan(0);
    }
    // the ms-valued NOWEB row and the zone-shifted GOWS rows are judged by the instant they mean
    expect(sqliteIds(s.noweb.file, 'messages')).toEqual(kept(s.noweb.rows));
    expect(sqliteIds(s.gows.file, 'gows_messages')).toEqual(kept(s.gows.rows));
    expect(sqliteIds(s.gows.file, 'gows_messages')).toContain('GOWS-ZONE-NEW');
    expect(sqliteIds(s.gows.file, 'gows_messages')).not.toContain('GOWS-ZONE-OLD');
    expect(sqliteIds(s.gows.file, 'gows_messages')).toContain('GOWS-BAD-TIME');
    expect(without(sqliteDigests(s.noweb.file), 'messages')).toEqual(without(before[0]!, 'messages'));
    expect(without(sqliteDigests(s.gows.file), 'gows_messages')).toEqual(without(before[1]!, 'gows_messages'));
    // a rerun finds nothing more
    const again = json(await prune(s, '--yes', '--json'));
    expect(again.summary).toMatchObject({ planned: 0, deleted: 0 });
  });

  it('says on a finished run how much was freed and that VACUUM returns it to the disk', async () => {
    const s = store();
    const result = await prune(s, '--yes');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Deleted \d+ of \d+ messages older than 30d/);
    expect(result.stdout).toMatch(/freed/);
    expect(result.stdout).toMatch(/only VACUUM returns it to the disk/);
  });

  it('refuses without a terminal unless --yes (exit 2), and over --max-delete (exit 2); nothing is deleted', async () => {
    const s = store();
    const before = [sqliteDigests(s.noweb.file), sqliteDigests(s.gows.file)];
    const noYes = await prune(s);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    const over = await prune(s, '--yes', '--json', '--max-delete', '5');
    expect(over.code).toBe(2);
    const doc = json(over);
    expect(doc.refused).toBe('max-delete');
    expect(doc.summary.deleted).toBe(0);
    expect(over.stderr).toMatch(/more than --max-delete 5; nothing was deleted/);
    expect([sqliteDigests(s.noweb.file), sqliteDigests(s.gows.file)]).toEqual(before);
  });

  it('on a terminal it shows the plan and asks: "n" deletes nothing (exit 1), "y" deletes', async () => {
    const s = store();
    const before = [sqliteDigests(s.noweb.file), sqliteDigests(s.gows.file)];
    const args = ['messages', 'prune', 'local', '--older-than', '30d', '--sessions-dir', s.base];
    const no = await runCli(args, { tty: true, input: 'n\r', columns: 120 });
    expect(no.code, no.stdout).toBe(1);
    expect(no.stdout).toMatch(/would delete/);
    expect(no.stdout).toMatch(new RegExp(`Delete ${old(s.noweb.rows) + old(s.gows.rows)} messages older than 30d`));
    expect([sqliteDigests(s.noweb.file), sqliteDigests(s.gows.file)]).toEqual(before);
    const yes = await runCli(args, { tty: true, input: 'y\r', columns: 120 });
    expect(yes.code, yes.stdout).toBe(0);
    expect(sqliteIds(s.gows.file, 'gows_messages')).toEqual(kept(s.gows.rows));
  });

  it('--chat limits the prune to those chats; a chat with nothing to delete is reported; a bad jid is exit 2', async () => {
    const s = store();
    // WAHA's @c.us spelling finds the @s.whatsapp.net rows Baileys and whatsmeow store
    const wanted = CHATS[0].replace('@s.whatsapp.net', '@c.us');
    const result = await prune(s, '--yes', '--json', '--chat', wanted, '--chat', '999@c.us');
    expect(result.code, result.stderr).toBe(0);
    const doc = json(result);
    const inChat = (rows: readonly MessageRow[]) => rows.filter((row) => isOld(row) && row.jid === CHATS[0]).length;
    expect(doc.chats).toEqual([{ jid: wanted, planned: inChat(s.noweb.rows) + inChat(s.gows.rows) }, { jid: '999@c.us', planned: 0 }]);
    expect(doc.summary.deleted).toBe(inChat(s.noweb.rows) + inChat(s.gows.rows));
    expect(result.stderr).toMatch(/--chat 999@c\.us: no message older than the cutoff/);
    const expected = (rows: readonly MessageRow[]) => rows.filter((row) => !(isOld(row) && row.jid === CHATS[0])).map((row) => row.id).sort();
    expect(sqliteIds(s.noweb.file, 'messages')).toEqual(expected(s.noweb.rows));
    expect(sqliteIds(s.gows.file, 'gows_messages')).toEqual(expected(s.gows.rows));
    const bad = await prune(s, '--yes', '--chat', 'not-a-jid');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid --chat "not-a-jid"/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('--session and --engine narrow it; an unknown session is exit 2; a bad duration is exit 2', async () => {
    const s = store();
    const result = await prune(s, '--yes', '--json', '--engine', 'GOWS');
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).sessions.map((session: any) => session.name)).toEqual(['gamma']);
    expect(sqliteIds(s.noweb.file, 'messages')).toHaveLength(s.noweb.rows.length);
    const unknown = await prune(s, '--yes', '--session', 'nobody');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No session "nobody"/);
    const badAge = await runCli(['messages', 'prune', 'local', '--older-than', 'soon', '--sessions-dir', s.base, '--yes']);
    expect(badAge.code).toBe(2);
    const noFolder = await runCli(['messages', 'prune', 'local', '--older-than', '30d', '--sessions-dir', path.join(s.base, 'missing'), '--yes']);
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toMatch(/does not exist/);
    const noUrl = await runCli(['messages', 'prune', 'postgres', '--older-than', '30d', '--yes']);
    expect(noUrl.code).toBe(2);
  });

  it('--vacuum refuses while the liveness guard sees WAHA (nothing deleted) and, with WAHA stopped, shrinks the files', async () => {
    const s = store();
    const before = sqliteDigests(s.gows.file);
    // just written: the folder looks in use
    const live = await prune(s, '--yes', '--vacuum', '--session', 'gamma');
    expect(live.code).toBe(1);
    expect(live.stderr).toMatch(/--vacuum needs WAHA stopped.*nothing was deleted/);
    expect(sqliteDigests(s.gows.file)).toEqual(before);
    ageFolder(path.dirname(s.noweb.file));
    ageFolder(path.dirname(s.gows.file));
    const result = await prune(s, '--yes', '--vacuum', '--json');
    expect(result.code, result.stderr).toBe(0);
    for (const session of json(result).sessions) {
      expect(session.vacuumed).toBe(true);
      expect(session.bytesAfter).toBeLessThan(session.bytesBefore);
      expect(session.freeBytesAfter).toBe(0);
    }
  });

  it('--backup writes and verifies an archive of the affected sessions first; a backup that cannot be written deletes nothing', async () => {
    const s = store();
    const archive = path.join(s.base, '..', `${path.basename(s.base)}-backup.tar.gz`);
    folders.push(archive);
    const before = sqliteDigests(s.gows.file);
    const failed = await prune(s, '--yes', '--force', '--session', 'gamma', '--backup', path.join(s.base, 'missing', 'x.tar.gz'));
    expect(failed.code).not.toBe(0);
    expect(sqliteDigests(s.gows.file)).toEqual(before);
    const result = await prune(s, '--yes', '--force', '--json', '--session', 'gamma', '--backup', archive);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).backup).toEqual({ file: archive, sessions: 1 });
    const verify = await runCli(['backup', 'verify', archive, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.stringify(json(verify))).toContain('gamma');
  });

  it('--quiet is silent on success (cron); --metrics-file records the counts', async () => {
    const s = store();
    const metrics = path.join(s.base, '..', `${path.basename(s.base)}.prom`);
    folders.push(metrics);
    const result = await prune(s, '--yes', '--quiet', '--metrics-file', metrics);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const text = readFileSync(metrics, 'utf8');
    const expected = old(s.noweb.rows) + old(s.gows.rows);
    expect(text).toContain(`waha_storage_items_total{command="messages prune",store="local",status="deleted"} ${expected}`);
    expect(text).toMatch(/waha_storage_exit_code\{[^}]*\} 0/);
  });

  it('one prune at a time per store: a second one exits 1 naming the lock', async () => {
    const s = store();
    const { lock } = await import('proper-lockfile');
    const file = path.join(s.base, '.waha-storage-prune.lock');
    const release = await lock(file, { lockfilePath: file, realpath: false });
    try {
      const result = await prune(s, '--yes');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Another messages prune is running/);
      // --json: one document, also on failure; a dry run takes no lock and still works
      const doc = json(await prune(s, '--yes', '--json'));
      expect(doc.error).toMatchObject({ exitCode: 1 });
      expect((await prune(s, '--dry-run')).code).toBe(0);
    } finally {
      await release();
    }
  });
});
