/** media list / clean on a local folder, through the built binary. */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_LOCK_NAME } from '../../src/media/local.js';
import { BIN, json, runCli, privileged } from '../support/cli.js';
import { DAY, tempDir, writeLocal } from './seed.js';

/** A piped `media clean --dry-run --json` is NDJSON (header, one line per object, summary): its summary. */
function dryRunSummary(result: { stdout: string }) {
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
  expect(lines[0]).toMatchObject({ schemaVersion: 1, type: 'header', command: 'media clean' });
  return lines.at(-1).summary;
}


const NOW = Date.now();
const ago = (ms: number) => new Date(NOW - ms);

/** Every regular file under dir, relative, sorted (what is left after a run). */
function files(dir: string, relative = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
    const key = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...files(dir, key));
    else out.push(key);
  }
  return out.sort();
}

/**
 * Sessions `alpha` (1,100 files: 400 fresh, 400 two days old, 300 ten days old), `beta` (fresh and
 * two days old), `gamma` (only ten days old: its folder ends up empty), old flat files at the top,
 * a dot-file, and a symbolic link to an old file outside the folder.
 */
function seedMediaDir(): { dir: string; outside: string; expired: string[]; kept: string[] } {
  const dir = tempDir();
  const outside = tempDir('waha-outside-');
  const expired: string[] = [];
  const kept: string[] = [];
  const add = (key: string, age: number) => {
    writeLocal(dir, key, `bytes of ${key}`, ago(age));
    (age >= DAY ? expired : kept).push(key);
  };
  for (let i = 0; i < 1100; i++) add(`alpha/false_111@c.us_${String(i).padStart(5, '0')}.jpeg`, i < 400 ? 0 : i < 800 ? 2 * DAY : 10 * DAY);
  for (let i = 0; i < 20; i++) add(`beta/3AA${i}.oga`, i % 2 ? 2 * DAY : 60_000);
  for (let i = 0; i < 5; i++) add(`gamma/G${i}.mp4`, 10 * DAY);
  add('OLDFLAT1.jpeg', 3 * DAY);
  add('NEWFLAT.jpeg', 0);
  writeLocal(dir, '.keep-me', 'dot', ago(30 * DAY));
  writeLocal(outside, 'precious.jpeg', 'outside', ago(30 * DAY));
  symlinkSync(path.join(outside, 'precious.jpeg'), path.join(dir, 'beta', 'link.jpeg'));
  symlinkSync(outside, path.join(dir, 'outside-session'));
  return { dir, outside, expired: expired.sort(), kept: kept.sort() };
}

const env = (dir: string, extra: Record<string, string> = {}) => ({ WHATSAPP_FILES_FOLDER: dir, ...extra });

