/**
 * WEBJS (whatsapp-web.js, a Chromium profile). Two local layouts (engine-auth-formats §2.1):
 * plus `webjs/<name>/session-<name>/` and core `webjs/default/session-<name>/`. What RemoteAuth
 * keeps (`Default/IndexedDB`, `Default/Local Storage`) is auth; the rest is cache.
 */
export const PROFILE_PREFIX = 'session-';
export const CORE_LAYOUT_FOLDER = 'default';

export function profileFolder(name: string): string {
  return `${PROFILE_PREFIX}${name}`;
}

/** Auth paths inside a profile, relative, with `/` separators. */
const AUTH_PREFIXES = ['Default/IndexedDB/', 'Default/Local Storage/', 'IndexedDB/', 'Local Storage/'];

export function isAuthPath(relativePath: string): boolean {
  return AUTH_PREFIXES.some((prefix) => relativePath.startsWith(prefix));
}

/** `SingletonLock` & co. are symlinks Chromium holds while it runs on the profile. */
export function isSingleton(name: string): boolean {
  return name.startsWith('Singleton');
}

export function remoteAuthFileName(name: string): string {
  return `RemoteAuth-${name}.zip`;
}

/**
 * Whether the core layout's `default/` folder holds only other sessions' profiles: then it is
 * LocalAuth's data path, not a session. `default` is a session when `session-default` or a
 * `.waha.session.*` config file is there (WAHA writes one for every session it creates).
 */
export function isCoreDataPathOnly(entries: readonly { name: string; isDirectory(): boolean }[]): boolean {
  const profiles = entries.filter((entry) => entry.isDirectory() && entry.name.startsWith(PROFILE_PREFIX));
  return profiles.length > 0 && profiles.length === entries.length && !profiles.some((entry) => entry.name === profileFolder(CORE_LAYOUT_FOLDER));
}
