/** Shared set-up for migrate tests: fixture trees in a namespace of their own, aged so they do not look live. */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli, json, type CliResult } from '../support/cli.js';
import { mongoUrl } from '../support/mongo.js';

export { age, localScenario, type Scenario } from '../support/scenario.js';

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
