import { Command, InvalidArgumentError, Option } from 'commander';
import { settingsOf, type SettingGroup } from '../config/settings.js';
import { loadConfig, type Config } from '../config/config.js';
import { Reporter } from './reporter.js';
import { handleError } from './errors.js';
import { requireNonEmptyNames } from '../sessions/selection.js';
import { ExitCode, WahaStorageError } from '../errors.js';
import { METRICS_FILE_ENV, PUSHGATEWAY_ENV, RunMetrics, commandPath, publishMetrics, targetsFrom } from './metrics.js';

/** Output flags every command takes. */
export function addOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print one JSON document on stdout (schemaVersion 1)')
    .option('-q, --quiet', 'print nothing but errors when the run succeeds (for cron); if it fails, its results follow on stderr; --json still prints the document')
    .option('-v, --verbose', 'print debug details and stack traces')
    .option('--no-color', 'no colours or spinners (also NO_COLOR)')
    .option('--metrics-file <path>', `write this run's Prometheus metrics to this file, atomically (node_exporter textfile collector) [env: ${METRICS_FILE_ENV}]`)
    .option('--pushgateway <url>', `push the same metrics to this Prometheus Pushgateway (job waha_storage; a failed push is a warning) [env: ${PUSHGATEWAY_ENV}]`)
    .addOption(new Option('--pushgateway-timeout <ms>', 'time limit of the push (default: 5000)').argParser(parsePositiveInt('--pushgateway-timeout')));
}

/** Adds the configuration flags of the given groups, built from the settings table. */
export function addSettingOptions(command: Command, groups: readonly SettingGroup[]): Command {
  for (const setting of settingsOf(groups)) {
    const env = setting.env.length ? ` [env: ${setting.env.join(', ')}]` : '';
    const fallback = setting.defaultValue !== undefined ? ` (default: ${setting.defaultValue})` : '';
    command.addOption(new Option(setting.flags, `${setting.description}${env}${fallback}`));
  }
  return command;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--session <name>` (repeatable); the description says what leaving it out means for the command. */
export function sessionOption(description: string): Option {
  return new Option('-s, --session <name>', description).argParser((value: string, previous?: string[]) => {
    requireNonEmptyNames([value]); // `--session ''` (an unset variable) is a typo, not "every session"
    return collect(value, previous);
  });
}

export function engineOption(): Option {
  return new Option('-e, --engine <engine>', 'only this engine: WEBJS, NOWEB, GOWS, WPP (repeatable)').argParser(collect);
}

/** `--skip-messages` (migrate, backup, restore): message history left out; identity and keys never. */
export function skipMessagesOption(): Option {
  return new Option('--skip-messages', 'leave out message history (NOWEB store "messages", GOWS "gows_messages", kept as an empty table); auth and keys are always copied');
}

/** `-y, --yes`: the description says what it confirms in the command (or that the command asks nothing). */
export function yesOption(description: string): Option {
  return new Option('-y, --yes', description);
}

/** The connect timeout of the session store, the same flag in every command that opens one. */
export const STORE_TIMEOUT_MS = 5000;

export function storeTimeoutOption(): Option {
  return new Option('--timeout <ms>', 'time limit for connecting to the session store (MongoDB, PostgreSQL), in milliseconds')
    .argParser(parsePositiveInt('--timeout')).default(STORE_TIMEOUT_MS);
}

/** @deprecated the old name of storeTimeoutOption. */
export const mongoTimeoutOption = storeTimeoutOption;

/** health's time limit for each --server and S3 request (its MongoDB check has --mongo-timeout, WAHA's setting). */
export function httpTimeoutOption(fallback: number): Option {
  return new Option('--http-timeout <ms>', `time limit for each --server or S3 request, in milliseconds (default: ${fallback})`)
    .argParser(parsePositiveInt('--http-timeout'));
}

export function concurrencyOption(description: string, fallback: number): Option {
  return new Option('--concurrency <n>', description).argParser(parsePositiveInt('--concurrency')).default(fallback);
}

export function parsePositiveInt(flag: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`expected a whole number of at least 1 for ${flag}`);
    return value;
  };
}

export interface CommandContext<O> {
  options: O;
  config: Config;
  reporter: Reporter;
  signal: AbortSignal;
  /** The run's counts for --metrics-file / --pushgateway (src/cli/metrics.ts). */
  metrics: RunMetrics;
}

/** The metrics of a finished run (exit code as set by now), when --metrics-file / --pushgateway ask for them. */
async function publishRunMetrics(metrics: RunMetrics, options: Record<string, unknown>, startedAt: number, reporter: Reporter): Promise<void> {
  const targets = targetsFrom((flag) => options[flag.slice(2).replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())], process.env);
  if (!targets.file && !targets.pushgateway) return;
  const end = { exitCode: Number(process.exitCode ?? 0), endedAt: Date.now() / 1000, durationSeconds: (performance.now() - startedAt) / 1000 };
  await publishMetrics(metrics, end, targets, (text) => reporter.warn(text));
}

/** The signals that interrupt a run: Ctrl-C on a terminal, `kill`, `docker stop`, systemd, cron's end, a closed terminal or SSH session. */
const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Wraps a command handler: builds the reporter and configuration from the flags, runs the
 * handler, and routes every error through the one error handler. The first Ctrl-C / SIGINT /
 * SIGTERM aborts the signal: the handler stops at its next safe point, keeps what it finished and
 * reports it; the exit code is 130 whatever the handler set. A second one exits 130 at once.
 */
export function action<O extends object>(handler: (context: CommandContext<O>, ...args: any[]) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const options = command.optsWithGlobals() as O & { json?: boolean; quiet?: boolean; verbose?: boolean; color?: boolean };
    const reporter = new Reporter(options);
    const startedAt = performance.now();
    const metrics = new RunMetrics(commandPath(command), args.slice(0, -2));
    const controller = new AbortController();
    const onInterrupt = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) {
        // the one JSON document still comes (an error saying so), then the process ends where it is
        handleError(new WahaStorageError(`${signal} again: stopped at once; what was committed stays`, ExitCode.interrupted, {
          hint: 'run the command again to finish', code: 'interrupted',
        }), reporter);
        reporter.finish(ExitCode.interrupted);
        process.exit(ExitCode.interrupted);
      }
      reporter.warn(`${signal === 'SIGINT' ? 'interrupted' : `${signal} received`}: stopping at the next safe point (press Ctrl-C again to stop at once)`);
      controller.abort();
      process.exitCode = ExitCode.interrupted;
    };
    for (const signal of INTERRUPTS) process.on(signal, onInterrupt);
    try {
      const config = loadConfig({ flags: options as Record<string, unknown> });
      await handler({ options, config, reporter, signal: controller.signal, metrics }, ...args.slice(0, -2));
    } catch (error) {
      if (!controller.signal.aborted) handleError(error, reporter);
      else {
        handleError(new WahaStorageError('interrupted: what was done is kept', ExitCode.interrupted, {
          hint: 'run the command again to continue', cause: error, code: 'interrupted',
        }), reporter);
      }
    } finally {
      for (const signal of INTERRUPTS) process.removeListener(signal, onInterrupt);
      if (controller.signal.aborted) process.exitCode = ExitCode.interrupted;
      await publishRunMetrics(metrics, options as Record<string, unknown>, startedAt, reporter);
      reporter.finish(Number(process.exitCode ?? 0));
    }
  };
}
