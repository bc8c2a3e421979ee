/**
 * PostgreSQL media (WAHA_MEDIA_STORAGE=POSTGRESQL, postgres.md §2): a `media` table in each
 * session database `waha_<session namespace>_<slug>` on the media server, rows keyed by `fullpath`
 * = `<messageId>.<ext>`. Ages come from `created_at` (UTC wall time without a zone, read as UTC),
 * last use from `last_accessed_at`. Listing reads keyset pages by primary key (never the content,
 * never a whole table); a delete is one statement per database and batch, by primary key, and
 * only for rows still as they were listed (a row WAHA saved again or served since is kept).
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type { Client } from 'pg';
import { OperationError, UsageError } from '../errors.js';
import { ENGINES } from '../sessions/engines.js';
import { sessionDatabase } from '../sessions/names.js';
import { truncateIdentifier } from '../sessions/stores/postgres/layout.js';
import { holdAdvisoryLock, PostgresServer, quoteIdent } from '../util/postgres.js';
import { mergePages } from './pages.js';
import type { DeleteFailure, DeleteOutcome, ListFilter, MediaObject, MediaStore } from './store.js';

export const POSTGRES_PAGE_SIZE = 5000;
const URL_SETTING = '--media-postgres-url / WAHA_MEDIA_POSTGRESQL_URL';

/** One row as listed: where it lives, and the values a delete checks again. */
export interface PostgresMediaObject extends MediaObject {
  database: string;
  id: number;
  /** `created_at` and `last_accessed_at` as PostgreSQL prints them (lossless, for the delete's check). */
  createdText: string | null;
  lastAccessedText: string | null;
}

/** A session database holding a `media` table. */
export interface MediaDatabase {
  /** The session name given with --session, else the database's slug. */
  session: string;
  database: string;
}

export interface MediaTableSize {
  session: string;
  database: string;
  /** pg_total_relation_size('media') when the run first read the table. */
  bytesBefore: number;
  /** The same after the run (after VACUUM when it ran). */
  bytesAfter: number;
  /** Rows this run deleted from it. */
  deleted: number;
  vacuumed: boolean;
}

/** The metadata of one row, for `media verify postgres`. */
export interface MediaRow {
  session: string;
  database: string;
  id: number;
  fullpath: string;
  metadata: unknown;
}

export interface PostgresMediaStoreOptions {
  url: string;
  /** WAHA_SESSION_NAMESPACE; absent: every engine's name (webjs, noweb, gows, wpp). */
  sessionNamespace?: string;
  /** Databases read at once. */
  listConcurrency?: number;
  timeoutMs?: number;
}

export class PostgresMediaStore implements MediaStore {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly lockKey: string;
  private readonly server: PostgresServer;
  private readonly namespaces: string[];
  private readonly listConcurrency: number;
  private readonly writers = new Map<string, Promise<Client>>();
  private readonly sizes = new Map<string, { session: string; bytes: number }>();
  private readonly deletedIn = new Map<string, number>();

  constructor(options: PostgresMediaStoreOptions) {
    this.server = new PostgresServer({ url: options.url, timeoutMs: options.timeoutMs, applicationName: 'waha-storage media' });
    this.namespaces = options.sessionNamespace ? [options.sessionNamespace] : ENGINES.map((engine) => engine.toLowerCase());
    const { host, port } = this.server.connection;
    this.location = `postgres://${host.includes(':') ? `[${host}]` : host}:${port} (media tables)`;
    this.lockKey = `${host}:${port}|${this.namespaces.join(',')}`;
    this.listConcurrency = options.listConcurrency ?? 4;
  }

  static open(url: string | undefined, options: Omit<PostgresMediaStoreOptions, 'url'> = {}): PostgresMediaStore {
    if (!url) {
      throw new UsageError(`PostgreSQL media is not configured: set ${URL_SETTING}`, {
        hint: 'the same variable the WAHA server uses with WAHA_MEDIA_STORAGE=POSTGRESQL', code: 'missing-setting',
      });
    }
    return new PostgresMediaStore({ url, ...options });
  }

