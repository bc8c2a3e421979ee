import { CommanderError } from 'commander';
import { redact } from '../config/redact.js';
import { ExitCode, WahaStorageError } from '../errors.js';
import type { Reporter } from './reporter.js';

/**
 * The one place an error becomes an exit code. A typed error prints its message and hint;
 * anything else is a bug and says so. Stack traces only with --verbose. Sets process.exitCode.
 */
export function handleError(error: unknown, reporter: Reporter): void {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : ExitCode.usage;
    return;
  }
  if (error instanceof WahaStorageError) {
    reporter.error(error.message + (error.hint ? ` (${error.hint})` : ''));
    if (reporter.verbose && error.stack) reporter.debug(redact(error.stack));
    process.exitCode = error.exitCode;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  reporter.error(`unexpected failure: ${message.split('\n')[0]} (run again with --verbose for details)`);
  if (reporter.verbose && error instanceof Error && error.stack) reporter.debug(redact(error.stack));
  process.exitCode = ExitCode.failed;
}
