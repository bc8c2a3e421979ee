/**
 * Where WAHA keeps a session in the local store (waha-facts §1), one definition for the inspect
 * reader and the transfer store: `<base>/<session ns>/<name>/`, the main database in
 * `<base>/<main ns>/`, and a WEBJS profile in the plus or the core layout.
 */
import path from 'node:path';
import { namespacesFor, type Engine } from '../../engines.js';
import * as webjs from '../../engines/webjs.js';

export interface LocalLayoutOptions {
  sessionsDir: string;
  namespace?: string;
  sessionNamespace?: string;
}

/** `<base>/<session ns>` and `<base>/<main ns>` of an engine. */
export function folders(options: LocalLayoutOptions, engine: Engine): { sessionRoot: string; mainDir: string } {
  const namespaces = namespacesFor(engine, options);
  return { sessionRoot: path.join(options.sessionsDir, namespaces.session), mainDir: path.join(options.sessionsDir, namespaces.main) };
}

/** A WEBJS session's Chromium profile: plus `<root>/<name>/session-<name>`, core `<root>/default/session-<name>`. */
export function webjsProfileDirs(sessionRoot: string, name: string): { plus: string; core: string } {
  return {
    plus: path.join(sessionRoot, name, webjs.profileFolder(name)),
    core: path.join(sessionRoot, webjs.CORE_LAYOUT_FOLDER, webjs.profileFolder(name)),
  };
}
