/**
 * WAHA's health result, exactly as @nestjs/terminus shapes it: `info` holds the checks that are
 * up, `error` the checks that are down, `details` all of them, in the order they were declared.
 */
export type CheckStatus = 'up' | 'down';

export interface CheckDetail {
  status: CheckStatus;
  [field: string]: unknown;
}

export type CheckResults = Record<string, CheckDetail>;

export interface HealthResult {
  status: 'ok' | 'error' | 'shutting_down';
  info: CheckResults;
  error: CheckResults;
  details: CheckResults;
}

/** WAHA's check names, and ours for the extended checks. */
export const CHECK = {
  mediaSpace: 'mediaFiles.space',
  sessionsSpace: 'sessionsFiles.space',
  mongodb: 'mongodb',
  s3: 's3',
  mongoPermissions: 'mongodb.permissions',
  sessionsWritable: 'sessionsFiles.writable',
  mediaWritable: 'mediaFiles.writable',
  sessionsIntegrity: 'sessions.integrity',
  postgresql: 'postgresql',
  postgresPermissions: 'postgresql.permissions',
  postgresCollation: 'postgresql.collation',
  postgresConnections: 'postgresql.connections',
  postgresOrphans: 'postgresql.orphans',
} as const;

export function healthResult(checks: Iterable<readonly [string, CheckDetail]>): HealthResult {
  const result: HealthResult = { status: 'ok', info: {}, error: {}, details: {} };
  for (const [name, detail] of checks) {
    if (detail.status === 'up') result.info[name] = detail;
    else result.error[name] = detail;
    result.details[name] = detail;
  }
  if (Object.keys(result.error).length > 0) result.status = 'error';
  return result;
}

/** Whether a body someone else sent (a WAHA server) has the terminus shape. */
export function isHealthResult(body: unknown): body is HealthResult {
  if (typeof body !== 'object' || body === null) return false;
  const value = body as Record<string, unknown>;
  const isRecord = (field: unknown) => typeof field === 'object' && field !== null && !Array.isArray(field);
  return (
    (value.status === 'ok' || value.status === 'error' || value.status === 'shutting_down') &&
    isRecord(value.details) && (value.info === undefined || isRecord(value.info)) && (value.error === undefined || isRecord(value.error))
  );
}

/** A down detail for a check that threw unexpectedly: a check never crashes the run. */
export function crashed(error: unknown): CheckDetail {
  return { status: 'down', reason: 'error', detail: error instanceof Error ? error.message : String(error) };
}
