/**
 * The one confirmation step for destructive commands. On a terminal a person is asked (the
 * question goes to stderr, so stdout stays clean); without a terminal nothing is read from stdin
 * (an EOF there would look like an answer) and the command refuses unless `--yes` was given.
 */
import { ExitCode, OperationError, UsageError, WahaStorageError } from '../errors.js';
import type { Reporter } from './reporter.js';

export interface ConfirmOptions {
  /** What will happen, e.g. "Delete 1,204 objects (3.1 GiB) from s3://media?" */
  question: string;
  /** `--yes` was given: go ahead without asking. */
  yes?: boolean;
  /** What the refusal says is being refused, e.g. "media clean". Defaults to "this command". */
  what?: string;
  /** The command's interrupt signal: a SIGTERM while the question waits ends it. */
  signal?: AbortSignal;
}

/** Resolves when the user agreed (or `--yes`); throws otherwise. Never prompts without a terminal. */
export async function confirmDestructive(reporter: Reporter, options: ConfirmOptions): Promise<void> {
  if (options.yes) return;
  const what = options.what ?? 'this command';
  if (!reporter.interactive) {
    throw new UsageError(`${what} changes data and there is no terminal to ask for confirmation: ${options.question}`, {
      hint: 'run it again with --yes to confirm, or with --dry-run to see what it would do',
    });
  }
  const { confirm } = await import('@inquirer/prompts');
  const agreed = await prompting(`${what} cancelled: nothing was changed`,
    (context) => confirm({ message: options.question, default: false }, context), options.signal);
  if (!agreed) throw new OperationError(`${what} cancelled: nothing was changed`, { hint: 'answered no' });
}

/**
 * Runs one @inquirer prompt on stderr. While it asks, the terminal is in raw mode (Ctrl-C is a
 * keystroke there, which the prompt turns into ExitPromptError: exit 130, `cancelled` says what was
 * left undone); afterwards stdin is back in cooked mode and paused, so the next Ctrl-C is SIGINT again.
 * Ctrl-D (or the terminal going away) closes the prompt's readline, which pauses stdin, without
 * settling the prompt: the process would then hang on open connections, or end silently with exit 0
 * (Node 20) or 13 and "unsettled top-level await" (Node 24). stdin paused while the question waits
 * means no answer can come: an interruption at the question too. `signal` (the command's interrupt) also ends it.
 */
export async function prompting<T>(cancelled: string, ask: (context: { output: NodeJS.WritableStream; signal: AbortSignal }) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const inputGone = new AbortController();
  const onPause = () => inputGone.abort(new Error('the terminal input ended'));
  process.stdin.once('pause', onPause);
  try {
    return await ask({ output: process.stderr, signal: signal ? AbortSignal.any([signal, inputGone.signal]) : inputGone.signal });
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError') {
      throw new WahaStorageError(cancelled, ExitCode.interrupted, { hint: 'interrupted at the question' });
    }
    throw error;
  } finally {
    process.stdin.removeListener('pause', onPause);
    const stdin = process.stdin;
    if (stdin.isTTY) {
      if (stdin.isRaw) stdin.setRawMode(false);
      stdin.pause();
    }
  }
}
