/**
 * `backup prune`: rotation of a folder of archives. Every entry of the folder is classified (our
 * archive, one that cannot be read, anything else); archives are grouped by source store and
 * session set from their manifests (never from file names) and rotated with restic's rules. Only
 * regular files that are our archives are ever removed, and each one only if it is still the very
 * file that was read (same inode, size and mtime). Never prints or prompts: plan, then apply.
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { readArchiveManifest } from './stores/archive/manifest.js';
import { rotate, type KeepPolicy, type KeepReason } from './rotation.js';

interface Identity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

export interface PlannedArchive {
  /** The file name inside the folder. */
  file: string;
  createdAt: string;
  bytes: number;
  encrypted: boolean;
  action: 'keep' | 'remove';
  reasons: KeepReason[];
  status: 'kept' | 'planned' | 'removed' | 'failed';
  message?: string;
  identity: Identity;
}

export interface ArchiveGroup {
  source: { store: string; location: string };
  /** `ENGINE/name` of every session the archives hold, sorted. */
  sessions: string[];
  /** Newest first. */
  archives: PlannedArchive[];
}

export interface PrunePlan {
  folder: string;
  policy: KeepPolicy;
  groups: ArchiveGroup[];
  /** Ours or possibly ours, but unreadable (encrypted without a passphrase, incomplete, damaged): left alone. */
  notRead: { file: string; reason: string }[];
  /** Not waha-storage archives (other files, folders, symlinks): left alone. */
  foreign: { file: string; kind: 'file' | 'directory' | 'symlink' | 'other'; reason: string }[];
}

export interface PruneSummary {
  archives: number;
  kept: number;
  remove: number;
  removed: number;
  failed: number;
  notRead: number;
  foreign: number;
  /** Bytes of the archives to remove (or removed). */
  bytes: number;
}

export interface PlanOptions {
  folder: string;
  policy: KeepPolicy;
  passphrase?: string;
  signal?: AbortSignal;
}

export async function planPrune(options: PlanOptions): Promise<PrunePlan> {
  const { folder } = options;
  let names: string[];
  try {
    const info = await lstat(folder);
    if (!info.isDirectory()) throw new UsageError(`${folder} is not a folder`, { hint: 'give the folder the archives are in' });
    names = (await readdir(folder)).sort();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`Cannot read the folder ${folder}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { hint: 'check the path and its permissions' });
  }
  const plan: PrunePlan = { folder, policy: options.policy, groups: [], notRead: [], foreign: [] };
  const groups = new Map<string, ArchiveGroup>();
  for (const file of names) {
    if (options.signal?.aborted) throw new Error('interrupted');
    const full = path.join(folder, file);
    const info = await lstat(full);
    if (!info.isFile()) {
      const kind = info.isDirectory() ? 'directory' : info.isSymbolicLink() ? 'symlink' : 'other';
      plan.foreign.push({ file, kind, reason: `a ${kind}, not an archive file` });
      continue;
    }
    let read;
    try {
      read = await readArchiveManifest(full, { passphrase: options.passphrase, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      plan.notRead.push({ file, reason: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
      continue;
    }
    if (read.kind === 'foreign') {
      plan.foreign.push({ file, kind: 'file', reason: read.reason });
      continue;
    }
    if (read.kind === 'not-read') {
      plan.notRead.push({ file, reason: read.reason });
      continue;
    }
    const { manifest } = read;
    const source = { store: String(manifest.source?.store ?? '?'), location: String(manifest.source?.location ?? '?') };
    const sessions = [...new Set(manifest.sessions.map((session) => `${session.engine ?? 'unknown'}/${session.name}`))].sort();
    const key = JSON.stringify([source.store, source.location, sessions]);
    let group = groups.get(key);
    if (!group) groups.set(key, group = { source, sessions, archives: [] });
    group.archives.push({
      file, createdAt: new Date(manifest.createdAt).toISOString(), bytes: info.size, encrypted: read.encrypted,
      action: 'keep', reasons: [], status: 'kept',
      identity: { dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs },
    });
  }
  for (const group of groups.values()) {
    group.archives = rotate(group.archives, options.policy, (archive) => new Date(archive.createdAt), (archive) => archive.file)
      .map(({ item, keep, reasons }) => ({ ...item, action: keep ? 'keep' : 'remove', status: keep ? 'kept' : 'planned', reasons }));
    plan.groups.push(group);
  }
  return plan;
}

/** Removes the archives the plan removes; each only if it is still the file that was read. */
export async function applyPrune(plan: PrunePlan, options: { signal?: AbortSignal } = {}): Promise<{ interrupted: boolean }> {
  for (const group of plan.groups) {
    for (const archive of group.archives) {
      if (archive.action !== 'remove') continue;
      if (options.signal?.aborted) return { interrupted: true };
      const full = path.join(plan.folder, archive.file);
      try {
        const now = await lstat(full);
        const then = archive.identity;
        if (!now.isFile() || now.dev !== then.dev || now.ino !== then.ino || now.size !== then.size || now.mtimeMs !== then.mtimeMs) {
          archive.status = 'failed';
          archive.message = 'the file changed since it was read; left alone (run prune again)';
          continue;
        }
        await unlink(full);
        archive.status = 'removed';
      } catch (error) {
        archive.status = 'failed';
        archive.message = `cannot remove it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
      }
    }
  }
  return { interrupted: false };
}

export function summarizePrune(plan: PrunePlan): PruneSummary {
  const summary: PruneSummary = { archives: 0, kept: 0, remove: 0, removed: 0, failed: 0, notRead: plan.notRead.length, foreign: plan.foreign.length, bytes: 0 };
  for (const archive of plan.groups.flatMap((group) => group.archives)) {
    summary.archives++;
    if (archive.action === 'keep') {
      summary.kept++;
      continue;
    }
    summary.remove++;
    if (archive.status === 'removed') summary.removed++;
    if (archive.status === 'failed') summary.failed++;
    else summary.bytes += archive.bytes;
  }
  return summary;
}
