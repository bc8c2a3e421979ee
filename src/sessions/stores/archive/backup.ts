/**
 * backup = the transfer engine from a store into an ArchiveTarget, plus what an archive file
 * needs: created as `<file>.partial` with mode 0600, read back whole and checked, fsynced, then
 * renamed into place; removed on any failure, so a file with the final name is always complete.
 * With a stream output (stdout) the archive is checked as it is written (no read-back possible).
 */
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { chmod, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { OperationError, UsageError } from '../../../errors.js';
import { targetWriteError } from '../../../util/write-errors.js';
import type { Engine } from '../../engines.js';
import { transfer, type TransferOptions, type TransferResult } from '../../transfer.js';
import type { Manifest } from './format.js';
import { readArchive, type ArchiveReport } from './reader.js';
import { ArchiveTarget } from './writer.js';
import type { SessionStore } from '../types.js';

export type BackupOutput = { kind: 'file'; path: string } | { kind: 'stream'; stream: Writable; name: string };

export interface BackupOptions {
  source: SessionStore;
  output: BackupOutput;
  engines: readonly Engine[];
  names?: readonly string[];
  force?: boolean;
  /** Replace an existing output file, and only with a complete backup (every session done). */
  overwrite?: boolean;
  scope?: TransferOptions['scope'];
  concurrency?: number;
  passphrase?: string;
  scryptWorkFactor?: number;
  tool: { name: string; version: string };
  /** The clock for the archive's creation time. */
  now?: () => Date;
  signal?: AbortSignal;
  onProgress?: TransferOptions['onProgress'];
}

export interface BackupResult extends TransferResult {
  output: string;
  encrypted: boolean;
  /** The read-back check of a file output (null for a stream). */
  verified: ArchiveReport | null;
  manifest: Manifest | null;
  /** An existing output was left as it was: the new backup was not complete (or not --overwrite). */
  keptExisting?: boolean;
}

/** Fails early, with exit 2, when the output's folder is missing or not a folder, or the output exists (unless `overwrite`). */
export function checkOutputPath(file: string, options: { overwrite?: boolean; flag?: string } = {}): void {
  const flag = options.flag ?? '--output';
  const folder = path.dirname(path.resolve(file));
  if (!existsSync(folder)) throw new UsageError(`The folder of --output ${file} does not exist`, { hint: `create ${folder} first, or choose another path` });
  if (!statSync(folder).isDirectory()) throw new UsageError(`--output ${file}: ${folder} is not a folder`, { hint: 'choose a path inside a folder' });
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`${flag} ${file} is a folder`, { hint: 'give a file name, e.g. sessions.tar.gz' });
  if (existsSync(file) && !options.overwrite) {
    throw new UsageError(`${flag} ${file} already exists; nothing was written`, {
      hint: flag === '--output' ? 'choose a new file name, or add --overwrite to replace it (only a complete backup replaces it)' : 'choose a new file name, or move the old archive away first',
    });
  }
}

export async function backup(options: BackupOptions): Promise<BackupResult> {
  if (options.output.kind === 'file') return backupToFile(options, options.output.path);
  return backupToStream(options, options.output.stream, options.output.name);
}

function openArchive(options: BackupOptions, destination: Writable, label: string): Promise<ArchiveTarget> {
  return ArchiveTarget.open({
    destination,
    label,
    passphrase: options.passphrase,
    scryptWorkFactor: options.scryptWorkFactor,
    tool: options.tool,
    source: { store: options.source.kind, location: options.source.location },
    now: options.now,
  });
}

async function backupToStream(options: BackupOptions, stream: Writable, name: string): Promise<BackupResult> {
  const archive = await openArchive(options, stream, name);
  const result = await runTransfer(options, archive);
  if (result.interrupted) {
    archive.destroy(new Error('interrupted'));
    return { ...result, output: name, encrypted: Boolean(options.passphrase), verified: null, manifest: null };
  }
  if (archive.failure) throw streamFailure(name, archive.failure);
  if (result.summary.done === 0) {
    // an archive without a session is not a backup: cut it off, so no reader takes it for one
    archive.destroy(new Error('nothing to back up'));
    return { ...result, output: name, encrypted: Boolean(options.passphrase), verified: null, manifest: null };
  }
  const manifest = await archive.finish().catch((error: unknown) => { throw streamFailure(name, error); });
  return { ...result, output: name, encrypted: Boolean(options.passphrase), verified: null, manifest };
}

async function backupToFile(options: BackupOptions, file: string): Promise<BackupResult> {
  checkOutputPath(file, { overwrite: options.overwrite });
  const partial = `${file}.partial`;
  await rm(partial, { force: true });
  let stream: Writable;
  try {
    stream = createWriteStream(partial, { mode: 0o600, flags: 'wx' });
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    await chmod(partial, 0o600);
  } catch (error) {
    throw writeFailure(file, error);
  }
  let keep = false;
  try {
    const archive = await openArchive(options, stream, partial);
    const result = await runTransfer(options, archive).catch((error) => {
      archive.destroy(error as Error);
      throw error;
    });
    const base = { output: file, encrypted: Boolean(options.passphrase) };
    if (result.interrupted) {
      archive.destroy(new Error('interrupted'));
      return { ...result, ...base, verified: null, manifest: null };
    }
    // the destination failed (a full disk): that is the archive's failure, not the sessions'
    if (archive.failure) {
      archive.destroy(archive.failure);
      throw writeFailure(file, archive.failure);
    }
    // an archive without a session is not a backup: none is written
    if (result.summary.done === 0) {
      archive.destroy(new Error('nothing to back up'));
      return { ...result, ...base, verified: null, manifest: null };
    }
    let manifest: Manifest;
    try {
      manifest = await archive.finish();
      const handle = await open(partial, 'r+');
      await handle.sync().finally(() => handle.close());
    } catch (error) {
      throw writeFailure(file, error);
    }
    const verified = await readArchive(createReadStream(partial), {
      where: file,
      passphrase: options.passphrase ? async () => options.passphrase! : undefined,
      signal: options.signal,
    });
    if (verified.problems.length) {
      const first = verified.problems[0]!;
      throw new OperationError(`The archive written to ${file} did not verify (${first.where}: ${first.problem}); it was removed`, {
        hint: 'check the disk and run the backup again',
      });
    }
    // only a complete backup replaces an archive that is there (it may be the last good one)
    if (existsSync(file) && (!options.overwrite || result.summary.failed > 0)) {
      return { ...result, ...base, verified: null, manifest: null, keptExisting: true };
    }
    await rename(partial, file);
    keep = true;
    return { ...result, ...base, verified, manifest };
  } finally {
    if (!stream.writableFinished) stream.destroy();
    if (!keep) await rm(partial, { force: true });
  }
}

function runTransfer(options: BackupOptions, archive: ArchiveTarget): Promise<TransferResult> {
  return transfer({
    source: options.source,
    target: archive,
    engines: options.engines,
    names: options.names,
    force: options.force,
    scope: options.scope,
    concurrency: options.concurrency ?? 2,
    signal: options.signal,
    verb: 'backing up',
    onProgress: options.onProgress,
  });
}

function writeFailure(file: string, error: unknown): OperationError {
  return targetWriteError(file, error, 'the partial archive was removed');
}

function streamFailure(name: string, error: unknown): OperationError {
  return targetWriteError(name, error, 'what was written there is an incomplete archive: discard it');
}
