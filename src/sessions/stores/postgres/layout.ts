/**
 * WAHA's PostgreSQL layout (postgres.md §1.2-1.4): database names, the DDL WAHA runs (copied
 * statement for statement, so WAHA starts on what we wrote without migrating anything), and the
 * names this tool uses while a copy is not committed yet.
 */
import { createHash } from 'node:crypto';
import { namespacesFor, type Engine } from '../../engines.js';
import { mainDatabase, sessionDatabase } from '../../names.js';
import { STORE_TABLES } from '../noweb-store-sqlite.js';

/** PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1); WAHA's CREATE DATABASE gets the same. */
export const MAX_IDENTIFIER = 63;

export function truncateIdentifier(name: string): string {
  const bytes = Buffer.from(name, 'utf8');
  return bytes.length <= MAX_IDENTIFIER ? name : bytes.subarray(0, MAX_IDENTIFIER).toString('utf8').replace(/\uFFFD$/, '');
}

export interface SessionDatabases {
  main: string;
  session: string;
  /** Where the copy is written until commit. */
  staging: string;
  /** The replaced session database, between the two renames of a commit. */
  old: string;
}

export function databasesOf(engine: Engine | null, name: string, configured: { namespace?: string; sessionNamespace?: string }): SessionDatabases {
  const namespaces = namespacesFor(engine ?? 'NOWEB', configured);
  const session = truncateIdentifier(sessionDatabase(namespaces.session, name));
  const tag = createHash('sha256').update(session).digest('hex').slice(0, 20);
  return {
    main: truncateIdentifier(mainDatabase(namespaces.main)),
    session,
    staging: `${STAGING_PREFIX}${tag}`,
    old: `${OLD_PREFIX}${tag}`,
  };
}

export const STAGING_PREFIX = 'waha_storage_stage_';
export const OLD_PREFIX = 'waha_storage_old_';
/** A table in a session database that is not committed yet (its main-database rows may not be written). */
export const INCOMPLETE_MARKER = 'waha_storage_incomplete';

/** `src/core/storage/sql/schemas.ts`: the main database. */
export const MAIN_DDL = [
  'CREATE TABLE IF NOT EXISTS session_config (id TEXT PRIMARY KEY, data TEXT)',
  'CREATE UNIQUE INDEX IF NOT EXISTS session_config_id_index ON session_config (id)',
  'CREATE TABLE IF NOT EXISTS me (id TEXT PRIMARY KEY, data TEXT)',
  'CREATE UNIQUE INDEX IF NOT EXISTS me_id_index ON me (id)',
  'CREATE TABLE IF NOT EXISTS session_worker (id TEXT, worker TEXT, data TEXT)',
  'CREATE UNIQUE INDEX IF NOT EXISTS session_worker_id_idx ON session_worker (id)',
  'CREATE INDEX IF NOT EXISTS session_worker_worker_idx ON session_worker (worker)',
  'CREATE TABLE IF NOT EXISTS api_key (id TEXT PRIMARY KEY, "key" TEXT, "isActive" INTEGER, session TEXT, data TEXT)',
  'CREATE UNIQUE INDEX IF NOT EXISTS api_key_id_index ON api_key (id)',
  'CREATE UNIQUE INDEX IF NOT EXISTS api_key_key_idx ON api_key ("key")',
  'CREATE INDEX IF NOT EXISTS api_key_session_idx ON api_key (session)',
];

/** `engines/noweb/store/psql/schemas.ts`. */
export const AUTH_DDL = [
  'CREATE TABLE IF NOT EXISTS auth (id TEXT PRIMARY KEY, data TEXT)',
  'CREATE UNIQUE INDEX IF NOT EXISTS auth_id_index ON auth (id)',
];

