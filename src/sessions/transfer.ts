/**
 * The one transfer engine: plan -> copy -> verify -> commit -> (optionally) remove the source.
 * It knows stores only through SessionStore, so migrate (local <-> mongo) and later backup/restore
 * (an archive at one end) are this code with different ends. It never prints; it reports progress
 * through a callback and returns one outcome per session.
 */
import pLimit from 'p-limit';
import { canonicalJson, SessionDigest, sha256 } from '../util/digest.js';
import type { Engine } from './engines.js';
import { sessionNameProblem, slugCollisions } from './names.js';
import { EntryError, type SessionEntry, type SessionRef, type SessionStore, type StoredSession } from './stores/types.js';

export type TransferStatus = 'done' | 'skipped' | 'failed' | 'planned';

export interface SessionOutcome {
  engine: Engine | null;
  name: string;
  status: TransferStatus;
  /** Stable code when not done: exists, identical, live, invalid-name, slug-collision, key-name, ... */
  reason?: string;
  /** For a person: what happened, where, what to do. */
  message?: string;
  /** What the plan does (dry run) or did: copy, overwrite. */
  action?: 'copy' | 'overwrite';
  entries: number;
  bytes: number;
}

export interface TransferSummary {
  sessions: number;
  done: number;
  skipped: number;
  failed: number;
  planned: number;
  entries: number;
  bytes: number;
}

export interface TransferResult {
  sessions: SessionOutcome[];
  summary: TransferSummary;
  interrupted: boolean;
}

export interface TransferOptions {
  source: SessionStore;
  target: SessionStore;
  engines: readonly Engine[];
  names?: readonly string[];
  overwrite?: boolean;
  move?: boolean;
  force?: boolean;
  dryRun?: boolean;
  concurrency: number;
  signal?: AbortSignal;
  now?: () => number;
  /** Called when a session starts and when it ends. */
  onProgress?: (event: { phase: 'start' | 'end'; session: SessionRef; outcome?: SessionOutcome }) => void;
}

class Interrupted extends Error {}

/** The entries some stores write only at commit (checked again after it). */
const META_KINDS = new Set<SessionEntry['kind']>(['config', 'me', 'worker']);

/** One canonical digest per entry: bytes for files, canonical JSON for trees; config `{}` and null are both "no config". */
export function entryDigest(entry: SessionEntry): { id: string; digest: string; bytes: number } {
  const id = `${entry.kind}:${entry.name}`;
  if (entry.kind === 'file') return { id, digest: sha256(entry.data), bytes: entry.data.length };
  const value = entry.kind === 'config' && entry.value && Object.keys(entry.value).length === 0 ? null : entry.value;
  const text = canonicalJson(value);
  return { id, digest: sha256(text), bytes: Buffer.byteLength(text) };
}

export async function digestOf(entries: AsyncIterable<SessionEntry>, signal?: AbortSignal): Promise<SessionDigest> {
  const digest = new SessionDigest();
  for await (const entry of entries) {
    if (signal?.aborted) throw new Interrupted();
    const { id, digest: value, bytes } = entryDigest(entry);
    digest.add(id, value, bytes);
  }
  return digest;
}

export async function transfer(options: TransferOptions): Promise<TransferResult> {
  const now = options.now ?? Date.now;
  const listed = await options.source.list({ engines: options.engines, names: options.names });
  const outcomes: SessionOutcome[] = [];
  const collided = new Map<string, string[]>();
  for (const [, names] of slugCollisions(new Set(listed.map((session) => session.name)))) {
    for (const name of names) collided.set(name, names);
  }
  const limit = pLimit(Math.max(1, options.concurrency));
  let interrupted = false;
  await Promise.all(listed.map((session, index) => limit(async () => {
    if (options.signal?.aborted) {
      interrupted = true;
      return;
    }
    const ref: SessionRef = { engine: session.engine, name: session.name };
    options.onProgress?.({ phase: 'start', session: ref });
    let outcome: SessionOutcome;
    try {
      outcome = await transferOne(session, collided.get(session.name), options, now);
    } catch (error) {
      if (error instanceof Interrupted || options.signal?.aborted) {
        interrupted = true;
        return;
      }
      outcome = failed(ref, error instanceof EntryError ? error.reason : 'error', errorText(error));
    }
    outcomes[index] = outcome;
    options.onProgress?.({ phase: 'end', session: ref, outcome });
  })));
  const sessions = outcomes.filter(Boolean);
  return { sessions, summary: summarize(sessions), interrupted: interrupted || Boolean(options.signal?.aborted) };
}

function summarize(sessions: SessionOutcome[]): TransferSummary {
  const summary: TransferSummary = { sessions: sessions.length, done: 0, skipped: 0, failed: 0, planned: 0, entries: 0, bytes: 0 };
  for (const session of sessions) {
    summary[session.status]++;
    if (session.status === 'done' || session.status === 'planned') {
      summary.entries += session.entries;
      summary.bytes += session.bytes;
    }
  }
  return summary;
}

