/**
 * The S3 client built from WAHA's variables. For endpoints that are not AWS, the SDK's checksum
 * calculation and validation are WHEN_REQUIRED by default: several S3-compatible services (and
 * s3rver) mishandle the SDK's default checksums (streamed bodies stored with aws-chunked framing).
 * The SDK is imported lazily so commands that do not touch S3 stay fast.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ChecksumMode, S3Config } from '../config/config.js';
import { UsageError } from '../errors.js';

export interface S3Target {
  client: S3Client;
  bucket: string;
  checksum: ChecksumMode;
  /** Requests that needed more than one attempt, and the extra attempts they took (counted as they end). */
  readonly retries: RetryCount;
}

export interface RetryCount {
  requests: number;
  attempts: number;
}

/**
 * Throttling (503 SlowDown), 500/502/503/504, timeouts and dropped connections are retried by the
 * SDK with backoff; adaptive mode also slows the client down while the service throttles it.
 */
export const S3_MAX_ATTEMPTS = 8;

/** The checksum mode in effect: explicit, else WHEN_REQUIRED off AWS, else the SDK default. */
export function checksumModeFor(config: S3Config): ChecksumMode {
  if (config.checksum) return config.checksum;
  const endpoint = config.endpoint;
  if (!endpoint) return 'WHEN_SUPPORTED';
  try {
    return /(^|\.)amazonaws\.com(\.cn)?$/i.test(new URL(endpoint).hostname) ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
  } catch {
    return 'WHEN_REQUIRED';
  }
}

/** Which variable to set when a required S3 setting is missing; undefined when all are present. */
export function missingS3Setting(config: S3Config): string | undefined {
  if (!config.bucket) return '--s3-bucket / WAHA_S3_BUCKET';
  if (!config.region) return '--s3-region / WAHA_S3_REGION';
  if (!config.accessKeyId) return 'WAHA_S3_ACCESS_KEY_ID';
  if (!config.secretAccessKey) return 'WAHA_S3_SECRET_ACCESS_KEY (or --s3-secret-file)';
  if (config.endpoint) {
    try {
      new URL(config.endpoint);
    } catch {
      return '--s3-endpoint / WAHA_S3_ENDPOINT (not a URL)';
    }
  }
  return undefined;
}

export async function createS3Target(config: S3Config, options: { maxAttempts?: number; retryMode?: 'standard' | 'adaptive' } = {}): Promise<S3Target> {
  const missing = missingS3Setting(config);
  if (missing) throw new UsageError(`S3 is not configured: set ${missing}`, { hint: 'the same variables the WAHA server uses', code: 'missing-setting' });
  // The SDK's Node 22 notice is for developers, not for an operator's terminal or cron mail.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Client } = await import('@aws-sdk/client-s3');
  const checksum = checksumModeFor(config);
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKeyId!, secretAccessKey: config.secretAccessKey! },
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    maxAttempts: options.maxAttempts ?? S3_MAX_ATTEMPTS,
    retryMode: options.retryMode ?? 'adaptive',
  });
  const retries: RetryCount = { requests: 0, attempts: 0 };
  countRetries(client, retries);
  keepRetrying(client, options.maxAttempts ?? S3_MAX_ATTEMPTS);
  return { client, bucket: config.bucket!, checksum, retries };
}

interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
  getRetryCost?(): number | undefined;
}

interface RetryStrategy {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(token: RetryToken, error: { errorType: string }): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
}

/**
 * The SDK's retry strategy also keeps a retry quota per client (500 tokens, 5 to 10 spent per
 * retry, one back per success), meant to stop retry storms in long-lived servers. A clean of a
 * large bucket through a throttling service spends it and then fails requests on their first
 * error; here a retryable error is retried with backoff until maxAttempts even when the quota is
 * spent. The adaptive rate limiting (slowing down while throttled) stays the SDK's.
 */
function keepRetrying(client: S3Client, maxAttempts: number): void {
  const config = client.config as unknown as { retryStrategy: () => Promise<RetryStrategy> };
  const original = config.retryStrategy;
  let wrapped: Promise<RetryStrategy> | undefined;
  config.retryStrategy = () => (wrapped ??= Promise.resolve(original()).then((inner): RetryStrategy => ({
    acquireInitialRetryToken: (scope) => inner.acquireInitialRetryToken(scope),
    recordSuccess: (token) => inner.recordSuccess(token),
    refreshRetryTokenForRetry: async (token, error) => {
      try {
        return await inner.refreshRetryTokenForRetry(token, error);
      } catch (refused) {
        const retryable = error.errorType === 'THROTTLING' || error.errorType === 'TRANSIENT';
        const count = token.getRetryCount() + 1;
        if (!retryable || count >= maxAttempts) throw refused;
        const base = error.errorType === 'THROTTLING' ? 500 : 100;
        const delay = Math.floor(Math.random() * Math.min(20_000, base * 2 ** count));
        return { getRetryCount: () => count, getRetryDelay: () => delay, getRetryCost: () => undefined };
      }
    },
  })));
}

/** Outside the retry loop: each command's final `$metadata.attempts`, success or failure. */
function countRetries(client: S3Client, retries: RetryCount): void {
  const count = (metadata: { attempts?: number } | undefined) => {
    const extra = (metadata?.attempts ?? 1) - 1;
    if (extra > 0) {
      retries.requests++;
      retries.attempts += extra;
    }
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const result = await next(args);
        count((result.output as { $metadata?: { attempts?: number } }).$metadata);
        return result;
      } catch (error) {
        count((error as { $metadata?: { attempts?: number } }).$metadata);
        throw error;
      }
    },
    { step: 'initialize', name: 'wahaStorageRetryCount', priority: 'high' },
  );
}
