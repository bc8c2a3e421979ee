/**
 * `s3` (extended): HeadBucket with the client WAHA's variables describe; with `deep`, a probe
 * object is put, headed, read back and deleted under `waha-storage-probe/`, checking that metadata
 * and content come back intact (S3-compatible services that mishandle the SDK's checksums store
 * streamed bodies with aws-chunked framing, which this catches).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../config/config.js';
import { redact } from '../config/redact.js';
import { createS3Target, missingS3Setting } from '../media/s3-client.js';
import type { CheckDetail } from './result.js';

export interface S3CheckOptions {
  config: S3Config;
  deep: boolean;
  /** Per request. */
  timeoutMs: number;
}

export const PROBE_PREFIX = 'waha-storage-probe/';
const PROBE_METADATA = 'waha-storage-probe';

export type S3DownReason = 'not-configured' | 'no-such-bucket' | 'forbidden' | 'credentials' | 'unreachable' | 'dns'
  | 'timeout' | 'corrupted' | 'other';

export async function checkS3(options: S3CheckOptions): Promise<CheckDetail> {
  const missing = missingS3Setting(options.config);
  if (missing) {
    return { status: 'down', reason: 'not-configured', missing, detail: `S3 is not configured: set ${missing}` };
  }
  const { client, bucket, checksum } = await createS3Target(options.config, { maxAttempts: 1 });
  const where = { bucket, ...(options.config.endpoint ? { endpoint: redact(options.config.endpoint) } : {}), checksum };
  const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
  let step = 'HeadBucket';
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(options.timeoutMs) });
    if (!options.deep) return { status: 'up', ...where };
    step = 'probe';
    const problems = await probeObject(client, bucket, options.timeoutMs, (name) => { step = name; });
    if (problems.length === 0) return { status: 'up', ...where, probe: 'intact' };
    return {
      status: 'down', ...where, reason: 'corrupted', problems,
      detail: `the probe object did not come back intact: ${problems.join('; ')}`,
      hint: checksum === 'WHEN_SUPPORTED'
        ? 'S3-compatible services often mishandle the SDK checksums: try --s3-checksum when-required'
        : 'the service changes objects on the way in or out; check its S3 compatibility',
    };
  } catch (error) {
    const reason = s3Reason(error);
    return { status: 'down', ...where, reason, detail: `${step} failed: ${describeS3Failure(reason, bucket, error)}` };
  } finally {
    client.destroy();
  }
}

/** Put, head, get, delete; returns what did not come back as written. Always tries to delete. */
async function probeObject(client: S3Client, bucket: string, timeoutMs: number, onStep: (step: string) => void): Promise<string[]> {
  const { PutObjectCommand, HeadObjectCommand, GetObjectCommand, DeleteObjectCommand } = await import('@aws-sdk/client-s3');
  const token = randomBytes(8).toString('hex');
  const key = `${PROBE_PREFIX}${token}.txt`;
  const body = `waha-storage health probe ${token}\n`;
  const signal = () => ({ abortSignal: AbortSignal.timeout(timeoutMs) });
  const problems: string[] = [];
  onStep('PutObject');
  // A streamed body, as media uploads are: that is where aws-chunked framing shows.
  await client.send(new PutObjectCommand({
    Bucket: bucket, Key: key, Body: Readable.from([Buffer.from(body)]), ContentLength: Buffer.byteLength(body),
    ContentType: 'text/plain', Metadata: { [PROBE_METADATA]: token },
  }), signal());
  try {
    onStep('HeadObject');
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), signal());
    if (head.ContentLength !== Buffer.byteLength(body)) problems.push(`HeadObject size ${head.ContentLength}, expected ${Buffer.byteLength(body)}`);
    if (head.Metadata?.[PROBE_METADATA] !== token) problems.push('HeadObject metadata missing or changed');
    onStep('GetObject');
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), signal());
    const content = await got.Body?.transformToString();
    if (content !== body) problems.push(`GetObject content differs (${content?.length ?? 0} characters, expected ${body.length})`);
    if (got.Metadata?.[PROBE_METADATA] !== token) problems.push('GetObject metadata missing or changed');
  } finally {
    onStep('DeleteObject');
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), signal());
  }
  return problems;
}

export function s3Reason(error: unknown): S3DownReason {
  const name = (error as Error)?.name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const code = `${(error as { code?: string })?.code ?? ''} ${(error as { cause?: { code?: string } })?.cause?.code ?? ''}`;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  if (name === 'NoSuchBucket' || (name === 'NotFound' && status === 404)) return 'no-such-bucket';
  if (/InvalidAccessKeyId|SignatureDoesNotMatch|InvalidToken|ExpiredToken/.test(name)) return 'credentials';
  if (status === 403 || name === 'AccessDenied' || name === 'Forbidden') return 'forbidden';
  if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH/.test(code)) return 'unreachable';
  if (/ENOTFOUND|EAI_AGAIN/.test(code)) return 'dns';
  return 'other';
}

function describeS3Failure(reason: S3DownReason, bucket: string, error: unknown): string {
  switch (reason) {
    case 'no-such-bucket': return `bucket "${bucket}" does not exist (check --s3-bucket / WAHA_S3_BUCKET)`;
    case 'credentials': return 'the access key or secret is wrong (check WAHA_S3_ACCESS_KEY_ID and WAHA_S3_SECRET_ACCESS_KEY)';
    case 'forbidden': return `access denied to bucket "${bucket}" (check WAHA_S3_ACCESS_KEY_ID, WAHA_S3_SECRET_ACCESS_KEY and the bucket policy)`;
    case 'unreachable': return 'the endpoint refused the connection (check --s3-endpoint / WAHA_S3_ENDPOINT)';
    case 'dns': return 'the endpoint host name was not found (check --s3-endpoint / WAHA_S3_ENDPOINT)';
    case 'timeout': return 'no answer within the timeout (check the endpoint and the network)';
    default: return redact(`${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`);
  }
}
