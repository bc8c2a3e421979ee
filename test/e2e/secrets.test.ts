/**
 * No secret in any output (issue 14 item 6): webhook customHeaders values, credentials in webhook
 * URL query strings and user info, the HMAC key and the proxy password are masked wherever a config
 * is printed (local and MongoDB, table, detail view and --json); a corrupt creds.json, a corrupt key
 * file and a corrupt archive entry are reported by position, never by content (V8's JSON error
 * would quote the private key or raw bytes). Checked on stdout and stderr, with and without
 * --json and --verbose.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli, type CliResult } from '../support/cli.js';
import { connectMongo, dropNamespace, mongoUrl } from '../support/mongo.js';
import { age, localScenario, type Scenario } from '../support/scenario.js';

const HEADER_VALUES = ['BearerSecretHdr1', 'XApiKeySecret2', 'PlainHeaderSecret3'];
const QUERY_VALUES = ['QryToken4', 'QryKey5', 'QrySecret6', 'QryApiKey7', 'QryApiKey8', 'QryAccess9', 'QryPass10', 'QrySig11', 'QrySignature12'];
const OTHER_CONFIG_VALUES = ['HmacKey13', 'ProxyPass14', 'UserInfoPw15'];
const PRIVATE_KEYS = ['FakePrivKeyAAA16', 'Zk9x', 'FakePrivKeyBBB17', 'Kf18x', 'KeyFilePriv18'];
const ARCHIVE_VALUES = ['Ak19x', 'ArchiveKeySecret19', 'Mf20x', 'ManifestSecret20'];
const SECRETS = [...HEADER_VALUES, ...QUERY_VALUES, ...OTHER_CONFIG_VALUES, ...PRIVATE_KEYS, ...ARCHIVE_VALUES];

const LEAKY_CONFIG = {
  webhooks: [
    {
      url: 'https://hooks.test/wa?token=QryToken4&key=QryKey5&secret=QrySecret6',
      events: ['message'],
      hmac: { key: 'HmacKey13' },
      customHeaders: [
        { name: 'Authorization', value: 'Bearer BearerSecretHdr1' },
        { name: 'X-Api-Key', value: 'XApiKeySecret2' },
        { name: 'X-Tenant', value: 'PlainHeaderSecret3' },
      ],
    },
    {
      url: 'https://hookuser:UserInfoPw15@hooks.test/b?api_key=QryApiKey7&apikey=QryApiKey8&access_token=QryAccess9&password=QryPass10&sig=QrySig11&X-Amz-Signature=QrySignature12&session=default',
      events: ['session.status'],
    },
  ],
  proxy: { server: 'http://proxy.test:3128', username: 'proxyuser', password: 'ProxyPass14' },
  metadata: { team: 'ops' },
};

let scenario: Scenario;
let out: string;
let client: MongoClient;

beforeAll(async () => {
  client = await connectMongo();
  scenario = await localScenario('noweb', 'sec');
  out = await mkdtemp(path.join(os.tmpdir(), 'waha-secrets-'));
  await writeFile(path.join(scenario.folder, 'alpha', '.waha.session.config.json'), JSON.stringify(LEAKY_CONFIG));
  // creds.json: a private key, then raw bytes where a value should be, the start of another key and
  // garbage. V8's message quotes ~10 characters around the bad token: the raw bytes and "Zk9x".
  await mkdir(path.join(scenario.folder, 'leaky'));
  await writeFile(path.join(scenario.folder, 'leaky', 'creds.json'), Buffer.concat([
    Buffer.from('{"noiseKey":{"private":{"type":"Buffer","data":"FakePrivKeyAAA16"}},"signedIdentityKey":{"private":'),
    Buffer.from([0x00, 0x01, 0x1b, 0xff]),
    Buffer.from('Zk9x garbage "FakePrivKeyBBB17"}'),
  ]));
  // A session whose creds are fine but one key file breaks off after a private key.
  await mkdir(path.join(scenario.folder, 'keyleak'));
  await writeFile(path.join(scenario.folder, 'keyleak', 'creds.json'), await readFile(path.join(scenario.folder, 'alpha', 'creds.json')));
  await writeFile(path.join(scenario.folder, 'keyleak', 'pre-key-9.json'), '{"private":Kf18x, "public":"KeyFilePriv18"}');
  await age(scenario.folder); // not "live": migrate and backup refuse folders changed seconds ago
});

afterAll(async () => {
  await dropNamespace(client, scenario.namespace);
  await client.close();
  await scenario?.cleanup();
  if (out) await rm(out, { recursive: true, force: true });
});

function stores(): string[] {
  return ['--sessions-dir', scenario.base, '--namespace', scenario.namespace, '--session-namespace', scenario.namespace, '--mongo-url', mongoUrl()];
}

const VARIANTS: string[][] = [[], ['--json'], ['--verbose'], ['--json', '--verbose']];

function expectNoSecret(result: CliResult, what: string): void {
  const printed = result.stdout + result.stderr;
  for (const secret of SECRETS) expect(printed, `${what} printed ${secret}`).not.toContain(secret);
  // Raw bytes of a damaged file are not echoed either (the only escape sequences are colours, and there are none off a terminal).
  expect(printed, `${what} printed raw bytes`).not.toMatch(/[\u0000-\u0008\u001b\ufffd]/);
}

/** Runs a command in every variant; `args` may depend on the variant (a new output file each time). */
async function runAll(command: string[] | ((variant: number) => string[]), expected: number[]): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (const [index, variant] of VARIANTS.entries()) {
    const args = typeof command === 'function' ? command(index) : command;
    const result = await runCli([...args, ...variant]);
    expect(expected, `${args.join(' ')} ${variant.join(' ')}: exit ${result.code}\n${result.stdout}\n${result.stderr}`).toContain(result.code);
    expectNoSecret(result, `${args[0]} ${variant.join(' ')}`);
    results.push(result);
  }
  return results;
}

