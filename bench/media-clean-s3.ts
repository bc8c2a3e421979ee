/**
 * bench/media-clean-s3: 20k objects in s3rver across 10 sessions, half expired, deleted by
 * `waha-storage media clean s3 --older-than 1h` vs `rclone delete --min-age 1h --use-server-modtime`.
 * A counting proxy in front of s3rver counts each side's requests; the floor is
 * ⌈N/1000⌉ list pages + ⌈deleted/1000⌉ DeleteObjects. Targets: requests <= 1.1x the floor, wall time
 * <= 0.7x rclone's. Run: npx tsc -p . && npx tsx bench/media-clean-s3.ts [sessions] [perSession]
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startS3Proxy } from '../test/media/s3-proxy.js';
import { BIN, measure, ratio, requireOk, row } from './common.js';
import { cloneBucket, ensureRclone, rcloneEnv, seedBucket, startBenchS3, wahaEnv } from './media-s3-fixture.js';

const SESSIONS = Number(process.argv[2] ?? 10);
const PER_SESSION = Number(process.argv[3] ?? 2000);
const TOTAL = SESSIONS * PER_SESSION;
const EXPIRED = Math.floor(PER_SESSION / 2) * SESSIONS;

const rcloneVersion = ensureRclone();
const s3 = await startBenchS3();
try {
  console.log(`media-clean-s3: seeding ${TOTAL} objects (${SESSIONS} sessions, half expired) ...`);
  await seedBucket(s3, 'bench-ours', SESSIONS, PER_SESSION, 2 * 3600_000);
  await cloneBucket(s3, 'bench-ours', 'bench-rclone');

  const count = async (bucket: string) => {
    let total = 0;
    let token: string | undefined;
    do {
      const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      total += page.KeyCount ?? 0;
      token = page.NextContinuationToken;
    } while (token);
    return total;
  };

  const rcloneProxy = await startS3Proxy(s3.endpoint, { keepBodies: false });
  const rclone = await measure('rclone', ['delete', 's3:bench-rclone', '--min-age', '1h', '--use-server-modtime'], rcloneEnv(rcloneProxy.url));
  requireOk('rclone', rclone);
  await rcloneProxy.close();

  const ourProxy = await startS3Proxy(s3.endpoint, { keepBodies: false });
  const ours = await measure(process.execPath, [BIN, 'media', 'clean', 's3', '--older-than', '1h', '--json'], wahaEnv(ourProxy.url, 'bench-ours'));
  requireOk('waha-storage', ours);
  await ourProxy.close();

  const leftOurs = await count('bench-ours');
  const leftRclone = await count('bench-rclone');
  const summary = JSON.parse(ours.stdout).summary;
  if (summary.deleted !== EXPIRED || leftOurs !== TOTAL - EXPIRED || leftRclone !== TOTAL - EXPIRED) {
    throw new Error(`unexpected: waha-storage deleted ${summary.deleted} (left ${leftOurs}), rclone left ${leftRclone}; expected ${EXPIRED} deleted`);
  }
  const floor = Math.ceil(TOTAL / 1000) + Math.ceil(EXPIRED / 1000);
  const describe = (proxy: typeof ourProxy) =>
    `${proxy.count()} (list ${proxy.count('list')}, DeleteObjects ${proxy.count('deleteObjects')}, DELETE ${proxy.count('deleteObject')}, HEAD ${proxy.count('head')}, other ${proxy.count('other')})`;
  console.log(`${rcloneVersion}; ${TOTAL} objects, ${EXPIRED} expired; request floor ${floor}`);
  console.log(row(['', 'wall s', 'peak RSS MB', 'requests']));
  console.log(row(['rclone delete --min-age 1h', rclone.seconds.toFixed(2), rclone.peakRssMb.toFixed(0), describe(rcloneProxy)]));
  console.log(row(['waha-storage media clean s3', ours.seconds.toFixed(2), ours.peakRssMb.toFixed(0), describe(ourProxy)]));
  console.log(`requests vs floor: waha-storage ${ratio(ourProxy.count(), floor)} (target <= 1.10x), rclone ${ratio(rcloneProxy.count(), floor)}`);
  console.log(`wall time (waha-storage / rclone): ${ratio(ours.seconds, rclone.seconds)} (target <= 0.70x)`);
} finally {
  await s3.stop();
}
