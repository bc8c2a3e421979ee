/**
 * bench/media-clean-postgres: WAHA's PostgreSQL media (a `media` table per session database), 200k
 * rows in 20 session databases, half expired, deleted by `waha-storage media clean postgres
 * --older-than 1d` vs the floor: a bare `DELETE FROM media WHERE created_at < …` in each database
 * (one statement per database, nothing listed, nothing reported). Both sides start from the same
 * rows (two namespaces seeded alike). Uses WAHA_STORAGE_TEST_POSTGRES_URL, else starts the tests'
 * PostgreSQL 15. Run: npx tsc -p . && npx tsx bench/media-clean-postgres.ts [sessions] [perSession] [bytes]
 */
import pg from 'pg';
import { startPostgres } from '../test/support/servers.js';
import { BIN, measure, ratio, requireOk, row } from './common.js';

const SESSIONS = Number(process.argv[2] ?? 20);
const PER_SESSION = Number(process.argv[3] ?? 10_000);
const BYTES = Number(process.argv[4] ?? 512);
const TOTAL = SESSIONS * PER_SESSION;
const EXPIRED = Math.floor(PER_SESSION / 2) * SESSIONS;
const DAY = 86_400_000;

const MEDIA_DDL = [
  `CREATE TABLE IF NOT EXISTS media ( id SERIAL PRIMARY KEY, fullpath TEXT NOT NULL, content BYTEA NOT NULL,
   created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, last_accessed_at TIMESTAMP DEFAULT NULL, metadata JSONB )`,
  'CREATE UNIQUE INDEX IF NOT EXISTS media_fullpath_index ON media (fullpath)',
  'CREATE INDEX IF NOT EXISTS media_created_at_index ON media (created_at)',
  'CREATE INDEX IF NOT EXISTS media_last_accessed_at_index ON media (last_accessed_at)',
  'CREATE INDEX IF NOT EXISTS media_metadata_index ON media USING GIN (metadata)',
];

const server = await startPostgres();
const urlOf = (database?: string) => {
  const url = new URL(server.url);
  if (database) url.pathname = `/${database}`;
  return url.toString();
};
async function withDb<T>(database: string | undefined, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlOf(database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
const databases = (namespace: string) => Array.from({ length: SESSIONS }, (_, i) => `waha_${namespace}_session${String(i).padStart(2, '0')}`);

/** Each session database: WAHA's DDL, then half the rows two days old, half an hour old (WAHA's metadata shape). */
async function seed(namespace: string): Promise<void> {
  for (const database of databases(namespace)) {
    await withDb(undefined, async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${database}"`);
    });
    await withDb(database, async (client) => {
      for (const statement of MEDIA_DDL) await client.query(statement);
      const session = database.slice(`waha_${namespace}_`.length);
      for (const [from, to, age] of [[1, Math.floor(PER_SESSION / 2), 2 * DAY], [Math.floor(PER_SESSION / 2) + 1, PER_SESSION, 1_800_000]] as const) {
        const created = new Date(Date.now() - age);
        await client.query(
          `INSERT INTO media (fullpath, content, created_at, metadata)
           SELECT 'false_111@c.us_3EB0' || i || '.jpeg', convert_to(repeat('x', $1), 'UTF8'), $2::timestamp,
             jsonb_build_object('waha-session', $3::text, 'waha-chat-id', '111@c.us', 'waha-message-id', 'false_111@c.us_3EB0' || i,
               'waha-media-filename', 'photo.jpg', 'waha-created-at', $4::bigint)
           FROM generate_series($5::int, $6::int) AS i`,
          [BYTES, created.toISOString(), session, created.getTime(), from, to]);
      }
      await client.query('ANALYZE media');
    });
  }
}

async function remaining(namespace: string): Promise<number> {
  let total = 0;
  for (const database of databases(namespace)) {
    total += await withDb(database, async (client) => Number((await client.query('SELECT count(*) AS n FROM media')).rows[0].n));
  }
  return total;
}

try {
  console.log(`media-clean-postgres: seeding ${TOTAL} rows of ${BYTES} bytes (${SESSIONS} session databases, half expired), twice ...`);
  await seed('benchbare');
  await seed('benchours');

  // the floor: one DELETE per database, nothing listed, no batches, no report
  const bareStarted = process.hrtime.bigint();
  let bareDeleted = 0;
  for (const database of databases('benchbare')) {
    bareDeleted += await withDb(database, async (client) =>
      (await client.query("DELETE FROM media WHERE created_at < (now() AT TIME ZONE 'UTC') - interval '1 day'")).rowCount ?? 0);
  }
  const bareSeconds = Number(process.hrtime.bigint() - bareStarted) / 1e9;

  const ours = await measure(process.execPath, [BIN, 'media', 'clean', 'postgres', '--older-than', '1d', '--json'], {
    ...process.env, WAHA_MEDIA_POSTGRESQL_URL: server.url, WAHA_SESSION_NAMESPACE: 'benchours',
  });
  requireOk('waha-storage', ours);
  const summary = JSON.parse(ours.stdout).summary;
  const leftOurs = await remaining('benchours');
  const leftBare = await remaining('benchbare');
  if (summary.deleted !== EXPIRED || bareDeleted !== EXPIRED || leftOurs !== TOTAL - EXPIRED || leftBare !== TOTAL - EXPIRED) {
    throw new Error(`unexpected: waha-storage deleted ${summary.deleted} (left ${leftOurs}), bare DELETE ${bareDeleted} (left ${leftBare}); expected ${EXPIRED}`);
  }
  console.log(`${TOTAL} rows, ${EXPIRED} expired, ${SESSIONS} databases; ${server.description}`);
  console.log(row(['', 'wall s', 'peak RSS MB', 'rows/s deleted']));
  console.log(row(['bare DELETE … WHERE created_at < … per database', bareSeconds.toFixed(2), '-', Math.round(EXPIRED / bareSeconds)]));
  console.log(row(['waha-storage media clean postgres --older-than 1d', ours.seconds.toFixed(2), ours.peakRssMb.toFixed(0), Math.round(EXPIRED / ours.seconds)]));
  console.log(`wall time (waha-storage / bare DELETE): ${ratio(ours.seconds, bareSeconds)} (waha-storage includes Node's start, the listing, the lock and the size report)`);
} finally {
  for (const namespace of ['benchbare', 'benchours']) {
    for (const database of databases(namespace)) await withDb(undefined, (client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)).catch(() => undefined);
  }
  await server.stop();
}
