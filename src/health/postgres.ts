/**
 * `postgresql`: the server answers `SELECT 1` within the timeout (with the reason when not), and
 * `postgresql.permissions`: the role may create and drop databases as WAHA does (postgres.md §1.6):
 * CREATEDB or superuser, a server >= 13 (`DROP DATABASE … WITH (FORCE)`), and a probe database
 * really created from template1 and dropped (a collation-mismatched template1 fails here, waha#1446).
 * WAHA's own /health has no PostgreSQL check: these run only with --extended.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { redact } from '../config/redact.js';
import { classifyPostgresError, describePostgresFailure, PostgresServer, quoteIdent, serverVersion, type PostgresFailure } from '../util/postgres.js';
import { collationMismatch as templateCollationAdvice } from '../sessions/stores/postgres/store.js';
import type { CheckDetail } from './result.js';
import { CheckTimeout, withTimeout } from './timeout.js';

export interface PostgresCheckOptions {
  url: string;
  timeoutMs: number;
}

const GRACE_MS = 250;
export const MIN_SERVER_VERSION = 130000;

export async function checkPostgres(options: PostgresCheckOptions): Promise<CheckDetail> {
  await import('pg');
  const opened = open(options);
  try {
    const version = await withTimeout(opened.then(async (client) => {
      await client.query('SELECT 1');
      return serverVersion(client);
    }), options.timeoutMs + GRACE_MS);
    return { status: 'up', message: 'Up and running', version: versionText(version) };
  } catch (error) {
    return postgresDown(error);
  } finally {
    closeLater(opened);
  }
}

export async function checkPostgresPermissions(options: PostgresCheckOptions): Promise<CheckDetail> {
  await import('pg');
  const opened = open(options);
  const database = `waha_storage_probe_${randomBytes(4).toString('hex')}`;
  let step: 'connect' | 'role' | 'create' | 'drop' = 'connect';
  const probe = async (): Promise<CheckDetail> => {
    const client = await opened;
    step = 'role';
    const version = await serverVersion(client);
    const { rows } = await client.query<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean }>(
      'SELECT rolname, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user');
    const role = rows[0];
    const problems = roleProblems(role, version);
    if (problems.length) return { status: 'down', reason: 'forbidden', role: role?.rolname, version: versionText(version), detail: problems.join('; '), hint: problemsHint(role, version) };
    step = 'create';
    await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
    step = 'drop';
    await client.query(`DROP DATABASE ${quoteIdent(database)} WITH (FORCE)`);
    return { status: 'up', role: role!.rolname, version: versionText(version), message: 'can create and drop databases' };
  };
  try {
    return await withTimeout(probe(), 2 * options.timeoutMs + GRACE_MS);
  } catch (error) {
    if (step === 'connect') return postgresDown(error);
    const left = step === 'drop' ? ` (the probe database ${database} is left behind; drop it by hand)` : '';
    const collation = collationMismatch(error);
    return {
      status: 'down',
      reason: collation ? 'template-collation' : isForbidden(error) ? 'forbidden' : error instanceof CheckTimeout ? 'timeout' : classifyPostgresError(error),
      database,
      detail: `cannot ${step === 'role' ? 'read the role' : `${step} database ${database}`}: ${redact(messageOf(error))}${left}`,
      hint: collation
        ? templateCollationAdvice(error) ?? 'see postgresql.collation'
        : 'WAHA creates and drops one database per session: ALTER ROLE <user> CREATEDB (and let it own the waha_* databases)',
    };
  } finally {
    closeLater(opened);
  }
}

/** What is missing for WAHA's CREATE DATABASE / DROP DATABASE … WITH (FORCE), in words. */
export function roleProblems(role: { rolsuper: boolean; rolcreatedb: boolean } | undefined, version: number): string[] {
  const problems: string[] = [];
  if (!role) problems.push('the role of this connection is not in pg_roles');
  else if (!role.rolsuper && !role.rolcreatedb) problems.push('the role may not create databases (no CREATEDB, not a superuser)');
  if (version < MIN_SERVER_VERSION) problems.push(`PostgreSQL ${versionText(version)} is older than 13: WAHA's DROP DATABASE … WITH (FORCE) needs 13 or newer`);
  return problems;
}

function problemsHint(role: { rolname: string; rolsuper: boolean; rolcreatedb: boolean } | undefined, version: number): string {
  if (version < MIN_SERVER_VERSION) return 'upgrade PostgreSQL to 13 or newer (WAHA logs out and deletes sessions with DROP DATABASE … WITH (FORCE))';
  return `as a superuser: ALTER ROLE ${role ? quoteIdent(role.rolname) : '<user>'} CREATEDB`;
}

/** WAHA's down fields, plus what really failed. */
export function postgresDown(error: unknown): CheckDetail {
  const reason: PostgresFailure = error instanceof CheckTimeout ? 'timeout' : classifyPostgresError(causeOf(error));
  const extra = reason === 'other' ? `: ${redact(messageOf(causeOf(error)))}` : '';
  return { status: 'down', error: 'Timeout', reason, detail: `${describePostgresFailure(reason)}${extra}` };
}

/** "template database "template1" has a collation version mismatch" (waha#1380, #1446). */
export function collationMismatch(error: unknown): boolean {
  return /collation version mismatch/i.test(messageOf(error));
}

function isForbidden(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '42501' || /permission denied|must be owner/i.test(messageOf(error));
}

function versionText(version: number): string {
  return version >= 100000 ? `${Math.floor(version / 10000)}.${version % 10000}` : `${Math.floor(version / 10000)}.${Math.floor(version / 100) % 100}.${version % 100}`;
}

function open(options: PostgresCheckOptions): Promise<Client> {
  return new PostgresServer({ url: options.url, timeoutMs: options.timeoutMs, applicationName: 'waha-storage health' }).connect();
}

function closeLater(opened: Promise<Client>): void {
  opened.then((client) => client.end()).catch(() => {});
}

function causeOf(error: unknown): unknown {
  return (error as { cause?: unknown })?.cause ?? error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
