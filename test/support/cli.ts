/** Runs the built binary, as a user or a cron job would, and captures what it prints. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './servers.js';

export const BIN = path.join(ROOT, 'bin', 'waha-storage.js');

/** An @inquirer question on the screen: its "?" prefix at the start of a line (after any colour/cursor codes). */
const QUESTION = /(?:^|[\r\n])(?:\x1b\[[\d;?]*[A-Za-z])*\?(?:\x1b\[[\d;]*m)* /;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /**
   * Written to stdin. With `tty` it is the answer to the one question the command asks: typed
   * once the question is on the screen (as a person would; @inquirer drops keys typed before its
   * prompt is up), and the terminal stays open until the command exits (`script` turns the end
   * of its stdin into a Ctrl-D, which at a question cancels it).
   */
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
  let answer = options.tty ? options.input : undefined;
  command.stdout.on('data', (chunk) => {
    stdout += chunk;
    if (answer !== undefined && QUESTION.test(stdout)) {
      command.stdin.write(answer);
      answer = undefined;
    }
  });
  command.stderr.on('data', (chunk) => { stderr += chunk; });
  if (!options.tty) command.stdin.end(options.input);
  command.stdin.on('error', () => {}); // the command may exit before reading what was written
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      command.kill('SIGKILL');
      reject(new Error(`waha-storage ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    command.on('error', reject);
    command.on('close', (code) => {
      clearTimeout(timer);
      command.stdin.destroy();
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
