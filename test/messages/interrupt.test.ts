/**
 * Ctrl-C in the middle of messages prune (the pattern of test/e2e/interrupt.test.ts): it stops
 * after the batch in flight with exit 130, and its summary counts exactly the rows that are gone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv } from '../support/cli.js';
import { ROOT } from '../support/servers.js';
import { DAY_MS, goTime, writeGowsSession } from './fixtures.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const SOCKET = `waha-storage-prune-interrupt-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'prune-interrupt-'));
const PACE = { WAHA_STORAGE_TEST_PACE_MS: '150' };
/** The bulk rows, plus the one old row of the fixture (GOWS-ZONE-OLD). */
const OLD_ROWS = 3001;

afterAll(() => {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  rmSync(work, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** A sessions dir with one GOWS session holding OLD_ROWS old messages (and the fixture's few). */
function sessions(): { base: string; file: string } {
  const base = mkdtempSync(path.join(work, 'sessions-'));
  const file = path.join(base, 'gows', 'gamma', 'gows.db');
  writeGowsSession(path.dirname(file), []);
  const db = new Database(file);
  const insert = db.prepare('INSERT INTO gows_messages (jid, id, timestamp, from_me, is_real, data) VALUES (?, ?, ?, 0, 1, ?)');
  db.transaction(() => { for (let i = 0; i < OLD_ROWS - 1; i++) insert.run('1@s.whatsapp.net', `OLD-${i}`, goTime(new Date(Date.now() - (40 + i % 100) * DAY_MS), 0), Buffer.from('x'.repeat(100))); })();
  db.close();
  return { base, file };
}

function oldLeft(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM gows_messages WHERE id LIKE 'OLD-%' OR id = 'GOWS-ZONE-OLD'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const args = (base: string, ...more: string[]) => ['messages', 'prune', 'local', '--older-than', '30d', '--sessions-dir', base, '--batch-size', '100', '--yes', ...more];

describe('messages prune interrupted', () => {
  it.skipIf(!hasTmux)('Ctrl-C on a terminal stops after the current batch: exit 130, the summary is exactly the rows deleted', async () => {
    const { base, file } = sessions();
    const rc = path.join(work, 'tty.rc');
    const script = path.join(work, 'tty.sh');
    const env = Object.entries({ ...cleanEnv(PACE), TERM: 'xterm-256color' }).filter(([key, value]) => value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key));
    const unset = Object.keys(process.env).filter((key) => !(key in cleanEnv(PACE)) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key));
    writeFileSync(script, [unset.length ? `unset ${unset.join(' ')}` : '', ...env.map(([key, value]) => `export ${key}=${quote(value!)}`), "trap 'true' INT", `cd ${quote(ROOT)}`,
      [process.execPath, BIN, ...args(base)].map(quote).join(' '), `echo $? > ${quote(rc)}`, 'sleep 120', ''].join('\n'));
    const tmux = (...rest: string[]) => spawnSync('tmux', ['-L', SOCKET, ...rest], { encoding: 'utf8' });
    expect(tmux('new-session', '-d', '-x', '200', '-y', '50', '-s', 'tty', `bash ${quote(script)}`).status).toBe(0);
    const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'tty').stdout;
    try {
      await until('the prune to delete its first batches', () => existsSync(rc) || /deleted [1-9][\d,]* of/.test(screen()));
      expect(existsSync(rc), screen()).toBe(false);
      tmux('send-keys', '-t', 'tty', 'C-c');
      await until('the prune to stop', () => existsSync(rc), 20_000);
      expect(Number(readFileSync(rc, 'utf8').trim()), screen()).toBe(130);
      const shown = /Interrupted: Deleted ([\d,]+) of ([\d,]+) messages/.exec(screen());
      expect(shown, screen()).not.toBeNull();
      const deleted = Number(shown![1]!.replace(/,/g, ''));
      expect(deleted).toBeGreaterThan(0);
      expect(deleted).toBeLessThan(OLD_ROWS);
      expect(OLD_ROWS - oldLeft(file)).toBe(deleted);
    } finally {
      tmux('kill-session', '-t', 'tty');
    }
  }, 60_000);

  it('SIGINT without a terminal (--json): exit 130, interrupted, summary.deleted = the rows gone', async () => {
    const { base, file } = sessions();
    const child = spawn(process.execPath, [BIN, ...args(base, '--json')], { cwd: ROOT, env: cleanEnv(PACE), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await until('the first batches', () => oldLeft(file) < OLD_ROWS - 150);
    child.kill('SIGINT');
    expect(await closed, stderr).toBe(130);
    const doc = JSON.parse(stdout);
    expect(doc.interrupted).toBe(true);
    expect(doc.sessions[0].status).toBe('interrupted');
    expect(doc.summary.deleted).toBe(OLD_ROWS - oldLeft(file));
    expect(doc.summary.deleted).toBeLessThan(OLD_ROWS);
  }, 60_000);
});