describe('media list (local)', () => {
  const fixture = seedMediaDir();

  it('streams NDJSON when piped: a header, one line per object, the summary last', async () => {
    const result = await runCli(['media', 'list', '--json'], { env: env(fixture.dir) });
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ schemaVersion: 1, type: 'header', store: 'local', location: fixture.dir });
    const objects = lines.slice(1, -1);
    expect(objects).toHaveLength(fixture.expired.length + fixture.kept.length);
    expect(objects.map((o) => o.key).sort()).toEqual([...fixture.expired, ...fixture.kept].sort());
    const flat = objects.find((o) => o.key === 'OLDFLAT1.jpeg');
    expect(flat).toMatchObject({ session: null, bytes: 'bytes of OLDFLAT1.jpeg'.length });
    expect(new Date(flat.modifiedAt).getTime()).toBeCloseTo(NOW - 3 * DAY, -4);
    expect(flat.modifiedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const summary = lines.at(-1);
    expect(summary.type).toBe('summary');
    expect(summary.summary.count).toBe(objects.length);
    expect(summary.summary.bytes).toBe(objects.reduce((sum, o) => sum + o.bytes, 0));
    expect(summary.summary.sessions.alpha.count).toBe(1100);
    expect(summary.summary.sessions.null.count).toBe(2);
    expect(JSON.stringify(lines)).not.toContain('precious');
  });

  it('filters by session, age and size', async () => {
    const result = await runCli(['media', 'list', 'local', '--session', 'beta', '--session', 'gamma', '--older-than', '1d', '--json'], { env: env(fixture.dir) });
    const objects = result.stdout.trim().split('\n').map((line) => JSON.parse(line)).slice(1, -1);
    expect(objects.map((o) => o.key).sort()).toEqual(fixture.expired.filter((key) => /^(beta|gamma)\//.test(key)));
    const big = await runCli(['media', 'list', '--larger-than', '20', '--session', 'gamma', '--json'], { env: env(fixture.dir) });
    expect(big.stdout.trim().split('\n').slice(1, -1)).toHaveLength(5); // 'bytes of gamma/G0.mp4' is 21 bytes
    const bigger = await runCli(['media', 'list', '--larger-than', '21', '--session', 'gamma', '--json'], { env: env(fixture.dir) });
    expect(bigger.stdout.trim().split('\n').slice(1, -1)).toEqual([]);
  });

  it('prints a table with per-session totals, and one document with --json on a terminal', async () => {
    const table = await runCli(['media', 'list', '--session', 'gamma'], { env: env(fixture.dir) });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('gamma/G0.mp4');
    expect(table.stdout).toMatch(/gamma\W+5\W+105 B/);
    expect(table.stdout).toMatch(/total\W+5\W+105 B/);
    const tty = await runCli(['media', 'list', '--session', 'gamma', '--json'], { env: env(fixture.dir), tty: true });
    expect(tty.code).toBe(0);
    const document = JSON.parse(tty.stdout.replace(/\r\n/g, '\n'));
    expect(document).toMatchObject({ schemaVersion: 1, summary: { count: 5, sessions: { gamma: { count: 5 } } } });
    expect(document.objects).toHaveLength(5);
  });
});

describe('media clean (local)', () => {
  it('deletes exactly the expired files (several sessions, >1,000 in one), never through links, and removes emptied folders', async () => {
    const { dir, outside, kept } = seedMediaDir();
    const dry = await runCli(['media', 'clean', '--older-than', '1d', '--dry-run', '--json'], { env: env(dir) });
    expect(dry.code).toBe(0);
    const planned = dryRunSummary(dry);
    expect(planned).toMatchObject({ matched: 716, deleted: 0, failed: 0 });
    expect(files(dir)).toHaveLength(716 + kept.length + 3); // nothing deleted (+ dot-file and two links)

    const real = await runCli(['media', 'clean', '--older-than', '1d', '--json'], { env: env(dir) });
    expect(real.code).toBe(0);
    const done = json(real);
    expect(done.schemaVersion).toBe(1);
    expect(done.summary).toMatchObject({ matched: 716, deleted: 716, failed: 0, bytes: planned.bytes });
    expect(files(dir)).toEqual([...kept, '.keep-me', 'beta/link.jpeg', 'outside-session'].sort());
    expect(existsSync(path.join(dir, 'gamma'))).toBe(false);
    expect(existsSync(path.join(outside, 'precious.jpeg'))).toBe(true);
    expect(existsSync(path.join(dir, LOCAL_LOCK_NAME))).toBe(false);
  });

  it('uses the configured lifetime by default, and keeps emptied folders with --keep-empty-dirs', async () => {
    const dir = tempDir();
    writeLocal(dir, 's1/old.jpg', 'x', ago(2 * 3600_000));
    writeLocal(dir, 's2/new.jpg', 'x', ago(10 * 60_000));
    const result = await runCli(['media', 'clean', '--keep-empty-dirs'], { env: env(dir, { WHATSAPP_FILES_LIFETIME: '3600' }) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Deleted 1 of 1 object .* older than 1h/);
    expect(files(dir)).toEqual(['s2/new.jpg']);
    expect(existsSync(path.join(dir, 's1'))).toBe(true);
  });

  it('refuses with lifetime 0 (keep forever) unless --older-than is given', async () => {
    const dir = tempDir();
    writeLocal(dir, 's/old.jpg', 'x', ago(100 * DAY));
    const refused = await runCli(['media', 'clean'], { env: env(dir, { WHATSAPP_FILES_LIFETIME: '0' }) });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/lifetime is 0 .*WHATSAPP_FILES_LIFETIME.*--older-than/);
    expect(files(dir)).toEqual(['s/old.jpg']);
    const given = await runCli(['media', 'clean', '--older-than', '30d'], { env: env(dir, { WHATSAPP_FILES_LIFETIME: '0' }) });
    expect(given.code).toBe(0);
    expect(files(dir)).toEqual([]);
  });

  it('--max-delete: stops before deleting anything when more would match, deletes when within', async () => {
    const dir = tempDir();
    for (let i = 0; i < 12; i++) writeLocal(dir, `s/${i}.jpg`, 'x', ago(2 * DAY));
    const stopped = await runCli(['media', 'clean', '--older-than', '1d', '--max-delete', '10', '--yes'], { env: env(dir) });
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/stopped before deleting anything: 12 objects .* more than --max-delete 10/);
    expect(stopped.stderr.trim().split('\n')).toHaveLength(1);
    expect(files(dir)).toHaveLength(12);
    const dry = await runCli(['media', 'clean', '--older-than', '1d', '--max-delete', '10', '--dry-run', '--json'], { env: env(dir) });
    expect(dry.code).toBe(1);
    expect(dryRunSummary(dry)).toMatchObject({ matched: 12, deleted: 0 });
    const within = await runCli(['media', 'clean', '--older-than', '1d', '--max-delete', '12', '--json'], { env: env(dir) });
    expect(within.code).toBe(0);
    expect(json(within).summary).toMatchObject({ matched: 12, deleted: 12 });
  });

  it('asks on a terminal when more than --max-delete would go; "no" deletes nothing', async () => {
    const dir = tempDir();
    for (let i = 0; i < 3; i++) writeLocal(dir, `s/${i}.jpg`, 'x', ago(2 * DAY));
    const answered = await runCli(['media', 'clean', '--older-than', '1d', '--max-delete', '1'], { env: env(dir), tty: true, input: 'n\r' });
    expect(answered.stdout).toMatch(/Delete them all\?/);
    expect(answered.stdout).toMatch(/cancelled: nothing was changed/);
    expect(answered.code).toBe(1);
    expect(files(dir)).toHaveLength(3);
    const routine = await runCli(['media', 'clean', '--older-than', '1d'], { env: env(dir), tty: true });
    expect(routine.code).toBe(0); // the routine case asks nothing, even on a terminal
    expect(files(dir)).toEqual([]);
  });

  it('Ctrl-D at the question cancels: exit 130, says so, deletes nothing', async () => {
    const dir = tempDir();
    for (let i = 0; i < 3; i++) writeLocal(dir, `s/${i}.jpg`, 'x', ago(2 * DAY));
    const result = await runCli(['media', 'clean', '--older-than', '1d', '--max-delete', '1'], { env: env(dir), tty: true, input: '\x04', timeoutMs: 30_000 });
    expect(result.stdout).toMatch(/Delete them all\?/);
    expect(result.stdout).toMatch(/cancelled: nothing was changed \(interrupted at the question\)/);
    expect(result.stdout).not.toMatch(/unsettled top-level await/);
    expect(result.code).toBe(130);
    expect(files(dir)).toHaveLength(3);
  });

  it.runIf(privileged)('counts permission-denied files as failed (exit 3) and deletes the rest', async () => {
    const dir = tempDir();
    for (let i = 0; i < 6; i++) writeLocal(dir, `s/${i}.jpg`, 'x', ago(2 * DAY));
    // Root ignores file modes; the immutable attribute stops even root from unlinking.
    const locked = [path.join(dir, 's', '2.jpg'), path.join(dir, 's', '4.jpg')];
    const chattr = spawnSync('chattr', ['+i', ...locked], { encoding: 'utf8' });
    expect(chattr.status, `chattr +i is needed for this test: ${chattr.stderr}`).toBe(0);
    try {
      const result = await runCli(['media', 'clean', '--older-than', '1d', '--json'], { env: env(dir) });
      expect(result.code).toBe(3);
      const document = json(result);
      expect(document.summary).toMatchObject({ matched: 6, deleted: 4, failed: 2 });
      expect(document.failures.map((f: { key: string }) => f.key).sort()).toEqual(['s/2.jpg', 's/4.jpg']);
      expect(document.failures[0].reason).toMatch(/permission denied \(EPERM\)/);
      expect(result.stderr).toMatch(/2 of 6 objects could not be deleted/);
      expect(files(dir)).toEqual(['s/2.jpg', 's/4.jpg']);
    } finally {
      spawnSync('chattr', ['-i', ...locked]);
    }
  });

  it('one clean at a time: a second run exits 1 with a clear message, or waits with --wait', async () => {
    const dir = tempDir();
    writeLocal(dir, 's/old.jpg', 'x', ago(2 * DAY));
    const lockPath = path.join(dir, LOCAL_LOCK_NAME);
    const release = await lockfile.lock(lockPath, { lockfilePath: lockPath, realpath: false });
    try {
      const second = await runCli(['media', 'clean', '--older-than', '1d'], { env: env(dir) });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/Another media clean is running on .*--wait/);
      expect(files(dir)).toEqual(['s/old.jpg']);
      const waiting = runCli(['media', 'clean', '--older-than', '1d', '--wait'], { env: env(dir) });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(files(dir)).toEqual(['s/old.jpg']);
      await release();
      const waited = await waiting;
      expect(waited.code).toBe(0);
      expect(files(dir)).toEqual([]);
    } finally {
      await release().catch(() => undefined);
    }
  });
});

