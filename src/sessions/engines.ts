import { UsageError } from '../errors.js';

/** WAHA's engines, written as its API writes them; folders and databases use the lowercase form. */
export const ENGINES = ['WEBJS', 'NOWEB', 'GOWS', 'WPP'] as const;
export type Engine = (typeof ENGINES)[number];

export function parseEngine(text: string): Engine {
  const engine = text.trim().toUpperCase();
  if ((ENGINES as readonly string[]).includes(engine)) return engine as Engine;
  throw new UsageError(`Unknown engine "${text}"`, { hint: `use one of ${ENGINES.join(', ')} (any case)` });
}

export function parseEngines(texts: readonly string[] | undefined): Engine[] {
  if (!texts || texts.length === 0) return [...ENGINES];
  return [...new Set(texts.flatMap((text) => text.split(',')).filter(Boolean).map(parseEngine))];
}

export function engineFolder(engine: Engine): string {
  return engine.toLowerCase();
}

/** The namespaces WAHA uses for an engine: main (waha.sqlite3 / waha_<ns>) and session storage. */
export interface Namespaces {
  main: string;
  session: string;
}

export function namespacesFor(engine: Engine, configured: { namespace?: string; sessionNamespace?: string }): Namespaces {
  const fallback = engineFolder(engine);
  return { main: configured.namespace ?? fallback, session: configured.sessionNamespace ?? fallback };
}
