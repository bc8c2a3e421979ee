/**
 * Several engines can share one main namespace (WAHA_NAMESPACE set, each engine's session namespace
 * its own name): their `sessions` rows are one list, and a row does not say its engine. A row belongs
 * to the engine whose per-session database it has; a row with none (a logged-out session) is listed
 * once, engine unknown, never once per engine (which would copy its config into every engine's store).
 */
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
