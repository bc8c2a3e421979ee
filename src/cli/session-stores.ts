/**
 * The session stores as the CLI names and opens them, through the one registry
 * (src/sessions/stores/registry.ts): the store words, the WEBJS layout flag, and the ends of a migrate.
 */
import type { Config } from '../config/config.js';
import { OperationError, UsageError } from '../errors.js';
import { namespacesFor, type Engine } from '../sessions/engines.js';
import { endSettings as endSettingsOf, STORES, storeOf, type ServerIdentity, type StoreEnd, type StoreWord } from '../sessions/stores/registry.js';
import type { SessionStore } from '../sessions/stores/types.js';

export { parseStoreWord, type StoreEnd, type StoreWord } from '../sessions/stores/registry.js';
export { assertWritable, requireSessionsDir } from '../sessions/stores/local/folder.js';

export function parseLayout(text: string | undefined): 'plus' | 'core' | undefined {
  if (text === undefined) return undefined;
  const layout = text.toLowerCase();
  if (layout === 'plus' || layout === 'core') return layout;
  throw new UsageError(`Invalid --webjs-layout "${text}"`, { hint: 'use plus or core' });
}

/** The settings one end uses: the target's --to-mongo-url, --to-postgres-url and --to-(session-)namespace when given. */
export function endSettings(config: Config, end: StoreEnd = 'source') {
  return endSettingsOf(config.sessions, end);
}

export async function openSessionStore(config: Config, word: StoreWord, timeoutMs: number, layout?: 'plus' | 'core', end: StoreEnd = 'source'): Promise<SessionStore> {
  try {
    return await storeOf(word).open(endSettings(config, end), { timeoutMs, layout, end });
  } catch (error) {
    throw end === 'target' ? targetError(config, word, error) : error;
  }
}

/** A connection error names --mongo-url / --postgres-url; a target URL that came from its own flag is named instead. */
function targetError(config: Config, word: StoreWord, error: unknown): unknown {
  const url = storeOf(word).url;
  const own = url !== undefined && config.sessions[url.targetKey] !== undefined;
  if (!own || !(error instanceof OperationError)) return error;
  return new OperationError(error.message, { hint: `check --to-${word}-url (or --to-${word}-url-file)`, code: error.code, cause: error.cause });
}

/** The cheap check of a store word's setting (a URL), before any connection. */
export function requireStoreSettings(config: Config, word: StoreWord, end: StoreEnd = 'source'): void {
  storeOf(word).requireSettings(endSettings(config, end), end);
}

/**
 * `migrate mongo mongo` / `migrate postgres postgres`: allowed when the target is another server or
 * other namespaces; refused (exit 2) when both ends name the same databases, since --move or
 * --overwrite would then remove what it copies. The servers are asked who they are, so two URLs of
 * one server (a host name and its IP) count as one. A store without a server (a folder) is refused.
 */
export async function assertDistinctEnds(config: Config, word: StoreWord, engines: readonly Engine[], timeoutMs: number): Promise<void> {
  const store = storeOf(word);
  const source = endSettings(config, 'source');
  const target = endSettings(config, 'target');
  if (!store.identity) {
    const others = STORES.filter((other) => other.word !== word).map((other) => `"migrate ${word} ${other.word}"`);
    throw new UsageError(`The source and the target are both ${word}`, { hint: `migrate copies between stores: use ${others.join(' or ')}` });
  }
  const hint = `give the target its own server (--to-${word}-url) or namespaces (--to-namespace, --to-session-namespace)`;
  const shared = engines.filter((engine) => {
    const [from, to] = [namespacesFor(engine, source), namespacesFor(engine, target)];
    return from.main === to.main || from.session === to.session;
  });
  if (!shared.length) return;
  const [from, to] = await Promise.all([store.identity(source, timeoutMs), store.identity(target, timeoutMs).catch((error) => { throw targetError(config, word, error); })]);
  if (!sameServer(from, to)) return;
  throw new UsageError(`The source and the target are the same ${word} databases (${store.location(target)}, namespace of ${shared.join(', ')})`, { hint });
}

function sameServer(a: ServerIdentity, b: ServerIdentity): boolean {
  if (a.id !== b.id) return false;
  return a.startedMs === undefined || b.startedMs === undefined || Math.abs(a.startedMs - b.startedMs) < 5000;
}
