/**
 * The one transfer engine: plan -> copy -> verify -> commit -> (optionally) remove the source.
 * It knows stores only through SessionStore, so migrate (local <-> mongo) and later backup/restore
 * (an archive at one end) are this code with different ends. It never prints; it reports progress
 * through a callback and returns one outcome per session.
 */
import pLimit from 'p-limit';
import { testPace } from '../util/test-pace.js';
import { canonicalJson, SessionDigest, sha256 } from '../util/digest.js';
import type { Engine } from './engines.js';
import { sessionNameProblem, slugCollisions } from './names.js';
import { describeStore, requireNamed } from './selection.js';
import { WahaStorageError } from '../errors.js';
import { TargetWriteError } from '../util/write-errors.js';
import { GOWS_DB } from './engines/gows.js';
import { gowsDigest, tableDifferences, TABLES_DIGEST } from './gows/sqlite.js';
import { inScope, type TransferScope } from './gows/scope.js';
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
  /** What the plan does (dry run) or did: copy, overwrite, or (with --move, the copy being there already) only remove the source. */
  action?: 'copy' | 'overwrite' | 'remove-source';
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
  /** Why the run stopped starting sessions (the target filled up, went read-only, ...): one line and a hint. */
  stopped?: { reason: string; message: string; hint?: string };
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
  /** What is carried: everything, or without message history (--skip-messages). */
  scope?: TransferScope;
  concurrency: number;
  signal?: AbortSignal;
  /** What the run is doing, in the words of the refusals ("stop WAHA before backing up"): migrating (default), backing up, restoring. */
  verb?: 'migrating' | 'backing up' | 'restoring';
  now?: () => number;
  /** Called while listing and planning, when a session starts, as its entries are copied, and when it ends. */
  onProgress?: (event: TransferProgress) => void;
}

/** What the engine is doing, for a progress line: nothing here may change what it does. */
export type TransferProgress =
  /** Listing the source's sessions (reading each one's summary): the total is not known yet. */
  | { phase: 'list'; store: string }
  /** The sessions to go through are known. */
  | { phase: 'plan'; total: number }
  /** A session's checks begin (liveness, what the target holds; digests of both when it has it). */
  | { phase: 'start'; session: SessionRef }
  /** The checks passed: the session is being copied. */
  | { phase: 'copy'; session: SessionRef }
  /** One entry was written to the target's staging. */
  | { phase: 'entry'; session: SessionRef; bytes: number }
  | { phase: 'end'; session: SessionRef; outcome: SessionOutcome };

class Interrupted extends Error {}

/** The entries some stores write only at commit (checked again after it). */
const META_KINDS = new Set<SessionEntry['kind']>(['config', 'me', 'worker']);

/**
 * One canonical digest per entry: bytes for files, canonical JSON for trees; never times. Config `{}`
 * and null are both "no config" (MongoDB keeps no difference between them).
 */
export function entryDigest(entry: SessionEntry): { id: string; digest: string; bytes: number } {
  const id = `${entry.kind}:${entry.name}`;
  if (entry.kind === 'file') return { id, digest: entry.name === GOWS_DB ? gowsFileDigest(entry.data) : sha256(entry.data), bytes: entry.data.length };
  if (entry.kind === 'dir') return { id, digest: sha256(''), bytes: 0 };
  const value = entry.kind === 'config' && entry.value && Object.keys(entry.value).length === 0 ? null : entry.value;
  const text = canonicalJson(value);
  return { id, digest: sha256(text), bytes: Buffer.byteLength(text) };
}

/**
 * gows.db by its tables (row counts and a canonical row hash each), so a copy rebuilt in another
 * dialect compares equal to its source; a file that is not SQLite by its bytes.
 */
function gowsFileDigest(data: Buffer): string {
  try {
    return gowsDigest(data);
  } catch {
    return sha256(data);
  }
}

