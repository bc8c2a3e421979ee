/**
 * NOWEB key names. Files and MongoDB store lossy encodings of one logical Baileys key
 * (`creds` or `<category>-<id>`): files turn `/` into `__` and `:` into `-` (fixFileName), MongoDB
 * turns `.` into `-` (engine-auth-formats §1.2, §1.6, §1.7). Neither can be reversed blindly, so each
 * name is parsed per category, and accepted only when the round-trip rule holds: re-encoding the
 * logical key gives back the source name exactly, and the other store's name decodes to the same key.
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

/** `<user>@<server>` with the server's `-` put back to `.` (servers never contain `-`: g.us, s.whatsapp.net, lid). */
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
      return id.startsWith('__') ? id : restoreServer(id);
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
  if (category === 'other') return stem; // unknown category: kept as it is, the round trip decides
  const id = stem.slice(category.length + 1);
  return `${category}-${store === 'file' ? idFromFile(category, id) : idFromMongo(category, id)}`;
}

/**
 * Parses a stored name into its logical key and applies the round-trip rule: the name must be what
 * the logical key encodes to in its own store, and the key's name in every other store must decode
 * back to the same key. Anything else is reported, never guessed.
 */
export function parseKeyName(name: string, store: KeyStore): KeyParse {
  const key = decodeKey(name, store);
  if (key === undefined) return { ok: false, error: `"${name}" is not a key file (no .json)` };
  const back = encodeKey(key, store);
  if (back !== name) {
    return { ok: false, error: `key name "${name}" does not round-trip (read as "${key}", which is written as "${back}")` };
  }
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
