/**
 * media lifecycle show|set|remove s3 (issue 15, item 2) through the built binary, against moto's S3
 * server (s3rver and versitygw have no lifecycle rules; moto stores them and never runs them, so
 * the tests read the configuration back).
 */
import {
  CreateBucketCommand, GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand, S3Client, type LifecycleRule,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canonical } from '../../src/media/lifecycle.js';
import { json, runCli } from '../support/cli.js';
import { startS3Proxy, type S3Proxy } from './s3-proxy.js';
import { s3Env, uniqueBucket } from './seed.js';

const endpoint = inject('motoEndpoint');
let client: S3Client;
let proxy: S3Proxy;

/** Rules of the bucket's owner that the tool must leave exactly as they are. */
const OTHER_RULES: LifecycleRule[] = [
  { ID: 'archive-logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] },
  { ID: 'abort-uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
  { ID: 'tagged-temp', Status: 'Disabled', Filter: { Tag: { Key: 'temp', Value: 'yes' } }, Expiration: { Days: 1 } },
];

async function rulesOf(bucket: string): Promise<LifecycleRule[] | undefined> {
  try {
    return (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchLifecycleConfiguration') return undefined;
    throw error;
  }
}

async function bucketWith(rules: LifecycleRule[]): Promise<string> {
  const bucket = uniqueBucket();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  if (rules.length) await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
  return bucket;
}

const lifecycle = (bucket: string, args: string[], extra: { tty?: boolean; input?: string } = {}) =>
  runCli(['media', 'lifecycle', ...args], { env: s3Env(proxy.url, bucket), ...extra });
const lifecycleWrites = () => proxy.requests.filter((request) => request.method !== 'GET' && request.method !== 'HEAD' && request.url.includes('lifecycle'));
const others = (rules: LifecycleRule[] | undefined) => (rules ?? []).filter((rule) => !rule.ID!.startsWith('waha-storage-')).map(canonical).sort();

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  proxy = await startS3Proxy(endpoint);
});
afterAll(async () => {
  client?.destroy();
  await proxy?.close();
});

describe('media lifecycle s3', () => {
  it('set writes the whole-bucket rule, keeps every other rule as it was, reads it back; a rerun writes nothing', async () => {
    const bucket = await bucketWith(OTHER_RULES);
    const before = others(await rulesOf(bucket));
    const first = await lifecycle(bucket, ['set', 's3', '--older-than', '30d']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/added waha-storage-expire-bucket: every object in the bucket expires 30 days after creation/);
    expect(first.stdout).toMatch(/3 other rules kept as they were\) and read it back: it matches/);
    const rules = await rulesOf(bucket);
    expect(others(rules)).toEqual(before);
    const ours = rules!.find((rule) => rule.ID === 'waha-storage-expire-bucket');
    expect(ours).toMatchObject({ Status: 'Enabled', Expiration: { Days: 30 } });
    expect(ours!.Filter?.Prefix ?? '').toBe('');

    proxy.requests.length = 0;
    const again = await lifecycle(bucket, ['set', '--older-than', '30d', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json(again)).toMatchObject({ schemaVersion: 1, status: 'unchanged', changes: [{ id: 'waha-storage-expire-bucket', action: 'unchanged' }] });
    expect(lifecycleWrites()).toEqual([]);
    const text = await lifecycle(bucket, ['set', '--older-than', '30d']);
    expect(text.stdout).toMatch(/Unchanged/);
  });

  it('per-session rules cover <session>/; show recognises the tool\'s rules among the others', async () => {
    const bucket = await bucketWith(OTHER_RULES);
    const set = await lifecycle(bucket, ['set', '--older-than', '7d', '--session', 'alpha', '--session', 'beta']);
    expect(set.code, set.stderr).toBe(0);
    const show = await lifecycle(bucket, ['show', '--json']);
    expect(show.code, show.stderr).toBe(0);
    const rules = json(show).rules as { id: string; ours: boolean; session: string | null; prefix: string | null; covers: string; expirationDays: number | null }[];
    expect(rules.filter((rule) => rule.ours).map((rule) => [rule.id, rule.session, rule.prefix, rule.expirationDays]).sort()).toEqual([
      ['waha-storage-expire-session-alpha', 'alpha', 'alpha/', 7],
      ['waha-storage-expire-session-beta', 'beta', 'beta/', 7],
    ]);
    expect(rules.filter((rule) => !rule.ours).map((rule) => rule.id).sort()).toEqual(['abort-uploads', 'archive-logs', 'tagged-temp']);
    expect(rules.find((rule) => rule.id === 'abort-uploads')!.covers).toBe('every object in the bucket');
    const table = await lifecycle(bucket, ['show']);
    expect(table.stdout).toMatch(/session alpha \(alpha\/\)/);
    expect(table.stdout).toMatch(/5 rules in s3:\/\/\S+: 2 of the tool's, 3 other/);
  });

  it('replacing a rule asks: without a terminal it needs --yes; --dry-run prints the configuration and writes nothing', async () => {
    const bucket = await bucketWith(OTHER_RULES);
    expect((await lifecycle(bucket, ['set', '--older-than', '30d'])).code).toBe(0);
    const refused = await lifecycle(bucket, ['set', '--older-than', '14d']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect((await rulesOf(bucket))!.find((rule) => rule.ID === 'waha-storage-expire-bucket')!.Expiration!.Days).toBe(30);

    proxy.requests.length = 0;
    const dry = await lifecycle(bucket, ['set', '--older-than', '14d', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would replace waha-storage-expire-bucket: .* 14 days after creation \(was 30 days\)/);
    const printed = JSON.parse(dry.stdout.slice(dry.stdout.indexOf('{')));
    expect(printed.Rules.map((rule: LifecycleRule) => rule.ID).sort()).toEqual(['abort-uploads', 'archive-logs', 'tagged-temp', 'waha-storage-expire-bucket']);
    expect(lifecycleWrites()).toEqual([]);

    const replaced = await lifecycle(bucket, ['set', '--older-than', '14d', '--yes']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect((await rulesOf(bucket))!.find((rule) => rule.ID === 'waha-storage-expire-bucket')!.Expiration!.Days).toBe(14);
  });

  it('on a terminal it asks before replacing; "no" changes nothing', async () => {
    const bucket = await bucketWith([]);
    expect((await lifecycle(bucket, ['set', '--older-than', '30d'])).code).toBe(0);
    const answered = await lifecycle(bucket, ['set', '--older-than', '2d'], { tty: true, input: 'n\r' });
    expect(answered.stdout + answered.stderr).toMatch(/Replace waha-storage-expire-bucket/);
    expect(answered.code).not.toBe(0);
    expect((await rulesOf(bucket))!.map((rule) => rule.Expiration?.Days)).toEqual([30]);
  });

  it('days only: --older-than 36h is a usage error that says so (48h is 2 days)', async () => {
    const bucket = await bucketWith([]);
    const refused = await lifecycle(bucket, ['set', '--older-than', '36h']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not a whole number of days: S3 lifecycle rules expire objects in whole days only/);
    expect(await rulesOf(bucket)).toBeUndefined();
    const hours = await lifecycle(bucket, ['set', '--older-than', '48h', '--json']);
    expect(hours.code, hours.stderr).toBe(0);
    expect((await rulesOf(bucket))!.map((rule) => rule.Expiration?.Days)).toEqual([2]);
    const local = await lifecycle(bucket, ['show', 'local']);
    expect(local.code).toBe(2);
  });

  it('remove takes away only the tool\'s rules, and deletes the configuration when none remain', async () => {
    const bucket = await bucketWith(OTHER_RULES);
    expect((await lifecycle(bucket, ['set', '--older-than', '7d', '--session', 'alpha', '--session', 'beta'])).code).toBe(0);
    const one = await lifecycle(bucket, ['remove', '--session', 'alpha']);
    expect(one.code, one.stderr).toBe(0);
    expect((await rulesOf(bucket))!.map((rule) => rule.ID).sort()).toEqual(['abort-uploads', 'archive-logs', 'tagged-temp', 'waha-storage-expire-session-beta']);
    const all = await lifecycle(bucket, ['remove', '--json']);
    expect(json(all)).toMatchObject({ status: 'written', changes: [{ id: 'waha-storage-expire-session-beta', action: 'remove' }] });
    expect((await rulesOf(bucket))!.map((rule) => rule.ID).sort()).toEqual(['abort-uploads', 'archive-logs', 'tagged-temp']);
    const nothing = await lifecycle(bucket, ['remove']);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toMatch(/none of the tool's rules/);

    const onlyOurs = await bucketWith([]);
    expect((await lifecycle(onlyOurs, ['set', '--older-than', '30d'])).code).toBe(0);
    const removed = await lifecycle(onlyOurs, ['remove']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/Deleted the lifecycle configuration/);
    expect(await rulesOf(onlyOurs)).toBeUndefined();
  });
});
