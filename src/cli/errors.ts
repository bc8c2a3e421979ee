import { CommanderError } from 'commander';
import { redact } from '../config/redact.js';
import { ExitCode, OperationError, PartialError, UsageError, WahaStorageError } from '../errors.js';
import type { Reporter } from './reporter.js';

/** `error` of a `--json` document: what a script needs to branch on a failure. */
export interface ErrorBody {
  code: string;
  message: string;
  hint: string | null;
  exitCode: number;
}

const USAGE_HINT = 'run with --help for usage';

/**
 * The one place an error becomes an exit code. A typed error prints its message and hint;
 * anything else is a bug and says so. Stack traces only with --verbose. Sets process.exitCode.
 * With --json, stdout gets one document even on failure: `{schemaVersion, ...partial, error}`
 * (one more `{"type":"error"}` line after NDJSON), unless the command already printed its
 * document (then the error is on stderr only).
 */
export function handleError(error: unknown, reporter: Reporter, partial: object = {}): void {
  const body = errorBody(error);
  process.exitCode = body.exitCode;
  if (error instanceof CommanderError) {
    // Commander has printed its own message on stderr already; help and --version are not failures.
    if (body.exitCode !== ExitCode.ok) writeDocument(reporter, body, partial);
    return;
  }
  if (error instanceof WahaStorageError) {
    reporter.error(body.message + (body.hint ? ` (${body.hint})` : ''));
  } else {
    reporter.error(`${body.message} (${body.hint})`);
  }
  if (reporter.verbose && error instanceof Error && error.stack) reporter.debug(redact(error.stack));
  writeDocument(reporter, body, partial);
}

/** Code, message, hint and exit code of any error, the same words the table output prints. */
export function errorBody(error: unknown): ErrorBody {
  if (error instanceof CommanderError) {
    const exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    return { code: 'usage', message: redact(error.message.replace(/^error: /, '')), hint: USAGE_HINT, exitCode };
  }
  if (error instanceof WahaStorageError) {
    return { code: error.code ?? codeOf(error), message: redact(error.message), hint: error.hint ? redact(error.hint) : null, exitCode: error.exitCode };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'internal',
    message: redact(`unexpected failure: ${message.split('\n')[0]}`),
    hint: 'run again with --verbose for details',
    exitCode: ExitCode.failed,
  };
}

function codeOf(error: WahaStorageError): string {
  if (error instanceof UsageError) return 'usage';
  if (error instanceof PartialError) return 'partial';
  if (error instanceof OperationError) return 'failed';
  if (error.exitCode === ExitCode.interrupted) return 'interrupted';
  return error.exitCode === ExitCode.usage ? 'usage' : 'failed';
}

function writeDocument(reporter: Reporter, body: ErrorBody, partial: object): void {
  if (!reporter.json || reporter.wroteDocument) return;
  if (reporter.wroteNdjson) reporter.ndjson({ type: 'error', ...partial, error: body });
  else reporter.document({ ...partial, error: body });
}

/** Whether a command line asks for JSON (for errors raised before commander has parsed it). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
