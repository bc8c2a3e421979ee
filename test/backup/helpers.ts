/** Shared set-up for backup/restore/purge tests: fixture trees per engine in a unique namespace, store digests. */
import { mkdtemp, readdir, rename, rm, lutimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { writeLocalFixtures } from '../support/fixtures/index.js';
import { runCli, type CliResult } from '../support/cli.js';
import { mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { LocalTransferStore } from '../../src/sessions/stores/local-transfer.js';
import { MongoTransferStore } from '../../src/sessions/stores/mongo-transfer.js';
import { digestOf } from '../../src/sessions/transfer.js';
import type { Engine } from '../../src/sessions/engines.js';

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
  folder: string;
  cleanup(): Promise<void>;
}

/** The standard local fixtures of one engine folder, moved into a unique namespace and aged. */
export async function localScenario(engineFolder: string, prefix = 'bk'): Promise<Scenario> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'waha-backup-'));
  const raw = path.join(base, 'raw');
  await writeLocalFixtures(raw);
  const namespace = uniqueNamespace(prefix);
  const folder = path.join(base, namespace);
  await rename(path.join(raw, engineFolder), folder);
  await rm(raw, { recursive: true, force: true });
  await age(folder);
  return { base, namespace, folder, cleanup: () => rm(base, { recursive: true, force: true }) };
}

export function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'waha-backup-'));
}

/** Runs the binary with the store settings of one namespace. */
export function cli(args: string[], base: string, namespace: string, extra: { env?: Record<string, string>; input?: string; tty?: boolean; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCli([...args, '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl()], extra);
}

export function localStore(base: string, namespace: string): LocalTransferStore {
  return new LocalTransferStore({ sessionsDir: base, namespace, sessionNamespace: namespace });
}

export function mongoStore(client: MongoClient, namespace: string): MongoTransferStore {
  return new MongoTransferStore({ client, namespace, sessionNamespace: namespace, location: 'test' });
}

/** The transfer engine's digest of one session as a store holds it (config, me, worker, auth). */
export async function sessionDigest(store: LocalTransferStore | MongoTransferStore, engine: Engine | null, name: string): Promise<{ value: string; entries: number }> {
  const digest = await digestOf(store.read({ engine, name }));
  return { value: digest.value, entries: digest.entries };
}