/** What differs between two digests of one session, gows.db's tables named. */
function differencesOf(expected: SessionDigest, found: SessionDigest): string[] {
  return expected.differences(found).map((item) => {
    const id = `file:${GOWS_DB}`;
    if (item !== `${id} differs`) return item;
    const [a, b] = [expected.get(id), found.get(id)];
    return a?.startsWith(TABLES_DIGEST) && b?.startsWith(TABLES_DIGEST) ? `${GOWS_DB} ${tableDifferences(a, b).join(', ')}` : item;
  });
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
  options.onProgress?.({ phase: 'list', store: options.source.kind });
  const listed = await options.source.list({ engines: options.engines, names: options.names });
  // a name asked for that the source does not have is a typo: exit 2, before anything is written
  await requireNamed(listed, options.names, { description: describeStore(options.source), names: async () => (await options.source.list({ engines: options.engines })).map((session) => session.name) });
  const outcomes: SessionOutcome[] = [];
  const collided = new Map<string, string[]>();
  for (const [, names] of slugCollisions(new Set(listed.map((session) => session.name)))) {
    for (const name of names) collided.set(name, names);
  }
  const limit = pLimit(Math.max(1, options.concurrency));
  options.onProgress?.({ phase: 'plan', total: listed.length });
  let interrupted = false;
  let stopped: TransferResult['stopped'];
  await Promise.all(listed.map((session, index) => limit(async () => {
    await testPace();
    if (options.signal?.aborted) {
      interrupted = true;
      return;
    }
    const ref: SessionRef = { engine: session.engine, name: session.name };
    if (stopped) {
      outcomes[index] = failed(ref, 'not-attempted', `not attempted: ${options.target.location} failed first (${stopped.reason})`);
      return;
    }
    options.onProgress?.({ phase: 'start', session: ref });
    let outcome: SessionOutcome;
    try {
      outcome = await transferOne(session, collided.get(session.name), options, now);
    } catch (error) {
      // only an uncommitted session can end here: transferOne returns an outcome for every commit
      if (error instanceof Interrupted || options.signal?.aborted) {
        interrupted = true;
        return;
      }
      outcome = failed(ref, reasonOf(error), errorText(error));
      // a full or read-only target fails every further session the same way: stop starting them
      if (error instanceof TargetWriteError && error.stopsRun) stopped ??= { reason: error.reason, message: error.message, hint: error.hint };
    }
    outcomes[index] = outcome;
    options.onProgress?.({ phase: 'end', session: ref, outcome });
  })));
  const sessions = outcomes.filter(Boolean);
  return { sessions, summary: summarize(sessions), interrupted: interrupted || Boolean(options.signal?.aborted), ...(stopped ? { stopped } : {}) };
}

function reasonOf(error: unknown): string {
  if (error instanceof EntryError) return error.reason;
  if (error instanceof TargetWriteError) return error.reason;
  return 'error';
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

/** The error's line, with its hint when it has one (what to do next). */
function errorText(error: unknown): string {
  if (error instanceof WahaStorageError && error.hint) return `${error.message}; ${error.hint}`;
  return error instanceof Error ? error.message : String(error);
}

async function transferOne(session: StoredSession, collision: string[] | undefined, options: TransferOptions, now: () => number): Promise<SessionOutcome> {
  const { source, target, signal } = options;
  const ref: SessionRef = { engine: session.engine, name: session.name };
  const read = (store: SessionStore) => inScope(store.read(ref), options.scope);
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
    if (live) return failed(ref, 'live', `${live}; stop WAHA before ${options.verb ?? 'migrating'} (or --force if it is really stopped)`);
  }

  const presence = await target.presence(ref);
  let sourceDigest: SessionDigest | undefined;
  let action: SessionOutcome['action'] = 'copy';
  if (presence === 'present' || options.dryRun) {
    sourceDigest = await digestOf(read(source), signal);
  }
  const counts = () => ({ entries: sourceDigest?.entries ?? 0, bytes: sourceDigest?.bytes ?? 0 });
  if (presence === 'present') {
    const targetDigest = await digestOf(read(target), signal).catch((error) => {
      if (error instanceof Interrupted) throw error;
      return undefined;
    });
    if (targetDigest && targetDigest.value === sourceDigest!.value) {
      if (!options.move) return skipped(ref, 'identical', `already in ${target.kind} with the same content`, counts());
      // an earlier --move copied it and stopped before removing the source: the copy is done
      if (options.dryRun) return { engine: ref.engine, name: ref.name, status: 'planned', action: 'remove-source', message: `already in ${target.kind} with the same content: only the source would be removed`, ...counts() };
      return removeSource(ref, options, counts(), `already copied to ${target.kind} (same content); removed from ${source.kind}`);
    }
    const partial = targetDigest && partialSource(sourceDigest!, targetDigest);
    if (partial) {
      const where = `the copy in ${target.kind} is complete and the source in ${source.kind} looks partial (${partial.why}; an interrupted removal?)`;
      if (options.move && partial.subset) {
        if (options.dryRun) return { engine: ref.engine, name: ref.name, status: 'planned', action: 'remove-source', message: `${where}: the leftover would be removed`, ...counts() };
        return removeSource(ref, options, counts(), `${where}: every entry it holds is in ${target.kind} too, so the leftover was removed`);
      }
      const next = partial.subset ? `run again with --move to finish removing it from ${source.kind}` : 'compare the two by hand before changing either';
      return skipped(ref, 'source-partial', `${where}; both were kept: ${next}`, counts());
    }
    if (!options.overwrite) return skipped(ref, 'exists', `already in ${target.kind} with different content; use --overwrite to replace it`, counts());
    action = 'overwrite';
  }
  if (options.dryRun) return { engine: ref.engine, name: ref.name, status: 'planned', action, ...counts() };

  options.onProgress?.({ phase: 'copy', session: ref });
  const staged = await target.stage(ref, { replace: presence !== 'absent' });
  const copied = new SessionDigest();
  const copiedMeta = new SessionDigest();
  try {
    for await (const entry of read(source)) {
      if (signal?.aborted) throw new Interrupted();
      await staged.write(entry);
      const { id, digest, bytes } = entryDigest(entry);
      copied.add(id, digest, bytes);
      options.onProgress?.({ phase: 'entry', session: ref, bytes });
      if (META_KINDS.has(entry.kind)) copiedMeta.add(id, digest, bytes);
    }
    await staged.flush();
    const written = staged.written ? await staged.written() : await digestOf(staged.read(), signal);
    if (written.value !== copied.value) {
      await staged.abort();
      return failed(ref, 'verify', `the copy in ${target.kind} differs from the source (${differencesOf(copied, written).join(', ')}); nothing was committed`, copied);
    }
    if (signal?.aborted) throw new Interrupted();
  } catch (error) {
    await staged.abort().catch(() => {});
    throw error;
  }
  await staged.commit();
  // Committed: from here every path returns an outcome (an interrupt no longer drops the session).
  return afterCommit(ref, options, copied, copiedMeta, action);
}