/** `engines/noweb/store/schemas.ts`, per table: created only for tables a session has. */
export const STORE_DDL: Record<string, readonly string[]> = {
  contacts: [
    'CREATE TABLE IF NOT EXISTS contacts (id TEXT PRIMARY KEY, data TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS contacts_id_index ON contacts (id)',
  ],
  chats: [
    'CREATE TABLE IF NOT EXISTS chats (id TEXT PRIMARY KEY, "conversationTimestamp" INTEGER, data TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS chats_id_index ON chats (id)',
    'CREATE INDEX IF NOT EXISTS "chats_conversationTimestamp_index" ON chats ("conversationTimestamp")',
  ],
  groups: [
    'CREATE TABLE IF NOT EXISTS groups (id TEXT PRIMARY KEY, data TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS groups_id_index ON groups (id)',
  ],
  messages: [
    'CREATE TABLE IF NOT EXISTS messages (jid TEXT, id TEXT, "messageTimestamp" INTEGER, data TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS messages_id_index ON messages (id)',
    'CREATE INDEX IF NOT EXISTS messages_jid_id_index ON messages (jid, id)',
    'CREATE INDEX IF NOT EXISTS messages_jid_timestamp_index ON messages (jid, "messageTimestamp")',
    'CREATE INDEX IF NOT EXISTS timestamp_index ON messages ("messageTimestamp")',
  ],
  labels: [
    'CREATE TABLE IF NOT EXISTS labels (id TEXT PRIMARY KEY, data TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS labels_id_index ON labels (id)',
  ],
  labelAssociations: [
    'CREATE TABLE IF NOT EXISTS "labelAssociations" (id TEXT PRIMARY KEY, type TEXT, "labelId" TEXT, "chatId" TEXT, "messageId" TEXT, data TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS label_assoc_id_index ON "labelAssociations" (id)',
    'CREATE INDEX IF NOT EXISTS label_assoc_type_label_index ON "labelAssociations" (type, "labelId")',
    'CREATE INDEX IF NOT EXISTS label_assoc_type_chat_index ON "labelAssociations" (type, "chatId")',
    'CREATE INDEX IF NOT EXISTS label_assoc_type_message_index ON "labelAssociations" (type, "messageId")',
  ],
  lid_map: [
    'CREATE TABLE IF NOT EXISTS lid_map (id TEXT PRIMARY KEY, pn TEXT, data TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS lid_map_id_index ON lid_map (id)',
    'CREATE INDEX IF NOT EXISTS lid_map_pn_index ON lid_map (pn)',
  ],
};

export const STORE_TABLE_NAMES = Object.keys(STORE_TABLES);

/** `storage/psql/PsqlFileRepository.ts`: WEBJS and WPP auth. */
export const FILES_DDL = [
  `CREATE TABLE IF NOT EXISTS files
 ( id SERIAL PRIMARY KEY, fullpath TEXT NOT NULL, content BYTEA NOT NULL,
   created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, last_accessed_at TIMESTAMP DEFAULT NULL, metadata JSONB )`,
  'CREATE UNIQUE INDEX IF NOT EXISTS files_fullpath_index ON files (fullpath)',
  'CREATE INDEX IF NOT EXISTS files_created_at_index ON files (created_at)',
  'CREATE INDEX IF NOT EXISTS files_last_accessed_at_index ON files (last_accessed_at)',
  'CREATE INDEX IF NOT EXISTS files_metadata_index ON files USING GIN (metadata)',
];

/** The `files` row of a session's auth: WEBJS RemoteAuth, WPP its own zip. */
export function authFileName(engine: Engine | null, name: string): string {
  return engine === 'WPP' ? `${name}.zip` : `RemoteAuth-${name}.zip`;
}

/** WAHA's application_name for its own connections (`WAHA(<ENGINE>) <version> - …`) and GOWS's. */
export const WAHA_CONNECTION = "(application_name LIKE 'WAHA(%' OR application_name = 'GOWS')";

/** Tables WAHA (or GOWS, or WAHA's media store) creates in a session database. */
const WAHA_TABLES = new Set(['auth', ...Object.keys(STORE_TABLES), 'files', 'media', INCOMPLETE_MARKER]);
const WAHA_TABLE_PREFIXES = ['whatsmeow_', 'gows_'];
const AUTH_TABLES = ['auth', 'files', 'whatsmeow_device'];

/** Why a session database with these tables (`schema.table` outside public) is not WAHA's, or undefined. */
export function foreignDatabaseProblem(tables: readonly string[]): string | undefined {
  const foreign = tables.filter((table) => !WAHA_TABLES.has(table) && !WAHA_TABLE_PREFIXES.some((prefix) => table.startsWith(prefix)));
  if (foreign.length) return `tables WAHA never creates: ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ` and ${foreign.length - 5} more` : ''}`;
  // our own interrupted copy (the marker) is ours to replace, whatever it got to
  if (!tables.some((table) => AUTH_TABLES.includes(table)) && !tables.includes(INCOMPLETE_MARKER)) return tables.length ? `none of WAHA's auth tables (${AUTH_TABLES.join(', ')})` : 'no tables at all';
  return undefined;
}
