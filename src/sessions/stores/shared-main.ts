/**
 * Several engines can share one main namespace (WAHA_NAMESPACE set, each engine's session namespace
 * its own name): their `sessions` rows are one list, and a row does not say its engine. A row belongs
 * to the engine whose per-session database it has; a row with none (a logged-out session) is listed
 * once, engine unknown, never once per engine (which would copy its config into every engine's store).
 */
import { problem, type Problem } from '../problems.js';
import { closeNames } from '../selection.js';

export type ConfigOwner = 'here' | 'elsewhere' | 'engine-unknown';

export function configOwner<G extends { main: string }>(groups: readonly G[], group: G, hasDatabase: (group: G) => boolean): ConfigOwner {
  const sharing = groups.filter((other) => other.main === group.main);
  if (sharing.length === 1 || hasDatabase(group)) return 'here';
  if (sharing.some(hasDatabase)) return 'elsewhere';
  return sharing[0] === group ? 'engine-unknown' : 'elsewhere';
}

export const ENGINE_UNKNOWN_MESSAGE = 'a logged-out session in a namespace several engines share: its engine cannot be told';

/** The refusal a transfer gives such a session: where it would go depends on the engine. */
export const ENGINE_UNKNOWN_REFUSAL = {
  status: 'skipped' as const,
  reason: 'engine-unknown',
  message: `${ENGINE_UNKNOWN_MESSAGE}; name it with --engine to copy its config`,
};

/**
 * A namespace set (flag or variable) that the server holds nothing of — no `waha_<ns>` and no
 * `waha_<ns>_*` database: a typo would otherwise read as an empty store. `databases`: every name.
 */
export function missingNamespace(namespace: string | undefined, databases: Iterable<string>, where: string): Problem | undefined {
  if (namespace === undefined) return undefined;
  const names = [...databases];
  if (names.some((name) => name === `waha_${namespace}` || name.startsWith(`waha_${namespace}_`))) return undefined;
  const others = [...new Set(names.filter((name) => name.startsWith('waha_') && !name.startsWith('waha_storage_')).map((name) => name.slice('waha_'.length)))].sort();
  const close = closeNames(namespace, others);
  const guess = close.length ? `; did you mean ${close.map((name) => `"${name}"`).join(' or ')}?` : '';
  return problem('namespace-missing', `no database waha_${namespace} (or waha_${namespace}_*) on ${where} for the namespace "${namespace}"${guess}`);
}