function failed(ref: SessionRef, reason: string, message: string, counts = { entries: 0, bytes: 0 }): SessionOutcome {
  return { engine: ref.engine, name: ref.name, status: 'failed', reason, message, ...counts };
}

function skipped(ref: SessionRef, reason: string, message: string, counts = { entries: 0, bytes: 0 }): SessionOutcome {
  return { engine: ref.engine, name: ref.name, status: 'skipped', reason, message, ...counts };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function transferOne(session: StoredSession, collision: string[] | undefined, options: TransferOptions, now: () => number): Promise<SessionOutcome> {
  const { source, target, signal } = options;
  const ref: SessionRef = { engine: session.engine, name: session.name };
  if (session.refusal) {
    const make = session.refusal.status === 'failed' ? failed : skipped;
    return make(ref, session.refusal.reason, session.refusal.message);
  }
  const nameProblem = sessionNameProblem(session.name);
  if (nameProblem) return failed(ref, 'invalid-name', `the session name "${session.name}" ${nameProblem}; rename it in WAHA first`);
  if (collision) {
    return failed(ref, 'slug-collision', `sessions ${collision.map((name) => `"${name}"`).join(' and ')} map to one database name; rename all but one of them`);
  }
  const unsupported = target.unsupported(session.engine);
  if (unsupported) return skipped(ref, 'unsupported', unsupported);
  if (!options.force) {
    const live = await source.liveness(ref, now());
    if (live) return failed(ref, 'live', `${live}; stop WAHA before migrating (or --force if it is really stopped)`);
  }

  const presence = await target.presence(ref);
  let sourceDigest: SessionDigest | undefined;
  let action: SessionOutcome['action'] = 'copy';
  if (presence === 'present' || options.dryRun) {
    sourceDigest = await digestOf(source.read(ref), signal);
  }
  const counts = () => ({ entries: sourceDigest?.entries ?? 0, bytes: sourceDigest?.bytes ?? 0 });
  if (presence === 'present') {
    const targetDigest = await digestOf(target.read(ref), signal).catch((error) => {
      if (error instanceof Interrupted) throw error;
      return undefined;
    });
    if (targetDigest && targetDigest.value === sourceDigest!.value) {
      return skipped(ref, 'identical', `already in ${target.kind} with the same content`, counts());
    }
    if (!options.overwrite) return skipped(ref, 'exists', `already in ${target.kind} with different content; use --overwrite to replace it`, counts());
    action = 'overwrite';
  }
  if (options.dryRun) return { engine: ref.engine, name: ref.name, status: 'planned', action, ...counts() };

  const staged = await target.stage(ref, { replace: presence !== 'absent' });
  const copied = new SessionDigest();
  const copiedMeta = new SessionDigest();
  try {
    for await (const entry of source.read(ref)) {
      if (signal?.aborted) throw new Interrupted();
      await staged.write(entry);
      const { id, digest, bytes } = entryDigest(entry);
      copied.add(id, digest, bytes);
      if (META_KINDS.has(entry.kind)) copiedMeta.add(id, digest, bytes);
    }
    await staged.flush();
    const written = staged.written ? await staged.written() : await digestOf(staged.read(), signal);
    if (written.value !== copied.value) {
      await staged.abort();
      return failed(ref, 'verify', `the copy in ${target.kind} differs from the source (${copied.differences(written).join(', ')}); nothing was committed`, copied);
    }
    if (signal?.aborted) throw new Interrupted();
  } catch (error) {
    await staged.abort().catch(() => {});
    throw error;
  }
  await staged.commit();
  if (target.readMeta) {
    // config, me and worker may be written only at commit: read them back as committed.
    const meta = await digestOf(target.readMeta(ref), signal);
    if (meta.value !== copiedMeta.value) {
      return failed(ref, 'verify', `committed, but what ${target.kind} holds now differs from the source (${copiedMeta.differences(meta).join(', ')}); the source was kept, run again with --overwrite`, copied);
    }
  }
  const done: SessionOutcome = { engine: ref.engine, name: ref.name, status: 'done', action, entries: copied.entries, bytes: copied.bytes };
  if (options.move) {
    // Parts of a session (config, me, worker) reach some targets only at commit: before the source
    // goes, the committed session is read back once more and must equal what was copied.
    const committed = await digestOf(target.read(ref), signal);
    if (committed.value !== copied.value) {
      return failed(ref, 'verify', `the committed copy in ${target.kind} differs from the source (${copied.differences(committed).join(', ')}); the source was kept`, copied);
    }
    try {
      await source.remove(ref);
    } catch (error) {
      return failed(ref, 'remove-source', `copied and verified, but removing it from ${source.kind} failed: ${errorText(error)}; remove it by hand`, copied);
    }
  }
  return done;
}
