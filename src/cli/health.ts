import { Option, type Command } from 'commander';
import { formatBytes, parseDuration } from '../config/units.js';
import { OperationError, UsageError } from '../errors.js';
import type { CheckDetail, HealthResult } from '../health/result.js';
import { action, addOutputOptions, addSettingOptions, httpTimeoutOption } from './options.js';
import type { Reporter } from './reporter.js';
import { addHelp } from './help.js';
import { plural } from '../util/plural.js';
import type { RunMetrics } from './metrics.js';

interface HealthFlags {
  extended?: boolean;
  deep?: boolean;
  server?: string;
  httpTimeout?: number;
  /** Deprecated spelling of --http-timeout (elsewhere --timeout is the session store's connect timeout). */
  timeout?: string;
  watch?: string;
  expectedSessions?: string;
}

const DEFAULT_TIMEOUT_MS = 5000;

export function registerHealth(program: Command): void {
  const command = program
    .command('health')
    .description("run WAHA's health checks (mediaFiles.space, sessionsFiles.space, mongodb) from the command line")
    .option('--extended', 'also run checks WAHA does not have: s3, mongodb.permissions, postgresql, postgresql.permissions, postgresql.collation, postgresql.connections, postgresql.orphans, sessionsFiles.writable, mediaFiles.writable, sessions.integrity')
    .option('--expected-sessions <n>', 'with --extended: the sessions WAHA will run, for postgresql.connections (default: the session_config rows of the namespace)')
    .option('--deep', 'with --extended (implied): also put, read back and delete a probe object under waha-storage-probe/ in the bucket')
    .option('--server <url>', "ask a running WAHA's GET /health instead (sends X-Api-Key from --api-key)")
    .addOption(httpTimeoutOption(DEFAULT_TIMEOUT_MS))
    .addOption(new Option('--timeout <ms>', 'deprecated: use --http-timeout').hideHelp())
    .option('--watch <interval>', 'run again every interval (30s, 5m, ...) until Ctrl-C; with --json one JSON line per run');
  addSettingOptions(command, ['sessions', 'mongo', 'postgres', 'media', 's3', 'health', 'server']);
  addOutputOptions(command);
  addHelp(command, `
Checks, with WAHA's names and rules:
  mediaFiles.space      always: free space on the disk holding the media folder vs --media-threshold-mb
  sessionsFiles.space   without a MongoDB URL: free space on the disk holding the sessions folder
  mongodb               with a MongoDB URL: {ismaster: 1} within --mongo-timeout; "reason" says what failed
With --extended, after those:
  s3                    when --media-storage is S3 or any S3 setting is given: HeadBucket (--deep: probe object)
  mongodb.permissions   with a MongoDB URL: create and drop a probe database (Atlas: needs Atlas Admin)
  postgresql            with a PostgreSQL URL: SELECT 1 within --postgres-timeout; "reason" says what failed
  postgresql.permissions  with a PostgreSQL URL: CREATEDB or superuser, server >= 13, a probe database created and dropped
  postgresql.collation  with a PostgreSQL URL: template1 and waha_* databases whose collation version is not the OS's (>= 15)
  postgresql.connections  with a PostgreSQL URL: max_connections (less reserved and others' connections) vs up to 10 per
                        WAHA pool, pools per session by engine, sessions from session_config or --expected-sessions
  postgresql.orphans    with a PostgreSQL URL: waha_<ns>_<slug> databases no session_config row accounts for
  sessionsFiles.writable, sessions.integrity   without a MongoDB URL
  mediaFiles.writable   always

Output: a table on a terminal, plain lines when piped, WAHA's JSON shape with --json
({"schemaVersion":1,"status","info","error","details"}).
With --watch, --json prints one JSON object a line (NDJSON, with "at"), and the exit code is the last run's
(130 when stopped with Ctrl-C).
Exit codes: 0 healthy, 1 unhealthy or the server could not be asked, 2 bad configuration.`, [
    ["WAHA's checks for this host's configuration", 'waha-storage health'],
    ['every check, S3 with a probe object, as JSON', 'waha-storage health --deep --json'],
    ['ask a running WAHA, every 30 s', 'waha-storage health --server http://localhost:3000 --api-key "$KEY" --watch 30s'],
  ]);
  command.action(action<HealthFlags>(async ({ options, config, reporter, signal, metrics }) => {
    metrics.setStore(options.server ? 'server' : 'all');
    const timeoutMs = requestTimeout(options, reporter);
    const watchSeconds = options.watch === undefined ? undefined : parseWatch(options.watch);
    const expectedSessions = options.expectedSessions === undefined ? undefined : parseCount(options.expectedSessions, '--expected-sessions');
    if (options.server && (options.extended || options.deep)) {
      throw new UsageError('--extended and --deep run local checks; they cannot be combined with --server', {
        hint: 'run them on the host that holds the storage, without --server',
      });
    }
    const check = async (): Promise<HealthResult> => {
      if (options.server) {
        const { fetchServerHealth } = await import('../health/server.js');
        return fetchServerHealth({ url: options.server, apiKey: config.apiKey, timeoutMs });
      }
      const health = config.health; // validated first: a bad threshold is exit 2 before anything runs
      reporter.debug(`thresholds: media ${health.mediaThresholdMb} MB (${config.source('mediaThresholdMb').source}), ` +
        `sessions ${health.sessionsThresholdMb} MB (${config.source('sessionsThresholdMb').source}), ` +
        `mongo timeout ${health.mongoTimeoutMs} ms (${config.source('mongoTimeout').source})`);
      const { runHealth } = await import('../health/run.js');
      return runHealth({
        sessions: config.sessions, media: config.media, health, s3: () => config.s3,
        extended: Boolean(options.extended || options.deep), deep: Boolean(options.deep), requestTimeoutMs: timeoutMs, expectedSessions,
      });
    };
    if (watchSeconds !== undefined) return watch(async () => countChecks(metrics, await check()), watchSeconds, reporter, signal);
    const spinner = await reporter.spinner(options.server ? 'asking WAHA for its health' : 'running health checks');
    const result = await check().finally(() => spinner.stop());
    if (signal.aborted) return; // Ctrl-C: the exit code is already 130
    report(result, reporter);
    countChecks(metrics, result);
    process.exitCode = exitCodeOf(result);
  }));
}

