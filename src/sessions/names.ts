/** WAHA's session name rules and the database slug (waha-facts §1.6). */
export const SESSION_NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;
export const SESSION_NAME_MAX = 54;

/** Why a name breaks WAHA's current rules, or undefined when it is valid. Older WAHA allowed more. */
export function sessionNameProblem(name: string): string | undefined {
  if (!SESSION_NAME_PATTERN.test(name)) return 'has characters outside a-z, A-Z, 0-9, "_" and "-"';
  if (name.length > SESSION_NAME_MAX) return `is longer than ${SESSION_NAME_MAX} characters`;
  return undefined;
}

/** The per-session database slug: lowercase, characters outside [a-z0-9-] become "_". */
export function slugOf(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '_');
}

/** Groups of two or more names that share one slug (they would share one database). */
export function slugCollisions(names: Iterable<string>): Map<string, string[]> {
  const bySlug = new Map<string, string[]>();
  for (const name of names) {
    const slug = slugOf(name);
    bySlug.set(slug, [...(bySlug.get(slug) ?? []), name]);
  }
  for (const [slug, group] of bySlug) if (group.length < 2) bySlug.delete(slug);
  return bySlug;
}

export function mainDatabase(namespace: string): string {
  return `waha_${namespace}`;
}

export function sessionDatabase(namespace: string, name: string): string {
  return `waha_${namespace}_${slugOf(name)}`;
}
