/**
 * One message-history table of one session, in whichever store keeps it: the only thing `messages
 * prune` ever deletes from. Each store file (sqlite.ts, postgres.ts, mongo.ts) implements it.
 */
import type { PruneCriteria } from './criteria.js';

export type MessageEngine = 'NOWEB' | 'GOWS';

/** NOWEB's store keeps `messages` (store.sqlite3, or the session database); GOWS keeps `gows_messages`. */
export const MESSAGE_TABLE: Record<MessageEngine, string> = { NOWEB: 'messages', GOWS: 'gows_messages' };

export interface MessageTarget {
  /** The store word the table lives in. */
  store: 'local' | 'mongo' | 'postgres';
  session: string;
  engine: MessageEngine;
  /** `messages` or `gows_messages`. */
  table: string;
  /** The file or database that holds it, for people. */
  location: string;
}

export interface TablePlan {
  /** Rows older than the cutoff (in the chats asked for). */
  planned: number;
  /** Rows in the table. */
  rows: number;
  /** Rows whose timestamp cannot be read as a time: never deleted. */
  unreadable: number;
  /** With --chat: rows planned per stored jid. */
  byJid: Map<string, number>;
}

/** The space the table takes, as the store measures it. */
export interface TableSpace {
  /** The file (SQLite: database and WAL) or relation size (PostgreSQL), data size (MongoDB). */
  bytes: number;
  /** SQLite: free pages inside the file (reusable by WAHA; VACUUM gives them back to the disk). */
  freeBytes?: number;
}

export interface BatchResult {
  deleted: number;
  /** What the deleted rows took (row sizes the store reports). */
  bytes: number;
  /** Whether more old rows may follow (false: the table is done). */
  more: boolean;
}

export interface MessageTable extends MessageTarget {
  plan(criteria: PruneCriteria): Promise<TablePlan>;
  /**
   * Deletes at most `limit` rows older than the cutoff, in one short transaction of its own (WAHA
   * keeps writing in between).
   */
  deleteBatch(criteria: PruneCriteria, limit: number): Promise<BatchResult>;
  space(): Promise<TableSpace>;
  /** Gives the freed space back to the disk (SQLite VACUUM, PostgreSQL VACUUM FULL); WAHA must be stopped. */
  vacuum?(): Promise<void>;
  close(): Promise<void>;
}