  async check(): Promise<void> {
    await this.connect(undefined).then((client) => client.end().catch(() => undefined));
  }

  /** The session databases that hold a `media` table; only those of `sessions` when given. */
  async databases(sessions?: readonly string[]): Promise<MediaDatabase[]> {
    const names = await this.withClient(undefined, async (client) => {
      const patterns = this.namespaces.map((namespace) => `waha\\_${namespace.replace(/_/g, '\\_')}\\_%`);
      const { rows } = await client.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn AND datname LIKE ANY($1::text[]) ORDER BY datname', [patterns]);
      return rows.map((row) => row.datname);
    });
    let candidates: MediaDatabase[];
    if (sessions?.length) {
      const wanted = new Map<string, string>();
      for (const session of sessions) {
        for (const namespace of this.namespaces) wanted.set(truncateIdentifier(sessionDatabase(namespace, session)), session);
      }
      candidates = names.filter((name) => wanted.has(name)).map((database) => ({ session: wanted.get(database)!, database }));
    } else {
      candidates = names.map((database) => ({ session: this.slugOf(database), database }));
    }
    const limit = pLimit(8);
    const withMedia = await Promise.all(candidates.map((candidate) => limit(async () =>
      (await this.withClient(candidate.database, hasMediaTable).catch(missingIsFalse)) ? candidate : undefined)));
    return withMedia.filter((candidate): candidate is MediaDatabase => candidate !== undefined);
  }

  async *list(filter: ListFilter): AsyncIterable<MediaObject[]> {
    const databases = await this.databases(filter.sessions);
    yield* mergePages(databases.map((database) => () => this.listDatabase(database)), this.listConcurrency);
  }

  /** Rows with their metadata, for verify: the same keyset pages as the listing. */
  async *rows(filter: ListFilter): AsyncIterable<MediaRow[]> {
    const databases = await this.databases(filter.sessions);
    yield* mergePages(databases.map((target) => () => this.pages<MediaRow>(target, 'id, fullpath, metadata', (row) => ({
      session: target.session, database: target.database, id: Number(row.id), fullpath: String(row.fullpath), metadata: row.metadata,
    }))), this.listConcurrency);
  }

  async delete(batch: readonly MediaObject[]): Promise<DeleteOutcome> {
    const byDatabase = new Map<string, PostgresMediaObject[]>();
    for (const object of batch as readonly PostgresMediaObject[]) byDatabase.set(object.database, [...(byDatabase.get(object.database) ?? []), object]);
    const outcome: DeleteOutcome = { deleted: [], vanished: [], failed: [] };
    for (const [database, objects] of byDatabase) {
      try {
        const gone = await this.deleteRows(database, objects);
        for (const object of objects) {
          const bytes = gone.get(object.id);
          if (bytes === undefined) outcome.vanished.push(object);
          else outcome.deleted.push({ ...object, bytes });
        }
        this.deletedIn.set(database, (this.deletedIn.get(database) ?? 0) + gone.size);
      } catch (error) {
        const reason = describe(error);
        outcome.failed.push(...objects.map((object): DeleteFailure => ({ key: object.key, reason })));
      }
    }
    return outcome;
  }

  /** `<session>/<fullpath>` (the session's database on this server). */
  async stat(key: string): Promise<MediaObject | undefined> {
    const slash = key.indexOf('/');
    if (slash <= 0) return undefined;
    const [target] = await this.databases([key.slice(0, slash)]);
    if (!target) return undefined;
    return this.withClient(target.database, async (client) => {
      const { rows } = await client.query(`${SELECT_OBJECT} FROM media WHERE fullpath = $1`, [key.slice(slash + 1)]);
      return rows[0] ? toObject(target, rows[0]) : undefined;
    });
  }

