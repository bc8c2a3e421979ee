/**
 * bench/migrate --target postgres: `waha-storage migrate local postgres` on generated NOWEB sessions,
 * against a bare COPY of the same rows on the same server; then `migrate mongo postgres` of the
 * same sessions (loaded into MongoDB first, untimed).
 *
 *   npx tsc -p . && npx tsx bench/migrate.ts --target postgres       # 200 sessions x 2,000 keys
 *   BENCH_SESSIONS=20 npx tsx bench/migrate.ts --target postgres
 *
 * PostgreSQL: WAHA_STORAGE_TEST_POSTGRES_URL, else the test harness's PostgreSQL 15 (fsync off).
 * MongoDB (for mongo -> postgres): WAHA_STORAGE_TEST_MONGO_URL, else FerretDB / mongod.
 *
 * - ceiling: read the key files (as migrate reads them), build the same `auth(id, data)` rows
 *   (WAHA's `{id, data}` wrapper), CREATE DATABASE + WAHA's table, one COPY … FROM STDIN per
 *   session, then WAHA's unique index, 4 sessions at once;
 * - verified floor: the ceiling plus one SELECT of every row it wrote;
 * - migrate: the built CLI (staging database, digests, read-back verification, rename, main rows).
 * Prints wall time, rows per second, peak RSS of the CLI process and the ratios.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { parseKeyName } from '../src/sessions/engines/noweb-keys.js';
import { isKeyFile } from '../src/sessions/engines/noweb.js';
import { copyText } from '../src/sessions/stores/postgres/copy.js';
import { writeLocalNowebSessions } from '../test/support/fixtures/index.js';
import { startMongo, startPostgres } from '../test/support/servers.js';
import { BIN, measure, requireOk } from './common.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200);
const KEYS = Number(process.env.BENCH_KEYS ?? 2000);
const CONCURRENCY = 4;

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The `auth` rows migrate writes for one session folder, as COPY text, built the cheapest way. */
function authCopyText(folder: string, files: string[]): string {
  let text = '';
  for (const file of files) {
    if (!isKeyFile(file)) continue;
    const parsed = parseKeyName(file, 'file');
    if (!parsed.ok) throw new Error(parsed.error);
    const data = JSON.stringify({ id: parsed.key, data: JSON.parse(readFileSync(path.join(folder, file), 'utf8')) });
    text += `${copyText(parsed.key)}\t${copyText(data)}\n`;
  }
  return text;
}

async function bareCopy(url: string, base: string, namespace: string, prefix: string, readBack: boolean): Promise<number> {
  const folder = path.join(base, namespace);
  const names = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const started = process.hrtime.bigint();
  let next = 0;
  let read = 0;
  const worker = async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    while (next < names.length) {
      const name = names[next++]!;
      const database = `waha_${prefix}_${name}`;
      await admin.query(`CREATE DATABASE "${database}"`);
      const client = new pg.Client({ connectionString: withDatabase(url, database) });
      await client.connect();
      try {
        await client.query('CREATE TABLE IF NOT EXISTS auth (id TEXT PRIMARY KEY, data TEXT)');
        const text = authCopyText(path.join(folder, name), await readdir(path.join(folder, name)));
        await pipeline(Readable.from([text]), client.query(copyFrom('COPY auth (id, data) FROM STDIN')));
        await client.query('CREATE UNIQUE INDEX IF NOT EXISTS auth_id_index ON auth (id)');
        if (readBack) {
          const { rows } = await client.query('SELECT id, data FROM auth');
          read += rows.length;
        }
      } finally {
        await client.end();
      }
    }
    await admin.end();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const took = seconds(started);
  if (readBack && read !== SESSIONS * (KEYS + 1)) throw new Error(`read back ${read} rows, expected ${SESSIONS * (KEYS + 1)}`);
  return took;
}

async function dropAll(url: string, prefix: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2', [prefix, `${prefix}\\_%`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function dropMongo(url: string, prefix: string): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = await new MongoClient(url).connect();
  try {
    for (const { name } of (await client.db().admin().listDatabases({ nameOnly: true })).databases) {
      if (name === prefix || name.startsWith(`${prefix}_`)) await client.db(name).dropDatabase();
    }
  } finally {
    await client.close();
  }
}

