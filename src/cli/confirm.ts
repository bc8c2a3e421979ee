/**
 * The one confirmation step for destructive commands. On a terminal a person is asked (the
 * question goes to stderr, so stdout stays clean); without a terminal nothing is read from stdin
 * (an EOF there would look like an answer) and the command refuses unless `--yes` was given.
 */
import { OperationError, UsageError } from '../errors.js';
import type { Reporter } from './reporter.js';

export interface ConfirmOptions {
  /** What will happen, e.g. "Delete 1,204 objects (3.1 GiB) from s3://media?" */
  question: string;
  /** `--yes` was given: go ahead without asking. */
  yes?: boolean;
  /** What the refusal says is being refused, e.g. "media clean". Defaults to "this command". */
  what?: string;
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
  let agreed: boolean;
  try {
    agreed = await confirm({ message: options.question, default: false }, { output: process.stderr });
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError') {
      throw new OperationError(`${what} cancelled: nothing was changed`);
    }
    throw error;
  }
  if (!agreed) throw new OperationError(`${what} cancelled: nothing was changed`, { hint: 'answered no' });
}
