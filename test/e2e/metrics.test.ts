/**
 * --metrics-file and --pushgateway (issue 11, item 1): the file is read back with a real Prometheus
 * text parser after a success, a partial failure (exit 3) and usage errors (exit 2); the push goes
 * to a stand-in Pushgateway (an HTTP server in the test) whose requests are checked.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writeLocalFixtures } from '../support/fixtures/index.js';

interface Family { name: string; type: string; metrics: { value: string; labels?: Record<string, string> }[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const work = mkdtempSync(path.join(os.tmpdir(), 'waha-metrics-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const DAY = 86_400_000;

/** A media folder with `count` files of 10 bytes, three days old. */
function mediaFolder(count: number): string {
  const dir = mkdtempSync(path.join(work, 'media-'));
  mkdirSync(path.join(dir, 'default'));
  const old = new Date(Date.now() - 3 * DAY);
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, 'default', `${i}.jpeg`);
    writeFileSync(file, '0123456789');
    utimesSync(file, old, old);
  }
  return dir;
}

/** Every sample of the file as `name{labels}` -> value, after checking it is well-formed text format. */
function samples(text: string): Map<string, number> {
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // node_exporter's textfile collector refuses samples with timestamps: `name{labels} value` only
    expect(line, 'a sample with a timestamp').toMatch(/^waha_storage_[a-z_]+\{[^}]*\} [0-9.e+-]+$/);
  }
  const families = parse(text);
  const result = new Map<string, number>();
  for (const family of families) {
    expect(family.name.startsWith('waha_storage_')).toBe(true);
    for (const metric of family.metrics) {
      const labels = Object.entries(metric.labels ?? {}).map(([key, value]) => `${key}=${value}`).join(',');
      result.set(`${family.name}{${labels}}`, Number(metric.value));
    }
  }
  return result;
}

const series = (name: string, labels: string) => `waha_storage_${name}{${labels}}`;

