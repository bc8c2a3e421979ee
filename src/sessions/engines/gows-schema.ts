/**
 * The tables of a GOWS session, the same in `gows.db` (SQLite) and in `waha_<session ns>_<slug>`
 * (PostgreSQL): whatsmeow's `sqlstore` schema (go.mau.fi/whatsmeow store/sqlstore/upgrades
 * 00-latest-schema.sql, v11 "compatible with v8+", the module WAHA's GOWS builds with; one text for
 * both dialects, dbutil runs it unchanged) and the GOWS store tables (postgres.md §GOWS, "GOWS
 * migration SQL seen"). Other modules (messages prune, usage) import the table lists from here.
 */

/** whatsmeow's version table (go.mau.fi/util dbutil): one row (version, compat). */
export const WHATSMEOW_VERSION_TABLE = 'whatsmeow_version';

/** Message history: what `--skip-messages` leaves out (the identity and key tables never are). */
export const GOWS_MESSAGE_TABLES: readonly string[] = ['gows_messages'];
/** The NOWEB store's message history table (store.sqlite3 / `messages` in PostgreSQL and MongoDB). */
export const NOWEB_MESSAGE_TABLES: readonly string[] = ['messages'];

export interface KnownTable {
  name: string;
  /** CREATE TABLE first, then its indexes; valid SQL for SQLite and PostgreSQL alike. */
  ddl: readonly string[];
  /** Column names as the DDL creates them (a table with other columns is copied with its own). */
  columns: readonly string[];
  /** Each column's declared type, by name (a table whose columns hold other types is copied with its own). */
  types: Readonly<Record<string, string>>;
  /** whatsmeow (device identity and keys) or GOWS (its store). */
  owner: 'whatsmeow' | 'gows';
}

