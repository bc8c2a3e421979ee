/**
 * Every setting, declared once as data: its flag, WAHA's environment variable(s), its default.
 * The CLI builds its options from this table, the loader resolves values from it, and the README's
 * configuration table mirrors it.
 */
/** `general` settings (the .env file) belong to every command that reads settings. */
export type SettingGroup = 'general' | 'sessions' | 'mongo' | 'postgres' | 'target' | 'media' | 'mediaPostgres' | 's3' | 'health' | 'server';

export interface Setting {
  /** Property name in the parsed flags (commander's camelCase of the long flag). */
  key: string;
  flags: string;
  /** Environment variables, WAHA's own spelling first; later ones are accepted aliases. */
  env: readonly string[];
  description: string;
  defaultValue?: string;
  group: SettingGroup;
  secret?: boolean;
}

export const SETTINGS = [
  { key: 'env', flags: '--env <path>', env: [], group: 'general',
    description: 'read settings from this .env file (default: ./.env when present)' },
  // Node reads `--env-file` from the script's arguments too: a missing file stops Node before the tool runs
  { key: 'envFile', flags: '--env-file <path>', env: [], group: 'general',
    description: 'the same as --env; Node checks this spelling first: a missing file is its "node: <path>: not found", exit 9' },
  { key: 'sessionsDir', flags: '--sessions-dir <dir>', env: ['WAHA_LOCAL_STORE_BASE_DIR'], group: 'sessions',
    defaultValue: './.sessions', description: 'local session store base folder' },
  { key: 'namespace', flags: '--namespace <ns>', env: ['WAHA_NAMESPACE'], group: 'sessions',
    description: 'main storage namespace (default: the engine name)' },
  { key: 'sessionNamespace', flags: '--session-namespace <ns>', env: ['WAHA_SESSION_NAMESPACE'], group: 'sessions',
    description: 'session storage namespace (default: the engine name)' },
  { key: 'mongoUrl', flags: '--mongo-url <url>', env: ['WHATSAPP_SESSIONS_MONGO_URL'], group: 'mongo', secret: true,
    description: 'MongoDB session store URL' },
  { key: 'mongoUrlFile', flags: '--mongo-url-file <path>', env: ['WHATSAPP_SESSIONS_MONGO_URL_FILE'], group: 'mongo',
    description: 'read the MongoDB URL from this file' },
  { key: 'postgresUrl', flags: '--postgres-url <url>', env: ['WHATSAPP_SESSIONS_POSTGRESQL_URL'], group: 'postgres', secret: true,
    description: "PostgreSQL session store URL (its database is only the maintenance database; sslmode=disable turns TLS off)" },
  { key: 'postgresUrlFile', flags: '--postgres-url-file <path>', env: ['WHATSAPP_SESSIONS_POSTGRESQL_URL_FILE'], group: 'postgres',
    description: 'read the PostgreSQL URL from this file' },
  // migrate's target when it is another server or namespace (an instance moving to a new server in one verified command)
  { key: 'toMongoUrl', flags: '--to-mongo-url <url>', env: [], group: 'target', secret: true,
    description: "migrate: the target's MongoDB URL when it is not the source's (default: --mongo-url)" },
  { key: 'toMongoUrlFile', flags: '--to-mongo-url-file <path>', env: [], group: 'target',
    description: "migrate: read the target's MongoDB URL from this file" },
  { key: 'toPostgresUrl', flags: '--to-postgres-url <url>', env: [], group: 'target', secret: true,
    description: "migrate: the target's PostgreSQL URL when it is not the source's (default: --postgres-url)" },
  { key: 'toPostgresUrlFile', flags: '--to-postgres-url-file <path>', env: [], group: 'target',
    description: "migrate: read the target's PostgreSQL URL from this file" },
  { key: 'toNamespace', flags: '--to-namespace <ns>', env: [], group: 'target',
    description: "migrate: the target's main namespace (default: --namespace)" },
  { key: 'toSessionNamespace', flags: '--to-session-namespace <ns>', env: [], group: 'target',
    description: "migrate: the target's session namespace (default: --session-namespace)" },
  { key: 'mediaDir', flags: '--media-dir <dir>', env: ['WHATSAPP_FILES_FOLDER'], group: 'media',
    defaultValue: '/tmp/whatsapp-files', description: 'local media folder' },
  { key: 'lifetime', flags: '--lifetime <duration>', env: ['WHATSAPP_FILES_LIFETIME'], group: 'media',
    defaultValue: '180', description: 'media lifetime (seconds or 15m, 36h, 7d; 0 = keep forever)' },
  { key: 'mediaStorage', flags: '--media-storage <LOCAL|S3|POSTGRESQL>', env: ['WAHA_MEDIA_STORAGE'], group: 'media',
    defaultValue: 'LOCAL', description: 'media store used when no store word is given' },
  { key: 'mediaPostgresUrl', flags: '--media-postgres-url <url>', env: ['WAHA_MEDIA_POSTGRESQL_URL'], group: 'mediaPostgres', secret: true,
    description: "PostgreSQL media server URL (WAHA_MEDIA_STORAGE=POSTGRESQL: a media table in each session database; the URL's database is only the maintenance database)" },
  { key: 'mediaPostgresUrlFile', flags: '--media-postgres-url-file <path>', env: ['WAHA_MEDIA_POSTGRESQL_URL_FILE'], group: 'mediaPostgres',
    description: 'read the PostgreSQL media URL from this file' },
  { key: 's3Bucket', flags: '--s3-bucket <name>', env: ['WAHA_S3_BUCKET'], group: 's3', description: 'S3 bucket' },
  { key: 's3Region', flags: '--s3-region <region>', env: ['WAHA_S3_REGION'], group: 's3', description: 'S3 region' },
  { key: 's3Endpoint', flags: '--s3-endpoint <url>', env: ['WAHA_S3_ENDPOINT'], group: 's3',
    description: 'S3 endpoint (MinIO, R2, ...)' },
  { key: 's3ForcePathStyle', flags: '--s3-force-path-style [bool]', env: ['WAHA_S3_FORCE_PATH_STYLE'], group: 's3',
    defaultValue: 'false', description: 'use path-style S3 URLs' },
  { key: 's3AccessKeyId', flags: '--s3-access-key-id <id>', env: ['WAHA_S3_ACCESS_KEY_ID'], group: 's3', secret: true,
    description: 'S3 access key id' },
  { key: 's3SecretAccessKey', flags: '--s3-secret-access-key <key>', env: ['WAHA_S3_SECRET_ACCESS_KEY'], group: 's3',
    secret: true, description: 'S3 secret key (prefer the variable or --s3-secret-file)' },
  { key: 's3SecretFile', flags: '--s3-secret-file <path>', env: ['WAHA_S3_SECRET_ACCESS_KEY_FILE'], group: 's3',
    description: 'read the S3 secret key from this file' },
  { key: 's3Checksum', flags: '--s3-checksum <when-required|when-supported>', env: ['WAHA_STORAGE_S3_CHECKSUM'],
    group: 's3', description: 'SDK checksum mode (default: when-required for non-AWS endpoints)' },
  { key: 'mediaThresholdMb', flags: '--media-threshold-mb <mb>', env: ['WHATSAPP_HEALTH_MEDIA_FILES_THRESHOLD_MB'],
    group: 'health', defaultValue: '100', description: 'free space below which mediaFiles.space is down' },
  { key: 'sessionsThresholdMb', flags: '--sessions-threshold-mb <mb>',
    env: ['WHATSAPP_HEALTH_SESSION_FILES_THRESHOLD_MB', 'WHATSAPP_HEALTH_SESSIONS_FILES_THRESHOLD_MB'],
    group: 'health', defaultValue: '100', description: 'free space below which sessionsFiles.space is down' },
  { key: 'mongoTimeout', flags: '--mongo-timeout <ms>',
    env: ['WHATSAPP_HEALTH_MONGO_TIMEOUT_MS', 'WHATSAPP_HEALTH_MONGODB_TIMEOUT'],
    group: 'health', defaultValue: '3000', description: 'MongoDB health check timeout in milliseconds' },
  { key: 'postgresTimeout', flags: '--postgres-timeout <ms>', env: ['WAHA_STORAGE_HEALTH_POSTGRES_TIMEOUT_MS'],
    group: 'health', defaultValue: '3000', description: 'PostgreSQL health check timeout in milliseconds (health --extended)' },
  { key: 'apiKey', flags: '--api-key <key>', env: ['WHATSAPP_API_KEY', 'WAHA_API_KEY'], group: 'server', secret: true,
    description: 'WAHA API key for --server' },
] as const satisfies readonly Setting[];

export type SettingKey = (typeof SETTINGS)[number]['key'];

export function settingsOf(groups: readonly SettingGroup[]): Setting[] {
  return SETTINGS.filter((setting) => setting.group === 'general' || groups.includes(setting.group));
}

export function settingByKey(key: SettingKey): Setting {
  return SETTINGS.find((setting) => setting.key === key)!;
}

/** `--sessions-dir / WAHA_LOCAL_STORE_BASE_DIR`: how errors name a setting. */
export function settingLabel(setting: Setting): string {
  const flag = setting.flags.split(' ')[0];
  return setting.env.length ? `${flag} / ${setting.env[0]}` : flag!;
}
