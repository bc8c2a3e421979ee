/**
 * The server's answers the test server cannot give: a version older than 13 (WAHA's DROP DATABASE …
 * WITH (FORCE)), and template1's collation version mismatch (waha#1446), as node-pg reports them.
 */
import { describe, expect, it } from 'vitest';
import { OperationError } from '../../src/errors.js';
import { foreignDatabaseProblem } from '../../src/sessions/stores/postgres/layout.js';
import { collationMismatch, permissionError, PostgresTransferStore, requireServerVersion } from '../../src/sessions/stores/postgres/store.js';
import { EntryError } from '../../src/sessions/stores/types.js';
import type { PostgresServer } from '../../src/util/postgres.js';

/** A server whose every connection answers `SHOW server_version_num` with `version` and records the rest. */
function fakeServer(version: string): { server: PostgresServer; queries: string[] } {
  const queries: string[] = [];
  const client = {
    query: async (text: string | { text: string }) => {
      const sql = typeof text === 'string' ? text : text.text;
      queries.push(sql);
      if (/server_version_num/.test(sql)) return { rows: [{ server_version_num: version }], rowCount: 1 };
      return { rows: [], rowCount: 0 };
    },
  };
  const run = async (_database: string | undefined, work: (c: unknown) => Promise<unknown>) => work(client);
  const server = { location: 'postgres://***@db:5432/postgres', with: run, pooled: run, close: async () => {} };
  return { server: server as unknown as PostgresServer, queries };
}

describe('PostgreSQL older than 13', () => {
  it('is refused before anything is written or dropped, naming the version and the need', async () => {
    for (const [answer, shown] of [['120015', 'PostgreSQL 12 '], ['90624', 'PostgreSQL 9.6 ']] as const) {
      const { server, queries } = fakeServer(answer);
      const store = new PostgresTransferStore({ server, namespace: 'noweb' });
      const ref = { engine: 'NOWEB' as const, name: 'alpha' };
      for (const attempt of [() => store.stage(ref, { replace: false }), () => store.remove(ref), () => store.logout(ref)]) {
        const error = await attempt().then(() => undefined, (caught: unknown) => caught);
        expect(error).toBeInstanceOf(OperationError);
        expect((error as OperationError).message).toContain(shown);
        expect((error as OperationError).message).toMatch(/13 or newer.*WITH \(FORCE\).*nothing was changed/);
        expect((error as OperationError).code).toBe('postgres-version');
      }
      expect(queries.filter((sql) => !/server_version_num/.test(sql))).toEqual([]);
    }
  });

  it('13 and newer pass', () => {
    for (const version of [130000, 130014, 150004, 170002]) expect(() => requireServerVersion(version)).not.toThrow();
    expect(() => requireServerVersion(120022)).toThrow(/PostgreSQL 12 is too old/);
  });
});

describe("template1's collation version mismatch (waha#1446)", () => {
  // createdb() in PostgreSQL 15's dbcommands.c: no SQLSTATE of its own (XX000), the details in detail and hint
  const mismatch = Object.assign(new Error('template database "template1" has a collation version mismatch'), {
    code: 'XX000', severity: 'ERROR',
    detail: 'The template database was created using collation version 2.31, but the operating system provides version 2.36.',
    hint: 'Rebuild all objects in the template database that use the default collation and run ALTER DATABASE template1 REFRESH COLLATION VERSION, or build PostgreSQL with the right library version.',
  });

  it('says what to run, in order: REINDEX DATABASE template1, then ALTER DATABASE template1 REFRESH COLLATION VERSION', () => {
    const error = permissionError(mismatch, 'waha_storage_stage_0123');
    expect(error).toBeInstanceOf(EntryError);
    expect((error as EntryError).reason).toBe('template-collation');
    const message = (error as EntryError).message;
    expect(message).toContain('creating waha_storage_stage_0123 failed');
    expect(message).toContain('created using collation version 2.31, but the operating system provides version 2.36');
    expect(message.indexOf('REINDEX DATABASE template1')).toBeGreaterThan(0);
    expect(message.indexOf('ALTER DATABASE template1 REFRESH COLLATION VERSION')).toBeGreaterThan(message.indexOf('REINDEX DATABASE template1'));
    expect(message).toContain('waha#1446');
    expect(message).not.toContain('\n');
  });

  it('names another template when that is the one, and the "no actual collation version" variant', () => {
    expect(collationMismatch({ message: 'template database "waha_template" has a collation version mismatch' })).toContain('REINDEX DATABASE waha_template');
    const gone = collationMismatch({ message: 'template database "template1" has a collation version, but no actual collation version could be determined' });
    expect(gone).toMatch(/can no longer determine.*REFRESH COLLATION VERSION/);
    expect(collationMismatch(new Error('permission denied to create database'))).toBeUndefined();
  });
});

describe("what makes a session database someone else's", () => {
  it("WAHA's tables pass; foreign tables, other schemas, or no auth table do not", () => {
    expect(foreignDatabaseProblem(['auth', 'chats', 'messages', 'media'])).toBeUndefined();
    expect(foreignDatabaseProblem(['files'])).toBeUndefined();
    expect(foreignDatabaseProblem(['whatsmeow_device', 'whatsmeow_version', 'gows_messages'])).toBeUndefined();
    expect(foreignDatabaseProblem(['waha_storage_incomplete'])).toBeUndefined(); // our own interrupted copy
    expect(foreignDatabaseProblem(['auth', 'invoices'])).toMatch(/invoices/);
    expect(foreignDatabaseProblem(['auth', 'billing.accounts'])).toMatch(/billing\.accounts/);
    expect(foreignDatabaseProblem(['media'])).toMatch(/none of WAHA's auth tables/);
    expect(foreignDatabaseProblem([])).toBe('no tables at all');
  });
});
