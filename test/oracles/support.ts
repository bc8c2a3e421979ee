/** Shared helpers of the oracle tests: the engines' own libraries read what the tool wrote. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from '../support/cli.js';
import { ROOT } from '../support/servers.js';
import { mongoUrl } from '../support/mongo.js';

export function tempBase(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `waha-oracle-${prefix}-`));
}

/** Runs the binary against one sessions dir and namespace (and the test MongoDB). */
export function cli(args: string[], base: string, namespace: string): Promise<CliResult> {
  return runCli([...args, '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl()], { timeoutMs: 120_000 });
}

/** Every file under a folder, path relative to it, with its bytes. */
export async function treeOf(folder: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await visit(path.join(dir, entry.name), relative);
      else if (entry.isFile()) out.set(relative, await readFile(path.join(dir, entry.name)));
    }
  };
  await visit(folder, '');
  return out;
}

export const GOWS_ORACLE = path.join(ROOT, '.cache', 'bin', 'gows-oracle');

/**
 * Builds test/oracles/gows (whatsmeow's sqlstore on modernc.org/sqlite) into .cache/bin. Needs the
 * Go toolchain and the Go module proxy (or a warm module cache); fails with a clear message otherwise.
 */
export async function buildGowsOracle(): Promise<string> {
  await mkdir(path.dirname(GOWS_ORACLE), { recursive: true });
  try {
    execFileSync('go', ['build', '-mod=mod', '-o', GOWS_ORACLE, '.'], {
      cwd: path.join(ROOT, 'test', 'oracles', 'gows'), stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000,
      env: { ...process.env, CGO_ENABLED: '0' },
    });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
    throw new Error(`the GOWS oracle (test/oracles/gows, whatsmeow) could not be built with "go build": ${(error as Error).message}\n${stderr}\n` +
      'install Go 1.24+ (https://go.dev/dl) and let it reach the Go module proxy once');
  }
  return GOWS_ORACLE;
}
