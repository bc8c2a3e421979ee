/** The built binary, as a Docker HEALTHCHECK, a CI step or a person at a terminal runs it. */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { BIN, cleanEnv, json, runCli, type CliResult } from '../support/cli.js';
import { mongoUrl } from '../support/mongo.js';
import { closedPort, fakeWaha, HEALTHY_BODY, hungServer, tcpProxy, tmpDir, UNHEALTHY_BODY, type Stoppable } from './helpers.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const MB = 1024 * 1024;
const running: Stoppable[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((server) => server.stop())); });

/** A local WAHA layout: media and sessions folders that exist. */
function localEnv(extra: Record<string, string> = {}) {
  const root = tmpDir('health-cli');
  const media = path.join(root, 'media');
  const sessions = path.join(root, 'sessions');
  mkdirSync(media);
  mkdirSync(sessions);
  return { root, media, sessions, env: { WHATSAPP_FILES_FOLDER: media, WAHA_LOCAL_STORE_BASE_DIR: sessions, ...extra } };
}

async function timedRun(args: string[], env: Record<string, string>): Promise<[CliResult, number]> {
  const started = Date.now();
  const result = await runCli(args, { env });
  return [result, Date.now() - started];
}

function expectNoSecret(result: CliResult, ...secrets: string[]) {
  for (const secret of secrets) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
}

describe('health: WAHA checks on a local store', () => {
  it('prints WAHA\'s shape with schemaVersion first and exits 0 when healthy', async () => {
    const { media, sessions, env } = localEnv({ WHATSAPP_HEALTH_SESSION_FILES_THRESHOLD_MB: '50' });
    const result = await runCli(['health', '--json'], { env });
    expect(result.code).toBe(0);
    const body = json(result);
    expect(Object.keys(body)).toEqual(['schemaVersion', 'status', 'info', 'error', 'details']);
    expect(body.schemaVersion).toBe(1);
    expect(body.status).toBe('ok');
    expect(body.error).toEqual({});
    expect(Object.keys(body.details)).toEqual(['mediaFiles.space', 'sessionsFiles.space']);
    expect(body.info).toEqual(body.details);
    const mediaSpace = body.details['mediaFiles.space'];
    expect(Object.keys(mediaSpace)).toEqual(['status', 'path', 'diskPath', 'free', 'threshold']);
    expect(mediaSpace).toMatchObject({ status: 'up', path: media, threshold: 100 * MB });
    expect(mediaSpace.free).toBeGreaterThan(0);
    expect(typeof mediaSpace.diskPath).toBe('string');
    expect(body.details['sessionsFiles.space']).toMatchObject({ status: 'up', path: sessions, threshold: 50 * MB });
    expect(result.stderr).toBe('');
  });

  it('is down with the threshold in bytes and exits 1 when free space is under the threshold', async () => {
    const { env } = localEnv();
    const result = await runCli(['health', '--json', '--media-threshold-mb', '999999999'], { env });
    expect(result.code).toBe(1);
    const body = json(result);
    expect(body.status).toBe('error');
    expect(body.error['mediaFiles.space']).toMatchObject({ status: 'down', threshold: 999999999 * MB });
    expect(body.details['mediaFiles.space']).toEqual(body.error['mediaFiles.space']);
    expect(Object.keys(body.info)).toEqual(['sessionsFiles.space']);
  });

  it('measures a media folder that does not exist yet at its nearest parent and says so', async () => {
    const { root, env } = localEnv();
    const missing = path.join(root, 'later', 'files');
    const result = await runCli(['health', '--json', '--media-dir', missing], { env });
    expect(result.code).toBe(0);
    expect(json(result).details['mediaFiles.space']).toMatchObject({ status: 'up', path: missing, exists: false, measuredAt: root });
  });

  it('prints plain lines when piped and a table on a terminal', async () => {
    const { env } = localEnv();
    const piped = await runCli(['health'], { env });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/^mediaFiles\.space: up - .* free on .*\(threshold 100 MiB\)$/m);
    expect(piped.stdout).toMatch(/^sessionsFiles\.space: up - /m);
    expect(piped.stdout.trim().split('\n').pop()).toBe('status: ok');
    const unhealthy = await runCli(['health', '--sessions-threshold-mb', '999999999'], { env });
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.stdout).toMatch(/^sessionsFiles\.space: down - /m);
    expect(unhealthy.stdout.trim().split('\n').pop()).toBe('status: error');

    const terminal = await runCli(['health', '--no-color'], { env, tty: true });
    expect(terminal.code).toBe(0);
    expect(terminal.stdout).toMatch(/check\s+│\s+status\s+│\s+summary/);
    expect(terminal.stdout).toMatch(/mediaFiles\.space\s+│\s+up\s+│/);
  });
});

