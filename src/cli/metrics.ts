/**
 * Metrics of one run, for monitoring cron jobs: Prometheus text format for node_exporter's textfile
 * collector (--metrics-file, written atomically) and a Prometheus Pushgateway (--pushgateway).
 * Commands report their counts through `context.metrics`; the action wrapper adds the run's times
 * and exit code and writes them. prom-client is loaded only when a run asks for metrics.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Registry } from 'prom-client';
import { registerUrlSecrets } from '../config/redact.js';

export const METRICS_FILE_ENV = 'WAHA_STORAGE_METRICS_FILE';
export const PUSHGATEWAY_ENV = 'WAHA_STORAGE_PUSHGATEWAY';
export const PUSHGATEWAY_JOB = 'waha_storage';
const DEFAULT_PUSH_TIMEOUT_MS = 5000;

const PREFIX = 'waha_storage_';
const GAUGES = {
  last_run_timestamp_seconds: 'when the last run of this command ended (Unix time)',
  last_success_timestamp_seconds: 'when the last run that exited 0 ended (Unix time; 0 when none did)',
  run_duration_seconds: 'how long the last run took',
  exit_code: 'exit code of the last run (0 done, 1 failed, 2 usage, 3 partly done, 130 interrupted)',
} as const;
const COUNTERS = {
  items_total: ['status', 'what the last run did, per status (sessions, objects, archives or checks)'],
  bytes_total: ['action', 'bytes the last run handled, per action'],
} as const;
type GaugeName = keyof typeof GAUGES;
type CounterName = keyof typeof COUNTERS;

/** A session or media store word as a label; anything else a command names (a file, a folder) is an archive. */
const STORE_WORDS: Record<string, string> = { local: 'local', mongo: 'mongo', postgres: 'postgres', pg: 'postgres', s3: 's3' };

/** What one run reports; every value is set (not added), so a result rendered twice counts once. */
export class RunMetrics {
  private storeLabel: string;
  readonly items = new Map<string, number>();
  readonly bytesByAction = new Map<string, number>();

  constructor(readonly command: string, positional: readonly unknown[] = []) {
    this.storeLabel = defaultStoreLabel(positional);
  }

  get store(): string {
    return this.storeLabel;
  }

  /** The store label when the positional words do not tell it (inspect of every store, media's default store). */
  setStore(label: string): void {
    this.storeLabel = label;
  }

  /** `waha_storage_items_total{status}` of this run. */
  count(status: string, n: number): void {
    this.items.set(status, n);
  }

  /** `waha_storage_bytes_total{action}` of this run. */
  bytes(action: string, n: number): void {
    this.bytesByAction.set(action, n);
  }
}

/** `migrate mongo local` -> `mongo->local`; `restore x.tar.gz local` -> `archive->local`; nothing -> `default`. */
function defaultStoreLabel(positional: readonly unknown[]): string {
  const words = positional.flat().filter((word): word is string => typeof word === 'string');
  if (!words.length) return 'default';
  return words.map((word) => STORE_WORDS[word.toLowerCase()] ?? (word === '-' || existsSync(word) ? 'archive' : 'unknown')).join('->');
}

export interface MetricsTargets {
  file?: string;
  pushgateway?: string;
  pushTimeoutMs?: number;
}

export interface RunEnd {
  exitCode: number;
  /** Unix time in seconds when the run ended. */
  endedAt: number;
  durationSeconds: number;
}

interface Sample {
  name: GaugeName | CounterName;
  labels: Record<string, string>;
  value: number;
}

/**
 * Writes the run's metrics to the file and pushes them; never throws: each failure is a warning
 * (the command's exit code stays what the command decided).
 */
export async function publishMetrics(metrics: RunMetrics, end: RunEnd, targets: MetricsTargets, warn: (text: string) => void): Promise<void> {
  const ours = samplesOf(metrics, end);
  if (targets.file) {
    await writeMetricsFile(targets.file, metrics, ours, end).catch((error: unknown) => {
      warn(`metrics not written to ${targets.file}: ${(error as Error).message}`);
    });
  }
  if (targets.pushgateway) {
    await pushMetrics(targets.pushgateway, metrics, ours, end, targets.pushTimeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS).catch((error: unknown) => {
      warn(`metrics not pushed to the Pushgateway: ${(error as Error).message}`);
    });
  }
}

