/**
 * The session stores by store word, the way npm-check-updates keeps its package managers
 * (src/package-managers/index.ts): one module object per store, each in its own folder. The CLI,
 * inspect, selection and purge ask this registry; the engines and the transfer engine never name a
 * store. Each module's heavy code (drivers, SDKs) loads only when a command opens that store.
 */
import type { SessionsConfig } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import type { Engine } from '../engines.js';
import type { InspectResult } from '../report.js';
import { local } from './local/index.js';
import { mongo } from './mongo/index.js';
import { postgres } from './postgres/index.js';
import type { SessionStore, StoreWord } from './types.js';

export type { StoreWord } from './types.js';

/** Which end of a migrate a store is: the target may have its own URL and namespaces (--to-*). */
export type StoreEnd = 'source' | 'target';

export interface OpenOptions {
  timeoutMs: number;
  /** WEBJS layout a local target writes. */
  layout?: 'plus' | 'core';
  end: StoreEnd;
}

export interface StoreInspectOptions {
  sessions: SessionsConfig;
  engines: readonly Engine[];
  names?: readonly string[];
  concurrency: number;
  timeoutMs: number;
  /** Ctrl-C: a read-only listing stops at the next session (the command exits 130). */
  signal?: AbortSignal;
}

/** Who a server is, so two URLs of one server (a host name and its IP) count as one. */
export interface ServerIdentity {
  id: string;
  startedMs?: number;
}

export interface StoreModule {
  readonly word: StoreWord;
  /** Other words accepted for it (`pg`). */
  readonly aliases: readonly string[];
  /** What WAHA calls it, for messages: "MongoDB". */
  readonly title: string;
  readonly description: string;
  /** The URL setting the store needs and the target's own (--to-<word>-url); none for a folder. */
  readonly url?: { readonly key: 'mongoUrl' | 'postgresUrl'; readonly targetKey: 'toMongoUrl' | 'toPostgresUrl' };
  /** Whether `inspect` without a store word reads it (its URL is set); the local store always is. */
  configured(settings: SessionsConfig): boolean;
  /** The cheap check of its setting (a URL), before any connection: a UsageError when missing. */
  requireSettings(settings: SessionsConfig, end?: StoreEnd): void;
  /** For messages: the folder, or the redacted URL (settings are required). */
  location(settings: SessionsConfig): string;
  /** The folder paths in output are shown relative to, for a store of files. */
  folder?(settings: SessionsConfig): string;
  /** Checks before reading it as a source (a local folder must exist). */
  checkSource?(settings: SessionsConfig): void;
  /** Checks before writing it as a target (a local folder must be writable). */
  checkTarget?(settings: SessionsConfig): Promise<void>;
  open(settings: SessionsConfig, options: OpenOptions): Promise<SessionStore>;
  inspect(options: StoreInspectOptions): Promise<InspectResult>;
  /** Every session name, cheaply, for "did you mean"; else the names `inspect` reports. */
  names?(options: StoreInspectOptions): Promise<string[]>;
  /** The server's identity (a store that has one), for refusing a migrate onto the same databases. */
  identity?(settings: SessionsConfig, timeoutMs: number): Promise<ServerIdentity>;
}

export const STORES: readonly StoreModule[] = [local, mongo, postgres];

/** "local, mongo or postgres (pg)" */
export function storeWordsText(): string {
  const words = STORES.map((store) => (store.aliases.length ? `${store.word} (${store.aliases.join(', ')})` : store.word));
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : words.join('');
}

/** The module a store word (or alias) names, or undefined. */
export function findStore(word: string): StoreModule | undefined {
  return STORES.find((store) => store.word === word || store.aliases.includes(word));
}

/** `role` names the word in the error: "source store", "target store", "session store". */
export function parseStoreWord(word: string, role = 'session store'): StoreWord {
  const store = findStore(word);
  if (store) return store.word;
  throw new UsageError(`Unknown ${role} "${word}"`, { hint: `use ${storeWordsText()}` });
}

export function storeOf(word: StoreWord): StoreModule {
  const store = findStore(word);
  if (!store) throw new Error(`no store module for "${word}"`);
  return store;
}

/** `local (/srv/.sessions)`, `mongo (mongodb://***@host)` */
export function describeStoreAt(word: StoreWord, settings: SessionsConfig): string {
  return `${word} (${storeOf(word).location(settings)})`;
}

/** The settings one end uses: the target's --to-<word>-url and --to-(session-)namespace when given. */
export function endSettings(sessions: SessionsConfig, end: StoreEnd = 'source'): SessionsConfig {
  if (end === 'source') return sessions;
  const urls: Partial<Record<'mongoUrl' | 'postgresUrl', string | undefined>> = {};
  for (const store of STORES) if (store.url) urls[store.url.key] = sessions[store.url.targetKey] ?? sessions[store.url.key];
  return {
    ...sessions,
    ...urls,
    namespace: sessions.toNamespace ?? sessions.namespace,
    sessionNamespace: sessions.toSessionNamespace ?? sessions.sessionNamespace,
  };
}
