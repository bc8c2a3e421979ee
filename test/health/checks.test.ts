import { spawnSync } from 'node:child_process';
import { mkdirSync, promises as fs, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDiskSpace } from '../../src/health/disk.js';
import { checkSessionsIntegrity } from '../../src/health/integrity.js';
import { CHECK, healthResult, isHealthResult } from '../../src/health/result.js';
import { runHealth, wantsS3 } from '../../src/health/run.js';
import { checkWritable } from '../../src/health/writable.js';
import { tmpDir } from './helpers.js';

const MB = 1024 * 1024;

describe('the terminus result', () => {
  it('puts up checks under info, down checks under error, all under details, in order', () => {
    const result = healthResult([
      ['b', { status: 'up', x: 1 }],
      ['a', { status: 'down', y: 2 }],
    ]);
    expect(Object.keys(result)).toEqual(['status', 'info', 'error', 'details']);
    expect(result.status).toBe('error');
    expect(result.info).toEqual({ b: { status: 'up', x: 1 } });
    expect(result.error).toEqual({ a: { status: 'down', y: 2 } });
    expect(Object.keys(result.details)).toEqual(['b', 'a']);
    expect(healthResult([['b', { status: 'up' }]])).toEqual({ status: 'ok', info: { b: { status: 'up' } }, error: {}, details: { b: { status: 'up' } } });
  });

  it('recognises a terminus body and rejects others', () => {
    expect(isHealthResult({ status: 'ok', info: {}, error: {}, details: {} })).toBe(true);
    expect(isHealthResult({ status: 'error', details: { a: { status: 'down' } } })).toBe(true);
    expect(isHealthResult({ statusCode: 422, message: 'Plus' })).toBe(false);
    expect(isHealthResult('<html>')).toBe(false);
  });
});

describe('mediaFiles.space / sessionsFiles.space', () => {
  it('reports free bytes as df does, the mount point, and the threshold in bytes', async () => {
    const dir = tmpDir();
    const detail = await checkDiskSpace({ path: dir, thresholdMb: 100 });
    const stats = await fs.statfs(dir);
    expect(detail.status).toBe('up');
    expect(detail.path).toBe(dir);
    expect(detail.threshold).toBe(104857600);
    expect(Math.abs((detail.free as number) - stats.bavail * stats.bsize)).toBeLessThan(64 * MB);
    const df = spawnSync('df', ['-P', dir], { encoding: 'utf8' });
    const mount = df.stdout.trim().split('\n').pop()!.split(/\s+/).pop();
    expect(detail.diskPath).toBe(mount);
    expect(detail).not.toHaveProperty('measuredAt');
  });

  it('is down when free space is under the threshold', async () => {
    const detail = await checkDiskSpace({ path: tmpDir(), thresholdMb: 999999999 });
    expect(detail.status).toBe('down');
    expect(detail.threshold).toBe(999999999 * MB);
  });

  it('measures a folder that does not exist yet at its nearest existing parent, and says so', async () => {
    const parent = tmpDir();
    const missing = path.join(parent, 'not', 'yet');
    const detail = await checkDiskSpace({ path: missing, thresholdMb: 0.5 });
    expect(detail).toMatchObject({ status: 'up', path: missing, exists: false, measuredAt: parent, threshold: 524288 });
  });
});

describe('writable checks', () => {
  it('writes and removes a probe file', async () => {
    const dir = tmpDir();
    expect(await checkWritable(dir)).toEqual({ status: 'up', path: dir });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is up for a missing folder whose parent WAHA can create it in', async () => {
    const parent = tmpDir();
    expect(await checkWritable(path.join(parent, 'media'))).toMatchObject({ status: 'up', exists: false, measuredAt: parent });
  });

  it('is down when the path is a file, not a folder', async () => {
    const file = path.join(tmpDir(), 'a-file');
    writeFileSync(file, 'x');
    const detail = await checkWritable(file);
    expect(detail).toMatchObject({ status: 'down', reason: 'not-writable' });
    expect(detail.detail).toMatch(/ENOTDIR/);
  });
});

