import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scaleSessionName, writeLocalNowebSessions } from '../support/fixtures/index.js';
import { json, runCli } from '../support/cli.js';

let base: string;
const COUNT = 60;
const KEYS = 50;

beforeAll(async () => {
  base = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-scale-'));
  await writeLocalNowebSessions(base, { count: COUNT, keysPerSession: KEYS });
  // A key file that is a FIFO blocks forever if anyone opens it: inspect must only list and stat keys.
  for (const index of [0, COUNT - 1]) execFileSync('mkfifo', [path.join(base, 'noweb', scaleSessionName(index), 'pre-key-999999.json')]);
});

describe('inspect at scale', () => {
  it('reads key names and sizes only, never key contents, across many sessions', async () => {
    const result = await runCli(['inspect', '--sessions-dir', base, '--json', '--concurrency', '4'], { timeoutMs: 30_000 });
    expect(result.code).toBe(0);
    const sessions = json(result).sessions;
    expect(sessions).toHaveLength(COUNT);
    const first = sessions.find((session: any) => session.name === scaleSessionName(0));
    expect(first.details.keysByCategory['pre-key']).toBeGreaterThan(0);
    expect(first.loggedIn).not.toBeNull();
  });

  it('rejects a concurrency that is not a positive whole number', async () => {
    const result = await runCli(['inspect', '--sessions-dir', base, '--concurrency', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--concurrency/);
  });
});
