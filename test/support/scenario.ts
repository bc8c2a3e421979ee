/** Fixture trees for store-changing tests: one engine folder in a namespace of its own, aged so it does not look live. */
import { lutimes, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeLocalFixtures } from './fixtures/index.js';
import { uniqueNamespace } from './mongo.js';

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

/** The standard local fixtures of one engine folder (`noweb`, `webjs`, `gows`, `wpp`), moved into a unique namespace and aged. */
export async function localScenario(engineFolder = 'noweb', prefix = 'mig'): Promise<Scenario> {
  const base = await mkdtemp(path.join(os.tmpdir(), `waha-${prefix}-`));
  const raw = path.join(base, 'raw');
  await writeLocalFixtures(raw);
  const namespace = uniqueNamespace(prefix);
  const folder = path.join(base, namespace);
  await rename(path.join(raw, engineFolder), folder);
  await rm(raw, { recursive: true, force: true });
  await age(folder);
  return { base, namespace, folder, cleanup: () => rm(base, { recursive: true, force: true }) };
}
