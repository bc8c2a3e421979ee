/**
 * `diff`: two session stores (or archives) compared session by session with the transfer engine's
 * per-entry digests, plus the logged-in state each side's auth shows. Sessions are read one entry
 * at a time; only the digests of one session's entries are held. Never prints.
 */
import pLimit from 'p-limit';
import type { Engine } from './engines.js';
import { LoginState } from './engines/login.js';
import { entryDigest } from './transfer.js';
import { EntryError, type SessionEntry, type SessionRef, type SessionStore, type StoredSession } from './stores/types.js';

export type DiffStatus = 'same' | 'changed' | 'missing' | 'extra' | 'unreadable';

export interface EntryChange {
  /** The transfer engine's entry id, e.g. `key:creds`, `file:Default/Local Storage/leveldb/000003.log`. */
  id: string;
  /** differs: in both with other content; missing: only in a; extra: only in b. */
  change: 'differs' | 'missing' | 'extra';
}

export interface SessionSide {
  loggedIn: boolean | null;
  entries: number;
  bytes: number;
}

export interface SessionDiff {
  engine: Engine | null;
  name: string;
  status: DiffStatus;
  a: SessionSide | null;
  b: SessionSide | null;
  /** The session was logged in on side a and is not on side b. */
  lostLogin: boolean;
  /** Counts of changed entries by kind of change. */
  changes: { differs: number; missing: number; extra: number };
  /** The first changed entries (at most `limit`). */
  entries: EntryChange[];
  message?: string;
}

export interface DiffSummary {
  sessions: number;
  same: number;
  changed: number;
  missing: number;
  extra: number;
  unreadable: number;
  lostLogin: number;
}

export interface DiffResult {
  sessions: SessionDiff[];
  summary: DiffSummary;
  interrupted: boolean;
}

export interface DiffOptions {
  a: SessionStore;
  b: SessionStore;
  engines: readonly Engine[];
  names?: readonly string[];
  concurrency?: number;
  /** How many changed entries each session lists (all are counted). */
  limit?: number;
  signal?: AbortSignal;
}

class Interrupted extends Error {}

const key = (session: SessionRef) => `${session.engine ?? 'unknown'}/${session.name}`;

export async function diffStores(options: DiffOptions): Promise<DiffResult> {
  const [listA, listB] = await Promise.all([
    options.a.list({ engines: options.engines, names: options.names }),
    options.b.list({ engines: options.engines, names: options.names }),
  ]);
  const inB = new Map(listB.map((session) => [key(session), session]));
  const pairs: { ref: SessionRef; a?: StoredSession; b?: StoredSession }[] = listA.map((a) => ({ ref: a, a, b: inB.get(key(a)) }));
  const inA = new Set(listA.map(key));
  for (const b of listB) if (!inA.has(key(b))) pairs.push({ ref: b, b });
  pairs.sort((x, y) => (key(x.ref) < key(y.ref) ? -1 : key(x.ref) > key(y.ref) ? 1 : 0));

  const limit = pLimit(Math.max(1, options.concurrency ?? 4));
  const results: SessionDiff[] = [];
  let interrupted = false;
  await Promise.all(pairs.map((pair, index) => limit(async () => {
    if (options.signal?.aborted) {
      interrupted = true;
      return;
    }
    try {
      results[index] = await diffOne(pair, options);
    } catch (error) {
      if (error instanceof Interrupted || options.signal?.aborted) interrupted = true;
      else throw error;
    }
  })));
  const sessions = results.filter(Boolean);
  return { sessions, summary: summarize(sessions), interrupted: interrupted || Boolean(options.signal?.aborted) };
}

async function diffOne(pair: { ref: SessionRef; a?: StoredSession; b?: StoredSession }, options: DiffOptions): Promise<SessionDiff> {
  const ref: SessionRef = { engine: pair.ref.engine, name: pair.ref.name };
  const base = { engine: ref.engine, name: ref.name, lostLogin: false, changes: { differs: 0, missing: 0, extra: 0 }, entries: [] as EntryChange[] };
  const refusal = pair.a?.refusal ? { side: 'a', ...pair.a.refusal } : pair.b?.refusal ? { side: 'b', ...pair.b.refusal } : undefined;
  if (refusal) return { ...base, status: 'unreadable', a: null, b: null, message: `side ${refusal.side}: ${refusal.message}` };
  let a: Digested | undefined;
  let b: Digested | undefined;
  try {
    if (pair.a) a = await digestSession(options.a, ref, options.signal);
  } catch (error) {
    return unreadable(base, 'a', error);
  }
  try {
    if (pair.b) b = await digestSession(options.b, ref, options.signal);
  } catch (error) {
    return unreadable(base, 'b', error);
  }
  if (!b) return { ...base, status: 'missing', a: a!.side, b: null, lostLogin: a!.side.loggedIn === true };
  if (!a) return { ...base, status: 'extra', a: null, b: b.side };
  const max = options.limit ?? 50;
  const changes = { differs: 0, missing: 0, extra: 0 };
  const entries: EntryChange[] = [];
  const note = (id: string, change: EntryChange['change']) => {
    changes[change]++;
    if (entries.length < max) entries.push({ id, change });
  };
  for (const [id, digest] of a.byId) {
    const theirs = b.byId.get(id);
    if (theirs === undefined) note(id, 'missing');
    else if (theirs !== digest) note(id, 'differs');
  }
  for (const id of b.byId.keys()) if (!a.byId.has(id)) note(id, 'extra');
  const changed = changes.differs + changes.missing + changes.extra > 0;
  return {
    ...base, status: changed ? 'changed' : 'same', a: a.side, b: b.side, changes, entries,
    lostLogin: a.side.loggedIn === true && b.side.loggedIn !== true,
  };
}

function unreadable(base: Omit<SessionDiff, 'status' | 'a' | 'b'>, side: 'a' | 'b', error: unknown): SessionDiff {
  if (error instanceof Interrupted) throw error;
  const text = error instanceof EntryError ? `${error.reason}: ${error.message}` : error instanceof Error ? error.message : String(error);
  return { ...base, status: 'unreadable', a: null, b: null, message: `side ${side}: ${text}` };
}

interface Digested {
  byId: Map<string, string>;
  side: SessionSide;
}

async function digestSession(store: SessionStore, ref: SessionRef, signal?: AbortSignal): Promise<Digested> {
  const byId = new Map<string, string>();
  const login = new LoginState(ref.engine);
  let bytes = 0;
  for await (const entry of store.read(ref)) {
    if (signal?.aborted) throw new Interrupted();
    const { id, digest, bytes: size } = entryDigest(entry);
    byId.set(id, digest);
    bytes += size;
    login.see(entry);
  }
  return { byId, side: { loggedIn: login.value, entries: byId.size, bytes } };
}

function summarize(sessions: SessionDiff[]): DiffSummary {
  const summary: DiffSummary = { sessions: sessions.length, same: 0, changed: 0, missing: 0, extra: 0, unreadable: 0, lostLogin: 0 };
  for (const session of sessions) {
    summary[session.status]++;
    if (session.lostLogin) summary.lostLogin++;
  }
  return summary;
}
