/**
 * Runs WAHA's checks with WAHA's rules (which checks apply to which configuration), then, when
 * asked, the extended checks after them. Checks of one tier run concurrently, as terminus runs
 * them; the result keeps the declared order.
 */
import type { HealthConfig, MediaConfig, S3Config, SessionsConfig } from '../config/config.js';
import { checkDiskSpace } from './disk.js';
import { checkSessionsIntegrity } from './integrity.js';
import { checkMongo, checkMongoPermissions } from './mongo.js';
import { checkPostgres, checkPostgresPermissions } from './postgres.js';
import { checkPostgresCollation, checkPostgresConnections, checkPostgresOrphans } from './postgres-preflight.js';
import { CHECK, crashed, healthResult, type CheckDetail, type HealthResult } from './result.js';
import { checkS3 } from './s3.js';
import { checkWritable } from './writable.js';
import { parsePostgresUrl } from '../util/postgres.js';

export interface HealthRunOptions {
  sessions: SessionsConfig;
  media: Pick<MediaConfig, 'mediaDir'> & Partial<Pick<MediaConfig, 'storage' | 'postgresUrl'>>;
  health: HealthConfig;
  /** Read only when the s3 check runs (reading validates the S3 settings). */
  s3: () => S3Config;
  extended?: boolean;
  /** With `extended`: the s3 check also writes, reads and deletes a probe object. */
  deep?: boolean;
  /** Per S3 request in the extended checks. */
  requestTimeoutMs?: number;
  /** postgresql.connections: the sessions WAHA will run (else the session_config rows). */
  expectedSessions?: number;
}

type Check = readonly [name: string, run: () => Promise<CheckDetail>];

export async function runHealth(options: HealthRunOptions): Promise<HealthResult> {
  const { sessions, media, health } = options;
  const mongo = sessions.mongoUrl ? { url: sessions.mongoUrl, timeoutMs: health.mongoTimeoutMs } : undefined;

  const server: Check[] = [[CHECK.mediaSpace, () => checkDiskSpace({ path: media.mediaDir, thresholdMb: health.mediaThresholdMb })]];
  if (mongo) server.push([CHECK.mongodb, () => checkMongo(mongo)]);
  else server.push([CHECK.sessionsSpace, () => checkDiskSpace({ path: sessions.sessionsDir, thresholdMb: health.sessionsThresholdMb })]);
  const results = await runAll(server);
  if (!options.extended) return healthResult(results);

  const extended: Check[] = [];
  const s3 = options.s3();
  if (wantsS3(media.storage, s3)) {
    extended.push([CHECK.s3, () => checkS3({ config: s3, deep: Boolean(options.deep), timeoutMs: options.requestTimeoutMs ?? 5000 })]);
  }
  if (mongo) {
    const reachable = results.find(([name]) => name === CHECK.mongodb)?.[1];
    extended.push([CHECK.mongoPermissions, async () => reachable?.status === 'up'
      ? checkMongoPermissions(mongo)
      : { status: 'down', reason: reachable?.reason ?? 'unreachable', detail: 'not checked: MongoDB is not reachable (see mongodb)' }]);
  } else {
    extended.push([CHECK.sessionsWritable, () => checkWritable(sessions.sessionsDir)]);
  }
  if (sessions.postgresUrl) {
    const postgres = { url: sessions.postgresUrl, timeoutMs: health.postgresTimeoutMs ?? 3000 };
    extended.push([CHECK.postgresql, () => checkPostgres(postgres)]);
    extended.push([CHECK.postgresPermissions, () => checkPostgresPermissions(postgres)]);
    const preflight = {
      ...postgres, namespace: sessions.namespace, sessionNamespace: sessions.sessionNamespace, expectedSessions: options.expectedSessions,
      mediaOnServer: media.storage === 'POSTGRESQL' && sameServer(media.postgresUrl, sessions.postgresUrl),
    };
    extended.push([CHECK.postgresCollation, () => checkPostgresCollation(postgres)]);
    extended.push([CHECK.postgresConnections, () => checkPostgresConnections(preflight)]);
    extended.push([CHECK.postgresOrphans, () => checkPostgresOrphans(preflight)]);
  }
  extended.push([CHECK.mediaWritable, () => checkWritable(media.mediaDir)]);
  if (!mongo) extended.push([CHECK.sessionsIntegrity, () => checkSessionsIntegrity(sessions)]);
  return healthResult([...results, ...(await runAll(extended))]);
}

/** S3 is checked when media is stored there or any S3 setting is given. */
export function wantsS3(storage: MediaConfig['storage'] | undefined, s3: S3Config): boolean {
  return storage === 'S3' || Boolean(s3.bucket || s3.region || s3.endpoint || s3.accessKeyId || s3.secretAccessKey);
}

/** Whether two PostgreSQL URLs name one server (host and port; a URL that does not parse names none). */
function sameServer(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  try {
    const [x, y] = [parsePostgresUrl(a), parsePostgresUrl(b)];
    return x.host === y.host && x.port === y.port;
  } catch {
    return false;
  }
}

async function runAll(checks: Check[]): Promise<(readonly [string, CheckDetail])[]> {
  return Promise.all(checks.map(async ([name, run]) => [name, await run().catch(crashed)] as const));
}
