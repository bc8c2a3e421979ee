/** The local store: WAHA's `.sessions` folder (waha-facts §1). Readers load when a command opens it. */
import type { StoreModule } from '../registry.js';
import { assertWritable, requireSessionsDir } from './folder.js';

export const local: StoreModule = {
  word: 'local',
  aliases: [],
  title: 'the local store',
  description: "WAHA's .sessions folder (--sessions-dir / WAHA_LOCAL_STORE_BASE_DIR)",
  configured: () => true,
  requireSettings: () => {},
  location: (settings) => settings.sessionsDir,
  folder: (settings) => settings.sessionsDir,
  checkSource: (settings) => requireSessionsDir(settings.sessionsDir, { mustExist: true }),
  checkTarget: (settings) => assertWritable(settings.sessionsDir),
  async open(settings, { layout }) {
    requireSessionsDir(settings.sessionsDir, { mustExist: false });
    const { LocalTransferStore } = await import('./store.js');
    return new LocalTransferStore({ ...settings, webjsLayout: layout });
  },
  async inspect(options) {
    const { inspectLocal } = await import('./inspect.js');
    return inspectLocal({
      sessionsDir: options.sessions.sessionsDir,
      namespace: options.sessions.namespace,
      sessionNamespace: options.sessions.sessionNamespace,
      engines: options.engines,
      sessions: options.names,
      concurrency: options.concurrency,
      signal: options.signal,
    });
  },
  /** Names only, from the folders: cheap. */
  async names(options) {
    const { listLocalSessions } = await import('./inspect.js');
    const refs = await listLocalSessions({ ...options.sessions, engines: options.engines, concurrency: 1 }).catch(() => []);
    return refs.map((ref) => ref.name);
  },
};
