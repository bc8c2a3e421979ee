/**
 * Checks the metadata WAHA writes on each S3 object (one HeadObject per object, bounded
 * concurrency) and, with `fix`, rewrites what can be derived from the key with CopyObject onto
 * itself (MetadataDirective REPLACE), keeping every other metadata value, the content type and
 * the other stored headers.
 */
import mime from 'mime-types';
import pLimit from 'p-limit';
import type { ListFilter } from './store.js';
import { describeS3Failure, type S3MediaStore } from './s3.js';

export const METADATA = {
  session: 'waha-session',
  chatId: 'waha-chat-id',
  messageId: 'waha-message-id',
  fileName: 'waha-media-filename',
  createdAt: 'waha-created-at',
  /** The docs' spelling of the file-name key; the code writes `waha-media-filename`. */
  fileNameDocs: 'waha-media-file-name',
} as const;

export type ProblemCode =
  | 'key-layout'
  | 'metadata-missing'
  | 'session-missing'
  | 'session-mismatch'
  | 'message-id-missing'
  | 'message-id-mismatch'
  | 'created-at-invalid'
  | 'created-at-future'
  | 'chat-id-missing'
  | 'file-name-docs-spelling'
  | 'content-type-mismatch';

export interface VerifyProblem {
  key: string;
  problem: ProblemCode;
  severity: 'error' | 'warning';
  detail: string;
  /** `--fix` can repair it from the key (or, for the docs' spelling, from the object's own metadata). */
  fixable: boolean;
}

export interface ObjectHead {
  key: string;
  metadata: Record<string, string>;
  contentType?: string;
}

/** Clock skew tolerated before `waha-created-at` counts as in the future. */
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;
/** Epoch milliseconds below this (March 1973) are really seconds or garbage. */
const MIN_EPOCH_MS = 1e11;
const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream', '']);

/** `<session>/<file>` split, or undefined when the key is not of that form. */
export function parseKey(key: string): { session: string; fileName: string; messageId: string } | undefined {
  const match = /^([^/]+)\/([^/]+)$/.exec(key);
  if (!match) return undefined;
  const fileName = match[2]!;
  const dot = fileName.lastIndexOf('.');
  return { session: match[1]!, fileName, messageId: dot > 0 ? fileName.slice(0, dot) : fileName };
}

export function checkObject(head: ObjectHead, now: Date): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const add = (problem: ProblemCode, severity: VerifyProblem['severity'], detail: string, fixable = false) =>
    problems.push({ key: head.key, problem, severity, detail, fixable });
  const meta = head.metadata;
  const parsed = parseKey(head.key);
  if (!parsed) {
    add('key-layout', 'error', 'key is not of the form <session>/<file>');
  } else {
    const session = meta[METADATA.session];
    if (session === undefined) add('session-missing', 'error', `${METADATA.session} is missing (expected "${parsed.session}")`, true);
    else if (session !== parsed.session) add('session-mismatch', 'error', `${METADATA.session} is "${session}", the key says "${parsed.session}"`, true);
    const messageId = meta[METADATA.messageId];
    if (messageId === undefined) add('message-id-missing', 'error', `${METADATA.messageId} is missing (expected "${parsed.messageId}")`, true);
    else if (messageId !== parsed.messageId) {
      add('message-id-mismatch', 'error', `${METADATA.messageId} is "${messageId}", the key says "${parsed.messageId}"`, true);
    }
    const contentProblem = contentTypeProblem(head.contentType, parsed.fileName);
    if (contentProblem) add('content-type-mismatch', 'warning', contentProblem);
  }
  const createdAt = meta[METADATA.createdAt];
  if (createdAt !== undefined) {
    if (!/^\d+$/.test(createdAt) || Number(createdAt) < MIN_EPOCH_MS) {
      add('created-at-invalid', 'error', `${METADATA.createdAt} "${createdAt}" is not epoch milliseconds`);
    } else if (Number(createdAt) > now.getTime() + FUTURE_TOLERANCE_MS) {
      add('created-at-future', 'error', `${METADATA.createdAt} ${new Date(Number(createdAt)).toISOString()} is in the future`);
    }
  }
  if (meta[METADATA.chatId] === undefined) add('chat-id-missing', 'warning', `${METADATA.chatId} is missing (WAHA before 2025.1.4 did not write it)`);
  if (meta[METADATA.fileName] === undefined && meta[METADATA.fileNameDocs] !== undefined) {
    add('file-name-docs-spelling', 'warning', `file name stored as ${METADATA.fileNameDocs} (the docs' spelling); WAHA writes ${METADATA.fileName}`, true);
  }
  return problems;
}

function contentTypeProblem(contentType: string | undefined, fileName: string): string | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const dot = fileName.lastIndexOf('.');
  const extension = dot > 0 ? fileName.slice(dot + 1).toLowerCase() : '';
  // WAHA names files `<id>.<mime.extension(type)>` and `<id>.false` for unknown types; before
  // 2025.x it stored no content type at all. Neither says anything about a mismatch.
  if (GENERIC_TYPES.has(type) || !extension || extension === 'false') return undefined;
  if (mime.extension(type) === extension || mime.lookup(extension) === type) return undefined;
  return `content type "${type}" does not match the extension ".${extension}"`;
}

