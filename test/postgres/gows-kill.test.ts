/**
 * SIGKILL during `migrate local postgres` of GOWS sessions (with and without --move) at seeded
 * random points, then a rerun: after every kill each session is complete in at least one store (its
 * folder as generated, or PostgreSQL with the same tables: a dry run from the pristine copy says
 * identical), and the rerun finishes with no staging databases left.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, json } from '../support/cli.js';
import { writeLocalFixtures } from '../support/fixtures/index.js';
import { Random } from '../support/fixtures/random.js';
import { uniqueNamespace } from '../support/mongo.js';
import { age } from '../support/scenario.js';
import { emptyBase } from '../migrate/helpers.js';
import { addGowsTables } from '../oracles/gows-shape.js';
import { cliIn, dropNamespace, postgresUrl, stagingLeft } from './helpers.js';

const COUNT = 8;
const MESSAGES = 4000;
const SEEDS = ['gows-kill-1', 'gows-kill-2', 'gows-kill-3'];

function migrateArgs(base: string, namespace: string, extra: string[]): string[] {
  return [BIN, 'migrate', 'local', 'postgres', '--engine', 'GOWS', '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace,
    '--postgres-url', postgresUrl(), '--concurrency', '2', ...extra];
}

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

/** COUNT GOWS sessions (the fixture's device, GOWS's tables with MESSAGES messages) in `<base>/<namespace>`. */
async function writeGowsSessions(base: string, namespace: string, template: string): Promise<void> {
  for (let index = 0; index < COUNT; index++) {
    const folder = path.join(base, namespace, `go${index}`);
    await mkdir(folder, { recursive: true });
    await copyFile(template, path.join(folder, 'gows.db'));
  }
}

async function completeLocally(folder: string, pristine: string): Promise<boolean> {
  if (!existsSync(path.join(folder, 'gows.db'))) return false;
  return (await readFile(path.join(folder, 'gows.db'))).equals(await readFile(path.join(pristine, 'gows.db')));
}

async function identicalInPostgres(pristine: string, namespace: string): Promise<Set<string>> {
  const dry = await cliIn(['migrate', 'local', 'postgres', '--engine', 'GOWS', '--dry-run', '--force', '--json'], pristine, namespace, { timeoutMs: 120_000 });
  expect(dry.code, dry.stderr).toBe(0);
  return new Set((json(dry).sessions as { name: string; reason?: string }[]).filter((session) => session.reason === 'identical').map((session) => session.name));
}

describe('SIGKILL during migrate local postgres (GOWS)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => { for (const cleanup of cleanups) await cleanup(); });

  for (const move of [false, true]) {
    it(`${move ? 'with --move: ' : ''}every GOWS session stays complete somewhere after each kill, and a rerun finishes`, async () => {
      const namespace = uniqueNamespace(move ? 'gkm' : 'gkc');
      const [base, pristine, raw] = [await emptyBase(), await emptyBase(), await emptyBase()];
      cleanups.push(() => dropNamespace(namespace), ...[base, pristine, raw].map((folder) => () => rm(folder, { recursive: true, force: true })));
      await writeLocalFixtures(raw);
      const template = path.join(raw, 'gows', 'gopher', 'gows.db');
      addGowsTables(template, MESSAGES, { replace: true });
      await writeGowsSessions(base, namespace, template);
      await writeGowsSessions(pristine, namespace, template);
      await age(path.join(base, namespace));
      await age(path.join(pristine, namespace));
      const names = Array.from({ length: COUNT }, (_, index) => `go${index}`);
      const extra = move ? ['--move', '--yes'] : [];

      const runs: { killed: boolean; done: number }[] = [];
      for (const seed of SEEDS) {
        const random = new Random(`${seed}-${move}`);
        const run = await killDuring(migrateArgs(base, namespace, extra), { afterDone: random.int(1, COUNT - 1), afterMs: random.int(300, 3000) });
        runs.push(run);
        const inPostgres = await identicalInPostgres(pristine, namespace);
        for (const name of names) {
          const local = await completeLocally(path.join(base, namespace, name), path.join(pristine, namespace, name));
          expect(local || inPostgres.has(name), `${seed}: ${name} (killed: ${run.killed}, ${run.done} done)`).toBe(true);
        }
      }
      expect(runs.filter((run) => run.killed).length, JSON.stringify(runs)).toBeGreaterThanOrEqual(2);
      const rerun = await cliIn(['migrate', 'local', 'postgres', '--engine', 'GOWS', '--concurrency', '2', ...extra, '--json'], base, namespace, { timeoutMs: 120_000 });
      expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
      for (const session of json(rerun).sessions as { name: string; status: string; reason?: string }[]) {
        expect(session.status === 'done' || session.reason === 'identical', `${session.name} ${session.status} ${session.reason}`).toBe(true);
      }
      expect(await identicalInPostgres(pristine, namespace)).toEqual(new Set(names));
      expect(await stagingLeft(namespace, names, 'GOWS')).toEqual([]);
      if (move) {
        const left = (await readdir(path.join(base, namespace), { withFileTypes: true })).filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'));
        expect(left.map((entry) => entry.name)).toEqual([]);
      }
    }, 300_000);
  }
});