function samplesOf(metrics: RunMetrics, end: RunEnd): Sample[] {
  const base = { command: metrics.command, store: metrics.store };
  const samples: Sample[] = [
    { name: 'last_run_timestamp_seconds', labels: base, value: end.endedAt },
    { name: 'run_duration_seconds', labels: base, value: end.durationSeconds },
    { name: 'exit_code', labels: base, value: end.exitCode },
  ];
  if (end.exitCode === 0) samples.push({ name: 'last_success_timestamp_seconds', labels: base, value: end.endedAt });
  for (const [status, value] of metrics.items) samples.push({ name: 'items_total', labels: { ...base, status }, value });
  for (const [action, value] of metrics.bytesByAction) samples.push({ name: 'bytes_total', labels: { ...base, action }, value });
  return samples;
}

/**
 * Read, merge, write under a lock: the series of other command/store pairs already in the file are
 * kept as they are (one file may serve several cron jobs); this pair's series are replaced, except
 * last_success, which a failed run carries over from the file (0 when no run ever succeeded).
 */
async function writeMetricsFile(file: string, metrics: RunMetrics, ours: Sample[], end: RunEnd): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  if (!existsSync(folder)) throw new Error(`the folder ${folder} does not exist`);
  const { lock } = await import('proper-lockfile');
  const release = await lock(file, { realpath: false, stale: 10_000, retries: { retries: 40, minTimeout: 25, maxTimeout: 250 } });
  try {
    const previous = await readSamples(file);
    const mine = (sample: Sample) => sample.labels.command === metrics.command && sample.labels.store === metrics.store;
    const samples = [...previous.filter((sample) => !mine(sample)), ...ours];
    if (end.exitCode !== 0) {
      const kept = previous.find((sample) => mine(sample) && sample.name === 'last_success_timestamp_seconds');
      samples.push({ name: 'last_success_timestamp_seconds', labels: { command: metrics.command, store: metrics.store }, value: kept?.value ?? 0 });
    }
    await writeAtomically(file, await (await registryOf(samples)).metrics());
  } finally {
    await release().catch(() => {});
  }
}

/** Our series in an existing file; a file that is missing or cannot be parsed counts as empty (it is rewritten whole). */
async function readSamples(file: string): Promise<Sample[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  let families: ParsedFamily[];
  try {
    families = parsePrometheusText(text);
  } catch {
    return [];
  }
  const samples: Sample[] = [];
  for (const family of families) {
    const name = family.name.startsWith(PREFIX) ? family.name.slice(PREFIX.length) : '';
    if (!(name in GAUGES) && !(name in COUNTERS)) continue;
    for (const metric of family.metrics) {
      const value = Number(metric.value);
      if (!metric.labels?.command || !metric.labels.store || !Number.isFinite(value)) continue;
      samples.push({ name: name as Sample['name'], labels: metric.labels, value });
    }
  }
  return samples;
}

interface ParsedFamily {
  name: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

/** A Prometheus text-format parser (parse-prometheus-text-format). */
export function parsePrometheusText(text: string): ParsedFamily[] {
  const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];
  return parse(text);
}

/** A registry of its own (not prom-client's global one, no default metrics) holding exactly these samples. */
async function registryOf(samples: Sample[]): Promise<Registry> {
  const { Counter, Gauge, Registry } = await import('prom-client');
  const registry = new Registry();
  const used = new Set(samples.map((sample) => sample.name));
  for (const [name, help] of Object.entries(GAUGES) as [GaugeName, string][]) {
    if (!used.has(name)) continue;
    const gauge = new Gauge({ name: PREFIX + name, help, labelNames: ['command', 'store'], registers: [registry] });
    for (const sample of samples) if (sample.name === name) gauge.set(sample.labels, sample.value);
  }
  for (const [name, [label, help]] of Object.entries(COUNTERS) as [CounterName, readonly [string, string]][]) {
    if (!used.has(name)) continue;
    const counter = new Counter({ name: PREFIX + name, help, labelNames: ['command', 'store', label], registers: [registry] });
    for (const sample of samples) if (sample.name === name) counter.inc(sample.labels, sample.value);
  }
  return registry;
}

