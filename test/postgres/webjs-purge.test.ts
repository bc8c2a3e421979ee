/** WEBJS into PostgreSQL's files table, the liveness guard, purge postgres, and bad input, through the binary. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import AdmZip from 'adm-zip';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { webjsProfileFiles } from '../support/fixtures/index.js';
import { json } from '../support/cli.js';
import { closedPort } from '../health/helpers.js';
import { localScenario, type Scenario } from '../support/scenario.js';
import { emptyBase } from '../migrate/helpers.js';
import { cliIn, databasesOf, dropNamespace, indexesOf, urlWith, withDatabase } from './helpers.js';

const byName = (stdout: string) => new Map((JSON.parse(stdout).sessions as { name: string; status: string; reason?: string; message?: string }[]).map((session) => [session.name, session]));

describe('WEBJS local -> postgres -> local', () => {
  let scenario: Scenario;
  afterAll(async () => {
    await dropNamespace(scenario.namespace);
    await scenario.cleanup();
  });

  it("keeps RemoteAuth-<name>.zip in WAHA's files table, with what RemoteAuth keeps, and comes back byte-identical", async () => {
    scenario = await localScenario('webjs', 'pgw');
    const ns = scenario.namespace;
    const result = await cliIn(['migrate', 'local', 'postgres', '--engine', 'WEBJS', '--session', 'web2', '--json'], scenario.base, ns);
    expect(byName(result.stdout).get('web2'), result.stdout).toMatchObject({ status: 'done' });
    const expected = webjsProfileFiles('web2').filter((file) => file.auth);
    await withDatabase(`waha_${ns}_web2`, async (client) => {
      const { rows } = await client.query<{ fullpath: string; content: Buffer; metadata: unknown; created_at: Date | null }>('SELECT fullpath, content, metadata, created_at FROM files');
      expect(rows.map((row) => row.fullpath)).toEqual(['RemoteAuth-web2.zip']);
      expect(rows[0]!.metadata).toEqual({});
      expect(rows[0]!.created_at).not.toBeNull();
      expect(await indexesOf(client, 'files')).toEqual(['files_created_at_index', 'files_fullpath_index', 'files_last_accessed_at_index', 'files_metadata_index', 'files_pkey']);
      const zip = new AdmZip(rows[0]!.content); // what WAHA's RemoteAuth extracts
      const inZip = zip.getEntries().filter((entry) => !entry.isDirectory);
      expect(inZip.map((entry) => entry.entryName).sort()).toEqual(expected.map((file) => file.path).sort());
      for (const file of expected) expect(zip.getEntry(file.path)!.getData().equals(file.data), file.path).toBe(true);
    });
    const back = await emptyBase();
    const restored = await cliIn(['migrate', 'postgres', 'local', '--engine', 'WEBJS', '--json'], back, ns);
    expect(byName(restored.stdout).get('web2'), restored.stdout).toMatchObject({ status: 'done' });
    for (const file of expected) {
      expect((await readFile(path.join(back, ns, 'web2', 'session-web2', ...file.path.split('/')))).equals(file.data), file.path).toBe(true);
    }
  });
});

describe('liveness, purge and bad input', () => {
  let scenario: Scenario;
  afterAll(async () => {
    await dropNamespace(scenario.namespace);
    await scenario.cleanup();
  });

  it("refuses to migrate or purge a session WAHA is connected to (application_name WAHA(...)), then purges it as WAHA's delete", async () => {
    scenario = await localScenario('noweb', 'pgl');
    const ns = scenario.namespace;
    const copied = await cliIn(['migrate', 'local', 'postgres', '--session', 'alpha', '--session', 'fresh', '--json'], scenario.base, ns);
    expect(copied.code, copied.stderr).toBe(0);
    const waha = new pg.Client({ connectionString: urlWith({ database: `waha_${ns}_alpha` }), application_name: 'WAHA(NOWEB) 2026.9.1 - Session/Auth' });
    await waha.connect();
    try {
      const back = await emptyBase();
      const migrated = await cliIn(['migrate', 'postgres', 'local', '--session', 'alpha', '--json'], back, ns);
      expect(byName(migrated.stdout).get('alpha')).toMatchObject({ status: 'failed', reason: 'live' });
      expect(byName(migrated.stdout).get('alpha')!.message).toContain('WAHA(NOWEB) 2026.9.1 - Session/Auth');
      const purged = await cliIn(['purge', 'postgres', '--session', 'alpha', '--yes', '--json'], scenario.base, ns);
      expect(purged.code).toBe(1);
      expect(json(purged).error.message).toMatch(/WAHA is connected.*nothing was removed/);
      expect(await databasesOf(ns)).toContain(`waha_${ns}_alpha`);
    } finally {
      await waha.end();
    }
    const dry = await cliIn(['purge', 'pg', '--session', 'alpha', '--dry-run', '--json'], scenario.base, ns);
    expect(json(dry).summary).toMatchObject({ sessions: 1, planned: 1 });
    expect(await databasesOf(ns)).toContain(`waha_${ns}_alpha`);
    const purged = await cliIn(['purge', 'postgres', '--session', 'alpha', '--yes', '--json'], scenario.base, ns);
    expect(purged.code, purged.stderr).toBe(0);
    expect(await databasesOf(ns)).toEqual([`waha_${ns}`, `waha_${ns}_fresh`]);
    await withDatabase(`waha_${ns}`, async (client) => {
      for (const table of ['session_config', 'me', 'session_worker']) {
        expect((await client.query(`SELECT 1 FROM ${table} WHERE id = 'alpha'`)).rowCount, table).toBe(0);
      }
    });
    // --logout: the database and me go, session_config stays (a logged-out session)
    const logout = await cliIn(['purge', 'postgres', '--session', 'fresh', '--logout', '--yes', '--json'], scenario.base, ns);
    expect(logout.code, logout.stderr).toBe(0);
    expect(await databasesOf(ns)).toEqual([`waha_${ns}`]);
    await withDatabase(`waha_${ns}`, async (client) => {
      expect((await client.query("SELECT 1 FROM session_config WHERE id = 'fresh'")).rowCount).toBe(1);
    });
  });

  it('a wrong password and an unreachable port are one line each, exit 1, the password never shown', async () => {
    const base = await emptyBase();
    const wrong = await cliIn(['migrate', 'postgres', 'local', '--json'], base, scenario.namespace, { url: urlWith({ password: 'Wr0ng-Secret-Pw' }) });
    expect(wrong.code).toBe(1);
    expect(json(wrong).error).toMatchObject({ code: 'authentication' });
    expect(wrong.stdout + wrong.stderr).not.toContain('Wr0ng-Secret-Pw');
    const port = await closedPort();
    const refused = await cliIn(['inspect', 'postgres', '--json'], base, scenario.namespace, { url: urlWith({ port }) });
    expect(refused.code).toBe(1);
    expect(json(refused).error).toMatchObject({ code: 'postgres-unreachable' });
    expect(json(refused).error.message).toMatch(/connection refused/);
    const missing = await cliIn(['migrate', 'local', 'postgres'], base, scenario.namespace, { url: '' });
    expect(missing.code).toBe(2);
  });

  it('a role without CREATEDB fails each session with the grant to give, and writes nothing', async () => {
    const role = `waha_nocreate_${randomBytes(3).toString('hex')}`;
    const password = 'NoCreate-Pw-4';
    await withDatabase('postgres', (client) => client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' NOCREATEDB`));
    const fresh = await localScenario('noweb', 'pgr');
    try {
      const result = await cliIn(['migrate', 'local', 'postgres', '--session', 'alpha', '--json'], fresh.base, fresh.namespace, { url: urlWith({ user: role, password }) });
      expect(result.code).toBe(1);
      const alpha = byName(result.stdout).get('alpha')!;
      expect(alpha).toMatchObject({ status: 'failed', reason: 'not-authorized' });
      expect(alpha.message).toMatch(/CREATEDB/);
      expect(await databasesOf(fresh.namespace)).toEqual([]);
      expect(result.stdout + result.stderr).not.toContain(password);
    } finally {
      await withDatabase('postgres', (client) => client.query(`DROP ROLE IF EXISTS ${role}`));
      await fresh.cleanup();
    }
  });
});

