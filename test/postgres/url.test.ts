import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { redact } from '../../src/config/redact.js';
import { classifyPostgresError, parsePostgresUrl } from '../../src/util/postgres.js';

describe("PostgreSQL URL with WAHA's rules", () => {
  it('sslmode=disable turns TLS off; anything else, or nothing, turns it on without certificate checks', () => {
    expect(parsePostgresUrl('postgres://u:p@h/postgres?sslmode=disable').ssl).toBe(false);
    expect(parsePostgresUrl('postgres://u:p@h/postgres').ssl).toEqual({ rejectUnauthorized: false });
    expect(parsePostgresUrl('postgresql://u:p@h/postgres?sslmode=require').ssl).toEqual({ rejectUnauthorized: false });
    expect(parsePostgresUrl('postgresql://u:p@h/postgres?sslmode=prefer').ssl).toEqual({ rejectUnauthorized: false });
  });

  it('port 5432 by default; the path is the maintenance database only; credentials decoded', () => {
    expect(parsePostgresUrl('postgres://u:p%40ss@db.example/maint?sslmode=disable')).toEqual({
      host: 'db.example', port: 5432, user: 'u', password: 'p@ss', database: 'maint', ssl: false,
    });
    expect(parsePostgresUrl('postgres://u:p@h:6543').database).toBeUndefined();
    expect(parsePostgresUrl('postgres://u:p@h:6543').port).toBe(6543);
    expect(() => parsePostgresUrl('mysql://u:p@h/db')).toThrow(/Invalid postgresql url/);
  });

  it('the flag, the variable and the file all load; the password is registered as a secret', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'waha-pg-url-'));
    const file = path.join(dir, 'url');
    writeFileSync(file, 'postgres://me:Fi1e-Secret@h/postgres?sslmode=disable\n');
    expect(loadConfig({ flags: {}, env: { WHATSAPP_SESSIONS_POSTGRESQL_URL_FILE: file }, cwd: dir }).sessions.postgresUrl)
      .toBe('postgres://me:Fi1e-Secret@h/postgres?sslmode=disable');
    expect(redact('password Fi1e-Secret')).toBe('password ***');
    const config = loadConfig({ flags: { postgresUrl: 'postgresql://a:Fl4g-Secret@h' }, env: { WHATSAPP_SESSIONS_POSTGRESQL_URL: 'postgres://b:c@x' }, cwd: dir });
    expect(config.sessions.postgresUrl).toBe('postgresql://a:Fl4g-Secret@h');
    expect(redact('Fl4g-Secret')).toBe('***');
    expect(() => loadConfig({ flags: {}, env: { WHATSAPP_SESSIONS_POSTGRESQL_URL: 'http://h' }, cwd: dir }).sessions).toThrow(/WHATSAPP_SESSIONS_POSTGRESQL_URL/);
  });

  it('classifies driver errors', () => {
    expect(classifyPostgresError(Object.assign(new Error('password authentication failed for user "x"'), { code: '28P01' }))).toBe('authentication');
    expect(classifyPostgresError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('refused');
    expect(classifyPostgresError(Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND' }))).toBe('dns');
    expect(classifyPostgresError(new Error('The server does not support SSL connections'))).toBe('tls');
    expect(classifyPostgresError(new Error('Connection terminated due to connection timeout'))).toBe('timeout');
  });
});
