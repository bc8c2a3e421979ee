/**
 * media list / clean / verify postgres (issue 15, item 1) through the built binary, against a real
 * PostgreSQL holding WAHA's `media` table in several session databases.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresMediaStore, type PostgresMediaObject } from '../../src/media/postgres.js';
import { BIN, cleanEnv, json, runCli } from '../support/cli.js';
import { ROOT } from '../support/servers.js';
import {
  createSessionDatabase, dropDatabases, fullpaths, insertMany, insertRows, mediaUrl, rowCount, uniqueMediaNamespace, wahaJsonMetadata, withDb,
  type MediaRowSeed,
} from './postgres-seed.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.now();
const ago = (ms: number) => new Date(NOW - ms);
const ndjson = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line));

const namespaces: string[] = [];
afterAll(async () => {
  for (const namespace of namespaces) await dropDatabases(`waha\\_${namespace}\\_%`);
});

/** A namespace with session databases alpha (1,500 rows), beta (rows with last downloads), gamma (none expired) and one without media. */
async function fixture() {
  const namespace = uniqueMediaNamespace();
  namespaces.push(namespace);
  const db = (slug: string) => `waha_${namespace}_${slug}`;
  // the server's zone and the tool's own differ from UTC: ages must not move
  await createSessionDatabase(db('alpha'), { timezone: 'Asia/Kolkata' });
  await createSessionDatabase(db('beta'));
  await createSessionDatabase(db('gamma'));
  await createSessionDatabase(db('nomedia'), { media: false });
  const alpha: MediaRowSeed[] = [];
  for (let i = 0; i < 1500; i++) alpha.push({ fullpath: `false_111@c.us_A${String(i).padStart(5, '0')}.jpeg`, createdAt: ago(i < 700 ? 10 * DAY : i < 1100 ? 2 * DAY : HOUR) });
  // the age boundary, a minute either side of one day
  alpha.push({ fullpath: 'EDGE_OLD.jpeg', createdAt: ago(DAY + MINUTE) }, { fullpath: 'EDGE_NEW.jpeg', createdAt: ago(DAY - MINUTE) });
  await insertRows(db('alpha'), 'alpha', alpha);
  await insertRows(db('beta'), 'beta', [
    { fullpath: 'OLD_NEVER.oga', createdAt: ago(10 * DAY) },                                  // never downloaded: counts from created_at
    { fullpath: 'OLD_RECENT.oga', createdAt: ago(10 * DAY), lastAccessedAt: ago(HOUR) },       // downloaded an hour ago
    { fullpath: 'OLD_STALE.oga', createdAt: ago(10 * DAY), lastAccessedAt: ago(3 * DAY) },     // last downloaded 3 days ago
    { fullpath: 'NEW_NEVER.oga', createdAt: ago(2 * HOUR) },
    { fullpath: 'MID_STALE.oga', createdAt: ago(4 * DAY), lastAccessedAt: ago(3 * DAY) },
  ]);
  await insertRows(db('gamma'), 'gamma', [{ fullpath: 'G1.mp4', createdAt: ago(HOUR), bytes: 5000 }]);
  const env = { WAHA_MEDIA_POSTGRESQL_URL: mediaUrl(), WAHA_SESSION_NAMESPACE: namespace, TZ: 'America/New_York' };
  return { namespace, db, env, alpha };
}