/** The metadata after repair, or undefined when nothing fixable was found. */
export function repairedMetadata(head: ObjectHead, problems: readonly VerifyProblem[]): Record<string, string> | undefined {
  const fixable = problems.filter((problem) => problem.fixable);
  if (!fixable.length) return undefined;
  const parsed = parseKey(head.key);
  const metadata = { ...head.metadata };
  for (const { problem } of fixable) {
    if ((problem === 'session-missing' || problem === 'session-mismatch') && parsed) metadata[METADATA.session] = parsed.session;
    if ((problem === 'message-id-missing' || problem === 'message-id-mismatch') && parsed) metadata[METADATA.messageId] = parsed.messageId;
    if (problem === 'file-name-docs-spelling') metadata[METADATA.fileName] = head.metadata[METADATA.fileNameDocs]!;
  }
  return metadata;
}

export interface VerifyFix {
  key: string;
  /** The metadata values set (only those that change). */
  set: Record<string, string>;
  status: 'planned' | 'done' | 'failed';
  reason?: string;
}

export interface VerifySummary {
  checked: number;
  /** Objects with no problem at all. */
  ok: number;
  /** Problems found (errors and warnings). */
  problems: number;
  errors: number;
  warnings: number;
  fixed: number;
  /** Errors still there after the run (fixes not applied, not possible, or failed). */
  errorsRemaining: number;
}

export interface VerifyOptions {
  store: S3MediaStore;
  filter: ListFilter;
  concurrency: number;
  fix: boolean;
  dryRun: boolean;
  now: Date;
  signal?: AbortSignal;
  onProblem?: (problem: VerifyProblem) => void;
  onFix?: (fix: VerifyFix) => void;
  onProgress?: (summary: VerifySummary) => void;
}

export async function verifyMedia(options: VerifyOptions): Promise<{ summary: VerifySummary; interrupted: boolean }> {
  const { store } = options;
  const { HeadObjectCommand, CopyObjectCommand } = await import('@aws-sdk/client-s3');
  const summary: VerifySummary = { checked: 0, ok: 0, problems: 0, errors: 0, warnings: 0, fixed: 0, errorsRemaining: 0 };
  const limit = pLimit(options.concurrency);
  const fail = (error: unknown) => describeS3Failure(error, store.bucket, store.endpoint);

  const verifyOne = async (key: string) => {
    let head;
    try {
      head = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFound') return; // deleted since it was listed
      throw fail(error);
    }
    const object: ObjectHead = { key, metadata: head.Metadata ?? {}, contentType: head.ContentType };
    const problems = checkObject(object, options.now);
    summary.checked++;
    if (!problems.length) summary.ok++;
    for (const problem of problems) {
      summary.problems++;
      if (problem.severity === 'error') summary.errors++;
      else summary.warnings++;
      options.onProblem?.(problem);
    }
    let unfixedErrors = problems.filter((problem) => problem.severity === 'error');
    const repaired = options.fix ? repairedMetadata(object, problems) : undefined;
    if (repaired) {
      const set = Object.fromEntries(Object.entries(repaired).filter(([name, value]) => object.metadata[name] !== value));
      if (options.dryRun) {
        options.onFix?.({ key, set, status: 'planned' });
      } else {
        try {
          await store.client.send(new CopyObjectCommand({
            Bucket: store.bucket,
            Key: key,
            CopySource: copySource(store.bucket, key),
            // Only if the object is still the one just checked.
            CopySourceIfMatch: head.ETag,
            MetadataDirective: 'REPLACE',
            Metadata: repaired,
            ContentType: head.ContentType,
            ContentEncoding: head.ContentEncoding,
            ContentDisposition: head.ContentDisposition,
            ContentLanguage: head.ContentLanguage,
            CacheControl: head.CacheControl,
            StorageClass: head.StorageClass,
          }));
          summary.fixed++;
          unfixedErrors = unfixedErrors.filter((problem) => !problem.fixable);
          options.onFix?.({ key, set, status: 'done' });
        } catch (error) {
          options.onFix?.({ key, set, status: 'failed', reason: fail(error).message });
        }
      }
    }
    summary.errorsRemaining += unfixedErrors.length;
  };

  let interrupted = false;
  for await (const page of store.list(options.filter)) {
    await Promise.all(page.map((object) => limit(() => verifyOne(object.key))));
    options.onProgress?.(summary);
    if (options.signal?.aborted) {
      interrupted = true;
      break;
    }
  }
  return { summary, interrupted };
}

/** `bucket/key`, URL-encoded the way S3 (and s3rver, which decodes with decodeURI) reads it. */
export function copySource(bucket: string, key: string): string {
  return encodeURI(`${bucket}/${key}`).replace(/[?#+]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
