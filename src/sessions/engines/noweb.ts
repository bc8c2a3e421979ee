/**
 * NOWEB (Baileys multi-file auth): what its auth data is, how keys are named, how to tell a
 * logged-in session (engine-auth-formats §1).
 */
import { describeJsonError } from '../../util/json.js';

/** Known key categories; names are split by the LONGEST matching prefix. */
export const NOWEB_CATEGORIES = [
  'pre-key',
  'session',
  'sender-key',
  'sender-key-memory',
  'app-state-sync-key',
  'app-state-sync-version',
  'lid-mapping',
  'device-list',
  'tctoken',
  'identity-key',
  'contacts-tc-token',
] as const;

/** Longest first (`app-state-sync-key-` before `app-state-sync-version-` ...), with the dash. */
const PREFIXES = [...NOWEB_CATEGORIES].sort((a, b) => b.length - a.length).map((category) => [category, `${category}-`] as const);

export const CREDS_FILE = 'creds.json';
export const STORE_FILE = 'store.sqlite3';
export const CONFIG_FILE_PATTERN = /^\.waha\.session\./;
/** write-file-atomic leaves `<file>.<digits>` behind when a write is interrupted. */
export const TEMP_FILE_PATTERN = /\.json\.\d+$/;

/** The category of a key name (file name without `.json`, or a Mongo key); `other` when unknown. */
export function categoryOf(keyName: string): string {
  if (keyName === 'creds') return 'creds';
  for (const [category, prefix] of PREFIXES) {
    if (keyName.startsWith(prefix)) return category;
  }
  return 'other';
}

export type CredsState =
  | { ok: true; creds: Record<string, unknown> }
  | { ok: false; error: string };

/** Parses creds.json strictly: trailing garbage after the JSON is corruption, not something to trim. */
export function parseCreds(text: string): CredsState {
  if (text.trim() === '') return { ok: false, error: 'creds.json is empty' };
  try {
    const creds = JSON.parse(text) as unknown;
    if (!creds || typeof creds !== 'object' || Array.isArray(creds)) return { ok: false, error: 'creds.json is not a JSON object' };
    return { ok: true, creds: creds as Record<string, unknown> };
  } catch (error) {
    return { ok: false, error: `creds.json does not parse (${describeJsonError(error, text)})` };
  }
}

/** Logged in when creds.me.id is present: Baileys then logs in instead of registering (QR). */
export function isLoggedIn(creds: Record<string, unknown>): boolean {
  const me = creds.me as { id?: unknown } | undefined;
  return typeof me?.id === 'string' && me.id.length > 0;
}

export function credsMe(creds: Record<string, unknown>): { id: string; name?: string } | null {
  const me = creds.me as { id?: unknown; name?: unknown } | undefined;
  if (typeof me?.id !== 'string') return null;
  return { id: me.id, name: typeof me.name === 'string' ? me.name : undefined };
}

/** Whether a file in a NOWEB folder is an auth key (`creds.json` included). */
export function isKeyFile(fileName: string): boolean {
  return fileName.endsWith('.json') && !CONFIG_FILE_PATTERN.test(fileName);
}

export function countCategory(counts: Record<string, number>, keyName: string): void {
  const category = categoryOf(keyName);
  counts[category] = (counts[category] ?? 0) + 1;
}
