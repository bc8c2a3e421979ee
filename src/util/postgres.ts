/**
 * Connecting to PostgreSQL the way WAHA does (postgres.md §1.1): the URL parsed with WAHA's rules
 * (`sslmode=disable` turns TLS off, anything else turns it on without certificate checks; port 5432
 * by default; the URL's database is only the maintenance database), bounded connect timeouts, and
 * failures classified for people. `pg` is imported lazily so commands that do not touch PostgreSQL
 * stay fast.
 */
import type { Client, ClientConfig } from 'pg';
import { redact, redactUrl } from '../config/redact.js';
import { OperationError } from '../errors.js';

export type PostgresFailure = 'refused' | 'authentication' | 'dns' | 'timeout' | 'tls' | 'database' | 'other';

/** What WAHA's parsePsql takes from the URL. */
export interface PostgresConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The maintenance database (undefined: node-pg uses the user's name, as in WAHA). */
  database: string | undefined;
  ssl: false | { rejectUnauthorized: false };
}

export function parsePostgresUrl(url: string): PostgresConnection {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') throw new Error('Invalid postgresql url');
  const database = parsed.pathname.split('/')[1];
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number.parseInt(parsed.port, 10) || 5432,
    // WHATWG URL keeps percent-encoding; a server never sees an encoded password, so it is decoded here
    user: decode(parsed.username),
    password: decode(parsed.password),
    database: database ? decode(database) : undefined,
    ssl: parsed.searchParams.get('sslmode') !== 'disable' ? { rejectUnauthorized: false } : false,
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export interface PostgresServerOptions {
  url: string;
  /** Upper bound for one connection attempt, in milliseconds. */
  timeoutMs?: number;
  applicationName?: string;
}

/** One server named by a URL; every connection to any of its databases goes through `connect`. */
export class PostgresServer {
  readonly location: string;
  readonly connection: PostgresConnection;
  private readonly timeoutMs: number;
  private readonly applicationName: string;
  private readonly idle = new Map<string, Client[]>();
  private closed = false;

  constructor(private readonly options: PostgresServerOptions) {
    this.location = redactUrl(options.url);
    this.connection = parsePostgresUrl(options.url);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.applicationName = options.applicationName ?? 'waha-storage';
  }

  /** A connected client on `database` (default: the URL's maintenance database); errors are typed. */
  async connect(database?: string): Promise<Client> {
    const { default: pg } = await import('pg');
    const { host, port, user, password, ssl } = this.connection;
    const config: ClientConfig = {
      host, port, user, password, ssl,
      database: database ?? this.connection.database,
      connectionTimeoutMillis: this.timeoutMs,
      application_name: this.applicationName,
    };
    const client = new pg.Client(config);
    client.on('error', () => {}); // a dropped connection surfaces on the next query, never as a crash
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      throw postgresConnectError(this.options.url, error, database);
    }
  }

  /**
   * Runs `work` on an idle connection to `database` kept from an earlier call (or a new one), and
   * keeps it for the next: for databases that are never renamed or dropped while the tool runs (the
   * maintenance database, `waha_<ns>`), since a connection would stop their ALTER … RENAME. A
   * connection whose work failed is closed (it may be inside a transaction). `close()` ends them.
   */
  async pooled<T>(database: string | undefined, work: (client: Client) => Promise<T>): Promise<T> {
    const key = database ?? '';
    const client = this.idle.get(key)?.pop() ?? await this.connect(database);
    let result: T;
    try {
      result = await work(client);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) await client.end().catch(() => {});
    else this.idle.set(key, [...(this.idle.get(key) ?? []), client]);
    return result;
  }

  /** Ends the connections `pooled` kept. */
  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }

  /** Runs `work` on a fresh connection to `database`, closing it after. */
  async with<T>(database: string | undefined, work: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.connect(database);
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

export function classifyPostgresError(error: unknown): PostgresFailure {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = `${typeof message === 'string' ? message : String(error)} ${causeText(error)}`;
  if (code === '28P01' || code === '28000' || /password authentication failed|no pg_hba\.conf entry|SASL|SCRAM/i.test(text)) return 'authentication';
  if (code === '3D000') return 'database';
  if (code === 'ECONNREFUSED' || /ECONNREFUSED|connection refused/i.test(text)) return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN|getaddrinfo/i.test(text)) return 'dns';
  if (/does not support SSL|SSL|TLS|certificate|EPROTO/i.test(text)) return 'tls';
  if (code === 'ETIMEDOUT' || /timeout|timed out|ETIMEDOUT/i.test(text)) return 'timeout';
  return 'other';
}