describe('media list postgres', () => {
  let f: Awaited<ReturnType<typeof fixture>>;
  beforeAll(async () => { f = await fixture(); }, 120_000);

  it('lists every row of every session database with a media table, keyed <messageId>.<ext>, aged from created_at as UTC', async () => {
    const result = await runCli(['media', 'list', 'postgres', '--json'], { env: f.env });
    expect(result.code, result.stderr).toBe(0);
    const lines = ndjson(result.stdout);
    expect(lines[0]).toMatchObject({ schemaVersion: 1, type: 'header', store: 'postgres' });
    const objects = lines.slice(1, -1);
    expect(objects).toHaveLength(1502 + 5 + 1);
    const edge = objects.find((o) => o.key === 'EDGE_OLD.jpeg');
    expect(edge).toEqual({ session: 'alpha', key: 'EDGE_OLD.jpeg', bytes: 100, modifiedAt: ago(DAY + MINUTE).toISOString() });
    expect(objects.find((o) => o.key === 'G1.mp4')).toMatchObject({ session: 'gamma', bytes: 5000, modifiedAt: ago(HOUR).toISOString() });
    expect(lines.at(-1).summary).toMatchObject({ count: 1508, sessions: { alpha: { count: 1502 }, beta: { count: 5 }, gamma: { count: 1, bytes: 5000 } } });
    expect(result.stdout).not.toContain('nomedia');
  });

  it('WAHA_MEDIA_STORAGE=POSTGRESQL picks the store; --session by name (its slug) and --older-than select', async () => {
    const result = await runCli(['media', 'list', '--session', 'Beta', '--older-than', '5d', '--json'], { env: { ...f.env, WAHA_MEDIA_STORAGE: 'POSTGRESQL' } });
    expect(result.code, result.stderr).toBe(0);
    const objects = ndjson(result.stdout).slice(1, -1);
    expect(objects.map((o) => o.key).sort()).toEqual(['OLD_NEVER.oga', 'OLD_RECENT.oga', 'OLD_STALE.oga']);
    expect(objects.every((o) => o.session === 'Beta')).toBe(true);
  });

  it('--unused-for counts from the last download, or from created_at when never downloaded', async () => {
    const result = await runCli(['media', 'list', 'postgres', '--session', 'beta', '--unused-for', '2d', '--json'], { env: f.env });
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson(result.stdout).slice(1, -1).map((o) => o.key).sort()).toEqual(['MID_STALE.oga', 'OLD_NEVER.oga', 'OLD_STALE.oga']);
    const both = await runCli(['media', 'list', 'postgres', '--session', 'beta', '--unused-for', '2d', '--older-than', '5d', '--json'], { env: f.env });
    expect(ndjson(both.stdout).slice(1, -1).map((o) => o.key).sort()).toEqual(['OLD_NEVER.oga', 'OLD_STALE.oga']);
  });

  it('refuses --unused-for where no last download is known, and a missing URL, with exit 2', async () => {
    const s3 = await runCli(['media', 'list', 'local', '--unused-for', '1d'], { env: f.env });
    expect(s3.code).toBe(2);
    expect(s3.stderr).toMatch(/--unused-for.*only PostgreSQL media/);
    const missing = await runCli(['media', 'list'], { env: { WAHA_MEDIA_STORAGE: 'POSTGRESQL' } });
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toContain('WAHA_MEDIA_POSTGRESQL_URL');
  });

  it('never prints the password of the URL', async () => {
    const result = await runCli(['media', 'list', 'postgres', '--session', 'gamma'], { env: f.env });
    expect(result.code, result.stderr).toBe(0);
    const password = new URL(mediaUrl()).password;
    expect(result.stdout + result.stderr).not.toContain(password);
  });
});

