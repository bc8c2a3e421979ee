/**
 * messages prune against a gows.db that another process holds open and writes to meanwhile (as
 * GOWS does while WAHA runs): both finish without a busy error, exactly the old rows go, every
 * row the writer added stays, and every other table is byte-identical.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { DAY_MS, goTime, isOld, messageRows, sqliteDigests, sqliteIds, without, writeGowsSession, type MessageRow } from './fixtures.js';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'writer.mjs');
const folders: string[] = [];
afterAll(() => { for (const folder of folders) rmSync(folder, { recursive: true, force: true }); });

it('prunes while another process writes to the same gows.db', async () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'prune-concurrent-'));
  folders.push(base);
  const file = path.join(base, 'gows', 'gamma', 'gows.db');
  const rows: MessageRow[] = writeGowsSession(path.dirname(file), messageRows('G'));
  const db = new Database(file);
  const insert = db.prepare('INSERT INTO gows_messages (jid, id, timestamp, from_me, is_real, data) VALUES (?, ?, ?, 0, 1, ?)');
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) {
      const row = { jid: '444444444@s.whatsapp.net', id: `BULK-${i}`, at: new Date(Date.now() - (31 + (i % 300)) * DAY_MS) };
      insert.run(row.jid, row.id, goTime(row.at, 0), Buffer.from('x'.repeat(200)));
      rows.push(row);
    }
  })();
  db.close();
  const before = sqliteDigests(file);

  const writer = spawn(process.execPath, [WRITER, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  writer.stdout.setEncoding('utf8').on('data', (chunk) => { out += chunk; });
  const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('ready')) { clearInterval(timer); resolve(); }
      if (out.includes('ERROR')) { clearInterval(timer); reject(new Error(out)); }
    }, 20);
  });
  const result = await runCli(['messages', 'prune', 'local', '--older-than', '30d', '--sessions-dir', base, '--yes', '--json', '--batch-size', '50'], {
    env: { WAHA_STORAGE_TEST_PACE_MS: '15' },
  });
  writer.kill('SIGTERM');
  expect(await exited, out).toBe(0);
  const written = Number(/written (\d+)/.exec(out)?.[1]);
  expect(result.code, result.stderr).toBe(0);
  const doc = json(result);
  const old = rows.filter((row) => isOld(row)).length;
  expect(doc.summary).toMatchObject({ planned: old, deleted: old, failed: 0 });
  expect(written).toBeGreaterThan(50); // the writer really wrote throughout the prune
  // the prune never kept the writer out for long: its write lock lasts one batch, not the run (about 1 s here)
  expect(Number(/longest (\d+)/.exec(out)?.[1])).toBeLessThan(400);
  const ids = sqliteIds(file, 'gows_messages');
  const kept = rows.filter((row) => !isOld(row)).map((row) => row.id);
  const writers = Array.from({ length: written }, (_, n) => `WRITER-${n}`);
  expect(ids).toEqual([...kept, ...writers].sort());
  expect(without(sqliteDigests(file), 'gows_messages')).toEqual(without(before, 'gows_messages'));
}, 120_000);
