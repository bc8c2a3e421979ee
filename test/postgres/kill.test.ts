/**
 * SIGKILL during `migrate local postgres` (with and without --move) at seeded random points, then a
 * rerun: after every kill each session is complete in at least one store (the local folder as it was
 * generated, or PostgreSQL with the same digests), and the rerun finishes the job with no leftovers.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, json } from '../support/cli.js';
import { writeLocalNowebSessions } from '../support/fixtures/index.js';
import { Random } from '../support/fixtures/random.js';
import { uniqueNamespace } from '../support/mongo.js';
import { age } from '../support/scenario.js';
import { emptyBase } from '../migrate/helpers.js';
import { cliIn, dropNamespace, postgresUrl, stagingLeft } from './helpers.js';

const COUNT = 10;
const KEYS = 300;
const SEEDS = ['pg-kill-1', 'pg-kill-2', 'pg-kill-3'];

function migrateArgs(base: string, namespace: string, extra: string[]): string[] {
  return [BIN, 'migrate', 'local', 'postgres', '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace,
    '--postgres-url', postgresUrl(), '--concurrency', '2', ...extra];
}

/** Starts the migration and SIGKILLs it after `afterDone` finished sessions, or after `afterMs`, whichever comes first. */
function killDuring(args: string[], when: { afterDone: number; afterMs: number }): Promise<{ killed: boolean; done: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: cleanEnv() });
    let done = 0;
    let killed = false;
    const kill = () => {
      if (killed || child.exitCode !== null) return;
      killed = true;
      child.kill('SIGKILL');
    };
    child.stderr.on('data', (chunk: Buffer) => {
      done += (chunk.toString().match(/^done /gm) ?? []).length;
      if (done >= when.afterDone) kill();
    });
    const timer = setTimeout(kill, when.afterMs);
    child.on('close', () => { clearTimeout(timer); resolve({ killed, done }); });
  });
}

/** Whether the session folder holds exactly the generated files. */
async function completeLocally(folder: string, pristine: string): Promise<boolean> {
  if (!existsSync(folder)) return false;
  const [names, expected] = await Promise.all([readdir(folder), readdir(pristine)]);
  if (names.sort().join('\n') !== expected.sort().join('\n')) return false;
  for (const name of expected) if (!(await readFile(path.join(folder, name))).equals(await readFile(path.join(pristine, name)))) return false;
  return true;
}

/** The sessions PostgreSQL holds with the generated content: a dry run from the pristine copy says identical. */
async function identicalInPostgres(pristine: string, namespace: string): Promise<Set<string>> {
  const dry = await cliIn(['migrate', 'local', 'postgres', '--dry-run', '--force', '--json'], pristine, namespace, { timeoutMs: 120_000 });
  expect(dry.code, dry.stderr).toBe(0);
  return new Set((json(dry).sessions as { name: string; status: string; reason?: string }[]).filter((session) => session.reason === 'identical').map((session) => session.name));
}

describe('SIGKILL during migrate local postgres', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => { for (const cleanup of cleanups) await cleanup(); });

  for (const move of [false, true]) {
    it(`${move ? 'with --move: ' : ''}every session stays complete somewhere after each kill, and a rerun finishes`, async () => {
      const namespace = uniqueNamespace(move ? 'pkm' : 'pkc');
      const [base, pristine] = [await emptyBase(), await emptyBase()];
      cleanups.push(() => dropNamespace(namespace), () => rm(base, { recursive: true, force: true }), () => rm(pristine, { recursive: true, force: true }));
      await writeLocalNowebSessions(base, { count: COUNT, keysPerSession: KEYS, namespace });
      await writeLocalNowebSessions(pristine, { count: COUNT, keysPerSession: KEYS, namespace });
      await age(path.join(base, namespace));
      const names = (await readdir(path.join(pristine, namespace), { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
      expect(names).toHaveLength(COUNT);
      const extra = move ? ['--move', '--yes'] : [];

      const runs: { killed: boolean; done: number }[] = [];
      for (const seed of SEEDS) {
        const random = new Random(`${seed}-${move}`);
        const run = await killDuring(migrateArgs(base, namespace, extra), { afterDone: random.int(1, COUNT - 1), afterMs: random.int(400, 4000) });
        runs.push(run);
        const inPostgres = await identicalInPostgres(pristine, namespace);
        for (const name of names) {
          const local = await completeLocally(path.join(base, namespace, name), path.join(pristine, namespace, name));
          expect(local || inPostgres.has(name), `${seed}: ${name} (killed: ${run.killed}, ${run.done} done)`).toBe(true);
        }
      }

      // the kills landed inside runs (not after them): most of the seeds stopped a run with sessions left
      expect(runs.filter((run) => run.killed).length, JSON.stringify(runs)).toBeGreaterThanOrEqual(2);
      const rerun = await cliIn(['migrate', 'local', 'postgres', '--concurrency', '2', ...extra, '--json'], base, namespace, { timeoutMs: 120_000 });
      expect(rerun.code, rerun.stderr).toBe(0);
      const outcomes = json(rerun).sessions as { name: string; status: string; reason?: string }[];
      for (const session of outcomes) expect(session.status === 'done' || session.reason === 'identical', `${session.name} ${session.status} ${session.reason}`).toBe(true);
      expect(await identicalInPostgres(pristine, namespace)).toEqual(new Set(names));
      expect(await stagingLeft(namespace, names)).toEqual([]);
      if (move) {
        const left = (await readdir(path.join(base, namespace), { withFileTypes: true })).filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'));
        expect(left.map((entry) => entry.name)).toEqual([]);
      }
    }, 300_000);
  }
});