describe('media clean postgres', () => {
  let f: Awaited<ReturnType<typeof fixture>>;
  beforeEach(async () => { f = await fixture(); }, 120_000);

  it('--dry-run counts what a real run deletes and deletes nothing', async () => {
    const dry = await runCli(['media', 'clean', 'postgres', '--older-than', '1d', '--dry-run', '--json'], { env: f.env });
    expect(dry.code, dry.stderr).toBe(0);
    const summary = ndjson(dry.stdout).at(-1).summary;
    expect(summary).toMatchObject({ matched: 700 + 400 + 1 + 4, deleted: 0 });
    expect(await rowCount(f.db('alpha'))).toBe(1502);
  });

  it('deletes exactly the expired rows in batches, reports table sizes, and --vacuum runs VACUUM on the cleaned tables', async () => {
    const result = await runCli(['media', 'clean', 'postgres', '--older-than', '1d', '--vacuum', '--json'], { env: f.env });
    expect(result.code, result.stderr).toBe(0);
    const document = json(result);
    expect(document.summary).toMatchObject({ matched: 1105, deleted: 1105, failed: 0, vanished: 0, bytes: 1105 * 100 });
    const alpha = await fullpaths(f.db('alpha'));
    expect(alpha).toHaveLength(1502 - 1101);
    expect(alpha).toContain('EDGE_NEW.jpeg');
    expect(alpha).not.toContain('EDGE_OLD.jpeg');
    expect((await fullpaths(f.db('beta'))).sort()).toEqual(['NEW_NEVER.oga']);
    expect(await rowCount(f.db('gamma'))).toBe(1);
    const tables = document.tables as { session: string; database: string; bytesBefore: number; bytesAfter: number; deleted: number; vacuumed: boolean }[];
    expect(tables.map((t) => [t.session, t.deleted, t.vacuumed])).toEqual([['alpha', 1101, true], ['beta', 4, true], ['gamma', 0, false]]);
    for (const table of tables) expect(table.bytesBefore).toBeGreaterThan(0);
    const vacuumed = await withDb(f.db('alpha'), async (client) => (await client.query("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'media'")).rows[0].last_vacuum);
    expect(vacuumed).not.toBeNull();
    const untouched = await withDb(f.db('gamma'), async (client) => (await client.query("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'media'")).rows[0].last_vacuum);
    expect(untouched).toBeNull();
  });

  it('says how big the tables are and that only VACUUM FULL returns the space; a rerun deletes nothing more', async () => {
    const first = await runCli(['media', 'clean', 'postgres', '--older-than', '1d', '--session', 'beta'], { env: f.env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Deleted 4 of 4 objects/);
    expect(first.stdout).toContain(`waha_${f.namespace}_beta`);
    expect(first.stdout).toMatch(/VACUUM FULL/);
    const again = await runCli(['media', 'clean', 'postgres', '--older-than', '1d', '--session', 'beta', '--json'], { env: f.env });
    expect(json(again).summary).toMatchObject({ matched: 0, deleted: 0 });
  });

  it('--unused-for alone cleans by last download; WAHA never deletes PostgreSQL media, so no age at all is refused', async () => {
    const result = await runCli(['media', 'clean', 'postgres', '--unused-for', '2d', '--session', 'beta', '--json'], { env: f.env });
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).summary).toMatchObject({ deleted: 3 });
    expect((await fullpaths(f.db('beta'))).sort()).toEqual(['NEW_NEVER.oga', 'OLD_RECENT.oga']);
    const none = await runCli(['media', 'clean', 'postgres'], { env: f.env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/WAHA never deletes PostgreSQL media/);
  });

  it('--max-delete stops before deleting anything when more match', async () => {
    const result = await runCli(['media', 'clean', 'postgres', '--older-than', '1d', '--max-delete', '1000'], { env: f.env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/1105 objects .* more than --max-delete 1000/);
    expect(await rowCount(f.db('alpha'))).toBe(1502);
    const within = await runCli(['media', 'clean', 'postgres', '--older-than', '1d', '--max-delete', '2000', '--json'], { env: f.env });
    expect(json(within).summary.deleted).toBe(1105);
  });

  it('one clean at a time per server: an advisory lock; a second run exits 1, or waits with --wait', async () => {
    const holder = PostgresMediaStore.open(mediaUrl(), { sessionNamespace: f.namespace });
    const release = await holder.acquireLock();
    try {
      const refused = await runCli(['media', 'clean', 'postgres', '--older-than', '1d'], { env: f.env });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/Another media clean is running/);
      expect(await rowCount(f.db('alpha'))).toBe(1502);
      const waiting = runCli(['media', 'clean', 'postgres', '--older-than', '1d', '--wait', '--json'], { env: f.env });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await rowCount(f.db('alpha'))).toBe(1502);
      await release();
      const done = await waiting;
      expect(done.code, done.stderr).toBe(0);
      expect(json(done).summary.deleted).toBe(1105);
    } finally {
      await release();
      await holder.close();
    }
  }, 60_000);

  it('a row WAHA saved again or served after the listing is kept (the delete checks the row is still as listed)', async () => {
    const store = PostgresMediaStore.open(mediaUrl(), { sessionNamespace: f.namespace });
    try {
      const listed: PostgresMediaObject[] = [];
      for await (const page of store.list({ sessions: ['beta'] })) listed.push(...(page as PostgresMediaObject[]));
      expect(listed).toHaveLength(5);
      await withDb(f.db('beta'), async (client) => {
        // WAHA's upsert ON CONFLICT(fullpath) replaces created_at; a download runs touch()
        await client.query("UPDATE media SET created_at = $1::timestamp WHERE fullpath = 'OLD_NEVER.oga'", [new Date().toISOString()]);
        await client.query("UPDATE media SET last_accessed_at = $1::timestamp WHERE fullpath = 'OLD_STALE.oga'", [new Date().toISOString()]);
      });
      const outcome = await store.delete(listed);
      expect(outcome.deleted.map((o) => o.key).sort()).toEqual(['MID_STALE.oga', 'NEW_NEVER.oga', 'OLD_RECENT.oga']);
      expect(outcome.vanished.map((o) => o.key).sort()).toEqual(['OLD_NEVER.oga', 'OLD_STALE.oga']);
      expect((await fullpaths(f.db('beta'))).sort()).toEqual(['OLD_NEVER.oga', 'OLD_STALE.oga']);
    } finally {
      await store.close();
    }
  });
});