/** Temp file in the same folder, fsync, rename: the collector never reads half a file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await mkdir(path.dirname(file), { recursive: true });
  try {
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * PUT (the group replaced whole) after a run that exited 0; after any other, POST without
 * last_success: the Pushgateway replaces the metrics pushed and keeps the last success it has.
 */
async function pushMetrics(url: string, metrics: RunMetrics, ours: Sample[], end: RunEnd, timeoutMs: number): Promise<void> {
  registerUrlSecrets(url);
  const { Pushgateway } = await import('prom-client');
  const registry = await registryOf(ours);
  const gateway = new Pushgateway(url, { timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) }, registry);
  const params = { jobName: PUSHGATEWAY_JOB, groupings: { command: metrics.command, store: metrics.store } };
  try {
    await (end.exitCode === 0 ? gateway.push(params) : gateway.pushAdd(params));
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'AbortError' || name === 'TimeoutError') throw new Error(`no answer within ${timeoutMs} ms`);
    throw error;
  }
}

/** The command path of a commander command: `media clean`, `backup verify`. */
export function commandPath(command: { name(): string; parent: unknown }): string {
  const names: string[] = [];
  for (let at: any = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** The value of `--flag <v>` or `--flag=v` in raw arguments (before `--`), for runs commander could not parse. */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  const end = argv.indexOf('--');
  const words = end === -1 ? argv : argv.slice(0, end);
  let value: string | undefined;
  for (const [index, word] of words.entries()) {
    if (word === flag && index + 1 < words.length) value = words[index + 1];
    else if (word.startsWith(`${flag}=`)) value = word.slice(flag.length + 1);
  }
  return value;
}

interface CommandNode {
  name(): string;
  aliases(): string[];
  parent: unknown;
  commands: readonly CommandNode[];
  registeredArguments: readonly unknown[];
  options: readonly { long?: string; short?: string; required: boolean; optional: boolean }[];
}

/**
 * Metrics for a run that commander refused while parsing (an unknown flag, a bad option value:
 * exit 2), when --metrics-file or --pushgateway can be read from the raw arguments or the
 * environment: the command and store are worked out from the words as far as they go.
 */
export async function publishAfterParseError(argv: readonly string[], program: CommandNode, exitCode: number, warn: (text: string) => void): Promise<void> {
  const targets = targetsFrom((flag) => flagValue(argv, flag), process.env);
  if (!targets.file && !targets.pushgateway) return;
  const end = argv.indexOf('--');
  const words = end === -1 ? argv : argv.slice(0, end);
  let command = program;
  const positional: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    if (word.startsWith('-')) {
      const option = command.options.find((item) => item.long === word || item.short === word);
      if (option && (option.required || option.optional) && !word.includes('=')) index++;
      continue;
    }
    const sub = positional.length ? undefined : command.commands.find((item) => item.name() === word || item.aliases().includes(word));
    if (sub) command = sub;
    else positional.push(word);
  }
  if (command === program) return; // no command: nothing a cron job would monitor
  // an unknown flag's value looks like a positional word: only as many words as the command takes
  const metrics = new RunMetrics(commandPath(command), positional.slice(0, command.registeredArguments.length));
  await publishMetrics(metrics, { exitCode, endedAt: Date.now() / 1000, durationSeconds: 0 }, targets, warn);
}

/** The metrics flags (given by commander's parsed options or the raw arguments), then the environment. */
export function targetsFrom(flag: (name: '--metrics-file' | '--pushgateway' | '--pushgateway-timeout') => unknown, env: NodeJS.ProcessEnv): MetricsTargets {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const timeout = Number(flag('--pushgateway-timeout'));
  return {
    file: text(flag('--metrics-file')) ?? text(env[METRICS_FILE_ENV]),
    pushgateway: text(flag('--pushgateway')) ?? text(env[PUSHGATEWAY_ENV]),
    pushTimeoutMs: Number.isInteger(timeout) && timeout > 0 ? timeout : undefined,
  };
}

/** The counts of a run over sessions (migrate, backup, restore, purge): each status, and the bytes of the done (or planned) ones. */
export function countSessions(metrics: RunMetrics, summary: { done: number; skipped: number; failed: number; planned: number; bytes: number }, bytesAction: string): void {
  for (const status of ['done', 'skipped', 'failed', 'planned'] as const) metrics.count(status, summary[status]);
  metrics.bytes(bytesAction, summary.bytes);
}
