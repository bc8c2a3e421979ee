/** Shared set-up for backup/restore/purge tests: fixture trees per engine in a unique namespace, store digests. */
import { mkdtemp } from 'node:fs/promises';
import { localScenario as sharedScenario, type Scenario } from '../support/scenario.js';
import os from 'node:os';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { runCli, type CliResult } from '../support/cli.js';
import { mongoUrl } from '../support/mongo.js';
import { LocalTransferStore } from '../../src/sessions/stores/local/store.js';
import { MongoTransferStore } from '../../src/sessions/stores/mongo/store.js';
import { digestOf } from '../../src/sessions/transfer.js';
import type { Engine } from '../../src/sessions/engines.js';

export { age, type Scenario } from '../support/scenario.js';

/** The standard local fixtures of one engine folder, moved into a unique namespace and aged. */
export function localScenario(engineFolder: string, prefix = 'bk'): Promise<Scenario> {
  return sharedScenario(engineFolder, prefix);
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
