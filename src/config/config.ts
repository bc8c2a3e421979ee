import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { UsageError } from '../errors.js';
import { redact, registerSecret, registerUrlSecrets } from './redact.js';
import { SETTINGS, settingByKey, settingLabel, type Setting, type SettingKey } from './settings.js';
import { parseBoolean, parseDuration, parseNumber } from './units.js';

export type MediaStorageKind = 'LOCAL' | 'S3' | 'POSTGRESQL';
export type ChecksumMode = 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';

export interface SessionsConfig {
  /** Absolute path of the local store base folder. */
  readonly sessionsDir: string;
  readonly namespace?: string;
  readonly sessionNamespace?: string;
  readonly mongoUrl?: string;
  /** WHATSAPP_SESSIONS_POSTGRESQL_URL as given (parsed by src/util/postgres.ts with WAHA's rules). */
  readonly postgresUrl?: string;
  /** migrate's target when it differs from the source: --to-mongo-url, --to-postgres-url, --to-namespace, --to-session-namespace. */
  readonly toMongoUrl?: string;
  readonly toPostgresUrl?: string;
  readonly toNamespace?: string;
  readonly toSessionNamespace?: string;
}

export interface MediaConfig {
  readonly mediaDir: string;
  readonly lifetimeSeconds: number;
  readonly storage: MediaStorageKind;
  /** WAHA_MEDIA_POSTGRESQL_URL as given (read and validated when a command uses it). */
  readonly postgresUrl?: string;
  /** WAHA_SESSION_NAMESPACE: the media tables live in `waha_<session namespace>_<slug>`. */
  readonly sessionNamespace?: string;
}

export interface S3Config {
  readonly bucket?: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly forcePathStyle: boolean;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** Explicit mode, or undefined: WHEN_REQUIRED for non-AWS endpoints, the SDK default for AWS. */
  readonly checksum?: ChecksumMode;
}

export interface HealthConfig {
  readonly mediaThresholdMb: number;
  readonly sessionsThresholdMb: number;
  readonly mongoTimeoutMs: number;
  /** Our own setting (WAHA has no PostgreSQL health check); absent: 3000 ms. */
  readonly postgresTimeoutMs?: number;
}

/** Where a value came from: `flag`, `env:NAME`, `.env:NAME` or `default`. */
export type ValueSource = 'flag' | `env:${string}` | `.env:${string}` | 'default';

export interface Resolved {
  value: string | undefined;
  source: ValueSource;
}

export interface Config {
  readonly sessions: SessionsConfig;
  readonly media: MediaConfig;
  readonly s3: S3Config;
  readonly health: HealthConfig;
  readonly apiKey?: string;
  readonly envFile?: string;
  /** How a setting was resolved, for `--verbose` and for health details. */
  source(key: SettingKey): Resolved;
}

