/**
 * `backup prune` over folders of real archives whose manifests carry made-up creation times:
 * each restic rule alone, combinations, grouping by source and session set (never by file name),
 * files that are not ours (or cannot be read) left alone, --dry-run, confirmation.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveTarget } from '../../src/sessions/stores/archive/writer.js';
import { isoWeek } from '../../src/sessions/rotation.js';
import { json, runCli, type CliResult } from '../support/cli.js';
import { cli, localScenario, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => { for (const cleanup of cleanups) await cleanup(); });

async function folder(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface ArchiveSpec {
  createdAt: string;
  sessions?: string[];
  location?: string;
  passphrase?: string;
}

/** A real archive (header, NOWEB sessions with creds, manifest) written by the archive writer with a chosen clock. */
async function makeArchive(file: string, spec: ArchiveSpec): Promise<void> {
  const destination = createWriteStream(file, { mode: 0o600 });
  const archive = await ArchiveTarget.open({
    destination,
    tool: { name: 'waha-storage', version: 'test' },
    source: { store: 'local', location: spec.location ?? '/srv/waha/.sessions' },
    passphrase: spec.passphrase,
    scryptWorkFactor: spec.passphrase ? 10 : undefined,
    now: () => new Date(spec.createdAt),
  });
  for (const name of spec.sessions ?? ['alpha', 'beta']) {
    const staged = await archive.stage({ engine: 'NOWEB', name });
    await staged.write({ kind: 'config', name: 'config', value: null });
    await staged.write({ kind: 'key', name: 'creds', value: { me: { id: `${name}@s.whatsapp.net` }, registrationId: 1 } });
    await staged.flush();
    await staged.commit();
  }
  await archive.finish();
  await new Promise<void>((resolve) => (destination.writableFinished ? resolve() : destination.once('finish', () => resolve())));
}

/** Archives named by letter, so file names say nothing about their times. */
async function archives(dir: string, times: string[], spec: Omit<ArchiveSpec, 'createdAt'> = {}, prefix = 'a'): Promise<Map<string, string>> {
  const byTime = new Map<string, string>();
  for (const [index, createdAt] of times.entries()) {
    const file = `${prefix}${String.fromCharCode(97 + ((index * 7) % 26))}${index}.tar.gz`;
    await makeArchive(path.join(dir, file), { ...spec, createdAt });
    byTime.set(createdAt, file);
  }
  return byTime;
}

function prune(dir: string, args: string[], env: Record<string, string> = {}, extra: { tty?: boolean; input?: string } = {}): Promise<CliResult> {
  return runCli(['backup', 'prune', dir, ...args], { env, ...extra });
}

/** Kept creation times (ISO), newest first, from a --json run. */
function kept(result: CliResult): string[] {
  return json(result).groups.flatMap((group: any) => group.archives).filter((archive: any) => archive.action === 'keep').map((archive: any) => archive.createdAt);
}

