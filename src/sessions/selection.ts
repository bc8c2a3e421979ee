/**
 * The sessions a command was asked for by name: one check, shared by every session command
 * (inspect, migrate, backup, restore, purge), so a typo is exit 2 naming it, before anything is
 * written, and never an empty run that looks like success.
 */
import { UsageError } from '../errors.js';
import type { Engine } from './engines.js';
import type { InspectOptions } from './inspect.js';
import type { SessionStore } from './stores/types.js';

export interface SelectionStore {
  /** For the message: `local (/srv/.sessions)`, `mongo (mongodb://***@host)`, `archive x.tar.gz`. */
  description: string;
  /** Every session name of the store (unfiltered), for "did you mean"; asked only when a name is missing. */
  names?: () => Promise<readonly string[]> | readonly string[];
}

/** Empty names are a typo too (`--session ''`, `--session "$UNSET"`): refused before any store is opened. */
export function requireNonEmptyNames(names: readonly string[] | undefined): void {
  if (names?.some((name) => name.trim() === '')) {
    throw new UsageError('An empty session name was given (--session "")', { hint: 'give the session name, e.g. --session default; "waha-storage inspect" lists them' });
  }
}

/** Every name asked for must be among the listed sessions; otherwise a UsageError naming them and what exists. */
export async function requireNamed(listed: readonly { name: string }[], names: readonly string[] | undefined, store: SelectionStore): Promise<void> {
  requireNonEmptyNames(names);
  if (!names?.length) return;
  const found = new Set(listed.map((session) => session.name));
  const missing = [...new Set(names)].filter((name) => !found.has(name));
  if (missing.length === 0) return;
  const available = [...new Set(store.names ? await store.names() : [...found])].sort();
  const guess = (name: string) => {
    const close = closeNames(name, available);
    return close.length ? `did you mean ${close.map((other) => `"${other}"`).join(' or ')}?` : '';
  };
  const guesses = missing.map(guess);
  const text = missing.length === 1
    ? `No session "${missing[0]}" in ${store.description}${guesses[0] ? `: ${guesses[0]}` : ''}`
    : `No session ${missing.map((name, index) => `"${name}"${guesses[index] ? ` (${guesses[index]})` : ''}`).join(', ')} in ${store.description}`;
  const tail = guesses.some(Boolean) ? '' : available.length ? `; it has ${preview(available)}` : '; it has no sessions';
  throw new UsageError(`${text}${tail}`, {
    hint: 'check the name (case matters), --engine and the namespace; "waha-storage inspect" lists the sessions',
  });
}

/** The same check against a store before a command writes anything (a backup's output, a stream header). */
export async function requireNamedIn(store: SessionStore, engines: readonly Engine[], names: readonly string[] | undefined): Promise<void> {
  requireNonEmptyNames(names);
  if (!names?.length) return;
  const listed = await store.list({ engines, names });
  await requireNamed(listed, names, { description: describeStore(store), names: async () => (await store.list({ engines })).map((session) => session.name) });
}

export function describeStore(store: Pick<SessionStore, 'kind' | 'location'>): string {
  return `${store.kind} (${store.location})`;
}

/** What `inspect` reads (also purge's plan), as a SelectionStore: every name from each store (the local folders: names only, cheap). */
export async function inspectedStores(options: InspectOptions): Promise<SelectionStore> {
  const { selectStores, inspect } = await import('./inspect.js');
  const { describeStoreAt, storeOf } = await import('./stores/registry.js');
  const stores = selectStores({ ...options, onNote: undefined });
  return {
    description: stores.map((store) => describeStoreAt(store, options.sessions)).join(' or '),
    names: async () => {
      const names: string[] = [];
      for (const store of stores) {
        const module = storeOf(store);
        if (module.names) names.push(...await module.names({ ...options, names: undefined, timeoutMs: options.mongoTimeoutMs }));
        else {
          const result = await inspect({ ...options, store, names: undefined, onNote: undefined }).catch(() => ({ sessions: [] }));
          names.push(...result.sessions.map((session) => session.name));
        }
      }
      return names;
    },
  };
}

function preview(names: readonly string[]): string {
  const shown = names.slice(0, 8).map((name) => `"${name}"`).join(', ');
  return names.length > 8 ? `${shown} and ${names.length - 8} more` : shown;
}

/** Names a typo of `name` could have meant: the same but for case, or at most 2 edits away (1 for short names). */
export function closeNames(name: string, available: readonly string[]): string[] {
  const limit = name.length <= 4 ? 1 : 2;
  return available.filter((other) => other !== name && (other.toLowerCase() === name.toLowerCase() || editDistance(name, other) <= limit));
}

/** Optimal string alignment distance (Levenshtein plus adjacent transposition, "alpah" -> "alpha" is 1). */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3; // more than any limit we use
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}