export interface LoadOptions {
  flags: Readonly<Record<string, unknown>>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * flags > environment (WAHA's names) > .env file > WAHA's defaults.
 * Sections are validated when first used, so a bad health threshold does not stop `inspect`,
 * and every bad value is reported as a usage error naming the flag and the variable.
 */
export function loadConfig(options: LoadOptions): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const { dotenv, envFile } = readEnvFile(envFileFlag(options.flags), cwd);
  const cache = new Map<SettingKey, Resolved>();

  const resolve = (key: SettingKey): Resolved => {
    let resolved = cache.get(key);
    if (!resolved) {
      resolved = resolveSetting(settingByKey(key), options.flags, env, dotenv);
      cache.set(key, resolved);
    }
    return resolved;
  };
  const text = (key: SettingKey): string | undefined => {
    const value = resolve(key).value;
    return value === undefined || value === '' ? undefined : value;
  };

  for (const setting of SETTINGS) {
    if ('secret' in setting && setting.secret) registerSecret(text(setting.key));
  }

  const sections = {
    sessions: (): SessionsConfig => {
      const mongoUrl = secretFromFile(text('mongoUrlFile'), 'mongoUrlFile', cwd) ?? text('mongoUrl');
      registerUrlSecrets(mongoUrl);
      if (mongoUrl !== undefined) validateMongoUrl(mongoUrl, resolve);
      const postgresUrl = secretFromFile(text('postgresUrlFile'), 'postgresUrlFile', cwd) ?? text('postgresUrl');
      registerUrlSecrets(postgresUrl);
      if (postgresUrl !== undefined) validatePostgresUrl(postgresUrl, resolve);
      const toMongoUrl = secretFromFile(text('toMongoUrlFile'), 'toMongoUrlFile', cwd) ?? text('toMongoUrl');
      registerUrlSecrets(toMongoUrl);
      if (toMongoUrl !== undefined) validateMongoUrl(toMongoUrl, resolve, ['toMongoUrl', 'toMongoUrlFile']);
      const toPostgresUrl = secretFromFile(text('toPostgresUrlFile'), 'toPostgresUrlFile', cwd) ?? text('toPostgresUrl');
      registerUrlSecrets(toPostgresUrl);
      if (toPostgresUrl !== undefined) validatePostgresUrl(toPostgresUrl, resolve, ['toPostgresUrl', 'toPostgresUrlFile']);
      return {
        sessionsDir: path.resolve(cwd, text('sessionsDir')!),
        namespace: validateNamespace(text('namespace'), 'namespace', resolve),
        sessionNamespace: validateNamespace(text('sessionNamespace'), 'sessionNamespace', resolve),
        mongoUrl,
        postgresUrl,
        toMongoUrl,
        toPostgresUrl,
        toNamespace: validateNamespace(text('toNamespace'), 'toNamespace', resolve),
        toSessionNamespace: validateNamespace(text('toSessionNamespace'), 'toSessionNamespace', resolve),
      };
    },
    media: (): MediaConfig => {
      let lifetimeSeconds: number | undefined;
      let postgresUrl: { value?: string } | undefined;
      return {
        mediaDir: path.resolve(cwd, text('mediaDir')!),
        storage: parsed('mediaStorage', parseMediaStorage, 'LOCAL, S3 or POSTGRESQL', resolve),
        sessionNamespace: validateNamespace(text('sessionNamespace'), 'sessionNamespace', resolve),
        // Read when a command uses it (media … postgres), so a bad URL does not stop `health` or S3 commands.
        get postgresUrl() {
          if (!postgresUrl) {
            const value = secretFromFile(text('mediaPostgresUrlFile'), 'mediaPostgresUrlFile', cwd) ?? text('mediaPostgresUrl');
            registerUrlSecrets(value);
            if (value !== undefined) validatePostgresUrl(value, resolve, ['mediaPostgresUrl', 'mediaPostgresUrlFile']);
            postgresUrl = { value };
          }
          return postgresUrl.value;
        },
        // Validated when a command uses it (media clean), so `health` is not stopped by it.
        get lifetimeSeconds() {
          lifetimeSeconds ??= parsed('lifetime', parseDuration, 'seconds or a duration like 180s, 15m, 36h, 7d', resolve);
          return lifetimeSeconds;
        },
      };
    },
    s3: (): S3Config => {
      const secretAccessKey = secretFromFile(text('s3SecretFile'), 's3SecretFile', cwd) ?? text('s3SecretAccessKey');
      registerSecret(secretAccessKey);
      return {
        bucket: text('s3Bucket'),
        region: text('s3Region'),
        endpoint: text('s3Endpoint'),
        forcePathStyle: parsed('s3ForcePathStyle', parseBoolean, 'true or false', resolve),
        accessKeyId: text('s3AccessKeyId'),
        secretAccessKey,
        checksum: text('s3Checksum') === undefined
          ? undefined
          : parsed('s3Checksum', parseChecksum, 'when-required or when-supported', resolve),
      };
    },
    health: (): HealthConfig => ({
      mediaThresholdMb: parsed('mediaThresholdMb', nonNegative, 'a number of megabytes', resolve),
      sessionsThresholdMb: parsed('sessionsThresholdMb', nonNegative, 'a number of megabytes', resolve),
      mongoTimeoutMs: parsed('mongoTimeout', positive, 'a number of milliseconds', resolve),
      postgresTimeoutMs: parsed('postgresTimeout', positive, 'a number of milliseconds', resolve),
    }),
  };

  const memo = new Map<string, unknown>();
  const lazy = <T>(name: keyof typeof sections): T => {
    if (!memo.has(name)) memo.set(name, Object.freeze(sections[name]()));
    return memo.get(name) as T;
  };

  return Object.freeze({
    get sessions() { return lazy<SessionsConfig>('sessions'); },
    get media() { return lazy<MediaConfig>('media'); },
    get s3() { return lazy<S3Config>('s3'); },
    get health() { return lazy<HealthConfig>('health'); },
    apiKey: text('apiKey'),
    envFile,
    source: resolve,
  });
}

function resolveSetting(
  setting: Setting,
  flags: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv,
  dotenv: Record<string, string>,
): Resolved {
  const flag = flags[setting.key];
  if (flag !== undefined) return { value: flag === true ? 'true' : String(flag), source: 'flag' };
  for (const name of setting.env) {
    if (env[name] !== undefined) return { value: env[name], source: `env:${name}` };
  }
  for (const name of setting.env) {
    if (dotenv[name] !== undefined) return { value: dotenv[name], source: `.env:${name}` };
  }
  return { value: setting.defaultValue, source: 'default' };
}

/** `--env <path>`, or `--env-file <path>`, the same setting (Node takes the second spelling itself on every version). */
function envFileFlag(flags: Readonly<Record<string, unknown>>): unknown {
  if (flags.env !== undefined && flags.envFile !== undefined && flags.env !== flags.envFile) {
    throw new UsageError('--env and --env-file name two different .env files', { hint: 'give one of them' });
  }
  return flags.env ?? flags.envFile;
}

function readEnvFile(flag: unknown, cwd: string): { dotenv: Record<string, string>; envFile?: string } {
  const explicit = typeof flag === 'string' ? path.resolve(cwd, flag) : undefined;
  const file = explicit ?? path.resolve(cwd, '.env');
  if (!explicit && !existsSync(file)) return { dotenv: {} };
  try {
    return { dotenv: parseDotenv(readFileSync(file)), envFile: file };
  } catch (error) {
    throw new UsageError(`Cannot read the .env file ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      // `--env NAME=value` is how docker spells it; here it names a file
      hint: /^[A-Za-z_][A-Za-z0-9_]*=/.test(String(flag)) ? '--env takes the path of a .env file, not NAME=value: set variables in the environment instead' : 'check the path given to --env (or --env-file)',
    });
  }
}

function secretFromFile(file: string | undefined, key: SettingKey, cwd: string): string | undefined {
  if (file === undefined) return undefined;
  const full = path.resolve(cwd, file);
  try {
    return readFileSync(full, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new UsageError(
      `Cannot read ${settingLabel(settingByKey(key))} file ${full}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      { hint: 'give a readable file that holds only the secret' },
    );
  }
}

function describe(key: SettingKey, resolved: Resolved): string {
  const where = resolved.source === 'flag' ? 'from the flag' : resolved.source === 'default' ? 'the default' : `from ${resolved.source.replace(':', ' ')}`;
  return `${settingLabel(settingByKey(key))} (${where})`;
}

function parsed<T>(
  key: SettingKey,
  parser: (text: string) => T | undefined,
  expected: string,
  resolve: (key: SettingKey) => Resolved,
): T {
  const resolved = resolve(key);
  const value = parser(resolved.value ?? '');
  if (value === undefined) {
    throw new UsageError(`Invalid value "${resolved.value}" for ${describe(key, resolved)}: expected ${expected}`, {
      hint: 'fix the flag or the environment variable',
    });
  }
  return value;
}

function validateMongoUrl(url: string, resolve: (key: SettingKey) => Resolved, keys: [SettingKey, SettingKey] = ['mongoUrl', 'mongoUrlFile']): void {
  const shape = /^mongodb(\+srv)?:\/\/[^/?#\s]+/.test(url);
  const problem = shape ? mongoDriverRejects(url) : 'it must start with mongodb:// or mongodb+srv:// and name a host';
  if (problem !== undefined) {
    const key = resolve(keys[1]).value ? keys[1] : keys[0];
    throw new UsageError(`Invalid MongoDB URL for ${describe(key, resolve(key))}: ${problem}`, {
      hint: 'e.g. mongodb://user:password@host:27017',
      code: 'bad-url',
    });
  }
}

/**
 * What the driver's own parser says of the URL (a port out of range, a bad authMechanism, ...), or
 * undefined: constructing a client parses the URL and its options and opens nothing. The driver is
 * loaded only here, when a MongoDB URL is configured.
 */
function mongoDriverRejects(url: string): string | undefined {
  const { MongoClient } = createRequire(import.meta.url)('mongodb') as typeof import('mongodb');
  try {
    new MongoClient(url); // eslint-disable-line no-new
    return undefined;
  } catch (error) {
    return redact((error as Error).message);
  }
}

/** WAHA's parsePsql accepts `postgres:` and `postgresql:` URLs (postgres.md §1.1); a host is needed. */
function validatePostgresUrl(url: string, resolve: (key: SettingKey) => Resolved, keys: [SettingKey, SettingKey] = ['postgresUrl', 'postgresUrlFile']): void {
  let parsedUrl: URL | undefined;
  try {
    parsedUrl = new URL(url);
  } catch {
    parsedUrl = undefined;
  }
  if (!parsedUrl || (parsedUrl.protocol !== 'postgres:' && parsedUrl.protocol !== 'postgresql:') || !parsedUrl.hostname) {
    const key = resolve(keys[1]).value ? keys[1] : keys[0];
    throw new UsageError(`Invalid PostgreSQL URL for ${describe(key, resolve(key))}: it must start with postgres:// or postgresql:// and name a host`, {
      hint: 'e.g. postgres://user:password@host:5432/postgres?sslmode=disable',
      code: 'bad-url',
    });
  }
}

function validateNamespace(value: string | undefined, key: SettingKey, resolve: (key: SettingKey) => Resolved): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new UsageError(`Invalid namespace "${value}" for ${describe(key, resolve(key))}: use letters, digits, "_" and "-"`);
  }
  return value.toLowerCase();
}

function parseMediaStorage(text: string): MediaStorageKind | undefined {
  const value = text.trim().toUpperCase();
  return value === 'LOCAL' || value === 'S3' || value === 'POSTGRESQL' ? value : undefined;
}

function parseChecksum(text: string): ChecksumMode | undefined {
  const value = text.trim().toUpperCase().replace(/-/g, '_');
  return value === 'WHEN_REQUIRED' || value === 'WHEN_SUPPORTED' ? value : undefined;
}

function nonNegative(text: string): number | undefined {
  const value = parseNumber(text);
  return value !== undefined && value >= 0 ? value : undefined;
}

function positive(text: string): number | undefined {
  const value = parseNumber(text);
  return value !== undefined && value > 0 ? value : undefined;
}
