/** Shared set-up for migrate tests: fixture trees in a namespace of their own, aged so they do not look live. */
import { lutimes, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeLocalFixtures } from '../support/fixtures/index.js';
import { runCli, json, type CliResult } from '../support/cli.js';
import { mongoUrl, uniqueNamespace } from '../support/mongo.js';

/** Sets every file's and folder's times to `seconds` ago (symlinks themselves, not their targets). */
export async function age(root: string, seconds = 3600): Promise<void> {
  const when = new Date(Date.now() - seconds * 1000);
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      await lutimes(full, when, when);
    }
  };
  await visit(root);
}

export interface Scenario {
  base: string;
  namespace: string;
  /** `<base>/<namespace>`: where the engine's sessions and waha.sqlite3 are. */
  folder: string;
  cleanup(): Promise<void>;
}

/** The standard local fixtures of one engine folder (`noweb`, `webjs`, `gows`), moved into a unique namespace and aged. */
export async function localScenario(engineFolder = 'noweb'): Promise<Scenario> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'waha-migrate-'));
  const raw = path.join(base, 'raw');
  await writeLocalFixtures(raw);
  const namespace = uniqueNamespace('mig');
  const folder = path.join(base, namespace);
  await rename(path.join(raw, engineFolder), folder);
  await rm(raw, { recursive: true, force: true });
  await age(folder);
  return { base, namespace, folder, cleanup: () => rm(base, { recursive: true, force: true }) };
}

export function emptyBase(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'waha-migrate-'));
}

export function migrate(args: string[], base: string, namespace: string, extra: { timeoutMs?: number; tty?: boolean } = {}): Promise<CliResult> {
  return runCli(['migrate', ...args, '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl()], extra);
}

export interface MigrateDocument {
  schemaVersion: number;
  sessions: { engine: string | null; name: string; status: string; reason?: string; message?: string; entries: number; bytes: number }[];
  summary: { sessions: number; done: number; skipped: number; failed: number; planned: number; entries: number; bytes: number };
}

export function byName(result: CliResult): Map<string, MigrateDocument['sessions'][number]> {
  const document = json<MigrateDocument>(result);
  return new Map(document.sessions.map((session) => [session.name, session]));
}