const WHATSMEOW_DDL: Record<string, string> = {
  whatsmeow_version: 'CREATE TABLE whatsmeow_version (version INTEGER, compat INTEGER)',
  whatsmeow_device: `CREATE TABLE whatsmeow_device (
	jid TEXT PRIMARY KEY,
	lid TEXT,

	facebook_uuid uuid,

	registration_id BIGINT NOT NULL CHECK ( registration_id >= 0 AND registration_id < 4294967296 ),

	noise_key    bytea NOT NULL CHECK ( length(noise_key) = 32 ),
	identity_key bytea NOT NULL CHECK ( length(identity_key) = 32 ),

	signed_pre_key     bytea   NOT NULL CHECK ( length(signed_pre_key) = 32 ),
	signed_pre_key_id  INTEGER NOT NULL CHECK ( signed_pre_key_id >= 0 AND signed_pre_key_id < 16777216 ),
	signed_pre_key_sig bytea   NOT NULL CHECK ( length(signed_pre_key_sig) = 64 ),

	adv_key             bytea NOT NULL,
	adv_details         bytea NOT NULL,
	adv_account_sig     bytea NOT NULL CHECK ( length(adv_account_sig) = 64 ),
	adv_account_sig_key bytea NOT NULL CHECK ( length(adv_account_sig_key) = 32 ),
	adv_device_sig      bytea NOT NULL CHECK ( length(adv_device_sig) = 64 ),

	platform      TEXT NOT NULL DEFAULT '',
	business_name TEXT NOT NULL DEFAULT '',
	push_name     TEXT NOT NULL DEFAULT '',

	lid_migration_ts BIGINT NOT NULL DEFAULT 0
)`,
  whatsmeow_identity_keys: `CREATE TABLE whatsmeow_identity_keys (
	our_jid  TEXT,
	their_id TEXT,
	identity bytea NOT NULL CHECK ( length(identity) = 32 ),

	PRIMARY KEY (our_jid, their_id),
	FOREIGN KEY (our_jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_pre_keys: `CREATE TABLE whatsmeow_pre_keys (
	jid      TEXT,
	key_id   INTEGER          CHECK ( key_id >= 0 AND key_id < 16777216 ),
	key      bytea   NOT NULL CHECK ( length(key) = 32 ),
	uploaded BOOLEAN NOT NULL,

	PRIMARY KEY (jid, key_id),
	FOREIGN KEY (jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_sessions: `CREATE TABLE whatsmeow_sessions (
	our_jid  TEXT,
	their_id TEXT,
	session  bytea,

	PRIMARY KEY (our_jid, their_id),
	FOREIGN KEY (our_jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_sender_keys: `CREATE TABLE whatsmeow_sender_keys (
	our_jid    TEXT,
	chat_id    TEXT,
	sender_id  TEXT,
	sender_key bytea NOT NULL,

	PRIMARY KEY (our_jid, chat_id, sender_id),
	FOREIGN KEY (our_jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_app_state_sync_keys: `CREATE TABLE whatsmeow_app_state_sync_keys (
	jid         TEXT,
	key_id      bytea,
	key_data    bytea  NOT NULL,
	timestamp   BIGINT NOT NULL,
	fingerprint bytea  NOT NULL,

	PRIMARY KEY (jid, key_id),
	FOREIGN KEY (jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_app_state_version: `CREATE TABLE whatsmeow_app_state_version (
	jid     TEXT,
	name    TEXT,
	version BIGINT NOT NULL,
	hash    bytea  NOT NULL CHECK ( length(hash) = 128 ),

	PRIMARY KEY (jid, name),
	FOREIGN KEY (jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_app_state_mutation_macs: `CREATE TABLE whatsmeow_app_state_mutation_macs (
	jid       TEXT,
	name      TEXT,
	version   BIGINT,
	index_mac bytea          CHECK ( length(index_mac) = 32 ),
	value_mac bytea NOT NULL CHECK ( length(value_mac) = 32 ),

	PRIMARY KEY (jid, name, version, index_mac),
	FOREIGN KEY (jid, name) REFERENCES whatsmeow_app_state_version(jid, name) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_contacts: `CREATE TABLE whatsmeow_contacts (
	our_jid        TEXT,
	their_jid      TEXT,
	first_name     TEXT,
	full_name      TEXT,
	push_name      TEXT,
	business_name  TEXT,
	redacted_phone TEXT,

	PRIMARY KEY (our_jid, their_jid),
	FOREIGN KEY (our_jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_chat_settings: `CREATE TABLE whatsmeow_chat_settings (
	our_jid       TEXT,
	chat_jid      TEXT,
	muted_until   BIGINT  NOT NULL DEFAULT 0,
	pinned        BOOLEAN NOT NULL DEFAULT false,
	archived      BOOLEAN NOT NULL DEFAULT false,

	PRIMARY KEY (our_jid, chat_jid),
	FOREIGN KEY (our_jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_message_secrets: `CREATE TABLE whatsmeow_message_secrets (
	our_jid    TEXT,
	chat_jid   TEXT,
	sender_jid TEXT,
	message_id TEXT,
	key        bytea NOT NULL,

	PRIMARY KEY (our_jid, chat_jid, sender_jid, message_id),
	FOREIGN KEY (our_jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
  whatsmeow_privacy_tokens: `CREATE TABLE whatsmeow_privacy_tokens (
	our_jid   TEXT,
	their_jid TEXT,
	token     bytea  NOT NULL,
	timestamp BIGINT NOT NULL,
	PRIMARY KEY (our_jid, their_jid)
)`,
  whatsmeow_lid_map: `CREATE TABLE whatsmeow_lid_map (
	lid TEXT PRIMARY KEY,
	pn  TEXT UNIQUE NOT NULL
)`,
  whatsmeow_event_buffer: `CREATE TABLE whatsmeow_event_buffer (
	our_jid          TEXT   NOT NULL,
	ciphertext_hash  bytea  NOT NULL CHECK ( length(ciphertext_hash) = 32 ),
	plaintext        bytea,
	server_timestamp BIGINT NOT NULL,
	insert_timestamp BIGINT NOT NULL,
	PRIMARY KEY (our_jid, ciphertext_hash),
	FOREIGN KEY (our_jid) REFERENCES whatsmeow_device(jid) ON DELETE CASCADE ON UPDATE CASCADE
)`,
};

/** GOWS 2026.3.3 (#1955) added this index to whatsmeow's table. */
const WHATSMEOW_INDEXES: Record<string, readonly string[]> = {
  whatsmeow_lid_map: ['CREATE INDEX IF NOT EXISTS whatsmeow_lid_map_pn_idx ON whatsmeow_lid_map (pn)'],
};

const GOWS_DDL: Record<string, readonly string[]> = {
  gows_messages: [
    `CREATE TABLE gows_messages (jid VARCHAR(100) NOT NULL, id VARCHAR(100) NOT NULL, timestamp TIMESTAMP NOT NULL, from_me BOOLEAN NOT NULL, data TEXT NOT NULL, is_real BOOLEAN NOT NULL DEFAULT TRUE, PRIMARY KEY (id))`,
    'CREATE INDEX IF NOT EXISTS gows_messages_id_idx ON gows_messages (id)',
    'CREATE INDEX IF NOT EXISTS gows_messages_jid_id_idx ON gows_messages (jid, id)',
    'CREATE INDEX IF NOT EXISTS gows_messages_jid_timestamp_idx ON gows_messages (jid, timestamp)',
    'CREATE INDEX IF NOT EXISTS gows_messages_timestamp_idx ON gows_messages (timestamp)',
    'CREATE INDEX IF NOT EXISTS gows_messages_jid_timestamp_real_idx ON gows_messages (jid, timestamp DESC) WHERE is_real = true',
  ],
  gows_groups: ['CREATE TABLE gows_groups (id VARCHAR(100) PRIMARY KEY, name VARCHAR(100), data TEXT)'],
  gows_chat_ephemeral_setting: ['CREATE TABLE gows_chat_ephemeral_setting (id VARCHAR(100) PRIMARY KEY, data TEXT)'],
  gows_labels: ['CREATE TABLE gows_labels (id VARCHAR(100) PRIMARY KEY, data TEXT)'],
  gows_label_associations: [
    'CREATE TABLE gows_label_associations (jid VARCHAR(100) NOT NULL, label_id VARCHAR(100) NOT NULL, data TEXT, PRIMARY KEY (jid, label_id), FOREIGN KEY (label_id) REFERENCES gows_labels (id) ON DELETE CASCADE)',
  ],
};

/** Column names and declared types of a CREATE TABLE statement of the lists above (they have no constraint named like a column). */
function columnsOf(create: string): { name: string; type: string }[] {
  const body = create.slice(create.indexOf('(') + 1, create.lastIndexOf(')'));
  const columns: string[] = [];
  let depth = 0;
  let part = '';
  for (const char of body) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      columns.push(part);
      part = '';
    } else part += char;
  }
  columns.push(part);
  return columns
    .map((item) => item.trim().split(/\s+/))
    .filter(([word]) => word && !/^(PRIMARY|FOREIGN|UNIQUE|CHECK|CONSTRAINT)$/i.test(word))
    .map(([name, type = '']) => ({ name: name!, type: type.toUpperCase() }));
}

function known(name: string, ddl: readonly string[], owner: KnownTable['owner']): KnownTable {
  const columns = columnsOf(ddl[0]!);
  return { name, ddl, columns: columns.map((column) => column.name), types: Object.fromEntries(columns.map((column) => [column.name, column.type])), owner };
}

/** Every table this tool knows, in creation order (a table after those its foreign keys name). */
export const GOWS_KNOWN_TABLES: readonly KnownTable[] = [
  ...Object.entries(WHATSMEOW_DDL).map(([name, create]) => known(name, [create, ...(WHATSMEOW_INDEXES[name] ?? [])], 'whatsmeow')),
  ...Object.entries(GOWS_DDL).map(([name, ddl]) => known(name, ddl, 'gows')),
];

/** The names of GOWS_KNOWN_TABLES, for modules that only need the list. */
export const GOWS_TABLES: readonly string[] = GOWS_KNOWN_TABLES.map((table) => table.name);

const KNOWN = new Map(GOWS_KNOWN_TABLES.map((table) => [table.name, table]));

export function knownTable(name: string): KnownTable | undefined {
  return KNOWN.get(name);
}

/** Whether a table of a GOWS session (gows.db or its PostgreSQL database) is message history. */
export function isGowsMessageTable(name: string): boolean {
  return GOWS_MESSAGE_TABLES.includes(name);
}

/** Tables in creation order: the known ones as listed, then the others by name. */
export function creationOrder(names: Iterable<string>): string[] {
  const all = [...names];
  const known = GOWS_TABLES.filter((name) => all.includes(name));
  return [...known, ...all.filter((name) => !KNOWN.has(name)).sort()];
}