async function remaining(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

const iso = (text: string) => new Date(text).toISOString();

describe('backup prune: each rule alone', () => {
  it('--keep-last N keeps the N newest, removes the rest (with --yes), and a rerun changes nothing', async () => {
    const dir = await folder();
    const times = ['2024-05-01T10:00:00Z', '2024-05-03T10:00:00Z', '2024-05-02T10:00:00Z', '2024-05-05T10:00:00Z', '2024-05-04T10:00:00Z'];
    const files = await archives(dir, times);
    const run = await prune(dir, ['--keep-last', '2', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(kept(run)).toEqual([iso('2024-05-05T10:00:00Z'), iso('2024-05-04T10:00:00Z')]);
    expect(json(run).summary).toMatchObject({ archives: 5, kept: 2, remove: 3, removed: 3, failed: 0 });
    expect(await remaining(dir)).toEqual([files.get('2024-05-05T10:00:00Z'), files.get('2024-05-04T10:00:00Z')].sort());
    const again = await prune(dir, ['--keep-last', '2', '--yes', '--json']);
    expect(again.code).toBe(0);
    expect(json(again).summary).toMatchObject({ archives: 2, kept: 2, removed: 0 });
  });

  it('--keep-hourly keeps the newest archive of each of the last N hours that have one', async () => {
    const dir = await folder();
    await archives(dir, ['2024-05-01T10:05:00Z', '2024-05-01T10:40:00Z', '2024-05-01T11:10:00Z', '2024-05-01T12:30:00Z', '2024-05-01T12:50:00Z']);
    const run = await prune(dir, ['--keep-hourly', '2', '--dry-run', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(kept(run)).toEqual([iso('2024-05-01T12:50:00Z'), iso('2024-05-01T11:10:00Z')]);
  });

  it('--keep-daily counts only days that have an archive (gaps do not use up the count)', async () => {
    const dir = await folder();
    await archives(dir, ['2024-05-01T08:00:00Z', '2024-05-01T20:00:00Z', '2024-05-03T09:00:00Z', '2024-05-07T23:59:00Z', '2024-05-08T00:01:00Z', '2024-05-08T06:00:00Z']);
    const run = await prune(dir, ['--keep-daily', '3', '--dry-run', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(kept(run)).toEqual([iso('2024-05-08T06:00:00Z'), iso('2024-05-07T23:59:00Z'), iso('2024-05-03T09:00:00Z')]);
    const reasons = json(run).groups[0].archives.find((archive: any) => archive.createdAt === iso('2024-05-07T23:59:00Z')).reasons;
    expect(reasons).toEqual([{ rule: 'daily', period: '2024-05-07' }]);
  });

  it('--keep-weekly uses ISO weeks (Monday to Sunday; the week of 2024-12-30 is 2025-W01)', async () => {
    expect(isoWeek(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeek(new Date('2024-12-29T23:59:59Z'))).toBe('2024-W52');
    expect(isoWeek(new Date('2021-01-03T12:00:00Z'))).toBe('2020-W53');
    const dir = await folder();
    await archives(dir, ['2024-12-23T10:00:00Z', '2024-12-29T10:00:00Z', '2024-12-30T10:00:00Z', '2025-01-05T10:00:00Z']);
    const run = await prune(dir, ['--keep-weekly', '2', '--dry-run', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(kept(run)).toEqual([iso('2025-01-05T10:00:00Z'), iso('2024-12-29T10:00:00Z')]);
  });

  it('--keep-monthly and --keep-yearly keep the newest archive of each month / year', async () => {
    const dir = await folder();
    await archives(dir, ['2023-06-01T10:00:00Z', '2023-12-31T23:00:00Z', '2024-01-31T10:00:00Z', '2024-02-01T10:00:00Z', '2024-02-29T10:00:00Z', '2024-03-15T10:00:00Z']);
    const monthly = await prune(dir, ['--keep-monthly', '2', '--dry-run', '--json']);
    expect(kept(monthly)).toEqual([iso('2024-03-15T10:00:00Z'), iso('2024-02-29T10:00:00Z')]);
    const yearly = await prune(dir, ['--keep-yearly', '2', '--dry-run', '--json']);
    expect(kept(yearly)).toEqual([iso('2024-03-15T10:00:00Z'), iso('2023-12-31T23:00:00Z')]);
  });

  it('--keep-within keeps what is newer than the newest archive minus the duration (not the current time)', async () => {
    const dir = await folder();
    await archives(dir, ['2024-05-10T12:00:00Z', '2024-05-09T00:00:00Z', '2024-05-08T12:00:01Z', '2024-05-08T12:00:00Z', '2024-05-01T12:00:00Z']);
    const run = await prune(dir, ['--keep-within', '2d', '--dry-run', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(kept(run)).toEqual([iso('2024-05-10T12:00:00Z'), iso('2024-05-09T00:00:00Z'), iso('2024-05-08T12:00:01Z')]);
    expect(json(run).groups[0].archives[0].reasons).toEqual([{ rule: 'within' }]);
  });
});

describe('backup prune: combinations and groups', () => {
  it('keeps an archive when any rule keeps it, and says which rules do', async () => {
    const dir = await folder();
    const times = ['2024-03-10T10:00:00Z', '2024-04-20T10:00:00Z', '2024-04-28T10:00:00Z', '2024-05-01T09:00:00Z', '2024-05-01T18:00:00Z', '2024-05-02T10:00:00Z', '2024-05-02T11:00:00Z'];
    const files = await archives(dir, times);
    const run = await prune(dir, ['--keep-last', '1', '--keep-daily', '2', '--keep-monthly', '3', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const byTime = Object.fromEntries(json(run).groups[0].archives.map((archive: any) => [archive.createdAt, archive]));
    expect(byTime[iso('2024-05-02T11:00:00Z')].reasons).toEqual([{ rule: 'last' }, { rule: 'daily', period: '2024-05-02' }, { rule: 'monthly', period: '2024-05' }]);
    expect(byTime[iso('2024-05-01T18:00:00Z')].reasons).toEqual([{ rule: 'daily', period: '2024-05-01' }]);
    expect(byTime[iso('2024-04-28T10:00:00Z')].reasons).toEqual([{ rule: 'monthly', period: '2024-04' }]);
    expect(byTime[iso('2024-03-10T10:00:00Z')].reasons).toEqual([{ rule: 'monthly', period: '2024-03' }]);
    for (const time of ['2024-05-02T10:00:00Z', '2024-05-01T09:00:00Z', '2024-04-20T10:00:00Z']) {
      expect(byTime[iso(time)]).toMatchObject({ action: 'remove', status: 'removed', reasons: [] });
      expect(existsSync(path.join(dir, files.get(time)!))).toBe(false);
    }
    expect((await remaining(dir)).length).toBe(4);
  });

  it('rotates each source and session set apart, from the manifests (file names mean nothing)', async () => {
    const dir = await folder();
    const times = ['2024-05-01T10:00:00Z', '2024-05-02T10:00:00Z', '2024-05-03T10:00:00Z'];
    await archives(dir, times, { sessions: ['alpha', 'beta'] }, 'x');
    await archives(dir, times, { sessions: ['alpha'] }, 'y');
    await archives(dir, times, { sessions: ['alpha', 'beta'], location: '/other/host/.sessions' }, 'z');
    // a misleading name: "latest" is the oldest of its group
    await makeArchive(path.join(dir, 'sessions-latest.tar.gz'), { createdAt: '2020-01-01T00:00:00Z', sessions: ['beta', 'alpha'] });
    const run = await prune(dir, ['--keep-last', '1', '--dry-run', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const groups = json(run).groups;
    expect(groups).toHaveLength(3);
    for (const group of groups) {
      expect(group.archives.filter((archive: any) => archive.action === 'keep').map((archive: any) => archive.createdAt)).toEqual([iso('2024-05-03T10:00:00Z')]);
    }
    const main = groups.find((group: any) => group.source.location === '/srv/waha/.sessions' && group.sessions.length === 2);
    expect(main.sessions).toEqual(['NOWEB/alpha', 'NOWEB/beta']);
    expect(main.archives.find((archive: any) => archive.file === 'sessions-latest.tar.gz').action).toBe('remove');
  });
});

describe('backup prune: what is not ours stays', () => {
  it('leaves foreign files, folders, symlinks, incomplete and unreadable encrypted archives alone', async () => {
    const dir = await folder();
    const files = await archives(dir, ['2024-05-01T10:00:00Z', '2024-05-02T10:00:00Z', '2024-05-03T10:00:00Z']);
    const oldest = files.get('2024-05-01T10:00:00Z')!;
    await writeFile(path.join(dir, 'notes.txt'), 'not an archive\n');
    await pipeline(async function* () { yield Buffer.from('just gzip\n'); }, createGzip(), createWriteStream(path.join(dir, 'other.gz')));
    await writeTar(path.join(dir, 'someone-else.tar.gz'), [['etc/hosts', '127.0.0.1 localhost\n']]);
    // a backup cut off (or still being written): our header, no manifest
    await writeTar(path.join(dir, 'cut.tar.gz.partial'), [['waha-storage-archive.json', JSON.stringify({ format: 'waha-storage-archive', formatVersion: 1, createdAt: '2000-01-01T00:00:00Z' })]]);
    await mkdir(path.join(dir, 'old-backups'));
    await makeArchive(path.join(dir, 'old-backups', 'inside.tar.gz'), { createdAt: '2019-01-01T00:00:00Z' });
    await symlink(oldest, path.join(dir, 'link-to-oldest.tar.gz'));
    await makeArchive(path.join(dir, 'secret.tar.gz.age'), { createdAt: '2019-01-01T00:00:00Z', passphrase: 'correct horse' });
    const before = await remaining(dir);

    const run = await prune(dir, ['--keep-last', '1', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const document = json(run);
    expect(document.summary).toMatchObject({ archives: 3, kept: 1, removed: 2, notRead: 2, foreign: 5 });
    expect(document.foreign.map((item: any) => [item.file, item.kind]).sort()).toEqual([
      ['link-to-oldest.tar.gz', 'symlink'], ['notes.txt', 'file'], ['old-backups', 'directory'], ['other.gz', 'file'], ['someone-else.tar.gz', 'file'],
    ]);
    expect(document.notRead.map((item: any) => item.file).sort()).toEqual(['cut.tar.gz.partial', 'secret.tar.gz.age']);
    expect(document.notRead.find((item: any) => item.file === 'secret.tar.gz.age').reason).toMatch(/passphrase/);
    const after = await remaining(dir);
    expect(after).toEqual(before.filter((file) => file !== oldest && file !== files.get('2024-05-02T10:00:00Z')));
    expect(existsSync(path.join(dir, 'old-backups', 'inside.tar.gz'))).toBe(true);

    // with the passphrase the encrypted archive is read: it is of the same group and older, so it goes
    const withKey = await prune(dir, ['--keep-last', '1', '--yes', '--json'], { WAHA_STORAGE_BACKUP_PASSPHRASE: 'correct horse' });
    expect(withKey.code, withKey.stderr).toBe(0);
    const encrypted = json(withKey).groups[0].archives.find((archive: any) => archive.file === 'secret.tar.gz.age');
    expect(encrypted).toMatchObject({ encrypted: true, createdAt: iso('2019-01-01T00:00:00Z'), status: 'removed' });
    expect(existsSync(path.join(dir, 'secret.tar.gz.age'))).toBe(false);
    expect(existsSync(path.join(dir, 'cut.tar.gz.partial'))).toBe(true);
    // a wrong passphrase: not read, left alone (the run still succeeds)
    await makeArchive(path.join(dir, 'other-key.age'), { createdAt: '2019-01-01T00:00:00Z', passphrase: 'another' });
    const wrong = await prune(dir, ['--keep-last', '1', '--yes', '--json'], { WAHA_STORAGE_BACKUP_PASSPHRASE: 'correct horse' });
    expect(wrong.code, wrong.stderr).toBe(0);
    expect(json(wrong).notRead.map((item: any) => item.file)).toContain('other-key.age');
    expect(existsSync(path.join(dir, 'other-key.age'))).toBe(true);
  });
});

describe('backup prune: dry run, confirmation, usage', () => {
  it('--dry-run removes nothing and plans what the real run then does', async () => {
    const dir = await folder();
    await archives(dir, ['2024-05-01T10:00:00Z', '2024-05-02T10:00:00Z', '2024-05-03T10:00:00Z', '2024-05-04T10:00:00Z']);
    const before = await remaining(dir);
    const dry = await prune(dir, ['--keep-last', '1', '--keep-within', '36h', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(await remaining(dir)).toEqual(before);
    expect(json(dry).summary).toMatchObject({ kept: 2, remove: 2, removed: 0 });
    const human = await prune(dir, ['--keep-last', '1', '--keep-within', '36h', '--dry-run']);
    expect(human.stdout).toMatch(/would remove/);
    expect(human.stdout).toMatch(/within 36h/);
    const real = await prune(dir, ['--keep-last', '1', '--keep-within', '36h', '--yes', '--json']);
    const plan = (result: CliResult) => json(result).groups[0].archives.map((archive: any) => [archive.file, archive.action, archive.reasons]);
    expect(plan(real)).toEqual(plan(dry));
    expect(json(real).summary).toMatchObject({ removed: 2, bytes: json(dry).summary.bytes });
    expect((await remaining(dir)).length).toBe(2);
  });

  it('without a terminal removal needs --yes (exit 2, nothing removed); on a terminal it asks', async () => {
    const dir = await folder();
    await archives(dir, ['2024-05-01T10:00:00Z', '2024-05-02T10:00:00Z']);
    const before = await remaining(dir);
    const refused = await prune(dir, ['--keep-last', '1']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect(await remaining(dir)).toEqual(before);
    const no = await prune(dir, ['--keep-last', '1'], {}, { tty: true, input: 'n\r' });
    expect(no.code, no.stdout).toBe(1);
    expect(no.stdout).toMatch(/Remove 1 archive\b/);
    expect(await remaining(dir)).toEqual(before);
    const yes = await prune(dir, ['--keep-last', '1'], {}, { tty: true, input: 'y\r' });
    expect(yes.code, yes.stdout).toBe(0);
    expect((await remaining(dir)).length).toBe(1);
    // nothing to remove: no question at all
    const nothing = await prune(dir, ['--keep-last', '1']);
    expect(nothing.code, nothing.stderr).toBe(0);
  });

  it('needs at least one rule, a valid count or duration, and an existing folder (exit 2)', async () => {
    const dir = await folder();
    await archives(dir, ['2024-05-01T10:00:00Z', '2024-05-02T10:00:00Z']);
    for (const args of [[], ['--keep-last', '0'], ['--keep-daily', 'x'], ['--keep-within', 'soon'], ['--dry-run']]) {
      const run = await prune(dir, args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
    }
    expect((await remaining(dir)).length).toBe(2);
    const missing = await prune(path.join(dir, 'nope'), ['--keep-last', '1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope/);
  });
});

describe('backup --output placeholders', () => {
  it('fills {date} and {time} (UTC) and the archive made is rotated by its manifest time', async () => {
    const scenario = await localScenario('noweb', 'prn');
    cleanups.push(scenario.cleanup);
    const dir = await folder();
    const backup = (at: string) => cli(['backup', 'local', '-o', path.join(dir, 'waha-{date}T{time}.tar.gz'), '--session', 'alpha', '--force'], scenario.base, scenario.namespace, { env: { WAHA_STORAGE_NOW: at } });
    for (const at of ['2024-05-01T23:59:58+02:00', '2024-05-02T03:04:05Z']) {
      const made = await backup(at);
      expect(made.code, made.stderr).toBe(0);
    }
    expect(await remaining(dir)).toEqual(['waha-2024-05-01T215958.tar.gz', 'waha-2024-05-02T030405.tar.gz']);
    const run = await prune(dir, ['--keep-daily', '1', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run).groups[0]).toMatchObject({ source: { store: 'local' }, sessions: ['NOWEB/alpha'] });
    expect(kept(run)).toEqual([iso('2024-05-02T03:04:05Z')]);
    expect(await remaining(dir)).toEqual(['waha-2024-05-02T030405.tar.gz']);
  });
});

async function writeTar(file: string, entries: [string, string][]): Promise<void> {
  const pack = tar.pack();
  for (const [name, text] of entries) pack.entry({ name }, text);
  pack.finalize();
  await pipeline(pack, createGzip(), createWriteStream(file));
}