  /**
   * The size of each media table this run read: before (when first read) and now; with `vacuum`,
   * plain VACUUM runs first on the tables this run deleted from (space becomes reusable; only
   * VACUUM FULL gives it back to the operating system).
   */
  async tableSizes(options: { vacuum?: boolean } = {}): Promise<MediaTableSize[]> {
    const sizes: MediaTableSize[] = [];
    for (const [database, before] of this.sizes) {
      const deleted = this.deletedIn.get(database) ?? 0;
      const vacuumed = Boolean(options.vacuum && deleted > 0);
      const bytesAfter = await this.withWriter(database, async (client) => {
        if (vacuumed) await client.query('VACUUM media');
        return tableSize(client);
      });
      sizes.push({ session: before.session, database, bytesBefore: before.bytes, bytesAfter, deleted, vacuumed });
    }
    return sizes.sort((a, b) => a.database.localeCompare(b.database));
  }

  /** One clean at a time per media server: a session-level advisory lock, held while the run lasts. */
  async acquireLock(options: { wait?: boolean; signal?: AbortSignal; onCompromised?: (error: Error) => void } = {}): Promise<() => Promise<void>> {
    const client = await this.connect(undefined);
    const [high, low] = advisoryKey(this.lockKey);
    return holdAdvisoryLock(client, [high, low], {
      wait: options.wait,
      signal: options.signal,
      onCompromised: options.onCompromised,
      busy: () => new OperationError(`Another media clean is running on ${this.location} (PostgreSQL advisory lock ${high}/${low})`, {
        hint: 'wait for it to finish, or pass --wait to queue behind it',
      }),
      interrupted: () => new OperationError('interrupted while waiting for the other media clean'),
    });
  }

  async close(): Promise<void> {
    const writers = [...this.writers.values()];
    this.writers.clear();
    await Promise.all(writers.map(async (pending) => (await pending.catch(() => undefined))?.end().catch(() => undefined)));
  }

  private listDatabase(target: MediaDatabase): AsyncGenerator<MediaObject[]> {
    return this.pages(target, OBJECT_COLUMNS, (row) => toObject(target, row), async (client) => {
      if (!this.sizes.has(target.database)) this.sizes.set(target.database, { session: target.session, bytes: await tableSize(client) });
    });
  }

