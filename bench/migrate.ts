/**
 * bench/migrate: `waha-storage migrate local mongo` on generated NOWEB sessions, against the ceiling
 * of a bare unordered insertMany (batches of 1,000) of the same documents on the same server.
 *
 *   npx tsx bench/migrate.ts                     # 200 sessions x 2,000 keys (the size)
 *   BENCH_SESSIONS=20 BENCH_KEYS=2000 npx tsx bench/migrate.ts
 *
 * MongoDB: WAHA_STORAGE_TEST_MONGO_URL, else the test harness starts FerretDB / mongod.
 * Prints wall time, documents per second, peak RSS of the CLI process, and the ratio (target <= 1.3).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { writeLocalNowebSessions } from '../test/support/fixtures/index.js';
import { startMongo } from '../test/support/servers.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200);
const KEYS = Number(process.env.BENCH_KEYS ?? 2000);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function peakRss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

async function runMigrate(base: string, namespace: string, url: string): Promise<{ seconds: number; peak: number; output: string }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'waha-storage.js'), 'migrate', 'local', 'mongo', '--json', '--force',
    '--sessions-dir', base, '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  let peak = 0;
  child.stdout.on('data', (chunk) => { output += chunk; });
  const timer = setInterval(() => { peak = Math.max(peak, peakRss(child.pid!)); }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`migrate exited ${code}: ${output.slice(0, 500)}`);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, peak, output };
}

/** The ceiling: read the same files, insertMany(1000, unordered) into per-session databases, 4 sessions at once. */
async function bareInsert(base: string, namespace: string, client: MongoClient): Promise<number> {
  const folder = path.join(base, namespace);
  const names = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const started = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      const collection = client.db(`waha_${namespace}x_${name}`).collection('auth');
      await collection.createIndex({ key: 1 }, { unique: true });
      let batch: object[] = [];
      for (const file of await readdir(path.join(folder, name))) {
        if (!file.endsWith('.json') || file.startsWith('.')) continue;
        batch.push({ key: file.slice(0, -5).replace(/\./g, '-'), data: JSON.parse(await readFile(path.join(folder, name, file), 'utf8')), type: 'kv' });
        if (batch.length === 1000) { await collection.insertMany(batch, { ordered: false }); batch = []; }
      }
      if (batch.length) await collection.insertMany(batch, { ordered: false });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function dropAll(client: MongoClient, prefix: string): Promise<void> {
  for (const { name } of (await client.db().admin().listDatabases({ nameOnly: true })).databases) {
    if (name === prefix || name.startsWith(`${prefix}_`) || name.startsWith(`${prefix}x_`)) await client.db(name).dropDatabase();
  }
}

const server = process.env.WAHA_STORAGE_TEST_MONGO_URL ? undefined : await startMongo();
const url = process.env.WAHA_STORAGE_TEST_MONGO_URL ?? server!.url;
const client = await new MongoClient(url).connect();
const base = await mkdtemp(path.join(os.tmpdir(), 'waha-bench-'));
const namespace = `bench${Date.now().toString(36)}`;
try {
  process.stderr.write(`generating ${SESSIONS} sessions x ${KEYS} keys in ${base} ...\n`);
  await writeLocalNowebSessions(base, { count: SESSIONS, keysPerSession: KEYS, namespace });
  const documents = SESSIONS * (KEYS + 1);
  const migrate = await runMigrate(base, namespace, url);
  const ceiling = await bareInsert(base, namespace, client);
  const summary = JSON.parse(migrate.output).summary;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  console.log(`server: ${server?.description ?? 'WAHA_STORAGE_TEST_MONGO_URL'}`);
  console.log(`sessions: ${SESSIONS} x ${KEYS} keys = ${documents} auth documents (migrate: ${summary.done} done, ${summary.entries} entries)`);
  console.log(`migrate local mongo: ${migrate.seconds.toFixed(1)} s, ${Math.round(documents / migrate.seconds)} documents/s, peak RSS ${mb(migrate.peak)}`);
  console.log(`bare insertMany:     ${ceiling.toFixed(1)} s, ${Math.round(documents / ceiling)} documents/s`);
  console.log(`ratio: ${(migrate.seconds / ceiling).toFixed(2)}x the ceiling (target <= 1.3x; migrate also verifies every session by reading it back)`);
} finally {
  await dropAll(client, `waha_${namespace}`);
  await client.close();
  await rm(base, { recursive: true, force: true });
  await server?.stop();
}