describe('sessions.integrity', () => {
  it('parses every creds.json and counts sessions of every engine', async () => {
    const base = tmpDir();
    mkdirSync(path.join(base, 'noweb', 'default'), { recursive: true });
    writeFileSync(path.join(base, 'noweb', 'default', 'creds.json'), JSON.stringify({ me: { id: '1@s.whatsapp.net' } }));
    mkdirSync(path.join(base, 'webjs', 'other'), { recursive: true });
    writeFileSync(path.join(base, 'noweb', 'waha.sqlite3'), '');
    expect(await checkSessionsIntegrity({ sessionsDir: base })).toEqual({ status: 'up', path: base, sessions: 2, creds: 1, problems: 0 });
  });

  it('is down naming the session whose creds.json does not parse', async () => {
    const base = tmpDir();
    mkdirSync(path.join(base, 'noweb', 'broken'), { recursive: true });
    writeFileSync(path.join(base, 'noweb', 'broken', 'creds.json'), '{"noiseKey": ');
    const detail = await checkSessionsIntegrity({ sessionsDir: base });
    expect(detail).toMatchObject({ status: 'down', sessions: 1, creds: 1, problems: 1, reason: 'unreadable' });
    expect(detail.first).toEqual([{ session: 'noweb/broken', problem: expect.stringMatching(/creds.json does not parse/) }]);
  });

  it('is down for a GOWS session whose gows.db cannot be opened (the inspect readers decide)', async () => {
    const base = tmpDir();
    mkdirSync(path.join(base, 'gows', 'gopher'), { recursive: true });
    writeFileSync(path.join(base, 'gows', 'gopher', 'gows.db'), 'this is not a database');
    const detail = await checkSessionsIntegrity({ sessionsDir: base });
    expect(detail).toMatchObject({ status: 'down', sessions: 1, problems: 1, reason: 'unreadable' });
    expect(detail.first).toEqual([{ session: 'gows/gopher', problem: expect.stringMatching(/gows\.db/) }]);
  });

  it('is up with no sessions when the folder does not exist', async () => {
    expect(await checkSessionsIntegrity({ sessionsDir: path.join(tmpDir(), 'none') })).toMatchObject({ status: 'up', sessions: 0 });
  });
});

describe('runHealth', () => {
  const health = { mediaThresholdMb: 100, sessionsThresholdMb: 100, mongoTimeoutMs: 1000 };
  const noS3 = () => ({ forcePathStyle: false });

  it('runs WAHA checks for a local store: mediaFiles.space then sessionsFiles.space', async () => {
    const dir = tmpDir();
    const result = await runHealth({ sessions: { sessionsDir: dir }, media: { mediaDir: dir }, health, s3: noS3 });
    expect(result.status).toBe('ok');
    expect(Object.keys(result.details)).toEqual([CHECK.mediaSpace, CHECK.sessionsSpace]);
  });

  it('adds the extended checks after the server ones, without s3 when S3 is not in use', async () => {
    const dir = tmpDir();
    const result = await runHealth({ sessions: { sessionsDir: dir }, media: { mediaDir: dir, storage: 'LOCAL' }, health, s3: noS3, extended: true });
    expect(Object.keys(result.details)).toEqual([
      CHECK.mediaSpace, CHECK.sessionsSpace, CHECK.sessionsWritable, CHECK.mediaWritable, CHECK.sessionsIntegrity,
    ]);
    expect(result.status).toBe('ok');
  });

  it('decides when S3 is checked', () => {
    expect(wantsS3('S3', { forcePathStyle: false })).toBe(true);
    expect(wantsS3('LOCAL', { forcePathStyle: false, bucket: 'b' })).toBe(true);
    expect(wantsS3('LOCAL', { forcePathStyle: false })).toBe(false);
  });
});