  /** Keyset pages of one media table by primary key, on a connection of its own. */
  private async *pages<T>(target: MediaDatabase, columns: string, map: (row: Record<string, unknown>) => T, first?: (client: Client) => Promise<void>): AsyncGenerator<T[]> {
    const client = await this.connect(target.database);
    try {
      await first?.(client);
      let after = -1;
      for (;;) {
        const { rows } = await client.query(`SELECT ${columns} FROM media WHERE id > $1 ORDER BY id LIMIT ${POSTGRES_PAGE_SIZE}`, [after])
          .catch((error: unknown) => { throw queryError(target.database, error); });
        if (!rows.length) return;
        after = Number(rows[rows.length - 1]!.id);
        yield rows.map(map);
        if (rows.length < POSTGRES_PAGE_SIZE) return;
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Deletes the rows still as listed; returns the ids really deleted with their sizes. */
  private async deleteRows(database: string, objects: readonly PostgresMediaObject[]): Promise<Map<number, number>> {
    return this.withWriter(database, async (client) => {
      const { rows } = await client.query<{ id: number; bytes: string }>(
        `DELETE FROM media AS m USING unnest($1::int[], $2::text[], $3::text[]) AS d(id, created_text, accessed_text)
          WHERE m.id = d.id AND m.created_at::text IS NOT DISTINCT FROM d.created_text AND m.last_accessed_at::text IS NOT DISTINCT FROM d.accessed_text
          RETURNING m.id, octet_length(m.content) AS bytes`,
        [objects.map((o) => o.id), objects.map((o) => o.createdText), objects.map((o) => o.lastAccessedText)],
      ).catch((error: unknown) => { throw queryError(database, error); });
      return new Map(rows.map((row) => [Number(row.id), Number(row.bytes)]));
    });
  }

  /** Runs `work` on the database's write connection (kept for the run; deletes and VACUUM). */
  private async withWriter<T>(database: string, work: (client: Client) => Promise<T>): Promise<T> {
    let pending = this.writers.get(database);
    if (!pending) {
      pending = this.connect(database);
      this.writers.set(database, pending);
      pending.catch(() => this.writers.delete(database));
    }
    return work(await pending);
  }

  private async withClient<T>(database: string | undefined, work: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.connect(database);
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async connect(database: string | undefined): Promise<Client> {
    try {
      return await this.server.connect(database);
    } catch (error) {
      // the session store's hint names its own setting: this is the media server's
      const failure = error as OperationError;
      throw new OperationError(failure.message.replace(/^Cannot connect to PostgreSQL/, 'Cannot connect to the PostgreSQL media server'), {
        hint: `check ${URL_SETTING}`, cause: failure.cause ?? error, code: failure.code,
      });
    }
  }

  /** WAHA keeps session `name`'s media in `database` (one of the namespaces, its slug, truncated as PostgreSQL does). */
  holds(database: string, name: string): boolean {
    return this.namespaces.some((namespace) => truncateIdentifier(sessionDatabase(namespace, name)) === database);
  }

  private slugOf(database: string): string {
    const namespace = this.namespaces.find((candidate) => database.startsWith(`waha_${candidate}_`));
    return namespace ? database.slice(`waha_${namespace}_`.length) : database;
  }
}

/** created_at / last_accessed_at are timestamps without a zone holding UTC: extract(epoch) reads them as UTC. */
const OBJECT_COLUMNS = `id, fullpath, octet_length(content) AS bytes,
  (extract(epoch FROM created_at) * 1000)::float8 AS created_ms, (extract(epoch FROM last_accessed_at) * 1000)::float8 AS accessed_ms,
  created_at::text AS created_text, last_accessed_at::text AS accessed_text`;
const SELECT_OBJECT = `SELECT ${OBJECT_COLUMNS}`;

function toObject(target: MediaDatabase, row: Record<string, unknown>): PostgresMediaObject {
  const created = new Date(row.created_ms === null ? Number.NaN : Number(row.created_ms));
  const accessed = row.accessed_ms === null || row.accessed_ms === undefined ? undefined : new Date(Number(row.accessed_ms));
  return {
    session: target.session,
    key: String(row.fullpath),
    bytes: Number(row.bytes ?? 0),
    modifiedAt: created,
    lastUsedAt: accessed ?? created,
    database: target.database,
    id: Number(row.id),
    createdText: row.created_text === null ? null : String(row.created_text),
    lastAccessedText: row.accessed_text === null ? null : String(row.accessed_text),
  };
}

async function hasMediaTable(client: Client): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>("SELECT to_regclass('public.media') IS NOT NULL AS found");
  return Boolean(rows[0]?.found);
}

/** A database dropped between the listing of pg_database and the connection (a logout): no media there. */
function missingIsFalse(error: unknown): false {
  if ((error as { code?: string }).code === 'postgres-database-missing') return false;
  throw error;
}

async function tableSize(client: Client): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>("SELECT pg_total_relation_size('media') AS bytes");
  return Number(rows[0]?.bytes ?? 0);
}

/** Two 32-bit halves of a digest of the lock key (pg_try_advisory_lock(int, int)). */
function advisoryKey(lockKey: string): [number, number] {
  const digest = createHash('sha256').update(`waha-storage media clean|${lockKey}`).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

function describe(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

function queryError(database: string, error: unknown): OperationError {
  if (error instanceof OperationError) return error;
  return new OperationError(`PostgreSQL media table in ${quoteIdent(database)}: ${describe(error)}`, { cause: error });
}