describe('--metrics-file', () => {
  it('after a success: run times, exit code 0, the counts of the run, written atomically (no temp file left)', async () => {
    const dir = mediaFolder(3);
    const file = path.join(work, 'success', 'clean.prom');
    mkdirSync(path.dirname(file));
    const before = Date.now() / 1000;
    const run = await runCli(['media', 'clean', 'local', '--older-than', '1d', '--metrics-file', file], { env: { WHATSAPP_FILES_FOLDER: dir } });
    const after = Date.now() / 1000;
    expect(run.code, run.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/# TYPE waha_storage_items_total counter/);
    expect(text).toMatch(/# TYPE waha_storage_exit_code gauge/);
    const values = samples(text);
    const base = 'command=media clean,store=local';
    expect(values.get(series('exit_code', base))).toBe(0);
    const lastRun = values.get(series('last_run_timestamp_seconds', base))!;
    expect(lastRun).toBeGreaterThanOrEqual(before);
    expect(lastRun).toBeLessThanOrEqual(after);
    expect(values.get(series('last_success_timestamp_seconds', base))).toBe(lastRun);
    expect(values.get(series('run_duration_seconds', base))).toBeGreaterThan(0);
    expect(values.get(series('run_duration_seconds', base))).toBeLessThan(after - before);
    expect(values.get(series('items_total', `${base},status=deleted`))).toBe(3);
    expect(values.get(series('items_total', `${base},status=failed`))).toBe(0);
    expect(values.get(series('bytes_total', `${base},action=deleted`))).toBe(30);
    expect(readdirSync(path.dirname(file))).toEqual(['clean.prom']);
  });

  it('after a partial failure (exit 3): exit_code 3, last_success kept from the earlier run, the other command in the same file kept', async () => {
    const sessions = mkdtempSync(path.join(work, 'sessions-'));
    await writeLocalFixtures(sessions);
    const dir = mediaFolder(2);
    const file = path.join(work, 'shared.prom');
    const env = { WAHA_LOCAL_STORE_BASE_DIR: sessions, WHATSAPP_FILES_FOLDER: dir, WAHA_STORAGE_METRICS_FILE: file };
    const clean = await runCli(['media', 'clean', 'local', '--older-than', '1d'], { env });
    expect(clean.code, clean.stderr).toBe(0);
    const ok = await runCli(['inspect'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const first = samples(readFileSync(file, 'utf8'));
    const inspect = 'command=inspect,store=all';
    const succeeded = first.get(series('last_success_timestamp_seconds', inspect))!;
    expect(succeeded).toBeGreaterThan(0);
    expect(first.get(series('items_total', `${inspect},status=logged_in`))).toBeGreaterThan(0);

    // MongoDB is unreachable: the local sessions are listed, the run is partly done
    const partial = await runCli(['inspect', '--mongo-url', 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300', '--timeout', '300'], { env });
    expect(partial.code, partial.stderr).toBe(3);
    const values = samples(readFileSync(file, 'utf8'));
    expect(values.get(series('exit_code', inspect))).toBe(3);
    expect(values.get(series('last_run_timestamp_seconds', inspect))).toBeGreaterThan(succeeded);
    expect(values.get(series('last_success_timestamp_seconds', inspect))).toBe(succeeded);
    expect(values.get(series('items_total', `${inspect},status=logged_in`))).toBe(first.get(series('items_total', `${inspect},status=logged_in`)));
    // the media clean job writes the same file: its series are as it left them
    const media = 'command=media clean,store=local';
    for (const key of [...first.keys()].filter((name) => name.includes(media))) expect(values.get(key), key).toBe(first.get(key));
    expect(values.get(series('items_total', `${media},status=deleted`))).toBe(2);
  });

  it('after usage errors (exit 2), in the command and while parsing: exit_code 2, last_success of the earlier success kept; never succeeded: 0', async () => {
    const dir = mediaFolder(1);
    const file = path.join(work, 'usage.prom');
    const env = { WHATSAPP_FILES_FOLDER: dir };
    expect((await runCli(['media', 'clean', 'local', '--older-than', '1d', '--metrics-file', file], { env })).code).toBe(0);
    const succeeded = samples(readFileSync(file, 'utf8')).get(series('last_success_timestamp_seconds', 'command=media clean,store=local'))!;

    const bad = await runCli(['media', 'clean', 'local', '--older-than', 'soon', '--metrics-file', file], { env });
    expect(bad.code, bad.stderr).toBe(2);
    let values = samples(readFileSync(file, 'utf8'));
    expect(values.get(series('exit_code', 'command=media clean,store=local'))).toBe(2);
    expect(values.get(series('last_success_timestamp_seconds', 'command=media clean,store=local'))).toBe(succeeded);
    const badRun = values.get(series('last_run_timestamp_seconds', 'command=media clean,store=local'))!;

    // commander refuses the flag before the command runs: the metrics flag is read from the words
    const unknown = await runCli(['media', 'clean', 'local', '--olderthan', '1d', `--metrics-file=${file}`], { env });
    expect(unknown.code, unknown.stderr).toBe(2);
    values = samples(readFileSync(file, 'utf8'));
    expect(values.get(series('exit_code', 'command=media clean,store=local'))).toBe(2);
    expect(values.get(series('last_success_timestamp_seconds', 'command=media clean,store=local'))).toBe(succeeded);
    expect(values.get(series('last_run_timestamp_seconds', 'command=media clean,store=local')), 'the refused run wrote nothing').toBeGreaterThan(badRun);
    expect(values.get(series('run_duration_seconds', 'command=media clean,store=local'))).toBe(0);

    const never = await runCli(['migrate', 'local', 'local', '--metrics-file', file], { env });
    expect(never.code, never.stderr).toBe(2);
    values = samples(readFileSync(file, 'utf8'));
    expect(values.get(series('exit_code', 'command=migrate,store=local->local'))).toBe(2);
    expect(values.get(series('last_success_timestamp_seconds', 'command=migrate,store=local->local'))).toBe(0);
  });

  it('a metrics file that cannot be written is a warning: the exit code stays the command\'s', async () => {
    const dir = mediaFolder(1);
    const run = await runCli(['media', 'clean', 'local', '--older-than', '1d', '--metrics-file', path.join(work, 'no', 'such', 'folder', 'x.prom')], { env: { WHATSAPP_FILES_FOLDER: dir } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: metrics not written to .*x\.prom: the folder .* does not exist/);
  });
});

interface Pushed { method: string; url: string; body: string }

describe('--pushgateway', () => {
  let server: Server;
  let url: string;
  const pushed: Pushed[] = [];
  let answer: 'ok' | 'error' | 'hang' = 'ok';
  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => {
        pushed.push({ method: request.method!, url: request.url!, body });
        if (answer === 'hang') return;
        response.statusCode = answer === 'ok' ? 200 : 500;
        response.end(answer === 'ok' ? '' : 'push rejected');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a success is PUT to /metrics/job/waha_storage/command/<c>/store/<s>, the whole group, in text format', async () => {
    pushed.length = 0;
    answer = 'ok';
    const dir = mediaFolder(2);
    const run = await runCli(['media', 'clean', 'local', '--older-than', '1d', '--pushgateway', url], { env: { WHATSAPP_FILES_FOLDER: dir } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/warning/);
    expect(pushed).toHaveLength(1);
    expect(pushed[0]!.method).toBe('PUT');
    expect(decodeURIComponent(pushed[0]!.url)).toBe('/metrics/job/waha_storage/command/media clean/store/local');
    const values = samples(pushed[0]!.body);
    const base = 'command=media clean,store=local';
    expect(values.get(series('exit_code', base))).toBe(0);
    expect(values.get(series('last_success_timestamp_seconds', base))).toBe(values.get(series('last_run_timestamp_seconds', base)));
    expect(values.get(series('items_total', `${base},status=deleted`))).toBe(2);
  });

  it('a failed run is POSTed without last_success (the Pushgateway keeps the one it has); a rejected push is a warning only', async () => {
    pushed.length = 0;
    answer = 'error';
    const run = await runCli(['migrate', 'local', 'local', '--pushgateway', url]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/warning: metrics not pushed to the Pushgateway: push failed with status 500/);
    expect(pushed).toHaveLength(1);
    expect(pushed[0]!.method).toBe('POST');
    expect(decodeURIComponent(pushed[0]!.url)).toBe('/metrics/job/waha_storage/command/migrate/store/local->local');
    const values = samples(pushed[0]!.body);
    expect(values.get(series('exit_code', 'command=migrate,store=local->local'))).toBe(2);
    expect([...values.keys()].some((key) => key.includes('last_success'))).toBe(false);
  });

  it('a Pushgateway that does not answer: a warning after --pushgateway-timeout, the exit code stays 0; the metrics file is still written', async () => {
    pushed.length = 0;
    answer = 'hang';
    const dir = mediaFolder(1);
    const file = path.join(work, 'with-push.prom');
    const started = Date.now();
    const run = await runCli(['media', 'clean', 'local', '--older-than', '1d', '--pushgateway', url, '--pushgateway-timeout', '500', '--metrics-file', file], { env: { WHATSAPP_FILES_FOLDER: dir } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: metrics not pushed to the Pushgateway: no answer within 500 ms/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(existsSync(file)).toBe(true);
    expect(samples(readFileSync(file, 'utf8')).get(series('exit_code', 'command=media clean,store=local'))).toBe(0);
  });

  it('credentials in the Pushgateway URL never appear in the output', async () => {
    answer = 'error';
    const run = await runCli(['migrate', 'local', 'local', '--pushgateway', url.replace('http://', 'http://monitor:s3cr3t-pw@')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/warning: metrics not pushed/);
    expect(run.stdout + run.stderr).not.toContain('s3cr3t-pw');
  });
});
