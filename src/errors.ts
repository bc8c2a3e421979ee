/**
 * Typed errors. The core throws these; only src/cli/errors.ts turns them into exit codes.
 * Every message is for a person: what is wrong, where; `hint` says what to do next.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorDetails {
  hint?: string;
  cause?: unknown;
  /** A stable word for scripts (`mongo-unreachable`, `authentication`, ...), printed as `error.code` with --json. */
  code?: string;
}

export class WahaStorageError extends Error {
  readonly exitCode: ExitCode;
  readonly hint?: string;
  readonly code?: string;

  constructor(message: string, exitCode: ExitCode, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = details.hint;
    this.code = details.code;
  }
}

/** Bad flag, bad value, unknown engine, missing setting: exit 2. */
export class UsageError extends WahaStorageError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, ExitCode.usage, details);
  }
}

/** The operation could not be done (store unreachable, refused, ...): exit 1. */
export class OperationError extends WahaStorageError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, ExitCode.failed, details);
  }
}

/** Some items failed while others succeeded, or a check found problems: exit 3. */
export class PartialError extends WahaStorageError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, ExitCode.partial, details);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