describe('media (local) bad input', () => {
  it('an unparsable --older-than is exit 2 and deletes nothing', async () => {
    const dir = tempDir();
    writeLocal(dir, 's/old.jpg', 'x', ago(2 * DAY));
    const result = await runCli(['media', 'clean', '--older-than', 'yesterday'], { env: env(dir) });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/Invalid --older-than "yesterday": expected a duration like 180s/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(files(dir)).toEqual(['s/old.jpg']);
  });

  it('a missing media folder is exit 2 and names the setting', async () => {
    const result = await runCli(['media', 'clean', '--older-than', '1d'], { env: env('/nonexistent/waha-media') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/media folder \/nonexistent\/waha-media does not exist.*WHATSAPP_FILES_FOLDER/);
    const list = await runCli(['media', 'list'], { env: env('/nonexistent/waha-media') });
    expect(list.code).toBe(2);
  });

  it.runIf(privileged)('an unreadable media folder is exit 1 with what to do (run without the override capabilities)', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'private'));
    writeLocal(dir, 'private/s/old.jpg', 'x', ago(2 * DAY));
    chmodSync(path.join(dir, 'private'), 0o000);
    // Still root (so the checkout, whatever its mode, stays readable) but without CAP_DAC_OVERRIDE /
    // CAP_DAC_READ_SEARCH, so the folder's mode 000 refuses it as it would refuse WAHA's user.
    const dropCaps = ['--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search', '--'];
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('setpriv', [...dropCaps, process.execPath, BIN, 'media', 'clean', '--older-than', '1d'], {
        env: { PATH: process.env.PATH, WHATSAPP_FILES_FOLDER: path.join(dir, 'private') },
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    chmodSync(path.join(dir, 'private'), 0o700);
    expect(result.stderr).toMatch(/Cannot read the media folder .*private: EACCES/);
    expect(result.code).toBe(1);
    expect(files(dir)).toEqual(['private/s/old.jpg']);
  });

  it('an unknown store word, and WAHA_MEDIA_STORAGE=POSTGRESQL without its URL, are exit 2', async () => {
    const word = await runCli(['media', 'list', 'ftp'], {});
    expect(word.code).toBe(2);
    expect(word.stderr).toMatch(/Unknown media store "ftp": use local, s3 or postgres/);
    const psql = await runCli(['media', 'clean', '--older-than', '1d'], { env: { WAHA_MEDIA_STORAGE: 'POSTGRESQL' } });
    expect(psql.code).toBe(2);
    expect(psql.stderr).toMatch(/PostgreSQL media is not configured: set --media-postgres-url \/ WAHA_MEDIA_POSTGRESQL_URL/);
  });
});

afterAll(() => undefined);
