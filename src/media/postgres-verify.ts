/**
 * `media verify postgres`: the JSONB `metadata` of each row, checked as verify checks S3 metadata
 * (the same keys, postgres.md §2), with the differences of this store: the values are JSON, not
 * strings (`waha-created-at` is a number of epoch milliseconds, an absent file name is left out),
 * the key is `<messageId>.<ext>` without a session (the database is the session's), and the
 * session in the metadata must map to the database by WAHA's slug rule. Problems name the row as
 * `<session>/<fullpath>`. Read-only: there is no --fix here.
 */
import { METADATA, type ProblemCode, type VerifyProblem, type VerifySummary } from './verify.js';
import type { MediaRow, PostgresMediaStore } from './postgres.js';
import type { ListFilter } from './store.js';

const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;
const MIN_EPOCH_MS = 1e11;

/** The problems of one row; `belongs(name)`: WAHA would keep session `name`'s media in this row's database. */
export function checkRow(row: Pick<MediaRow, 'session' | 'fullpath' | 'metadata' | 'database'>, belongs: (session: string) => boolean, now: Date): VerifyProblem[] {
  const key = `${row.session}/${row.fullpath}`;
  const problems: VerifyProblem[] = [];
  const add = (problem: ProblemCode, severity: VerifyProblem['severity'], detail: string) => problems.push({ key, problem, severity, detail, fixable: false });
  const file = /^[^/]+$/.test(row.fullpath) ? row.fullpath : undefined;
  const dot = file ? file.lastIndexOf('.') : -1;
  const messageId = file && dot > 0 ? file.slice(0, dot) : file;
  if (!file) add('key-layout', 'error', 'fullpath is not of the form <messageId>.<ext>');
  const meta = row.metadata;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    add('metadata-missing', 'error', meta === null || meta === undefined ? 'metadata is NULL' : `metadata is a JSON ${Array.isArray(meta) ? 'array' : typeof meta}, not an object`);
    return problems;
  }
  const values = meta as Record<string, unknown>;
  const session = values[METADATA.session];
  if (session === undefined) add('session-missing', 'error', `${METADATA.session} is missing (the database is ${row.database})`);
  else if (typeof session !== 'string' || !belongs(session)) {
    add('session-mismatch', 'error', `${METADATA.session} is ${JSON.stringify(session)}, which is not the session of ${row.database}`);
  }
  const id = values[METADATA.messageId];
  if (id === undefined) add('message-id-missing', 'error', `${METADATA.messageId} is missing${messageId ? ` (expected "${messageId}")` : ''}`);
  else if (messageId !== undefined && id !== messageId) add('message-id-mismatch', 'error', `${METADATA.messageId} is ${JSON.stringify(id)}, the key says "${messageId}"`);
  const createdAt = values[METADATA.createdAt];
  if (createdAt !== undefined) {
    if (typeof createdAt !== 'number') {
      add('created-at-invalid', 'error', `${METADATA.createdAt} is ${JSON.stringify(createdAt)} (a ${typeof createdAt}); WAHA writes a JSON number of epoch milliseconds here`);
    } else if (!Number.isInteger(createdAt) || createdAt < MIN_EPOCH_MS) {
      add('created-at-invalid', 'error', `${METADATA.createdAt} ${createdAt} is not epoch milliseconds`);
    } else if (createdAt > now.getTime() + FUTURE_TOLERANCE_MS) {
      add('created-at-future', 'error', `${METADATA.createdAt} ${new Date(createdAt).toISOString()} is in the future`);
    }
  }
  if (values[METADATA.chatId] === undefined) add('chat-id-missing', 'warning', `${METADATA.chatId} is missing (WAHA before 2025.1.4 did not write it)`);
  if (values[METADATA.fileName] === undefined && values[METADATA.fileNameDocs] !== undefined) {
    add('file-name-docs-spelling', 'warning', `file name stored as ${METADATA.fileNameDocs} (the docs' spelling); WAHA writes ${METADATA.fileName}`);
  }
  return problems;
}

export interface PostgresVerifyOptions {
  store: PostgresMediaStore;
  filter: ListFilter;
  now: Date;
  signal?: AbortSignal;
  onProblem?: (problem: VerifyProblem) => void;
  onProgress?: (summary: VerifySummary) => void;
}

export async function verifyPostgresMedia(options: PostgresVerifyOptions): Promise<{ summary: VerifySummary; interrupted: boolean }> {
  const summary: VerifySummary = { checked: 0, ok: 0, problems: 0, errors: 0, warnings: 0, fixed: 0, errorsRemaining: 0 };
  for await (const page of options.store.rows(options.filter)) {
    for (const row of page) {
      const problems = checkRow(row, (session) => options.store.holds(row.database, session), options.now);
      summary.checked++;
      if (!problems.length) summary.ok++;
      for (const problem of problems) {
        summary.problems++;
        if (problem.severity === 'error') {
          summary.errors++;
          summary.errorsRemaining++;
        } else summary.warnings++;
        options.onProblem?.(problem);
      }
    }
    options.onProgress?.(summary);
    if (options.signal?.aborted) return { summary, interrupted: true };
  }
  return { summary, interrupted: false };
}