/** The checks up and down, for --metrics-file (with --watch: the last run's). */
function countChecks(metrics: RunMetrics, result: HealthResult): HealthResult {
  const details = Object.values(result.details);
  metrics.count('up', details.filter((detail) => detail.status === 'up').length);
  metrics.count('down', details.filter((detail) => detail.status !== 'up').length);
  return result;
}

const exitCodeOf = (result: HealthResult) => (result.status === 'ok' ? 0 : 1);

/** Runs the checks every interval until Ctrl-C; the exit code is the last run's. */
async function watch(check: () => Promise<HealthResult>, seconds: number, reporter: Reporter, signal: AbortSignal): Promise<void> {
  do {
    try {
      const result = await check();
      if (signal.aborted) return;
      reportWatched(result, reporter);
      process.exitCode = exitCodeOf(result);
    } catch (error) {
      // Watching through an incident: a server that cannot be asked now may answer next time.
      if (!(error instanceof OperationError)) throw error;
      reporter.error(`${new Date().toISOString()} ${error.message}`);
      process.exitCode = 1;
    }
  } while (await sleep(seconds * 1000, signal));
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = () => { clearTimeout(timer); resolve(false); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function parseWatch(text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds < 1) {
    throw new UsageError(`Invalid --watch "${text}": expected an interval of at least 1s, like 30s, 5m or a number of seconds`);
  }
  return seconds;
}

/** One line per run in watch mode: NDJSON with --json, else a time-stamped block. */
function reportWatched(result: HealthResult, reporter: Reporter): void {
  const at = new Date().toISOString();
  if (reporter.json) {
    reporter.ndjson({ schemaVersion: 1, at, ...result });
    return;
  }
  reporter.line(`# ${at}`);
  report(result, reporter);
}

/** --http-timeout, or the deprecated --timeout (with a warning: everywhere else it is the store's connect timeout). */
function requestTimeout(options: HealthFlags, reporter: Reporter): number {
  if (options.httpTimeout !== undefined) return options.httpTimeout;
  if (options.timeout === undefined) return DEFAULT_TIMEOUT_MS;
  reporter.warn('health --timeout is deprecated: use --http-timeout for the --server and S3 requests (the MongoDB check uses --mongo-timeout)');
  return parseTimeout(options.timeout);
}

function parseCount(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw new UsageError(`Invalid ${flag} "${text}": expected a whole number (0 or more)`);
  return value;
}

function parseTimeout(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`Invalid --timeout "${text}": expected a whole number of milliseconds`);
  return value;
}

function report(result: HealthResult, reporter: Reporter): void {
  if (reporter.json) {
    reporter.document(result);
    return;
  }
  const rows = Object.entries(result.details).map(([name, detail]) => [name, detail.status, summary(detail)] as const);
  const verdict = result.status === 'ok' ? reporter.paint('green', 'ok') : reporter.paint('red', result.status);
  if (reporter.stdoutIsTTY) {
    reporter.table([{ header: 'check', fit: 'wrap', min: 12 }, { header: 'status' }, { header: 'summary', fit: 'wrap', min: 20 }], rows.map(([name, status, text]) =>
      [name, reporter.paint(status === 'up' ? 'green' : 'red', status), text]));
  } else {
    for (const [name, status, text] of rows) reporter.line(`${name}: ${status}${text ? ` - ${text}` : ''}`);
  }
  reporter.line(`status: ${verdict}`);
}

/** One human line for a check's detail, whichever checker (ours or a WAHA server) wrote it. */
export function summary(detail: CheckDetail): string {
  const parts: string[] = [];
  if (typeof detail.free === 'number' && typeof detail.threshold === 'number') {
    parts.push(`${formatBytes(detail.free)} free on ${String(detail.diskPath ?? detail.path)} (threshold ${formatBytes(detail.threshold)})`);
    if (detail.measuredAt) parts.push(`folder does not exist yet; measured at ${String(detail.measuredAt)}`);
  }
  if (typeof detail.detail === 'string') parts.push(detail.detail);
  else if (typeof detail.message === 'string') parts.push(detail.message);
  else if (typeof detail.error === 'string') parts.push(detail.error);
  if (typeof detail.bucket === 'string' && detail.status === 'up') {
    parts.push(`bucket ${detail.bucket} reachable${detail.probe ? `, probe object ${String(detail.probe)}` : ''}`);
  }
  if (detail.status === 'up' && typeof detail.sessions === 'number') parts.push(`${plural(detail.sessions, 'session')}, ${String(detail.creds)} creds.json parsed`);
  if (detail.status === 'up' && parts.length === 0 && typeof detail.path === 'string') parts.push(`writable: ${detail.path}`);
  if (typeof detail.hint === 'string') parts.push(`hint: ${detail.hint}`);
  return parts.join('; ');
}
