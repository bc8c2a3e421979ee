/**
 * bench/media-clean-local: 200k files (100 sessions x 2,000), half expired, cleaned by
 * `waha-storage media clean local` vs `find <dir> -type f -mmin +N -delete`. Target: <= 1.2x find.
 * Run: npx tsc -p . && npx tsx bench/media-clean-local.ts [files] [rounds]
 * BENCH_DIR picks the file system (default: the system temp folder; /dev/shm measures the tools
 * rather than the disk's journal). Rounds alternate the two tools; the median is reported.
 * waha-storage lists in one thread and unlinks in a second one when it has two CPUs, so the wall
 * ratio depends on a second CPU being free: the CPU time (user + sys) is printed too, with the
 * load average, to tell a busy machine from a slow tool.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { BIN, measure, ratio, requireOk, row, type Measured } from './common.js';

const TOTAL = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const BASE = process.env.BENCH_DIR ?? os.tmpdir();
const SESSIONS = 100;
const expiredAt = new Date(Date.now() - 2 * 3600_000);

function generate(): string {
  const dir = mkdtempSync(path.join(BASE, 'bench-media-local-'));
  const perSession = Math.ceil(TOTAL / SESSIONS);
  const body = Buffer.alloc(512, 7);
  let made = 0;
  for (let s = 0; s < SESSIONS && made < TOTAL; s++) {
    const folder = path.join(dir, `session${s}`);
    mkdirSync(folder);
    for (let i = 0; i < perSession && made < TOTAL; i++, made++) {
      const file = path.join(folder, `false_111@c.us_${String(i).padStart(8, '0')}.jpeg`);
      writeFileSync(file, body);
      if (i % 2) utimesSync(file, expiredAt, expiredAt);
    }
  }
  return dir;
}

function countFiles(dir: string): number {
  return readdirSync(dir, { withFileTypes: true })
    .reduce((count, entry) => count + (entry.isDirectory() ? countFiles(path.join(dir, entry.name)) : 1), 0);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
/** user + sys seconds from /usr/bin/time -v. */
const cpuSeconds = (run: Measured) => ['User', 'System']
  .reduce((sum, kind) => sum + Number(new RegExp(`${kind} time \\(seconds\\): ([\\d.]+)`).exec(run.stderr)?.[1] ?? NaN), 0);
const expected = Math.floor(TOTAL / 2);
const findRuns: Measured[] = [];
const ourRuns: Measured[] = [];
console.log(`media-clean-local: ${TOTAL} files in ${SESSIONS} sessions, half expired, in ${BASE}; ${ROUNDS} rounds; ` +
  `${os.availableParallelism()} CPUs, load average ${os.loadavg()[0]!.toFixed(2)}`);
for (let round = 0; round < ROUNDS; round++) {
  const forFind = generate();
  const forUs = generate();
  execSync('sync'); // dirty pages from the generation must not be charged to either tool
  const find = await measure('find', [forFind, '-type', 'f', '-mmin', '+60', '-delete']);
  requireOk('find', find);
  const ours = await measure(process.execPath, [BIN, 'media', 'clean', 'local', '--media-dir', forUs, '--older-than', '1h', '--keep-empty-dirs', '--json']);
  requireOk('waha-storage', ours);
  const summary = JSON.parse(ours.stdout).summary;
  const leftFind = countFiles(forFind);
  const leftUs = countFiles(forUs);
  if (summary.deleted !== expected || leftUs !== TOTAL - expected || leftFind !== TOTAL - expected) {
    throw new Error(`unexpected result: deleted ${summary.deleted}, left ${leftUs} (ours) / ${leftFind} (find), expected ${expected} deleted`);
  }
  console.log(`  round ${round + 1}: find ${find.seconds.toFixed(2)} s (CPU ${cpuSeconds(find).toFixed(2)} s), ` +
    `waha-storage ${ours.seconds.toFixed(2)} s (CPU ${cpuSeconds(ours).toFixed(2)} s); load average ${os.loadavg()[0]!.toFixed(2)}`);
  findRuns.push(find);
  ourRuns.push(ours);
  rmSync(forFind, { recursive: true, force: true });
  rmSync(forUs, { recursive: true, force: true });
}
const findSeconds = median(findRuns.map((run) => run.seconds));
const ourSeconds = median(ourRuns.map((run) => run.seconds));
console.log(row(['', 'median wall s', 'median CPU s', 'peak RSS MB']));
console.log(row(['find -type f -mmin +60 -delete', findSeconds.toFixed(2), median(findRuns.map(cpuSeconds)).toFixed(2), Math.max(...findRuns.map((run) => run.peakRssMb)).toFixed(0)]));
console.log(row(['waha-storage media clean local', ourSeconds.toFixed(2), median(ourRuns.map(cpuSeconds)).toFixed(2), Math.max(...ourRuns.map((run) => run.peakRssMb)).toFixed(0)]));
console.log(`ratio (waha-storage / find): ${ratio(ourSeconds, findSeconds)}  (target <= 1.20x); ${expected} of ${TOTAL} deleted by each`);
