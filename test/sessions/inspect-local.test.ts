import { mkdtempSync, utimesSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeLocalFixtures, type ExpectedSession, type FixtureSet } from '../support/fixtures/index.js';
import { json, runCli } from '../support/cli.js';

let base: string;
let fixtures: FixtureSet;

beforeAll(async () => {
  base = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-inspect-'));
  fixtures = await writeLocalFixtures(base);
});

function find(sessions: any[], expected: ExpectedSession) {
  return sessions.find((session) => session.name === expected.name && session.engine === expected.engine);
}

describe('inspect local (through the binary)', () => {
  it('reports every fixture session exactly: engine, name, login, me, worker, config, entries, bytes', async () => {
    const result = await runCli(['inspect', 'local', '--sessions-dir', base, '--json']);
    expect(result.code).toBe(0);
    const document = json(result);
    expect(document.schemaVersion).toBe(1);
    expect(document.sessions).toHaveLength(fixtures.sessions.length);
    for (const expected of fixtures.sessions) {
      const session = find(document.sessions, expected);
      expect(session, `${expected.engine} ${expected.name}`).toBeDefined();
      expect(session.store).toBe('local');
      expect({ name: session.name, loggedIn: session.loggedIn, me: session.me, config: session.config, worker: session.worker, files: session.details.files, bytes: session.bytes })
        .toEqual({ name: expected.name, loggedIn: expected.loggedIn, me: expected.me, config: expected.config, worker: expected.worker, files: expected.entries, bytes: expected.bytes }); // the fixture counts files; `entries` is tested in test/e2e/entries
      expect(session.problems.map((item: any) => item.code).sort()).toEqual([...expected.problems].sort());
      for (const item of session.problems) expect(item.hint).toBeTruthy();
      if (expected.keysByCategory) expect(session.details.keysByCategory).toEqual(expected.keysByCategory);
      if (expected.layout) expect(session.details.layout).toBe(expected.layout);
    }
    expect(document.problems.map((item: any) => item.code).sort()).toEqual([...fixtures.problems].sort());
  });

  it('recognises both WEBJS layouts and reads GOWS login from gows.db', async () => {
    const document = json(await runCli(['inspect', '--sessions-dir', base, '--engine', 'webjs', '--engine', 'GOWS', '--json']));
    const byName = Object.fromEntries(document.sessions.map((session: any) => [session.name, session]));
    expect(byName.web1.details.layout).toBe('plus');
    expect(byName.web2.details.layout).toBe('core');
    expect(byName.web1.details.authBytes).toBeGreaterThan(0);
    expect(byName.web1.details.cacheBytes).toBeGreaterThan(0);
    expect(byName.gopher.loggedIn).toBe(true);
    expect(byName.gonew.loggedIn).toBe(false);
    expect(document.sessions.every((session: any) => ['WEBJS', 'GOWS'].includes(session.engine))).toBe(true);
  });

  it('does not create -wal or -shm files next to SQLite databases it reads', async () => {
    await runCli(['inspect', '--sessions-dir', base, '--json']);
    const gowsFiles = readdirSync(path.join(base, 'gows', 'gonew'));
    expect(gowsFiles.filter((name) => /-(wal|shm)$/.test(name))).toEqual([]);
    expect(readdirSync(path.join(base, 'noweb')).filter((name) => /-(wal|shm)$/.test(name))).toEqual([]);
  });

  it('shows the detail view for one session, with keys per category and hints', async () => {
    const result = await runCli(['inspect', 'local', '--sessions-dir', base, '--session', 'broken']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('creds-corrupt');
    expect(result.stdout).toContain('hint:');
    expect(result.stdout).toContain('temp-files');
    const alpha = await runCli(['inspect', 'local', '--sessions-dir', base, '--session', 'alpha']);
    expect(alpha.stdout).toMatch(/keys: pre-key\s+\d+/);
    expect(alpha.stdout).toContain('1 webhook');
  });

  it('prints a table on stdout and nothing on stderr when piped', async () => {
    const result = await runCli(['inspect', '--sessions-dir', base]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^NOWEB +alpha +local +yes/m);
    expect(result.stdout).toMatch(/13 sessions, \d+ logged in/);
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toMatch(/\u001b\[/);
  });

  it('uses colour on a terminal, and none with NO_COLOR', async () => {
    const colored = await runCli(['inspect', '--sessions-dir', base], { tty: true });
    expect(colored.code).toBe(0);
    expect(colored.stdout).toMatch(/\u001b\[3\dm/);
    const plain = await runCli(['inspect', '--sessions-dir', base], { tty: true, env: { NO_COLOR: '1' } });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('alpha');
    expect(plain.stdout).not.toMatch(/\u001b\[3\dm/);
  });

  it('reads the sessions dir from WAHA_LOCAL_STORE_BASE_DIR and from a .env file', async () => {
    const fromEnv = json(await runCli(['inspect', '--json'], { env: { WAHA_LOCAL_STORE_BASE_DIR: base } }));
    expect(fromEnv.sessions).toHaveLength(fixtures.sessions.length);
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-envfile-'));
    writeFileSync(path.join(cwd, '.env'), `WAHA_LOCAL_STORE_BASE_DIR=${base}\n`);
    const fromDotenv = json(await runCli(['inspect', '--json', '--engine', 'GOWS'], { cwd }));
    expect(fromDotenv.sessions.map((session: any) => session.name).sort()).toEqual(['gonew', 'gopher']);
  });

  it('finds sessions under a shared session namespace and tells engines apart by content', async () => {
    const shared = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-ns-'));
    await writeLocalFixtures(shared);
    const document = json(await runCli(['inspect', '--sessions-dir', shared, '--session-namespace', 'noweb', '--namespace', 'noweb', '--json']));
    const alpha = document.sessions.find((session: any) => session.name === 'alpha');
    expect(alpha.engine).toBe('NOWEB');
    expect(alpha.loggedIn).toBe(true);
    expect(alpha.me).not.toBeNull();
  });

  it('redacts secret fields of a session config in JSON', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-secret-'));
    await writeLocalFixtures(dir);
    writeFileSync(path.join(dir, 'noweb', 'fresh', '.waha.session.config.json'),
      JSON.stringify({ proxy: { server: 'p:1', username: 'u', password: 'proxy-pass-123' }, webhooks: [{ url: 'https://x', hmac: { key: 'hmac-secret-456' } }] }));
    const result = await runCli(['inspect', '--sessions-dir', dir, '--json', '--session', 'fresh']);
    expect(result.stdout).not.toContain('proxy-pass-123');
    expect(result.stdout).not.toContain('hmac-secret-456');
    expect(json(result).sessions[0].config.proxy.server).toBe('p:1');
  });

  it('stamps lastChange from the newest file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-mtime-'));
    await writeLocalFixtures(dir);
    const folder = path.join(dir, 'noweb', 'fresh');
    const when = new Date('2025-03-04T05:06:07Z');
    for (const name of readdirSync(folder)) utimesSync(path.join(folder, name), when, when);
    const document = json(await runCli(['inspect', '--sessions-dir', dir, '--json', '--session', 'fresh']));
    expect(document.sessions[0].lastChange).toBe('2025-03-04T05:06:07.000Z');
  });
});
