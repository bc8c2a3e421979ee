import { describe, expect, it } from 'vitest';
import { postgresUrl, withDatabase } from './helpers.js';

describe('test PostgreSQL server', () => {
  it('answers as a superuser with a password in the URL, version >= 13', async () => {
    expect(new URL(postgresUrl()).password).not.toBe('');
    await withDatabase('postgres', async (client) => {
      const { rows } = await client.query<{ version: string; rolsuper: boolean }>(
        "SELECT current_setting('server_version_num') AS version, rolsuper FROM pg_roles WHERE rolname = current_user");
      expect(Number(rows[0]!.version)).toBeGreaterThanOrEqual(130000);
      expect(rows[0]!.rolsuper).toBe(true);
    });
  });
});