/** The checks after a commit and, with --move, the source's removal; never throws. */
async function afterCommit(ref: SessionRef, options: TransferOptions, copied: SessionDigest, copiedMeta: SessionDigest, action: SessionOutcome['action']): Promise<SessionOutcome> {
  const { source, target, signal } = options;
  const done: SessionOutcome = { engine: ref.engine, name: ref.name, status: 'done', action, entries: copied.entries, bytes: copied.bytes };
  try {
    if (target.readMeta) {
      // config, me and worker may be written only at commit: read them back as committed (small: no interrupt).
      const meta = await digestOf(target.readMeta(ref));
      if (meta.value !== copiedMeta.value) {
        return failed(ref, 'verify', `committed, but what ${target.kind} holds now differs from the source (${differencesOf(copiedMeta, meta).join(', ')}); the source was kept, run again with --overwrite`, copied);
      }
    }
    if (!options.move) return done;
    const kept = { ...done, message: `copied; interrupted before removing it from ${source.kind}: run again with --move to remove it there` };
    if (signal?.aborted) return kept;
    // Parts of a session (config, me, worker) reach some targets only at commit: before the source
    // goes, the committed session is read back once more and must equal what was copied.
    const committed = await digestOf(target.read(ref), signal).catch((error) => {
      if (error instanceof Interrupted) return undefined;
      throw error;
    });
    if (!committed) return kept;
    if (committed.value !== copied.value) {
      return failed(ref, 'verify', `the committed copy in ${target.kind} differs from the source (${differencesOf(copied, committed).join(', ')}); the source was kept`, copied);
    }
  } catch (error) {
    return failed(ref, 'verify', `committed to ${target.kind}, but reading it back failed (${errorText(error)}); the source was kept`, copied);
  }
  return removeSource(ref, options, copied, undefined, action);
}

/** Removes the verified source; its failure is the session's (the copy stays committed). */
async function removeSource(ref: SessionRef, options: TransferOptions, counts: { entries: number; bytes: number }, message?: string, action: SessionOutcome['action'] = 'remove-source'): Promise<SessionOutcome> {
  try {
    await options.source.remove(ref);
  } catch (error) {
    return failed(ref, 'remove-source', `copied and verified, but removing it from ${options.source.kind} failed: ${errorText(error)}; run again with --move to finish (or remove it by hand)`, counts);
  }
  return { engine: ref.engine, name: ref.name, status: 'done', action, ...(message ? { message } : {}), entries: counts.entries, bytes: counts.bytes };
}

/**
 * Whether the source looks like the leftover of an interrupted removal while the target holds the
 * complete copy: it lacks the target's creds, or has fewer entries. `subset`: every entry it has is
 * in the target with the same content (removing it loses nothing).
 */
function partialSource(source: SessionDigest, target: SessionDigest): { why: string; subset: boolean } | undefined {
  const credsMissing = target.has('key:creds') && !source.has('key:creds');
  if (!credsMissing && source.entries >= target.entries) return undefined;
  const { missing, differing } = target.compare(source);
  const why = [credsMissing ? 'creds.json is missing' : '', `${source.entries} of ${target.entries} entries`].filter(Boolean).join(', ');
  return { why, subset: missing === 0 && differing === 0 };
}