describe('media clean postgres, interrupted', () => {
  it('SIGINT mid-run: exit 130, the summary counts exactly the rows gone, a rerun finishes', async () => {
    const namespace = uniqueMediaNamespace('pgi');
    namespaces.push(namespace);
    const total = 60_000;
    for (const slug of ['s1', 's2', 's3']) {
      await createSessionDatabase(`waha_${namespace}_${slug}`);
      await insertMany(`waha_${namespace}_${slug}`, slug, `M${slug}_`, total / 3, ago(3 * DAY));
    }
    const count = async () => (await Promise.all(['s1', 's2', 's3'].map((slug) => rowCount(`waha_${namespace}_${slug}`)))).reduce((a, b) => a + b, 0);
    const env = { WAHA_MEDIA_POSTGRESQL_URL: mediaUrl(), WAHA_SESSION_NAMESPACE: namespace };
    const child = spawn(process.execPath, [BIN, 'media', 'clean', 'postgres', '--older-than', '1d', '--json'], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let finished = false;
    void closed.then(() => { finished = true; });
    const deadline = Date.now() + 60_000;
    while (!finished && (await count()) === total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 30));
    expect(finished, `it finished before SIGINT could be sent:\n${stderr}`).toBe(false);
    child.kill('SIGINT');
    const code = await closed;
    const left = await count();
    expect(code, stderr).toBe(130);
    expect(left).toBeGreaterThan(0);
    const document = JSON.parse(stdout);
    expect(document.interrupted).toBe(true);
    expect(document.summary.deleted).toBe(total - left);
    const rerun = await runCli(['media', 'clean', 'postgres', '--older-than', '1d', '--json'], { env, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(json(rerun).summary.deleted).toBe(left);
    expect(await count()).toBe(0);
  }, 180_000);
});

describe('media verify postgres', () => {
  it('checks the JSONB metadata as verify checks S3 metadata (waha-created-at is a number here); exit 3 on errors', async () => {
    const namespace = uniqueMediaNamespace('pgv');
    namespaces.push(namespace);
    await createSessionDatabase(`waha_${namespace}_alpha`);
    await createSessionDatabase(`waha_${namespace}_my_session`);
    const created = ago(DAY);
    await insertRows(`waha_${namespace}_alpha`, 'alpha', [
      { fullpath: 'OK1.jpeg', createdAt: created },
      { fullpath: 'STRING_TIME.jpeg', createdAt: created, metadata: { ...wahaJsonMetadata('alpha', 'STRING_TIME.jpeg', created), 'waha-created-at': String(created.getTime()) } },
      { fullpath: 'OTHER_SESSION.jpeg', createdAt: created, metadata: wahaJsonMetadata('beta', 'OTHER_SESSION.jpeg', created) },
      { fullpath: 'WRONG_ID.jpeg', createdAt: created, metadata: { ...wahaJsonMetadata('alpha', 'WRONG_ID.jpeg', created), 'waha-message-id': 'SOMETHING' } },
      { fullpath: 'NO_META.jpeg', createdAt: created, metadata: null },
      { fullpath: 'FUTURE.jpeg', createdAt: created, metadata: { ...wahaJsonMetadata('alpha', 'FUTURE.jpeg', created), 'waha-created-at': NOW + 10 * DAY } },
    ]);
    // "My.Session" is kept in waha_<ns>_my_session (WAHA's slug): its metadata names the real session
    await insertRows(`waha_${namespace}_my_session`, 'My.Session', [{ fullpath: 'OK2.jpeg', createdAt: created }]);
    const env = { WAHA_MEDIA_POSTGRESQL_URL: mediaUrl(), WAHA_SESSION_NAMESPACE: namespace };
    const result = await runCli(['media', 'verify', 'postgres', '--json'], { env });
    expect(result.code, result.stderr).toBe(3);
    const document = json(result);
    expect(document.summary).toMatchObject({ checked: 7, ok: 2, errors: 5, warnings: 0 });
    const problems = Object.fromEntries(document.problems.map((p: { key: string; problem: string }) => [p.key, p.problem]));
    expect(problems).toEqual({
      'alpha/STRING_TIME.jpeg': 'created-at-invalid',
      'alpha/OTHER_SESSION.jpeg': 'session-mismatch',
      'alpha/WRONG_ID.jpeg': 'message-id-mismatch',
      'alpha/NO_META.jpeg': 'metadata-missing',
      'alpha/FUTURE.jpeg': 'created-at-future',
    });
    const clean = await runCli(['media', 'verify', '--session', 'My.Session'], { env: { ...env, WAHA_MEDIA_STORAGE: 'POSTGRESQL' } });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/Checked 1 object .*: 1 ok, 0 errors/);
  });
});
