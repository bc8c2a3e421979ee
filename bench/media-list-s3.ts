/**
 * bench/media-list-s3: list 20k objects in s3rver across 10 sessions with
 * `waha-storage media list s3 --json` (NDJSON, piped) vs `rclone lsjson -R`. Target: <= 1.0x rclone.
 * Requests counted by a proxy in front of s3rver. Run: npx tsc -p . && npx tsx bench/media-list-s3.ts
 */
import { startS3Proxy } from '../test/media/s3-proxy.js';
import { BIN, measure, ratio, requireOk, row } from './common.js';
import { ensureRclone, rcloneEnv, seedBucket, startBenchS3, wahaEnv } from './media-s3-fixture.js';

const SESSIONS = Number(process.argv[2] ?? 10);
const PER_SESSION = Number(process.argv[3] ?? 2000);
const ROUNDS = Number(process.argv[4] ?? 3);
const TOTAL = SESSIONS * PER_SESSION;

const rcloneVersion = ensureRclone();
const s3 = await startBenchS3();
try {
  console.log(`media-list-s3: seeding ${TOTAL} objects (${SESSIONS} sessions) ...`);
  await seedBucket(s3, 'bench-list', SESSIONS, PER_SESSION, 2 * 3600_000);
  const proxy = await startS3Proxy(s3.endpoint, { keepBodies: false });
  const rcloneTimes: number[] = [];
  const ourTimes: number[] = [];
  let rcloneRss = 0;
  let ourRss = 0;
  let rcloneRequests = 0;
  let leanRequests = 0;
  const leanTimes: number[] = [];
  let ourRequests = 0;
  for (let round = 0; round < ROUNDS; round++) {
    proxy.requests.length = 0;
    const rclone = await measure('rclone', ['lsjson', '-R', 's3:bench-list'], rcloneEnv(proxy.url));
    requireOk('rclone', rclone);
    rcloneRequests = proxy.count();
    proxy.requests.length = 0;
    // The fair variant: ages from the listing, no HEAD per object.
    const lean = await measure('rclone', ['lsjson', '-R', '--use-server-modtime', '--no-mimetype', 's3:bench-list'], rcloneEnv(proxy.url));
    requireOk('rclone (lean)', lean);
    leanRequests = proxy.count();
    leanTimes.push(lean.seconds);
    proxy.requests.length = 0;
    const ours = await measure(process.execPath, [BIN, 'media', 'list', 's3', '--json'], wahaEnv(proxy.url, 'bench-list'));
    requireOk('waha-storage', ours);
    ourRequests = proxy.count();
    const listed = ours.stdout.trim().split('\n').length - 2; // header and summary lines
    const rcloneListed = (JSON.parse(rclone.stdout) as { IsDir: boolean }[]).filter((entry) => !entry.IsDir).length;
    if (listed !== TOTAL || rcloneListed !== TOTAL) throw new Error(`listed ${listed} (waha-storage) / ${rcloneListed} (rclone), expected ${TOTAL}`);
    console.log(`  round ${round + 1}: rclone ${rclone.seconds.toFixed(2)} s, rclone (server modtime) ${leanTimes.at(-1)!.toFixed(2)} s, waha-storage ${ours.seconds.toFixed(2)} s`);
    rcloneTimes.push(rclone.seconds);
    ourTimes.push(ours.seconds);
    rcloneRss = Math.max(rcloneRss, rclone.peakRssMb);
    ourRss = Math.max(ourRss, ours.peakRssMb);
  }
  await proxy.close();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(`${rcloneVersion}; ${TOTAL} objects`);
  console.log(row(['', 'median wall s', 'peak RSS MB', 'requests']));
  console.log(row(['rclone lsjson -R', median(rcloneTimes).toFixed(2), rcloneRss.toFixed(0), rcloneRequests]));
  console.log(row(['rclone lsjson -R --use-server-modtime --no-mimetype', median(leanTimes).toFixed(2), '', leanRequests]));
  console.log(row(['waha-storage media list s3 --json', median(ourTimes).toFixed(2), ourRss.toFixed(0), ourRequests]));
  console.log(`wall time (waha-storage / rclone): ${ratio(median(ourTimes), median(rcloneTimes))} (target <= 1.00x); ` +
    `vs rclone with server modtime: ${ratio(median(ourTimes), median(leanTimes))}`);
} finally {
  await s3.stop();
}
