/**
 * Above a few hundred sessions, inspect local reads sessions in worker threads beside the main
 * thread (when the machine has a second CPU): the report must be the one a single thread gives.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scaleSessionName, writeLocalNowebSessions } from '../support/fixtures/index.js';
import { json, runCli } from '../support/cli.js';

let base: string;
const COUNT = 300;

beforeAll(async () => {
  base = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-threads-'));
  await writeLocalNowebSessions(base, { count: COUNT, keysPerSession: 6 });
  const folder = (index: number) => path.join(base, 'noweb', scaleSessionName(index));
  writeFileSync(path.join(folder(7), 'creds.json'), '{"me": {"id": "broken'); // creds-corrupt, wherever it is read
  writeFileSync(path.join(folder(150), 'pre-key-3.json.12345'), '{}'); // temp-files
  execFileSync('mkfifo', [path.join(folder(COUNT - 1), 'pre-key-999999.json')]); // never opened
}, 120_000);

describe('inspect local in threads', () => {
  it('reports every session exactly as one thread does, in name order, each with its own me and worker', async () => {
    const args = ['inspect', 'local', '--sessions-dir', base, '--json'];
    const [single, threaded] = await Promise.all([
      runCli([...args, '--concurrency', '1'], { timeoutMs: 60_000 }),
      runCli([...args, '--concurrency', '4'], { timeoutMs: 60_000 }),
    ]);
    expect(single.code).toBe(0);
    expect(threaded.code).toBe(0);
    const sessions = json(threaded).sessions;
    expect(sessions).toEqual(json(single).sessions);
    expect(sessions.map((session: any) => session.name)).toEqual(Array.from({ length: COUNT }, (_, index) => scaleSessionName(index)));
    for (const session of sessions) {
      expect(session.me?.pushName, session.name).toBe(session.name);
      expect(session.worker, session.name).toBe('');
    }
    expect(sessions[7].problems.map((item: any) => item.code)).toEqual(['creds-corrupt']);
    expect(sessions[150].problems.map((item: any) => item.code)).toEqual(['temp-files']);
    expect(sessions[COUNT - 1].entries).toBe(sessions[0].entries); // a FIFO is not a file: never opened, not counted
  });
});
