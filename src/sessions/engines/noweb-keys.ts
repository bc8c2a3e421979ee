/**
 * NOWEB key names. Files and MongoDB store lossy encodings of one logical Baileys key
 * (`creds` or `<category>-<id>`): files turn `/` into `__` and `:` into `-` (fixFileName), MongoDB
 * turns `.` into `-` (engine-auth-formats §1.2, §1.6, §1.7). Neither can be reversed blindly, so each
 * name is parsed per category against the shape of that category's ids (taken from Baileys), and
 * accepted only when the decoding is the only one possible and the round-trip rule holds:
 * re-encoding the logical key gives back the source name exactly, and the other store's name
 * decodes to the same key. A name that fails is not guessed at: it stays that store's own name
 * (a copy within the store keeps it byte for byte; a copy to the other store fails the session).
 */
import { categoryOf } from './noweb.js';

export type KeyStore = 'file' | 'mongo';

export type KeyParse = { ok: true; key: string } | { ok: false; error: string };

const JSON_SUFFIX = '.json';

/** Baileys' file name of a logical key: `<key>.json` with `/`→`__` and `:`→`-`. */
export function fileNameOf(key: string): string {
  return `${key}${JSON_SUFFIX}`.replace(/\//g, '__').replace(/:/g, '-');
}

/** WAHA's MongoDB key (format B `key`, format A field name): every `.` becomes `-`. */
export function mongoKeyOf(key: string): string {
  return key.replace(/\./g, '-');
}

export function encodeKey(key: string, store: KeyStore): string {
  return store === 'file' ? fileNameOf(key) : mongoKeyOf(key);
}

// Shapes of logical ids per category (Baileys 7). Users and devices never hold `-`, `.`, `:` or `/`,
// group users may hold `-` (old `<creator>-<time>` ids), servers are dotted lower-case words.
const SERVER = '[a-z]+(?:\\.[a-z]+)*';
const ADDRESS = '[0-9A-Za-z]+(?:_\\d+)?'; // Signal address user: <user>[_<domainType>]
const GROUP_JID = `[0-9A-Za-z]+(?:-[0-9A-Za-z]+)*@${SERVER}`;
const USER_JID = `[0-9A-Za-z]+(?::\\d+)?@${SERVER}`;
const ID_SHAPES: Record<string, RegExp> = {
  'pre-key': /^\d+$/,
  session: new RegExp(`^${ADDRESS}\\.\\d+$`),
  'identity-key': new RegExp(`^${ADDRESS}\\.\\d+$`),
  'sender-key': new RegExp(`^${GROUP_JID}::${ADDRESS}::\\d+$`),
  'sender-key-memory': new RegExp(`^${GROUP_JID}$`),
  'app-state-sync-key': /^[A-Za-z0-9+/]+=*$/,
  'app-state-sync-version': /^[a-z]+(?:_[a-z]+)*$/,
  'lid-mapping': /^\d+(?:_reverse)?$/,
  'device-list': /^[0-9A-Za-z]+$/,
  tctoken: new RegExp(`^(?:__index|${USER_JID})$`),
  'contacts-tc-token': new RegExp(`^(?:__index|${USER_JID})$`),
};
/**
 * A category this tool does not know converts between stores only when neither encoding can have
 * touched it: lower-case words, then one plain id (no `.`, `:`, `/`, `@`, `__`, no `-` in the id).
 */
const PLAIN_UNKNOWN = /^[a-z]+(?:-[a-z]+)*-[0-9A-Za-z]+(?:_[0-9A-Za-z]+)*$/;

/** `<user>@<server>` with the server's `-` put back to `.` (servers never contain `-`). */
function restoreServer(jid: string): string {
  const at = jid.lastIndexOf('@');
  if (at < 0) return jid;
  return `${jid.slice(0, at)}@${jid.slice(at + 1).replace(/-/g, '.')}`;
}

/** A Signal address `<user>[_<domain>].<device>` whose last `.` became `-` in MongoDB. */
function restoreAddress(id: string): string {
  const dash = id.lastIndexOf('-');
  return dash < 0 ? id : `${id.slice(0, dash)}.${id.slice(dash + 1)}`;
}

/** A user JID whose device separator `:` became `-` in a file name (users never contain `-`). */
function restoreDevice(jid: string): string {
  const at = jid.lastIndexOf('@');
  if (at < 0) return jid;
  return `${jid.slice(0, at).replace(/-/g, ':')}${jid.slice(at)}`;
}

/** The id part of a file name (stem without the category) decoded to the logical id. */
function idFromFile(category: string, id: string): string {
  switch (category) {
    case 'sender-key': {
      // <group>::<sender>::<device>; the group may contain `-` (old group ids), so split from the right.
      const parts = id.split('--');
      if (parts.length < 3) return id;
      const device = parts.pop()!;
      const sender = parts.pop()!;
      return `${parts.join('--')}::${sender}::${device}`;
    }
    case 'app-state-sync-key':
      return id.replace(/__/g, '/'); // base64 ids: `_` never occurs in them
    case 'tctoken':
    case 'contacts-tc-token':
      return id === '__index' ? id : restoreDevice(id);
    default:
      return id;
  }
}

function idFromMongo(category: string, id: string): string {
  switch (category) {
    case 'session':
    case 'identity-key':
      return restoreAddress(id);
    case 'sender-key': {
      const parts = id.split('::');
      if (parts.length < 3) return id;
      const device = parts.pop()!;
      const sender = parts.pop()!;
      return `${restoreServer(parts.join('::'))}::${sender}::${device}`;
    }
    case 'sender-key-memory':
      return restoreServer(id);
    case 'tctoken':
    case 'contacts-tc-token':
      return id === '__index' ? id : restoreServer(id);
    default:
      return id;
  }
}

/** The logical key a stored name stands for, before any round-trip check. */
export function decodeKey(name: string, store: KeyStore): string | undefined {
  let stem = name;
  if (store === 'file') {
    if (!name.endsWith(JSON_SUFFIX)) return undefined;
    stem = name.slice(0, -JSON_SUFFIX.length);
  }
  if (stem === 'creds') return 'creds';
  const category = categoryOf(stem);
  if (category === 'other') return stem; // unknown category: kept as it is, the shape and round trip decide
  const id = stem.slice(category.length + 1);
  return `${category}-${store === 'file' ? idFromFile(category, id) : idFromMongo(category, id)}`;
}

/** Why a logical key is not of its category's shape (so its decoding would be a guess), or undefined. */
function shapeProblem(key: string): string | undefined {
  if (key === 'creds') return undefined;
  const category = categoryOf(key);
  if (category === 'other') {
    return PLAIN_UNKNOWN.test(key) ? undefined : 'its category is unknown and its id holds characters that files or MongoDB rename';
  }
  const shape = ID_SHAPES[category];
  const id = key.slice(category.length + 1);
  return shape && !shape.test(id) ? `"${id}" is not the shape of a ${category} id` : undefined;
}

/**
 * Parses a stored name into its logical key and applies the round-trip rule: the name must be what
 * the logical key encodes to in its own store, the key must have its category's id shape, and its
 * name in every other store must decode back to the same key. Anything else is reported, never guessed.
 */
export function parseKeyName(name: string, store: KeyStore): KeyParse {
  const key = decodeKey(name, store);
  if (key === undefined) return { ok: false, error: `"${name}" is not a key file (no .json)` };
  const back = encodeKey(key, store);
  if (back !== name) {
    return { ok: false, error: `key name "${name}" does not round-trip (read as "${key}", which is written as "${back}")` };
  }
  const shape = shapeProblem(key);
  if (shape) return { ok: false, error: `key name "${name}" cannot be decoded without guessing (${shape})` };
  for (const other of ['file', 'mongo'] as const) {
    if (other === store) continue;
    const encoded = encodeKey(key, other);
    const again = decodeKey(encoded, other);
    if (again !== key) {
      return { ok: false, error: `key name "${name}" cannot be written to ${other === 'file' ? 'a file' : 'MongoDB'} and read back (as "${encoded}", read as "${again}")` };
    }
  }
  return { ok: true, key };
}

/** A store's own name for a key that cannot be decoded: safe to use as that store's name again? */
export function isStoreName(name: string, store: KeyStore): boolean {
  if (name === '' || name.includes('\u0000')) return false;
  if (store === 'mongo') return !name.startsWith('$') && name !== '_id';
  return name.endsWith(JSON_SUFFIX) && !name.includes('/') && !name.includes('\\') && name !== JSON_SUFFIX;
}
