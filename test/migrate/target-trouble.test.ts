/**
 * A local target that fills up or refuses writes: the session fails with a clear line, staging is
 * cleaned, and nothing half-written is visible to WAHA. Uses a real tiny tmpfs (disk full) and an
 * immutable folder (`chattr +i`, which binds root too), so the failures are the kernel's own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { privileged } from '../support/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, dropNamespace } from '../support/mongo.js';
import { age, emptyBase, localScenario, migrate, type Scenario } from './helpers.js';

let client: MongoClient;
let scenario: Scenario;

beforeAll(async () => {
  client = await connectMongo();
  scenario = await localScenario('noweb');
  const copied = await migrate(['local', 'mongo', '--session', 'alpha', '--json'], scenario.base, scenario.namespace);
  expect(copied.code).toBe(0);
  await age(scenario.folder);
});

afterAll(async () => {
  await dropNamespace(client, scenario.namespace);
  await scenario.cleanup();
  await client.close();
});

/** What WAHA would see in a sessions dir: every folder except our hidden staging. */
function visibleSessions(base: string, namespace: string): string[] {
  const folder = path.join(base, namespace);
  return existsSync(folder) ? readdirSync(folder).filter((name) => !name.startsWith('.')) : [];
}

describe('migrate into a local target in trouble', () => {
  it.runIf(privileged)('disk full: the session fails with ENOSPC named, staging removed, nothing visible to WAHA', async () => {
    const base = await emptyBase();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24k', 'tmpfs', base]);
    try {
      const result = await migrate(['mongo', 'local', '--session', 'alpha'], base, scenario.namespace);
      expect([1, 3]).toContain(result.code);
      expect(result.stdout + result.stderr).toMatch(/ENOSPC|disk/i);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(visibleSessions(base, scenario.namespace).filter((name) => name !== 'waha.sqlite3')).toEqual([]);
      const staging = path.join(base, '.waha-storage-staging');
      expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);
    } finally {
      execFileSync('umount', [base]);
      await rm(base, { recursive: true, force: true });
    }
  });

  it.runIf(privileged)('read-only target: exit 1 with one clear line, nothing written', async () => {
    const base = await emptyBase();
    await mkdir(path.join(base, scenario.namespace));
    execFileSync('chattr', ['+i', base, path.join(base, scenario.namespace)]);
    try {
      const result = await migrate(['mongo', 'local', '--session', 'alpha'], base, scenario.namespace);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/EPERM|EACCES|EROFS|not permitted|read-only/i);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(path.join(base, scenario.namespace))).toEqual([]);
    } finally {
      execFileSync('chattr', ['-i', base, path.join(base, scenario.namespace)]);
      await rm(base, { recursive: true, force: true });
    }
  });
});
