/**
 * bench/migrate: `waha-storage migrate local mongo` on generated NOWEB sessions, against the ceiling
 * of a bare unordered insertMany of the same documents on the same server.
 *
 *   npx tsc -p . && npx tsx bench/migrate.ts           # 200 sessions x 2,000 keys (the size)
 *   BENCH_SESSIONS=20 BENCH_ROUNDS=3 npx tsx bench/migrate.ts
 *   npx tsx bench/migrate.ts --target postgres    # into PostgreSQL instead (bench/migrate-postgres.ts)
 *   npx tsx bench/migrate.ts --target postgres --engine GOWS   # 50 GOWS sessions x 20,000 messages (bench/migrate-gows.ts)
 *
 * MongoDB: WAHA_STORAGE_TEST_MONGO_URL, else the test harness starts FerretDB / mongod.
 *
 * Three runs per round, each into databases of its own, dropped before the next run:
 * - ceiling: read the key files (as migrate reads them), build the same `{key, data, type:'kv'}`
 *   documents under the same key names, insertMany in batches of 1,000, unordered, 4 sessions at
 *   once, then the same unique index on `key`;
 * - verified floor: the ceiling plus one find() of every document it wrote, the least any copy
 *   that is verified by reading it back must do;
 * - migrate: the built CLI (staging, digests, read-back verification, commit, main documents).
 * Prints wall time, documents per second, peak RSS of the CLI process, and the ratios (median over
 * rounds). Run `npx tsc -p .` first: the CLI runs from dist/.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient, type Document } from 'mongodb';
import { mongoKeyOf, parseKeyName } from '../src/sessions/engines/noweb-keys.js';
import { isKeyFile } from '../src/sessions/engines/noweb.js';
import { writeLocalNowebSessions } from '../test/support/fixtures/index.js';
import { startMongo } from '../test/support/servers.js';

// `--target postgres`: the PostgreSQL bench (bench/migrate-postgres.ts); the default target is MongoDB
const targetFlag = process.argv.indexOf('--target');
if (targetFlag > 0 && process.argv[targetFlag + 1] === 'postgres' && process.argv.includes('GOWS')) {
  // `--engine GOWS`: GOWS sessions (gows.db tables) into PostgreSQL (bench/migrate-gows.ts)
  const { benchGowsPostgres } = await import('./migrate-gows.js');
  await benchGowsPostgres();
  process.exit(0);
}
if (targetFlag > 0 && process.argv[targetFlag + 1] === 'postgres') {
  const { benchPostgres } = await import('./migrate-postgres.js');
  await benchPostgres();
  process.exit(0);
}

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200);
const KEYS = Number(process.env.BENCH_KEYS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const CONCURRENCY = 4;
const BATCH = 1000;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Run {
  seconds: number;
  peak?: number;
}

function peakRss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function runMigrate(base: string, namespace: string, url: string): Promise<Run & { summary: { done: number; entries: number } }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'waha-storage.js'), 'migrate', 'local', 'mongo', '--json', '--force',
    '--concurrency', String(CONCURRENCY), '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  let peak = 0;
  child.stdout.on('data', (chunk) => { output += chunk; });
  const timer = setInterval(() => { peak = Math.max(peak, peakRss(child.pid!)); }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`migrate exited ${code}: ${output.slice(0, 500)}`);
  const summary = JSON.parse(output).summary as { done: number; entries: number };
  if (summary.done !== SESSIONS) throw new Error(`migrate copied ${summary.done} of ${SESSIONS} sessions`);
  return { seconds: seconds(started), peak, summary };
}

/** The documents migrate writes for one session folder, built the cheapest way (no digests, no staging). */
function* authDocuments(folder: string, files: string[]): Iterable<Document> {
  for (const file of files) {
    if (!isKeyFile(file)) continue;
    const parsed = parseKeyName(file, 'file');
    if (!parsed.ok) throw new Error(parsed.error);
    yield { key: mongoKeyOf(parsed.key), data: JSON.parse(readFileSync(path.join(folder, file), 'utf8')), type: 'kv' };
  }
}