async function cli(args: string[], base: string, namespace: string, urls: { postgres: string; mongo?: string }) {
  const result = await measure(process.execPath, [BIN, 'migrate', ...args, '--json', '--force', '--concurrency', String(CONCURRENCY), '--sessions-dir', base,
    '--namespace', namespace, '--session-namespace', namespace, '--postgres-url', urls.postgres, ...(urls.mongo ? ['--mongo-url', urls.mongo] : [])]);
  requireOk(`migrate ${args.join(' ')}`, result);
  const summary = JSON.parse(result.stdout).summary as { done: number; entries: number };
  if (summary.done !== SESSIONS) throw new Error(`migrate ${args.join(' ')} copied ${summary.done} of ${SESSIONS} sessions`);
  return result;
}

export async function benchPostgres(): Promise<void> {
  const postgresServer = process.env.WAHA_STORAGE_TEST_POSTGRES_URL ? undefined : await startPostgres();
  const url = process.env.WAHA_STORAGE_TEST_POSTGRES_URL ?? postgresServer!.url;
  const mongoServer = process.env.WAHA_STORAGE_TEST_MONGO_URL ? undefined : await startMongo();
  const mongoUrl = process.env.WAHA_STORAGE_TEST_MONGO_URL ?? mongoServer!.url;
  const base = await mkdtemp(path.join(os.tmpdir(), 'waha-bench-pg-'));
  const namespace = `benchpg${Date.now().toString(36)}`;
  const rows = SESSIONS * (KEYS + 1);
  try {
    process.stderr.write(`generating ${SESSIONS} sessions x ${KEYS} keys in ${base} ...\n`);
    await writeLocalNowebSessions(base, { count: SESSIONS, keysPerSession: KEYS, namespace });
    const ceiling = await bareCopy(url, base, namespace, `${namespace}c`, false);
    await dropAll(url, `waha_${namespace}c`);
    const floor = await bareCopy(url, base, namespace, `${namespace}f`, true);
    await dropAll(url, `waha_${namespace}f`);
    process.stderr.write(`bare COPY ${ceiling.toFixed(1)} s, + read back ${floor.toFixed(1)} s; migrate local postgres ...\n`);
    const local = await cli(['local', 'postgres'], base, namespace, { postgres: url });
    await dropAll(url, `waha_${namespace}`);
    process.stderr.write(`migrate local postgres ${local.seconds.toFixed(1)} s; loading MongoDB (untimed) ...\n`);
    await cli(['local', 'mongo'], base, namespace, { postgres: url, mongo: mongoUrl });
    const mongo = await cli(['mongo', 'postgres'], base, namespace, { postgres: url, mongo: mongoUrl });
    const rate = (secondsTaken: number) => `${Math.round(rows / secondsTaken)} rows/s`;
    console.log(`server: ${postgresServer?.description ?? 'WAHA_STORAGE_TEST_POSTGRES_URL'}; ${os.cpus().length} CPUs; load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}`);
    console.log(`sessions: ${SESSIONS} x ${KEYS} keys = ${rows} auth rows`);
    console.log(`migrate local postgres:        ${local.seconds.toFixed(1)} s, ${rate(local.seconds)}, peak RSS ${local.peakRssMb.toFixed(0)} MB`);
    console.log(`migrate mongo postgres:        ${mongo.seconds.toFixed(1)} s, ${rate(mongo.seconds)}, peak RSS ${mongo.peakRssMb.toFixed(0)} MB`);
    console.log(`ceiling (bare COPY):           ${ceiling.toFixed(1)} s, ${rate(ceiling)}`);
    console.log(`verified floor (+ read back):  ${floor.toFixed(1)} s, ${rate(floor)}`);
    console.log(`ratio: local ${(local.seconds / ceiling).toFixed(2)}x the bare COPY (target <= 1.3x), ${(local.seconds / floor).toFixed(2)}x the verified floor; mongo ${(mongo.seconds / ceiling).toFixed(2)}x`);
  } finally {
    await dropAll(url, `waha_${namespace}`).catch(() => {});
    for (const suffix of ['c', 'f']) await dropAll(url, `waha_${namespace}${suffix}`).catch(() => {});
    await rm(base, { recursive: true, force: true });
    if (!mongoServer) await dropMongo(mongoUrl, `waha_${namespace}`).catch(() => {});
    await postgresServer?.stop();
    await mongoServer?.stop();
  }
}
