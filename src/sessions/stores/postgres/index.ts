/** The PostgreSQL store: `waha_<ns>` and one `waha_<session ns>_<slug>` database per session (spec/postgres.md). `pg` loads when a command opens it. */
import type { SessionsConfig } from '../../../config/config.js';
import { redact, redactUrl } from '../../../config/redact.js';
import { OperationError, UsageError, WahaStorageError } from '../../../errors.js';
import type { StoreEnd, StoreModule } from '../registry.js';

export function requirePostgresUrl(settings: SessionsConfig, end: StoreEnd = 'source'): string {
  const url = settings.postgresUrl;
  const target = end === 'target' ? ' (or --to-postgres-url for the target)' : '';
  if (!url) throw new UsageError('No PostgreSQL URL is configured', { hint: `set --postgres-url / WHATSAPP_SESSIONS_POSTGRESQL_URL (or --postgres-url-file)${target}`, code: 'missing-setting' });
  return url;
}

export const postgres: StoreModule = {
  word: 'postgres',
  aliases: ['pg'],
  title: 'PostgreSQL',
  description: "PostgreSQL (--postgres-url / WHATSAPP_SESSIONS_POSTGRESQL_URL), WAHA's recommended store",
  url: { key: 'postgresUrl', targetKey: 'toPostgresUrl' },
  configured: (settings) => Boolean(settings.postgresUrl),
  requireSettings: (settings, end) => void requirePostgresUrl(settings, end),
  location: (settings) => redactUrl(requirePostgresUrl(settings)),
  async open(settings, { timeoutMs, end }) {
    const [{ PostgresTransferStore }, { PostgresServer }] = await Promise.all([import('./store.js'), import('../../../util/postgres.js')]);
    const server = new PostgresServer({ url: requirePostgresUrl(settings, end), timeoutMs });
    await server.with(undefined, async () => {}); // unreachable or refused: one clear error before anything starts
    return new PostgresTransferStore({ server, namespace: settings.namespace, sessionNamespace: settings.sessionNamespace });
  },
  async inspect(options) {
    const url = requirePostgresUrl(options.sessions);
    const [{ inspectPostgres }, { PostgresServer }] = await Promise.all([import('./inspect.js'), import('../../../util/postgres.js')]);
    const server = new PostgresServer({ url, timeoutMs: options.timeoutMs });
    try {
      return await inspectPostgres({
        server,
        namespace: options.sessions.namespace,
        sessionNamespace: options.sessions.sessionNamespace,
        engines: options.engines,
        sessions: options.names,
        concurrency: options.concurrency,
      });
    } catch (error) {
      if (error instanceof WahaStorageError) throw error;
      throw new OperationError(`Reading PostgreSQL at ${server.location} failed: ${redact((error as Error).message)}`, {
        hint: 'check that the role may connect to the maintenance database and to the waha_* databases',
        cause: error,
      });
    }
  },
  async identity(settings, timeoutMs) {
    const { PostgresServer, serverIdentity } = await import('../../../util/postgres.js');
    const server = new PostgresServer({ url: requirePostgresUrl(settings), timeoutMs });
    return { id: await server.with(undefined, serverIdentity) };
  },
};