/** Ceiling (readBack false) or verified floor (readBack true), `CONCURRENCY` sessions at once. */
async function bareCopy(base: string, namespace: string, client: MongoClient, prefix: string, readBack: boolean): Promise<Run> {
  const folder = path.join(base, namespace);
  const names = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const started = process.hrtime.bigint();
  let next = 0;
  let read = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      const collection = client.db(`waha_${prefix}_${name}`).collection('auth');
      let batch: Document[] = [];
      for (const document of authDocuments(path.join(folder, name), await readdir(path.join(folder, name)))) {
        batch.push(document);
        if (batch.length === BATCH) {
          await collection.insertMany(batch, { ordered: false });
          batch = [];
        }
      }
      if (batch.length) await collection.insertMany(batch, { ordered: false });
      await collection.createIndex({ key: 1 }, { unique: true });
      if (readBack) {
        for await (const document of collection.find({}, { projection: { _id: 0 } }).batchSize(BATCH)) if (document.key) read++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (readBack && read !== SESSIONS * (KEYS + 1)) throw new Error(`read back ${read} documents, expected ${SESSIONS * (KEYS + 1)}`);
  return { seconds: seconds(started) };
}

async function dropAll(client: MongoClient, prefix: string): Promise<void> {
  for (const { name } of (await client.db().admin().listDatabases({ nameOnly: true })).databases) {
    if (name === prefix || name.startsWith(`${prefix}_`)) await client.db(name).dropDatabase();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const server = process.env.WAHA_STORAGE_TEST_MONGO_URL ? undefined : await startMongo();
const url = process.env.WAHA_STORAGE_TEST_MONGO_URL ?? server!.url;
const client = await new MongoClient(url).connect();
const base = await mkdtemp(path.join(os.tmpdir(), 'waha-bench-'));
const namespace = `bench${Date.now().toString(36)}`;
const documents = SESSIONS * (KEYS + 1); // keys + creds.json per session
const runs = { ceiling: [] as Run[], floor: [] as Run[], migrate: [] as Run[] };
try {
  process.stderr.write(`generating ${SESSIONS} sessions x ${KEYS} keys in ${base} ...\n`);
  await writeLocalNowebSessions(base, { count: SESSIONS, keysPerSession: KEYS, namespace });
  for (let round = 1; round <= ROUNDS; round++) {
    runs.ceiling.push(await bareCopy(base, namespace, client, `${namespace}c`, false));
    await dropAll(client, `waha_${namespace}c`);
    runs.floor.push(await bareCopy(base, namespace, client, `${namespace}f`, true));
    await dropAll(client, `waha_${namespace}f`);
    runs.migrate.push(await runMigrate(base, namespace, url));
    await dropAll(client, `waha_${namespace}`);
    const [ceiling, floor, migrate] = [runs.ceiling.at(-1)!, runs.floor.at(-1)!, runs.migrate.at(-1)!];
    process.stderr.write(`round ${round}: ceiling ${ceiling.seconds.toFixed(1)} s, verified floor ${floor.seconds.toFixed(1)} s, migrate ${migrate.seconds.toFixed(1)} s ` +
      `(${(migrate.seconds / ceiling.seconds).toFixed(2)}x, ${(migrate.seconds / floor.seconds).toFixed(2)}x)\n`);
  }
  const [ceiling, floor, migrate] = [median(runs.ceiling.map((run) => run.seconds)), median(runs.floor.map((run) => run.seconds)), median(runs.migrate.map((run) => run.seconds))];
  const peak = Math.max(...runs.migrate.map((run) => run.peak ?? 0));
  const rate = (secondsTaken: number) => `${Math.round(documents / secondsTaken)} documents/s`;
  console.log(`server: ${server?.description ?? 'WAHA_STORAGE_TEST_MONGO_URL'}; ${os.cpus().length} CPUs; median of ${ROUNDS} round(s)`);
  console.log(`sessions: ${SESSIONS} x ${KEYS} keys = ${documents} auth documents`);
  console.log(`migrate local mongo:           ${migrate.toFixed(1)} s, ${rate(migrate)}, peak RSS ${(peak / 1024 / 1024).toFixed(0)} MB`);
  console.log(`ceiling (bare insertMany):     ${ceiling.toFixed(1)} s, ${rate(ceiling)}`);
  console.log(`verified floor (+ read back):  ${floor.toFixed(1)} s, ${rate(floor)}`);
  console.log(`ratio: ${(migrate / ceiling).toFixed(2)}x the ceiling (target <= 1.3x), ${(migrate / floor).toFixed(2)}x the verified floor`);
} finally {
  for (const prefix of ['', 'c', 'f']) await dropAll(client, `waha_${namespace}${prefix}`);
  await client.close();
  await rm(base, { recursive: true, force: true });
  await server?.stop();
}