describe('health: bad thresholds', () => {
  it.each([
    [['--media-threshold-mb', 'lots'], {}, /Invalid value "lots" for --media-threshold-mb \/ WHATSAPP_HEALTH_MEDIA_FILES_THRESHOLD_MB \(from the flag\)/],
    [[], { WHATSAPP_HEALTH_SESSIONS_FILES_THRESHOLD_MB: '10GB' },
      /Invalid value "10GB" for --sessions-threshold-mb \/ WHATSAPP_HEALTH_SESSION_FILES_THRESHOLD_MB \(from env WHATSAPP_HEALTH_SESSIONS_FILES_THRESHOLD_MB\)/],
    [[], { WHATSAPP_HEALTH_MONGO_TIMEOUT_MS: 'soon' }, /Invalid value "soon" for --mongo-timeout \/ WHATSAPP_HEALTH_MONGO_TIMEOUT_MS/],
  ])('%j %j exits 2 naming the flag and the variable', async (args, extra, message) => {
    const { env } = localEnv(extra as Record<string, string>);
    const result = await runCli(['health', '--json', ...(args as string[])], { env });
    expect(result.code).toBe(2);
    expect(json(result).error).toMatchObject({ code: 'usage', exitCode: 2 }); // --json: the error document
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 for a --timeout that is not a number', async () => {
    const { env } = localEnv();
    const result = await runCli(['health', '--timeout', 'x'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Invalid --timeout "x"/);
  });
});

describe('health: MongoDB session store', () => {
  const TIMEOUT = 800;

  it('checks mongodb instead of sessionsFiles.space and exits 0 when it answers', async () => {
    const { env } = localEnv({ WHATSAPP_SESSIONS_MONGO_URL: mongoUrl() });
    const result = await runCli(['health', '--json'], { env });
    expect(result.code).toBe(0);
    const body = json(result);
    expect(Object.keys(body.details)).toEqual(['mediaFiles.space', 'mongodb']);
    expect(body.details.mongodb).toEqual({ status: 'up', message: 'Up and running' });
  });

  it('is down, not a crash, within the timeout when the port is closed; the password never shows', async () => {
    const port = await closedPort();
    const { env } = localEnv({ WHATSAPP_SESSIONS_MONGO_URL: `mongodb://u:secretpw@127.0.0.1:${port}`, WHATSAPP_HEALTH_MONGO_TIMEOUT_MS: String(TIMEOUT) });
    const [result, ms] = await timedRun(['health', '--json'], env);
    expect(result.code).toBe(1);
    const body = json(result);
    expect(body.status).toBe('error');
    expect(body.error.mongodb).toMatchObject({ status: 'down', error: 'Timeout', reason: 'refused' });
    expect(body.info['mediaFiles.space']).toMatchObject({ status: 'up' });
    expect(ms).toBeLessThan(TIMEOUT + 1500);
    expectNoSecret(result, 'secretpw');
    const human = await runCli(['health', '--verbose'], { env });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^mongodb: down - connection refused/m);
    expectNoSecret(human, 'secretpw');
  });

  it('is down with reason timeout when the server accepts and never answers', async () => {
    const hung = await hungServer();
    running.push(hung);
    const [result, ms] = await timedRun(['health', '--json', '--mongo-timeout', String(TIMEOUT)],
      localEnv({ WHATSAPP_SESSIONS_MONGO_URL: `mongodb://u:secretpw@127.0.0.1:${hung.port}` }).env);
    expect(result.code).toBe(1);
    expect(json(result).error.mongodb).toMatchObject({ status: 'down', error: 'Timeout', reason: 'timeout' });
    expect(ms).toBeLessThan(TIMEOUT + 1500);
    expectNoSecret(result, 'secretpw');
  });

  it('goes from exit 0 to exit 1 when the MongoDB server stops during the test', async () => {
    const proxy = await tcpProxy(mongoUrl());
    const { env } = localEnv({ WHATSAPP_SESSIONS_MONGO_URL: `mongodb://127.0.0.1:${proxy.port}`, WHATSAPP_HEALTH_MONGODB_TIMEOUT: String(TIMEOUT) });
    const before = await runCli(['health', '--json'], { env });
    expect(before.code).toBe(0);
    await proxy.stop();
    const [after, ms] = await timedRun(['health', '--json'], env);
    expect(after.code).toBe(1);
    expect(json(after).error.mongodb).toMatchObject({ status: 'down', reason: 'refused' });
    expect(ms).toBeLessThan(TIMEOUT + 1500);
  });
});

