/**
 * An s3rver of its own for the S3 benchmarks (child process, --openssl-legacy-provider), seeded with
 * WAHA-shaped keys; a bucket is cloned on disk (cp -a keeps the mtimes s3rver reports as
 * LastModified) so every tool starts from the same data.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { ROOT } from './common.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface BenchS3 {
  endpoint: string;
  directory: string;
  client: S3Client;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startBenchS3(): Promise<BenchS3> {
  const port = await freePort();
  const directory = mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'bench-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, [
    '--openssl-legacy-provider', path.join(ROOT, 'node_modules', 's3rver', 'bin', 's3rver.js'),
    '--address', '127.0.0.1', '--port', String(port), '--directory', directory, '--silent',
  ], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint, directory, client,
    stop: async () => {
      client.destroy();
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** `sessions` x `perSession` objects `<session>/<messageId>.jpeg`; every other one `expiredMs` old. */
export async function seedBucket(s3: BenchS3, bucket: string, sessions: number, perSession: number, expiredMs: number): Promise<void> {
  await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const limit = pLimit(32);
  const body = Buffer.alloc(256, 7);
  const expired: string[] = [];
  const tasks: Promise<unknown>[] = [];
  for (let s = 0; s < sessions; s++) {
    for (let i = 0; i < perSession; i++) {
      const key = `session${s}/false_111@c.us_${String(i).padStart(8, '0')}.jpeg`;
      if (i % 2) expired.push(key);
      tasks.push(limit(() => s3.client.send(new PutObjectCommand({
        Bucket: bucket, Key: key, Body: body, ContentType: 'image/jpeg',
        Metadata: { 'waha-session': `session${s}`, 'waha-message-id': key.slice(key.indexOf('/') + 1, -5) },
      }))));
    }
  }
  await Promise.all(tasks);
  await new Promise((resolve) => setTimeout(resolve, 500)); // s3rver answers before its writes close
  const when = new Date(Date.now() - expiredMs);
  for (const key of expired) utimesSync(path.join(s3.directory, bucket, `${key}._S3rver_object`), when, when);
}

/** A second bucket with the same objects and ages, copied on disk. */
export async function cloneBucket(s3: BenchS3, from: string, to: string): Promise<void> {
  execFileSync('cp', ['-a', path.join(s3.directory, from), path.join(s3.directory, to)]);
}

export function ensureRclone(): string {
  try {
    return execFileSync('rclone', ['version'], { encoding: 'utf8', env: rcloneEnv('http://x') }).split('\n')[0]!;
  } catch {
    console.log('installing rclone (Debian package) ...');
    execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq rclone'], { stdio: 'inherit' });
    return execFileSync('rclone', ['version'], { encoding: 'utf8', env: rcloneEnv('http://x') }).split('\n')[0]!;
  }
}

/** rclone configured through its environment: remote `s3:` pointing at `endpoint`. */
export function rcloneEnv(endpoint: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.AWS_CA_BUNDLE; // rclone refuses to start with a bundle it cannot use
  return {
    ...env,
    RCLONE_CONFIG_S3_TYPE: 's3', RCLONE_CONFIG_S3_PROVIDER: 'Other', RCLONE_CONFIG_S3_ENDPOINT: endpoint,
    RCLONE_CONFIG_S3_ACCESS_KEY_ID: 'S3RVER', RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: 'S3RVER',
    RCLONE_CONFIG_S3_REGION: 'us-east-1', RCLONE_CONFIG_S3_FORCE_PATH_STYLE: 'true',
  };
}

export function wahaEnv(endpoint: string, bucket: string): NodeJS.ProcessEnv {
  return {
    ...process.env, WAHA_S3_BUCKET: bucket, WAHA_S3_REGION: 'us-east-1', WAHA_S3_ENDPOINT: endpoint,
    WAHA_S3_FORCE_PATH_STYLE: 'true', WAHA_S3_ACCESS_KEY_ID: 'S3RVER', WAHA_S3_SECRET_ACCESS_KEY: 'S3RVER',
  };
}