/** `error.code` in --json output: scripts branch on reachability and credentials. */
const FAILURE_CODE: Record<PostgresFailure, string> = {
  refused: 'postgres-unreachable',
  authentication: 'authentication',
  dns: 'postgres-unreachable',
  timeout: 'postgres-unreachable',
  tls: 'postgres-tls',
  database: 'postgres-database-missing',
  other: 'postgres-unreachable',
};

const FAILURE_TEXT: Record<PostgresFailure, string> = {
  refused: 'connection refused (is the server running, and is the port right?)',
  authentication: 'authentication failed (check the user and password in the URL)',
  dns: 'host name not found (check the host in the URL)',
  timeout: 'no answer within the timeout (check the host, port and firewall)',
  tls: 'TLS failed (WAHA uses TLS unless the URL ends in ?sslmode=disable)',
  database: 'the database does not exist',
  other: 'connection failed',
};

export function describePostgresFailure(failure: PostgresFailure): string {
  return FAILURE_TEXT[failure];
}

export function postgresConnectError(url: string, error: unknown, database?: string): OperationError {
  const failure = classifyPostgresError(error);
  const detail = failure === 'other' ? `: ${redact((error as Error)?.message ?? String(error))}` : '';
  const which = failure === 'database' ? ` (database ${database ?? parseSafe(url) ?? '?'})` : '';
  return new OperationError(`Cannot connect to PostgreSQL at ${redactUrl(url)}: ${describePostgresFailure(failure)}${which}${detail}`, {
    hint: failure === 'database'
      ? 'the URL names the maintenance database WAHA connects to first (e.g. /postgres): check --postgres-url / WHATSAPP_SESSIONS_POSTGRESQL_URL'
      : 'check --postgres-url / WHATSAPP_SESSIONS_POSTGRESQL_URL',
    cause: error,
    code: FAILURE_CODE[failure],
  });
}

function parseSafe(url: string): string | undefined {
  try {
    return parsePostgresUrl(url).database;
  } catch {
    return undefined;
  }
}

/** `SHOW server_version_num` as a number (150004 for 15.4). */
export async function serverVersion(client: Client): Promise<number> {
  const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
  return Number(rows[0]?.server_version_num ?? 0);
}

/** A double-quoted identifier (database and table names). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function causeText(error: unknown): string {
  const parts: string[] = [];
  let current = (error as { cause?: unknown })?.cause;
  for (let depth = 0; current && depth < 4; depth++) {
    parts.push(String((current as Error).message ?? current), String((current as { code?: string }).code ?? ''));
    current = (current as { cause?: unknown }).cause;
  }
  for (const inner of (error as { errors?: unknown[] })?.errors ?? []) parts.push(String((inner as Error)?.message ?? inner), String((inner as { code?: string })?.code ?? ''));
  return parts.join(' ');
}

/**
 * What tells one server from another whatever URL reaches it (a host name, an IP, a proxy): the
 * postmaster's start time and port, and the cluster's system identifier when the role may read it.
 */
export async function serverIdentity(client: Client): Promise<string> {
  const { rows } = await client.query<{ started: string; port: number | null }>('SELECT pg_postmaster_start_time()::text AS started, inet_server_port() AS port');
  const system = await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()').then((result) => result.rows[0]?.id, () => undefined);
  // a base-backup clone shares the system identifier: the start time tells it apart
  return `${system ? `system ${system}, ` : ''}started ${rows[0]?.started}, port ${rows[0]?.port}`;
}

/**
 * Holds a session-level advisory lock on `client` for as long as the run lasts (one media clean, one
 * messages prune at a time per server). Busy: `busy()` is thrown, or with `wait` it is tried again
 * every half second until it is free or `signal` aborts. The client is ended on failure and on release;
 * `onCompromised` is told if its connection dies while the lock is held.
 */
export async function holdAdvisoryLock(client: Client, key: readonly [number, number], options: {
  busy: () => Error; wait?: boolean; signal?: AbortSignal; interrupted?: () => Error; onCompromised?: (error: Error) => void;
}): Promise<() => Promise<void>> {
  const [high, low] = key;
  try {
    for (;;) {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS locked', [high, low]);
      if (rows[0]?.locked) break;
      if (!options.wait) throw options.busy();
      if (options.signal?.aborted) throw options.interrupted?.() ?? options.busy();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  let released = false;
  client.on('error', (error) => { if (!released) options.onCompromised?.(error); });
  return async () => {
    released = true;
    await client.query('SELECT pg_advisory_unlock($1::int, $2::int)', [high, low]).catch(() => undefined);
    await client.end().catch(() => undefined);
  };
}
