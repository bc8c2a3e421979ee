/** WAHA's PostgreSQL media (postgres.md §2): a `media` table in session databases, rows as WAHA writes them. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** MediaPsqlStorage uses PsqlFileRepository with tableName = 'media': the `files` DDL under another name. */
export const MEDIA_DDL = [
  `CREATE TABLE IF NOT EXISTS media
 ( id SERIAL PRIMARY KEY, fullpath TEXT NOT NULL, content BYTEA NOT NULL,
   created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, last_accessed_at TIMESTAMP DEFAULT NULL, metadata JSONB )`,
  'CREATE UNIQUE INDEX IF NOT EXISTS media_fullpath_index ON media (fullpath)',
  'CREATE INDEX IF NOT EXISTS media_created_at_index ON media (created_at)',
  'CREATE INDEX IF NOT EXISTS media_last_accessed_at_index ON media (last_accessed_at)',
  'CREATE INDEX IF NOT EXISTS media_metadata_index ON media USING GIN (metadata)',
];

export function mediaUrl(database?: string): string {
  const url = new URL(inject('postgresUrl'));
  if (database) url.pathname = `/${database}`;
  return url.toString();
}

export function uniqueMediaNamespace(prefix = 'pgm'): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 10)}`;
}

export async function withDb<T>(database: string | undefined, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: mediaUrl(database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates `database` (dropping an old one) with WAHA's media table, or with only an auth table. */
export async function createSessionDatabase(database: string, options: { media?: boolean; timezone?: string } = {}): Promise<void> {
  await withDb(undefined, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${database}"`);
    if (options.timezone) await client.query(`ALTER DATABASE "${database}" SET timezone = '${options.timezone}'`);
  });
  await withDb(database, async (client) => {
    await client.query('CREATE TABLE IF NOT EXISTS auth (id TEXT PRIMARY KEY, data TEXT)');
    if (options.media !== false) for (const statement of MEDIA_DDL) await client.query(statement);
  });
}

export async function dropDatabases(pattern: string): Promise<void> {
  await withDb(undefined, async (client) => {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [pattern]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}

export interface MediaRowSeed {
  fullpath: string;
  createdAt: Date;
  lastAccessedAt?: Date | null;
  /** Default: WAHA's metadata for the session and file (waha-created-at a number). */
  metadata?: unknown;
  bytes?: number;
}

/** WAHA's getMetadata() as JSONB: values not stringified, `waha-created-at` epoch ms as a number. */
export function wahaJsonMetadata(session: string, fullpath: string, createdAt: Date): Record<string, unknown> {
  return {
    'waha-session': session,
    'waha-chat-id': '111@c.us',
    'waha-message-id': fullpath.slice(0, fullpath.lastIndexOf('.')),
    'waha-media-filename': 'photo.jpg',
    'waha-created-at': createdAt.getTime(),
  };
}

/** Inserts rows the way WAHA does: created_at from toISOString() into a timestamp column (UTC wall time). */
export async function insertRows(database: string, session: string, rows: readonly MediaRowSeed[]): Promise<void> {
  await withDb(database, async (client) => {
    for (let start = 0; start < rows.length; start += 500) {
      const chunk = rows.slice(start, start + 500);
      await client.query(
        `INSERT INTO media (fullpath, content, created_at, last_accessed_at, metadata)
         SELECT f, convert_to(repeat('x', b), 'UTF8'), c::timestamp, a::timestamp, m::jsonb
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[]) AS t(f, b, c, a, m)`,
        [chunk.map((row) => row.fullpath), chunk.map((row) => row.bytes ?? 100), chunk.map((row) => row.createdAt.toISOString()),
          chunk.map((row) => row.lastAccessedAt?.toISOString() ?? null),
          chunk.map((row) => JSON.stringify(row.metadata === undefined ? wahaJsonMetadata(session, row.fullpath, row.createdAt) : row.metadata))],
      );
    }
  });
}

/** Many rows at once on the server (generate_series): `count` rows `<prefix><i>.jpeg` created `createdAt`. */
export async function insertMany(database: string, session: string, prefix: string, count: number, createdAt: Date, bytes = 64): Promise<void> {
  await withDb(database, (client) => client.query(
    `INSERT INTO media (fullpath, content, created_at, metadata)
     SELECT $1 || i || '.jpeg', convert_to(repeat('x', $2), 'UTF8'), $3::timestamp,
       jsonb_build_object('waha-session', $4::text, 'waha-message-id', $1 || i, 'waha-chat-id', '111@c.us', 'waha-created-at', $5::bigint)
     FROM generate_series(1, $6) AS i`,
    [prefix, bytes, createdAt.toISOString(), session, createdAt.getTime(), count]));
}

export async function fullpaths(database: string): Promise<string[]> {
  return withDb(database, async (client) => (await client.query<{ fullpath: string }>('SELECT fullpath FROM media ORDER BY fullpath')).rows.map((row) => row.fullpath));
}

export async function rowCount(database: string): Promise<number> {
  return withDb(database, async (client) => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM media')).rows[0]!.n));
}
