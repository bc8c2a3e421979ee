/** The MongoDB store: `waha_<ns>` and one `waha_<session ns>_<slug>` per session (waha-facts §2). The driver loads when a command opens it. */
import type { SessionsConfig } from '../../../config/config.js';
import { redact, redactUrl } from '../../../config/redact.js';
import { OperationError, UsageError, WahaStorageError } from '../../../errors.js';
import type { StoreEnd, StoreModule } from '../registry.js';

export function requireMongoUrl(settings: SessionsConfig, end: StoreEnd = 'source'): string {
  const url = settings.mongoUrl;
  const target = end === 'target' ? ' (or --to-mongo-url for the target)' : '';
  if (!url) throw new UsageError('No MongoDB URL is configured', { hint: `set --mongo-url / WHATSAPP_SESSIONS_MONGO_URL (or --mongo-url-file)${target}`, code: 'missing-setting' });
  return url;
}

export const mongo: StoreModule = {
  word: 'mongo',
  aliases: [],
  title: 'MongoDB',
  description: 'MongoDB (--mongo-url / WHATSAPP_SESSIONS_MONGO_URL); deprecated by WAHA',
  url: { key: 'mongoUrl', targetKey: 'toMongoUrl' },
  configured: (settings) => Boolean(settings.mongoUrl),
  requireSettings: (settings, end) => void requireMongoUrl(settings, end),
  location: (settings) => redactUrl(requireMongoUrl(settings)),
  async open(settings, { timeoutMs, end }) {
    const url = requireMongoUrl(settings, end);
    const [{ MongoTransferStore }, { connectMongo }] = await Promise.all([import('./store.js'), import('../../../util/mongo.js')]);
    const client = await connectMongo(url, { timeoutMs });
    return new MongoTransferStore({ client, namespace: settings.namespace, sessionNamespace: settings.sessionNamespace, location: redactUrl(url) });
  },
  async inspect(options) {
    const url = requireMongoUrl(options.sessions);
    const [{ inspectMongo }, { connectMongo }] = await Promise.all([import('./inspect.js'), import('../../../util/mongo.js')]);
    const client = await connectMongo(url, { timeoutMs: options.timeoutMs });
    try {
      return await inspectMongo({
        client,
        namespace: options.sessions.namespace,
        sessionNamespace: options.sessions.sessionNamespace,
        engines: options.engines,
        sessions: options.names,
        concurrency: options.concurrency,
      });
    } catch (error) {
      if (error instanceof WahaStorageError) throw error;
      throw new OperationError(`Reading MongoDB at ${redactUrl(url)} failed: ${redact((error as Error).message)}`, {
        hint: 'check that the user may list databases and read waha_* databases',
        cause: error,
      });
    } finally {
      await client.close();
    }
  },
  async identity(settings, timeoutMs) {
    const { connectMongo } = await import('../../../util/mongo.js');
    const client = await connectMongo(requireMongoUrl(settings), { timeoutMs });
    try {
      const status = await client.db('admin').command({ serverStatus: 1 }) as { host?: string; pid?: unknown; process?: string; localTime?: Date; uptimeMillis?: unknown };
      const started = status.localTime instanceof Date && typeof status.uptimeMillis === 'number' ? status.localTime.getTime() - status.uptimeMillis : undefined;
      return { id: `${status.host}|${status.process}|${String(status.pid)}`, startedMs: started };
    } catch {
      // serverStatus refused (a role without clusterMonitor): the hosts the URL names
      return { id: [...client.options.hosts.map((host) => host.toString().toLowerCase())].sort().join(',') };
    } finally {
      await client.close().catch(() => {});
    }
  },
};