describe('health --extended', () => {
  const bucket = `health-cli-${randomBytes(4).toString('hex')}`;
  const s3Env = (extra: Record<string, string> = {}) => ({
    WAHA_MEDIA_STORAGE: 'S3', WAHA_S3_BUCKET: bucket, WAHA_S3_REGION: 'us-east-1', WAHA_S3_ENDPOINT: inject('s3Endpoint'),
    WAHA_S3_FORCE_PATH_STYLE: 'true', WAHA_S3_ACCESS_KEY_ID: 'S3RVER', WAHA_S3_SECRET_ACCESS_KEY: 'S3RVER', ...extra,
  });

  beforeAll(async () => {
    const s3 = new S3Client({
      endpoint: inject('s3Endpoint'), region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('runs the extended checks after WAHA\'s against real MongoDB and S3, all up', async () => {
    const { env } = localEnv({ ...s3Env(), WHATSAPP_SESSIONS_MONGO_URL: mongoUrl() });
    const result = await runCli(['health', '--extended', '--deep', '--json'], { env });
    expect(result.code).toBe(0);
    const body = json(result);
    expect(Object.keys(body.details)).toEqual(['mediaFiles.space', 'mongodb', 's3', 'mongodb.permissions', 'mediaFiles.writable']);
    expect(body.status).toBe('ok');
    expect(body.details.s3).toMatchObject({ status: 'up', bucket, checksum: 'WHEN_REQUIRED', probe: 'intact' });
    expect(body.details['mongodb.permissions']).toMatchObject({ status: 'up' });
  });

  it('checks local session files and their integrity without a MongoDB URL', async () => {
    const { sessions, env } = localEnv();
    mkdirSync(path.join(sessions, 'noweb', 'default'), { recursive: true });
    writeFileSync(path.join(sessions, 'noweb', 'default', 'creds.json'), '{}');
    const ok = await runCli(['health', '--extended', '--json'], { env });
    expect(ok.code).toBe(0);
    expect(Object.keys(json(ok).details)).toEqual(['mediaFiles.space', 'sessionsFiles.space', 'sessionsFiles.writable', 'mediaFiles.writable', 'sessions.integrity']);
    writeFileSync(path.join(sessions, 'noweb', 'default', 'creds.json'), '{"noiseKey":');
    const broken = await runCli(['health', '--extended', '--json'], { env });
    expect(broken.code).toBe(1);
    expect(json(broken).error['sessions.integrity']).toMatchObject({ status: 'down', problems: 1, first: [{ session: 'noweb/default' }] });
  });

  it('is down (exit 1) for a bucket that does not exist', async () => {
    const { env } = localEnv(s3Env({ WAHA_S3_BUCKET: 'no-such-bucket-at-all' }));
    const result = await runCli(['health', '--extended', '--json'], { env });
    expect(result.code).toBe(1);
    expect(json(result).error.s3).toMatchObject({ status: 'down', reason: 'no-such-bucket', bucket: 'no-such-bucket-at-all' });
  });

  it('is down (exit 1) for wrong credentials, which never show', async () => {
    const { env } = localEnv(s3Env({ WAHA_S3_ACCESS_KEY_ID: 'WRONGKEYID', WAHA_S3_SECRET_ACCESS_KEY: 'wrong-secret-value' }));
    const result = await runCli(['health', '--extended', '--deep', '--json'], { env });
    expect(result.code).toBe(1);
    const s3 = json(result).error.s3;
    expect(s3.status).toBe('down');
    expect(['credentials', 'forbidden']).toContain(s3.reason);
    expectNoSecret(result, 'WRONGKEYID', 'wrong-secret-value');
  });

  it('catches the checksum-mode problem with --deep --s3-checksum when-supported', async () => {
    const { env } = localEnv(s3Env());
    const result = await runCli(['health', '--deep', '--json', '--s3-checksum', 'when-supported'], { env });
    expect(result.code).toBe(1);
    expect(json(result).error.s3).toMatchObject({ status: 'down', reason: 'corrupted' });
  });

  it('reports a missing S3 setting as s3 down naming the variable, exit 1 (not a usage error)', async () => {
    const { env } = localEnv({ WAHA_MEDIA_STORAGE: 'S3' });
    const result = await runCli(['health', '--extended', '--json'], { env });
    expect(result.code).toBe(1);
    expect(json(result).error.s3).toMatchObject({ status: 'down', reason: 'not-configured', missing: '--s3-bucket / WAHA_S3_BUCKET' });
    const human = await runCli(['health', '--extended'], { env: { ...env, WAHA_S3_BUCKET: 'b', WAHA_S3_REGION: 'us-east-1' } });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^s3: down - S3 is not configured: set WAHA_S3_ACCESS_KEY_ID$/m);
  });

  it('leaves s3 out when S3 is neither the media store nor configured', async () => {
    const { env } = localEnv();
    const result = await runCli(['health', '--extended', '--json'], { env });
    expect(Object.keys(json(result).details)).not.toContain('s3');
  });
});

describe('health --server', () => {
  async function waha(status: number, body: unknown) {
    const server = await fakeWaha(status, body);
    running.push(server);
    return server;
  }

  it('reports a healthy WAHA\'s answer with schemaVersion and exit 0, sending the API key from the environment', async () => {
    const server = await waha(200, HEALTHY_BODY);
    const result = await runCli(['health', '--server', server.url, '--json'], { env: { WAHA_API_KEY: 'key-from-env-123' } });
    expect(result.code).toBe(0);
    expect(json(result)).toEqual({ schemaVersion: 1, ...HEALTHY_BODY });
    expect(server.requests[0]!['x-api-key']).toBe('key-from-env-123');
    expectNoSecret(result, 'key-from-env-123');
  });

  it('prints a 503 answer and exits 1', async () => {
    const server = await waha(503, UNHEALTHY_BODY);
    const result = await runCli(['health', '--server', server.url, '--api-key', 'k-123'], {});
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^mongodb: down - Timeout$/m);
    expect(result.stdout).toMatch(/^mediaFiles\.space: up - /m);
    expect(result.stdout.trim().split('\n').pop()).toBe('status: error');
  });

  it('explains 422 (health checks only in Plus) with exit 1', async () => {
    const server = await waha(422, { statusCode: 422, message: 'Available in Plus version' });
    const result = await runCli(['health', '--server', server.url, '--json'], {});
    expect(result.code).toBe(1);
    expect(json(result).error).toMatchObject({ exitCode: 1, message: expect.stringMatching(/answered 422/) });
    expect(result.stderr).toMatch(/^error: WAHA at http:\/\/127\.0\.0\.1:\d+\/health answered 422: this WAHA version has health checks only in Plus/);
  });

  it('explains 401 (wrong or missing API key) with exit 1, never showing the key', async () => {
    const server = await waha(401, { statusCode: 401, message: 'Unauthorized' });
    const result = await runCli(['health', '--server', server.url, '--api-key', 'wrong-key-456'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/answered 401: wrong or missing API key/);
    expectNoSecret(result, 'wrong-key-456');
  });

  it('says an unreachable server is unreachable, exit 1', async () => {
    const port = await closedPort();
    const result = await runCli(['health', '--server', `http://127.0.0.1:${port}`], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is unreachable: connection refused/);
  });

  it('exits 2 for a URL that does not parse', async () => {
    const result = await runCli(['health', '--server', 'localhost 3000'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: Invalid --server URL "localhost 3000": it does not parse/);
  });
});

describe('health --watch', () => {
  /** Starts the binary, collects stdout until `lines` lines arrived, then sends Ctrl-C. */
  async function watchUntil(args: string[], env: Record<string, string>, lines: number, stream: 'stdout' | 'stderr' = 'stdout') {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk) => { out.stdout += chunk; });
    child.stderr.on('data', (chunk) => { out.stderr += chunk; });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`watch did not print ${lines} lines: ${JSON.stringify(out)}`)); }, 15_000);
      const onData = () => {
        if (out[stream].split('\n').filter((line) => line.includes(stream === 'stdout' ? 'schemaVersion' : 'error:')).length >= lines) {
          child[stream].off('data', onData);
          child.kill('SIGINT');
        }
      };
      child[stream].on('data', onData);
      child.on('close', (exitCode) => { clearTimeout(timer); resolve(exitCode); });
    });
    return { code, ...out };
  }

  it('prints one JSON line per run until Ctrl-C, then exits 130', async () => {
    const { env } = localEnv();
    const result = await watchUntil(['health', '--watch', '1s', '--json'], env, 2);
    expect(result.code).toBe(130);
    const runs = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) {
      expect(Object.keys(run)).toEqual(['schemaVersion', 'at', 'status', 'info', 'error', 'details']);
      expect(run.status).toBe('ok');
    }
  });

  it('keeps watching a --server that cannot be reached, one error line per run', async () => {
    const port = await closedPort();
    const result = await watchUntil(['health', '--watch', '1', '--server', `http://127.0.0.1:${port}`], {}, 2, 'stderr');
    expect(result.code).toBe(130);
    expect(result.stderr.match(/is unreachable: connection refused/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it('exits 2 for a bad interval, and for --extended with --server', async () => {
    const bad = await runCli(['health', '--watch', 'often'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid --watch "often"/);
    const mixed = await runCli(['health', '--server', 'http://localhost:1', '--extended'], {});
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/cannot be combined with --server/);
  });
});
