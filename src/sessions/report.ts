import type { WahaStorageError } from '../errors.js';
import type { Engine } from './engines.js';
import type { Problem } from './problems.js';
import type { StoreWord } from './stores/types.js';

export type SessionStoreKind = StoreWord;

export interface SessionMe {
  id: string;
  pushName: string | null;
}

/** What a reader reports about one session. Field names are the `inspect --json` contract. */
export interface SessionReport {
  engine: Engine | null;
  name: string;
  store: SessionStoreKind;
  loggedIn: boolean | null;
  me: SessionMe | null;
  config: Record<string, unknown> | null;
  /** session_worker.worker; null when the session has no worker row (WAHA will not restart it). */
  worker: string | null;
  entries: number;
  /** Local: bytes of the files; Mongo: data size of the per-session database. */
  bytes: number | null;
  /** ISO time of the newest change seen, or null. */
  lastChange: string | null;
  problems: Problem[];
  details: SessionDetails;
}

export interface SessionDetails {
  /** Where the session lives: a folder or a database. */
  location: string;
  /** The account the auth itself names (creds.me.id, whatsmeow_device.jid), beside WAHA's `me`. */
  account?: string;
  keysByCategory?: Record<string, number>;
  /** Local: every regular file of the session (`entries` counts what a copy carries, src/sessions/entries.ts). */
  files?: number;
  /** MongoDB: the auth documents (NOWEB), or 1 for the newest RemoteAuth zip in GridFS (WEBJS). */
  documents?: number;
  authBytes?: number;
  cacheBytes?: number;
  layout?: 'plus' | 'core';
  revisions?: number;
  nowebStore?: boolean;
  formats?: ('per-key' | 'legacy')[];
  devices?: number;
  /** GOWS: whatsmeow_device.push_name of the first device. */
  pushName?: string | null;
  /** PostgreSQL GOWS: bytes of each table of the session database (with its indexes and TOAST). */
  tables?: Record<string, number>;
  whatsmeowVersion?: number | null;
  tempFiles?: string[];
  /** PostgreSQL: WAHA's connections to the session database (pg_stat_activity application_name, pid). */
  connections?: string[];
}

export interface InspectResult {
  sessions: SessionReport[];
  problems: Problem[];
  /** Stores that could not be read while another one was (a Mongo outage beside a readable local store). */
  failedStores?: StoreFailure[];
}

export interface StoreFailure {
  store: SessionStoreKind;
  error: WahaStorageError;
}
