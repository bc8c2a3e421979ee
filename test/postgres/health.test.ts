import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collationMismatch, roleProblems } from '../../src/health/postgres.js';
import { json, runCli } from '../support/cli.js';
import { closedPort, hungServer, tmpDir } from '../health/helpers.js';
import { postgresUrl, urlWith, withDatabase } from './helpers.js';

const dirs = () => {
  const dir = tmpDir('pg-health');
  return ['--sessions-dir', dir, '--media-dir', dir];
};

// the preflight checks read this namespace's databases: other test files' never count here
const NAMESPACE = `hc${randomBytes(4).toString('hex')}`;

async function health(url: string, extra: string[] = []) {
  const result = await runCli(['health', '--json', ...dirs(), ...extra], { env: { WHATSAPP_SESSIONS_POSTGRESQL_URL: url, WAHA_NAMESPACE: NAMESPACE, WAHA_SESSION_NAMESPACE: NAMESPACE } });
  return { result, body: json(result) };
}

describe('health with a PostgreSQL URL', () => {
  const role = `waha_nocreate_${randomBytes(3).toString('hex')}`;
  const password = 'nocreate-Secret-9';
  beforeAll(async () => {
    await withDatabase('postgres', (client) => client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' NOCREATEDB`));
  });
  afterAll(async () => {
    await withDatabase('postgres', (client) => client.query(`DROP ROLE IF EXISTS ${role}`));
  });

  it('leaves WAHA\'s default checks as they are (no postgresql check without --extended)', async () => {
    const { result, body } = await health(postgresUrl());
    expect(result.code).toBe(0);
    expect(Object.keys(body.details)).toEqual(['mediaFiles.space', 'sessionsFiles.space']);
  });

  it('--extended: postgresql and postgresql.permissions are up for a role that may create databases', async () => {
    const { result, body } = await health(postgresUrl(), ['--extended']);
    expect(body.details.postgresql).toMatchObject({ status: 'up', message: 'Up and running' });
    expect(body.details['postgresql.permissions']).toMatchObject({ status: 'up', message: 'can create and drop databases' });
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(new URL(postgresUrl()).password);
  });

  it('--extended: a role without CREATEDB is down with the grant to run', async () => {
    const { result, body } = await health(urlWith({ user: role, password }), ['--extended']);
    expect(result.code).toBe(1);
    expect(body.details.postgresql).toMatchObject({ status: 'up' });
    expect(body.error['postgresql.permissions']).toMatchObject({ status: 'down', reason: 'forbidden', role });
    expect(body.error['postgresql.permissions'].detail).toMatch(/no CREATEDB/);
    expect(body.error['postgresql.permissions'].hint).toContain(`ALTER ROLE "${role}" CREATEDB`);
    expect(result.stdout + result.stderr).not.toContain(password);
  });

  it('--extended: a wrong password is down with reason authentication, the password never shown', async () => {
    const { result, body } = await health(urlWith({ password: 'Wrong-Pass-77' }), ['--extended']);
    expect(result.code).toBe(1);
    expect(body.error.postgresql).toMatchObject({ status: 'down', error: 'Timeout', reason: 'authentication' });
    expect(body.error['postgresql.permissions']).toMatchObject({ status: 'down', reason: 'authentication' });
    expect(result.stdout + result.stderr).not.toContain('Wrong-Pass-77');
  });

  it('--extended: an unreachable port is refused, a hung server times out within --postgres-timeout', async () => {
    const port = await closedPort();
    const refused = await health(urlWith({ port }), ['--extended']);
    expect(refused.body.error.postgresql).toMatchObject({ status: 'down', reason: 'refused' });
    const hung = await hungServer();
    try {
      const started = Date.now();
      const timedOut = await health(urlWith({ port: hung.port }), ['--extended', '--postgres-timeout', '700']);
      expect(timedOut.body.error.postgresql).toMatchObject({ status: 'down', reason: 'timeout' });
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      await hung.stop();
    }
  });

  it('a URL that is not postgres:// is a usage error (exit 2)', async () => {
    const result = await runCli(['health', '--json', ...dirs()], { env: { WHATSAPP_SESSIONS_POSTGRESQL_URL: 'mysql://u:Pw-xyz-1@h/db' } });
    expect(result.code).toBe(2);
    expect(json(result).error.message).toMatch(/postgres:\/\/ or postgresql:\/\//);
    expect(result.stdout + result.stderr).not.toContain('Pw-xyz-1');
  });
});

describe('permission rules (unit)', () => {
  it('needs CREATEDB or superuser and a server >= 13', () => {
    expect(roleProblems({ rolsuper: false, rolcreatedb: true }, 150004)).toEqual([]);
    expect(roleProblems({ rolsuper: true, rolcreatedb: false }, 130000)).toEqual([]);
    expect(roleProblems({ rolsuper: false, rolcreatedb: false }, 150004)[0]).toMatch(/no CREATEDB/);
    expect(roleProblems({ rolsuper: true, rolcreatedb: true }, 120011)[0]).toMatch(/12\.11 is older than 13.*WITH \(FORCE\)/);
  });

  it('recognises the server\'s template1 collation mismatch error', () => {
    expect(collationMismatch(new Error('template database "template1" has a collation version mismatch'))).toBe(true);
    expect(collationMismatch(new Error('permission denied to create database'))).toBe(false);
  });
});
