/** Runs the built binary, as a user or a cron job would, and captures what it prints. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './servers.js';

export const BIN = path.join(ROOT, 'bin', 'waha-storage.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  /** Run under a pseudo-terminal (util-linux `script`), so stdout and stderr are TTYs. */
  tty?: boolean;
  /**
   * With `tty`: the terminal's width (`stty cols`, and $COLUMNS). Without it the pseudo-terminal
   * reports 0 columns (no spinner) and $COLUMNS is 200.
   */
  columns?: number;
  timeoutMs?: number;
}

/** The parent's environment without any WAHA setting, so tests only see what they set. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(WAHA_|WHATSAPP_|NO_COLOR$|FORCE_COLOR$|CI$)/.test(key)) continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env = cleanEnv(options.env);
  const node = [process.execPath, BIN, ...args].map(quote).join(' ');
  const command = options.tty
    ? spawn('script', ['-qefc', options.columns ? `stty cols ${options.columns} rows 50 && exec ${node}` : node, '/dev/null'], {
        cwd: options.cwd ?? ROOT, env: { ...env, TERM: 'xterm-256color', COLUMNS: String(options.columns ?? 200) },
      })
    : spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env });
  let stdout = '';
  let stderr = '';
  // decoded as a stream: a character split between two chunks (a table border) stays one character
  command.stdout.setEncoding('utf8');
  command.stderr.setEncoding('utf8');
  command.stdout.on('data', (chunk) => { stdout += chunk; });
  command.stderr.on('data', (chunk) => { stderr += chunk; });
  if (options.input !== undefined) command.stdin.end(options.input);
  else if (!options.tty) command.stdin.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      command.kill('SIGKILL');
      reject(new Error(`waha-storage ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    command.on('error', reject);
    command.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses stdout as the one JSON document a `--json` run prints. */
export function json<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
}

/**
 * Tests that need root (mount a tmpfs, chattr +i, setpriv) run as root and always in CI; a
 * developer's unprivileged run skips them visibly instead of failing.
 */
export const privileged = process.getuid?.() === 0 || Boolean(process.env.CI);