function jsonOf(results: CliResult[]): any {
  return json(results[1]!);
}

describe('configs are printed with every secret masked', () => {
  it('inspect local: list, detail view and --json mask header values, query credentials, HMAC key and proxy password', async () => {
    const listing = await runAll(['inspect', 'local', ...stores()], [0]);
    const alpha = jsonOf(listing).sessions.find((session: any) => session.name === 'alpha');
    expect(alpha.config.webhooks[0].customHeaders).toEqual([
      { name: 'Authorization', value: '***' },
      { name: 'X-Api-Key', value: '***' },
      { name: 'X-Tenant', value: '***' },
    ]);
    expect(alpha.config.webhooks[0].url).toBe('https://hooks.test/wa?token=***&key=***&secret=***');
    expect(alpha.config.webhooks[1].url).toBe('https://***@hooks.test/b?api_key=***&apikey=***&access_token=***&password=***&sig=***&X-Amz-Signature=***&session=default');
    expect(alpha.config.webhooks[0].hmac).toEqual({ key: '***' });
    expect(alpha.config.proxy).toEqual({ server: 'http://proxy.test:3128', username: 'proxyuser', password: '***' });
    expect(alpha.config.metadata).toEqual({ team: 'ops' });
    await runAll(['inspect', 'local', '--session', 'alpha', ...stores()], [0]);
  });

  it('a corrupt creds.json is a problem that names the position, never the content', async () => {
    const results = await runAll(['inspect', 'local', '--session', 'leaky', ...stores()], [0]);
    const leaky = jsonOf(results).sessions[0];
    const corrupt = leaky.problems.find((item: any) => item.code === 'creds-corrupt');
    expect(corrupt.message).toMatch(/^creds\.json does not parse \(invalid JSON at line 1, column \d+ \(character \d+ of \d+\): .+\)$/);
    expect(results[0]!.stdout).toMatch(/creds-corrupt: creds\.json does not parse \(invalid JSON at line 1, column \d+/);
  });

  it('migrate local mongo: the failures name positions, and MongoDB then holds the config, printed masked', async () => {
    const migrated = await runAll(['migrate', 'local', 'mongo', ...stores()], [3]);
    const sessions = json(migrated[1]!).sessions;
    expect(sessions.find((session: any) => session.name === 'alpha'), migrated[1]!.stdout).toMatchObject({ status: expect.stringMatching(/done|skipped/) });
    const keyleak = sessions.find((session: any) => session.name === 'keyleak');
    expect(keyleak).toMatchObject({ status: 'failed' });
    expect(keyleak.message).toMatch(/pre-key-9\.json does not parse \(invalid JSON at line 1, column \d+/);
    expect(sessions.find((session: any) => session.name === 'leaky').message).toMatch(/creds\.json does not parse \(invalid JSON at line 1/);

    const fromMongo = await runAll(['inspect', 'mongo', ...stores()], [0]);
    const alpha = jsonOf(fromMongo).sessions.find((session: any) => session.name === 'alpha');
    expect(alpha.store).toBe('mongo');
    expect(alpha.config.webhooks[0].customHeaders.map((header: any) => header.value)).toEqual(['***', '***', '***']);
    expect(alpha.config.webhooks[1].url).toMatch(/\?api_key=\*\*\*&/);
    await runAll(['inspect', 'mongo', '--session', 'alpha', ...stores()], [0]);
    await runAll(['inspect', ...stores()], [0]);
  });

  it('backup, backup verify and restore print no secret; a corrupt archive entry or manifest is reported by position', async () => {
    const archive = path.join(out, 'backup-1.tar.gz');
    await runAll((variant) => ['backup', 'local', '-o', path.join(out, `backup-${variant}.tar.gz`), ...stores()], [3]);
    await runAll(['backup', 'verify', archive], [0]);
    const restoreInto = (variant: number) => ['restore', archive, 'local', '--sessions-dir', path.join(out, `restored-${variant}`), '--namespace', scenario.namespace, '--session-namespace', scenario.namespace];
    await runAll(restoreInto, [0]);

    const damaged = path.join(out, 'damaged.tar.gz');
    await damageArchive(archive, damaged);
    const verified = await runAll(['backup', 'verify', damaged], [3]);
    const problems: { where: string; problem: string }[] = json(verified[1]!).problems;
    expect(problems.find((item) => item.where.endsWith('.json') && item.where.includes('/keys/'))?.problem)
      .toMatch(/^the content does not parse \(invalid JSON at line 1, column \d+ \(character \d+ of \d+\)/);
    expect(problems.find((item) => item.where === 'manifest.json')?.problem).toMatch(/^the manifest does not parse \(invalid JSON at line 1, column \d+/);
  });
});

/** Copies an archive, with its first key entry and its manifest damaged where V8 would quote a secret. */
async function damageArchive(from: string, to: string): Promise<void> {
  const extract = tar.extract();
  const pack = tar.pack();
  let keyDamaged = false;
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => { chunks.push(chunk as Buffer); });
    stream.on('end', () => {
      let data = Buffer.concat(chunks);
      if (!keyDamaged && /\/keys\/[^/]+\.json$/.test(header.name)) {
        keyDamaged = true;
        data = Buffer.from('{"private":Ak19x, "public":"ArchiveKeySecret19"}');
      } else if (header.name === 'manifest.json') {
        data = Buffer.from('{"sessions":[Mf20x, "ManifestSecret20"]}');
      }
      pack.entry({ ...header, size: data.length }, data, next);
    });
  });
  extract.on('finish', () => pack.finalize());
  await Promise.all([
    pipeline(createReadStream(from), createGunzip(), extract),
    pipeline(pack, createGzip(), createWriteStream(to)),
  ]);
  expect(keyDamaged).toBe(true);
}
