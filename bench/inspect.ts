/**
 * bench/inspect: `waha-storage inspect local --json` on generated NOWEB sessions vs
 * `find <dir> -type f -printf '%s\n'` (the names and sizes of the same files, nothing else).
 * Target: <= 2.0x find, at 200k files and at 4M files, memory flat.
 *
 *   npx tsc -p . && npx tsx bench/inspect.ts                          # 1,000 sessions x 200 keys (202k files)
 *   BENCH_SESSIONS=2000 BENCH_KEYS=2000 BENCH_DIR=/dev/shm npx tsx bench/inspect.ts   # 4M files
 *
 * BENCH_SESSIONS, BENCH_KEYS (keys per session; each session also has creds.json and its config),
 * BENCH_ROUNDS (default 5; rounds alternate the two tools, the median is reported), BENCH_DIR (the
 * file system; default the system temp folder). BENCH_KEEP=1 keeps the generated tree and prints its
 * path; BENCH_DATA=<that path> reuses it (generating 4M files takes minutes). The page cache is warm
 * for both tools (one untimed run each first): this measures the tools, not the disk.
 * The start-up time (`inspect local` of an empty sessions dir) is printed too.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeLocalNowebSessions } from '../test/support/fixtures/index.js';
import { BIN, measure, ratio, requireOk, row, type Measured } from './common.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const KEYS = Number(process.env.BENCH_KEYS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BASE = process.env.BENCH_DIR ?? os.tmpdir();
const FILES_PER_SESSION = KEYS + 2; // creds.json and .waha.session.config.json

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const cpuSeconds = (run: Measured) => ['User', 'System']
  .reduce((sum, kind) => sum + Number(new RegExp(`${kind} time \\(seconds\\): ([\\d.]+)`).exec(run.stderr)?.[1] ?? NaN), 0);

async function generate(): Promise<string> {
  const dir = mkdtempSync(path.join(BASE, 'bench-inspect-'));
  const started = Date.now();
  await writeLocalNowebSessions(dir, { count: SESSIONS, keysPerSession: KEYS });
  execSync('sync');
  console.log(`  generated in ${((Date.now() - started) / 1000).toFixed(1)} s: ${dir}`);
  return dir;
}

const runFind = (dir: string) => measure('find', [path.join(dir, 'noweb'), '-type', 'f', '-printf', '%s\\n']);
const runOurs = (dir: string) => measure(process.execPath, [BIN, 'inspect', 'local', '--sessions-dir', dir, '--json']);

/** The two tools must have seen the same files: every session, every file, every byte. */
function check(dir: string, find: Measured, ours: Measured): void {
  const sizes = find.stdout.split('\n').filter(Boolean).map(Number);
  const findBytes = sizes.reduce((sum, size) => sum + size, 0);
  const sessions = JSON.parse(ours.stdout).sessions as { entries: number; bytes: number; loggedIn: boolean | null; details: { files?: number } }[];
  // `entries` counts what a transfer copies (keys, config, me, worker); the files are details.files
  const files = sessions.reduce((sum, session) => sum + (session.details.files ?? session.entries), 0);
  const bytes = sessions.reduce((sum, session) => sum + session.bytes, 0);
  const loggedIn = sessions.filter((session) => session.loggedIn === true).length;
  // find also lists waha.sqlite3, the main database next to the session folders.
  const expectedFiles = SESSIONS * FILES_PER_SESSION;
  if (sessions.length !== SESSIONS || files !== expectedFiles || sizes.length !== expectedFiles + 1 || loggedIn !== SESSIONS) {
    throw new Error(`unexpected result: ${sessions.length} sessions, ${loggedIn} logged in, ${files} files (ours), ${sizes.length} files (find), expected ${SESSIONS} sessions of ${FILES_PER_SESSION} files`);
  }
  const mainDbBytes = statSync(path.join(dir, 'noweb', 'waha.sqlite3')).size;
  if (bytes !== findBytes - mainDbBytes) throw new Error(`bytes differ: ${bytes} (ours) vs ${findBytes} (find)`);
}

console.log(`inspect: ${SESSIONS} NOWEB sessions x ${KEYS} keys (${SESSIONS * FILES_PER_SESSION} files) in ${process.env.BENCH_DATA ?? BASE}; ` +
  `${ROUNDS} rounds; ${os.availableParallelism()} CPUs, load average ${os.loadavg()[0]!.toFixed(2)}`);
const dir = process.env.BENCH_DATA ?? await generate();
const empty = mkdtempSync(path.join(os.tmpdir(), 'bench-inspect-empty-'));
try {
  check(dir, await runFind(dir), await runOurs(dir)); // warms the page cache and the dentry cache for both
  const findRuns: Measured[] = [];
  const ourRuns: Measured[] = [];
  const startups: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const find = await runFind(dir);
    requireOk('find', find);
    const ours = await runOurs(dir);
    requireOk('waha-storage', ours);
    check(dir, find, ours);
    const startup = await measure(process.execPath, [BIN, 'inspect', 'local', '--sessions-dir', empty, '--json']);
    requireOk('waha-storage (empty)', startup);
    console.log(`  round ${round + 1}: find ${find.seconds.toFixed(2)} s (CPU ${cpuSeconds(find).toFixed(2)} s), ` +
      `waha-storage ${ours.seconds.toFixed(2)} s (CPU ${cpuSeconds(ours).toFixed(2)} s, ${ours.peakRssMb.toFixed(0)} MB); ` +
      `start-up ${startup.seconds.toFixed(2)} s; load average ${os.loadavg()[0]!.toFixed(2)}`);
    findRuns.push(find);
    ourRuns.push(ours);
    startups.push(startup.seconds);
  }
  const findSeconds = median(findRuns.map((run) => run.seconds));
  const ourSeconds = median(ourRuns.map((run) => run.seconds));
  console.log(row(['', 'median wall s', 'median CPU s', 'peak RSS MB']));
  console.log(row(["find -type f -printf '%s\\n'", findSeconds.toFixed(2), median(findRuns.map(cpuSeconds)).toFixed(2), Math.max(...findRuns.map((run) => run.peakRssMb)).toFixed(0)]));
  console.log(row(['waha-storage inspect local --json', ourSeconds.toFixed(2), median(ourRuns.map(cpuSeconds)).toFixed(2), Math.max(...ourRuns.map((run) => run.peakRssMb)).toFixed(0)]));
  console.log(row(['  of which start-up (empty sessions dir)', median(startups).toFixed(2), '', '']));
  console.log(`ratio (waha-storage / find): ${ratio(ourSeconds, findSeconds)}  (target <= 2.00x)`);
} finally {
  rmSync(empty, { recursive: true, force: true });
  if (process.env.BENCH_DATA) {
    // the caller's tree: left as it is
  } else if (process.env.BENCH_KEEP) console.log(`kept ${dir} (BENCH_DATA=${dir} reuses it)`);
  else rmSync(dir, { recursive: true, force: true });
}
