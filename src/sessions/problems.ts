/**
 * What `inspect` (and later migrate/backup) reports as wrong, with a stable code, a message for a
 * person and a hint of what to do. Codes are part of the JSON contract.
 */
export type ProblemCode =
  | 'creds-corrupt'
  | 'creds-missing'
  | 'temp-files'
  | 'browser-running'
  | 'invalid-name'
  | 'no-auth'
  | 'slug-collision'
  | 'orphan-database'
  | 'config-corrupt'
  | 'sqlite-unreadable'
  | 'main-db-unreadable'
  | 'unexpected-content'
  | 'gows-multiple-devices'
  | 'webjs-zip-corrupt'
  | 'engine-unsupported-store'
  | 'store-unreachable'
  | 'waha-connected'
  | 'engine-unknown'
  | 'namespace-missing'
  | 'unreadable';

export interface Problem {
  code: ProblemCode;
  message: string;
  hint: string;
}

const HINTS: Record<ProblemCode, string> = {
  'creds-corrupt': 'restore creds.json from a backup; WAHA would re-pair (QR) or repair it by trimming',
  'creds-missing': 'the session has keys but no creds.json; restore it from a backup or log in again',
  'temp-files': 'left by an interrupted atomic write; safe to remove once WAHA is stopped',
  'browser-running': 'a browser may be using this profile; stop the session before copying it',
  'invalid-name': 'current WAHA rejects this name; rename the session to use a-z, 0-9, "_" or "-"',
  'no-auth': 'the session is configured but has no auth data; it will need a QR scan',
  'slug-collision': 'these sessions share one database in MongoDB/PostgreSQL; rename one of them',
  'orphan-database': 'a per-session database without a sessions document; WAHA does not list it',
  'config-corrupt': 'fix or remove .waha.session.config.json',
  'sqlite-unreadable': 'the SQLite file could not be read; it may be locked by a running server or damaged',
  'main-db-unreadable': 'waha.sqlite3 could not be read; me and worker are unknown',
  'unexpected-content': 'the folder does not look like any engine WAHA writes; check what put it there',
  'gows-multiple-devices': 'GOWS uses only the first device; remove the extra rows',
  'webjs-zip-corrupt': 'the RemoteAuth zip is damaged; the session will need a QR scan unless a backup exists',
  'engine-unsupported-store': 'WAHA cannot use this engine with this store',
  'store-unreachable': 'the other stores are listed; fix the connection and run again to see this one',
  'waha-connected': 'WAHA is running on this session; stop it before migrating or purging',
  'engine-unknown': 'several engines share this namespace and nothing says which one this session is; give --engine',
  'namespace-missing': 'check --namespace / --session-namespace (WAHA_NAMESPACE, WAHA_SESSION_NAMESPACE; case matters); a namespace WAHA has not used yet has nothing stored',
  unreadable: 'check permissions on the path',
};

export function problem(code: ProblemCode, message: string): Problem {
  return { code, message, hint: HINTS[code] };
}
