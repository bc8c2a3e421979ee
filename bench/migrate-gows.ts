/**
 * bench/migrate --target postgres --engine GOWS: `waha-storage migrate local postgres` of generated
 * GOWS sessions (the fixture's whatsmeow device, GOWS's tables with BENCH_MESSAGES messages each),
 * against a bare COPY of the same rows on the same server.
 *
 *   npx tsc -p . && npx tsx bench/migrate.ts --target postgres --engine GOWS    # 50 sessions x 20,000 messages
 *   BENCH_SESSIONS=10 BENCH_MESSAGES=5000 npx tsx bench/migrate.ts --target postgres --engine GOWS
 *
 * PostgreSQL: WAHA_STORAGE_TEST_POSTGRES_URL, else the test harness's PostgreSQL 15 (fsync off).
 *
 * - ceiling: per session, CREATE DATABASE, the same tables (the same DDL), every row of every table
 *   read from its gows.db and sent by one COPY … FROM STDIN per table, the indexes after, 4 sessions
 *   at once;
 * - migrate: the built CLI (snapshot through SQLite's backup API, canonical digest, staging
 *   database, read back into SQLite and digested again, rename, main rows).
 * Prints wall time, rows per second, peak RSS of the CLI process and the ratio.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyText } from '../src/sessions/stores/postgres/copy.js';
import { openBytes, orderBy, quote, sqliteTables, tableDdl } from '../src/sessions/gows/sqlite.js';
import { sqliteToCopy } from '../src/sessions/gows/values.js';
import { writeLocalFixtures } from '../test/support/fixtures/index.js';
import { addGowsTables } from '../test/oracles/gows-shape.js';
import { startPostgres } from '../test/support/servers.js';
import { BIN, measure, requireOk } from './common.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 50);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const CONCURRENCY = 4;

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Every table of one gows.db into its own database: the same DDL, one COPY per table, indexes after. */
async function bareSession(url: string, admin: pg.Client, file: string, database: string): Promise<number> {
  await admin.query(`CREATE DATABASE "${database}"`);
  const client = new pg.Client({ connectionString: withDatabase(url, database) });
  await client.connect();
  const db = openBytes(await readFile(file));
  let rows = 0;
  try {
    const indexes: string[] = [];
    for (const table of sqliteTables(db)) {
      const ddl = tableDdl(table, 'postgres');
      await client.query(ddl[0]!);
      indexes.push(...ddl.slice(1));
      const columns = table.columns;
      let text = '';
      for (const row of db.prepare(`SELECT ${columns.map((column) => quote(column.name)).join(', ')} FROM ${quote(table.name)} ORDER BY ${orderBy(table)}`).raw(true).iterate() as Iterable<unknown[]>) {
        text += `${row.map((value, index) => copyText(sqliteToCopy(value, columns[index]!.kind!, table.name, columns[index]!.name))).join('\t')}\n`;
        rows++;
      }
      if (text) await pipeline(Readable.from([text]), client.query(copyFrom(`COPY "${table.name}" (${columns.map((column) => `"${column.name}"`).join(', ')}) FROM STDIN`)));
    }
    for (const statement of indexes) await client.query(statement);
  } finally {
    db.close();
    await client.end();
  }
  return rows;
}

async function bareCopy(url: string, base: string, namespace: string, prefix: string): Promise<{ seconds: number; rows: number }> {
  const folder = path.join(base, namespace);
  const names = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const started = process.hrtime.bigint();
  let next = 0;
  let rows = 0;
  const worker = async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    while (next < names.length) {
      const name = names[next++]!;
      const copied = await bareSession(url, admin, path.join(folder, name, "gows.db"), `waha_${prefix}_${name}`);
      rows += copied;
    }
    await admin.end();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { seconds: seconds(started), rows };
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

export async function benchGowsPostgres(): Promise<void> {
  const server = process.env.WAHA_STORAGE_TEST_POSTGRES_URL ? undefined : await startPostgres();
  const url = process.env.WAHA_STORAGE_TEST_POSTGRES_URL ?? server!.url;
  const base = await mkdtemp(path.join(os.tmpdir(), 'waha-bench-gows-'));
  const namespace = `benchgows${Date.now().toString(36)}`;
  try {
    process.stderr.write(`generating ${SESSIONS} GOWS sessions x ${MESSAGES} messages in ${base} ...\n`);
    const raw = path.join(base, 'raw');
    await writeLocalFixtures(raw);
    const template = path.join(raw, 'gows', 'gopher', 'gows.db');
    addGowsTables(template, MESSAGES, { replace: true });
    for (let index = 0; index < SESSIONS; index++) {
      const folder = path.join(base, namespace, `gows${String(index).padStart(3, '0')}`);
      await mkdir(folder, { recursive: true });
      await copyFile(template, path.join(folder, 'gows.db'));
    }
    await rm(raw, { recursive: true, force: true });
    const bare = await bareCopy(url, base, namespace, `${namespace}c`);
    await dropAll(url, `waha_${namespace}c`);
    process.stderr.write(`bare COPY ${bare.seconds.toFixed(1)} s (${bare.rows} rows); migrate local postgres ...\n`);
    const result = await measure(process.execPath, [BIN, 'migrate', 'local', 'postgres', '--engine', 'GOWS', '--json', '--force', '--concurrency', String(CONCURRENCY),
      '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace, '--postgres-url', url]);
    requireOk('migrate local postgres --engine GOWS', result);
    const summary = JSON.parse(result.stdout).summary as { done: number };
    if (summary.done !== SESSIONS) throw new Error(`migrate copied ${summary.done} of ${SESSIONS} sessions`);
    await dropAll(url, `waha_${namespace}`);
    const rate = (taken: number) => `${Math.round(bare.rows / taken)} rows/s`;
    process.stdout.write([
      `GOWS: ${SESSIONS} sessions x ${MESSAGES} messages (${bare.rows} rows in all tables)`,
      `bare COPY              ${bare.seconds.toFixed(1)} s  ${rate(bare.seconds)}`,
      `migrate local postgres ${result.seconds.toFixed(1)} s  ${rate(result.seconds)}  peak RSS ${Math.round(result.peakRssMb)} MB`,
      `ratio                  ${(result.seconds / bare.seconds).toFixed(2)}x the bare COPY`,
      '',
    ].join('\n'));
  } finally {
    await dropAll(url, `waha_${namespace}`).catch(() => {});
    await rm(base, { recursive: true, force: true });
    await server?.stop();
  }
}
