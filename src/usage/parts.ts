/**
 * The parts of a session `usage` reports, and which table, collection or file belongs to which.
 * One place for "which tables are message history" per engine (NOWEB store `messages`, GOWS
 * `gows_messages`), shared by any command that needs it. Table names do not collide between
 * engines, so a table's part does not depend on the engine.
 */
import type { Engine } from '../sessions/engines.js';
import { GOWS_MESSAGE_TABLES, NOWEB_MESSAGE_TABLES } from '../sessions/engines/gows-schema.js';

/**
 * - auth: what keeps the session logged in; never to be touched (NOWEB keys, the WEBJS profile's
 *   IndexedDB/Local Storage or its RemoteAuth zip, GOWS's whatsmeow store, WPP's folder or zip);
 * - messages: the message history (what a retention prune may delete);
 * - store: the other store tables (contacts, chats, groups, labels, lid map, ...);
 * - cache: the rest of a local WEBJS profile (Chromium caches);
 * - media: PostgreSQL media kept in the session's database;
 * - other: the config, SQLite free pages and WAL files, database catalogs, anything WAHA does not write.
 */
export const PARTS = ['auth', 'messages', 'store', 'cache', 'media', 'other'] as const;
export type PartName = (typeof PARTS)[number];

/** The message-history tables (collections) of each engine that keeps them (src/sessions/engines/gows-schema.ts). */
export const MESSAGE_TABLES: Partial<Record<Engine, readonly string[]>> = { NOWEB: NOWEB_MESSAGE_TABLES, GOWS: GOWS_MESSAGE_TABLES };

/** The NOWEB store's other tables (waha-facts §1.3; the same names in MongoDB and PostgreSQL). */
export const NOWEB_STORE_TABLES = ['contacts', 'chats', 'groups', 'labels', 'labelAssociations', 'lid_map'] as const;
const NOWEB_STORE = new Set<string>(NOWEB_STORE_TABLES);
/** NOWEB auth (`auth`), WEBJS/WPP RemoteAuth in PostgreSQL (`files`) and in MongoDB GridFS (`auth.files`, `auth.chunks`). */
const AUTH_TABLES = new Set(['auth', 'files', 'auth.files', 'auth.chunks']);
const MESSAGES = new Set(Object.values(MESSAGE_TABLES).flat());

/** The part a table (SQLite, PostgreSQL) or collection (MongoDB) of a session database belongs to. */
export function partOfTable(table: string): PartName {
  if (AUTH_TABLES.has(table) || table.startsWith('whatsmeow_')) return 'auth';
  if (MESSAGES.has(table)) return 'messages';
  if (NOWEB_STORE.has(table) || table.startsWith('gows_')) return 'store';
  if (table === 'media') return 'media';
  return 'other';
}

/** Whether `table` is message history (of any engine). */
export function isMessageTable(table: string): boolean {
  return MESSAGES.has(table);
}
