/**
 * Connecting to MongoDB the same way everywhere: bounded timeouts (a server that does not answer is
 * a clear error within seconds, never a hang), and failures classified for people. The driver is
 * imported lazily so commands that do not touch MongoDB stay fast.
 */
import type { MongoClient, ServerHeartbeatFailedEvent } from 'mongodb';
import { redact, redactUrl } from '../config/redact.js';
import { OperationError, UsageError } from '../errors.js';

export type MongoFailure = 'refused' | 'authentication' | 'dns' | 'timeout' | 'tls' | 'other';

export interface ConnectOptions {
  /** Upper bound for server selection and the first connection, in milliseconds. */
  timeoutMs?: number;
  appName?: string;
}

export async function connectMongo(url: string, options: ConnectOptions = {}): Promise<MongoClient> {
  const { MongoClient } = await import('mongodb');
  const timeoutMs = options.timeoutMs ?? 5000;
  let client: MongoClient;
  try {
    client = new MongoClient(url, {
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
      appName: options.appName ?? 'waha-storage',
    });
  } catch (error) {
    throw new UsageError(`Invalid MongoDB URL ${redactUrl(url)}: ${redact((error as Error).message)}`, {
      hint: 'check --mongo-url / WHATSAPP_SESSIONS_MONGO_URL',
      code: 'bad-url',
    });
  }
  const refused = refusedByEverySeed(client);
  try {
    await Promise.race([client.connect(), refused.promise]);
    return client;
  } catch (error) {
    await client.close().catch(() => {});
    throw mongoConnectError(url, error);
  } finally {
    refused.dispose();
  }
}

/**
 * Rejects as soon as every host of the URL has refused the connection: the driver would retry a
 * refused port until the selection timeout, but nothing listens there, so waiting only delays the
 * error. Not for SRV URLs (the hosts come from DNS) nor load-balanced mode (no monitoring).
 */
function refusedByEverySeed(client: MongoClient): { promise: Promise<never>; dispose(): void } {
  const { hosts, srvHost, loadBalanced } = client.options;
  let dispose = () => {};
  const promise = new Promise<never>((_resolve, reject) => {
    if (srvHost || loadBalanced || hosts.length === 0) return;
    const refusedHosts = new Set<string>();
    let answered = false;
    const onFailed = (event: ServerHeartbeatFailedEvent) => {
      if (answered || classifyMongoError(event.failure) !== 'refused') return;
      refusedHosts.add(event.connectionId);
      if (refusedHosts.size >= hosts.length) reject(event.failure);
    };
    const onSucceeded = () => { answered = true; };
    client.on('serverHeartbeatFailed', onFailed);
    client.on('serverHeartbeatSucceeded', onSucceeded);
    dispose = () => {
      client.off('serverHeartbeatFailed', onFailed);
      client.off('serverHeartbeatSucceeded', onSucceeded);
    };
  });
  return { promise, dispose: () => dispose() };
}

export function classifyMongoError(error: unknown): MongoFailure {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? error} ${causeText(error)}`;
  if (/auth|SCRAM|Unauthorized|credentials/i.test(text)) return 'authentication';
  if (/ECONNREFUSED|connection refused/i.test(text)) return 'refused';
  if (/ENOTFOUND|EAI_AGAIN|querySrv|getaddrinfo/i.test(text)) return 'dns';
  if (/certificate|SSL|TLS/i.test(text)) return 'tls';
  if (/timed? ?out|ServerSelection|ETIMEDOUT/i.test(text)) return 'timeout';
  return 'other';
}

/** `error.code` in --json output: scripts branch on reachability and credentials. */
const FAILURE_CODE: Record<MongoFailure, string> = {
  refused: 'mongo-unreachable',
  authentication: 'authentication',
  dns: 'mongo-unreachable',
  timeout: 'mongo-unreachable',
  tls: 'mongo-tls',
  other: 'mongo-unreachable',
};

const FAILURE_TEXT: Record<MongoFailure, string> = {
  refused: 'connection refused (is the server running, and is the port right?)',
  authentication: 'authentication failed (check the user and password in the URL)',
  dns: 'host name not found (check the host in the URL)',
  timeout: 'no answer within the timeout (check the host, port and firewall)',
  tls: 'TLS handshake failed (check tls/ssl options in the URL)',
  other: 'connection failed',
};

export function describeMongoFailure(failure: MongoFailure): string {
  return FAILURE_TEXT[failure];
}

export function mongoConnectError(url: string, error: unknown): OperationError {
  const failure = classifyMongoError(error);
  const detail = failure === 'other' ? `: ${redact((error as Error)?.message ?? String(error))}` : '';
  return new OperationError(`Cannot connect to MongoDB at ${redactUrl(url)}: ${describeMongoFailure(failure)}${detail}`, {
    hint: 'check --mongo-url / WHATSAPP_SESSIONS_MONGO_URL',
    cause: error,
    code: FAILURE_CODE[failure],
  });
}

function causeText(error: unknown): string {
  const parts: string[] = [];
  let current = (error as { cause?: unknown })?.cause;
  for (let depth = 0; current && depth < 4; depth++) {
    parts.push(String((current as Error).message ?? current), String((current as { code?: string }).code ?? ''));
    current = (current as { cause?: unknown }).cause;
  }
  const reason = (error as { reason?: { servers?: Map<string, { error?: unknown }> } })?.reason;
  for (const server of reason?.servers?.values() ?? []) {
    if (server.error) parts.push(String((server.error as Error).message ?? server.error));
  }
  return parts.join(' ');
}
