/** Shared bench helpers: run a command, time it, read its peak RSS from /usr/bin/time -v. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(ROOT, 'bin', 'waha-storage.js');

export interface Measured {
  seconds: number;
  peakRssMb: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` under /usr/bin/time -v; wall time measured here, peak RSS from time's report. */
export function measure(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-v', command, ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      resolve({ seconds, peakRssMb: rss ? Number(rss[1]) / 1024 : NaN, code, stdout, stderr });
    });
  });
}

export function ratio(ours: number, theirs: number): string {
  return `${(ours / theirs).toFixed(2)}x`;
}

export function row(cells: (string | number)[]): string {
  return cells.map((cell, index) => String(cell).padEnd(index === 0 ? 54 : 14)).join('');
}

export function requireOk(name: string, result: Measured): void {
  if (result.code !== 0) throw new Error(`${name} exited with ${result.code}\n${result.stderr.slice(-3000)}`);
}
