import { afterAll, describe, expect, it } from 'vitest';
import { checkMongo, checkMongoPermissions } from '../../src/health/mongo.js';
import { connectMongo, mongoUrl } from '../support/mongo.js';
import { closedPort, hungServer, tcpProxy } from './helpers.js';

const TIMEOUT = 800;
/** The check answers within its timeout plus the driver's grace and scheduling slack. */
const WITHIN = TIMEOUT + 700;

async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const value = await work;
  return [value, Date.now() - started];
}

describe('mongodb check', () => {
  it('is up with WAHA\'s message against a real server', async () => {
    expect(await checkMongo({ url: mongoUrl(), timeoutMs: 3000 })).toEqual({ status: 'up', message: 'Up and running' });
  });

  it('keeps WAHA\'s down fields and says the connection was refused, within the timeout', async () => {
    const port = await closedPort();
    const [detail, ms] = await timed(checkMongo({ url: `mongodb://u:secretpw@127.0.0.1:${port}`, timeoutMs: TIMEOUT }));
    expect(detail).toMatchObject({ status: 'down', error: 'Timeout', reason: 'refused' });
    expect(detail.detail).toMatch(/connection refused/);
    expect(JSON.stringify(detail)).not.toContain('secretpw');
    expect(ms).toBeLessThan(WITHIN);
  });

  it('says timeout for a server that accepts and never answers', async () => {
    const hung = await hungServer();
    try {
      const [detail, ms] = await timed(checkMongo({ url: `mongodb://127.0.0.1:${hung.port}`, timeoutMs: TIMEOUT }));
      expect(detail).toMatchObject({ status: 'down', error: 'Timeout', reason: 'timeout' });
      expect(ms).toBeLessThan(WITHIN);
    } finally {
      await hung.stop();
    }
  });

  it('says dns for a host that does not resolve', async () => {
    const detail = await checkMongo({ url: 'mongodb://no-such-host.invalid:27017', timeoutMs: TIMEOUT });
    expect(detail).toMatchObject({ status: 'down', error: 'Timeout', reason: 'dns' });
  });

  it('goes from up to down when the server stops during the test', async () => {
    const proxy = await tcpProxy(mongoUrl());
    const url = `mongodb://127.0.0.1:${proxy.port}`;
    expect(await checkMongo({ url, timeoutMs: 3000 })).toMatchObject({ status: 'up' });
    await proxy.stop();
    const [detail, ms] = await timed(checkMongo({ url, timeoutMs: TIMEOUT }));
    expect(detail).toMatchObject({ status: 'down', error: 'Timeout', reason: 'refused' });
    expect(ms).toBeLessThan(WITHIN);
  });
});

describe('mongodb.permissions check', () => {
  const client = connectMongo();
  afterAll(async () => (await client).close());

  it('creates and drops a probe database, leaving nothing behind', async () => {
    const detail = await checkMongoPermissions({ url: mongoUrl(), timeoutMs: 3000 });
    expect(detail).toMatchObject({ status: 'up', database: expect.stringMatching(/^waha_storage_probe_[0-9a-f]{8}$/) });
    const { databases } = await (await client).db().admin().listDatabases({ nameOnly: true });
    expect(databases.map((db) => db.name)).not.toContain(detail.database);
  });

  it('is down with the connection reason when MongoDB is unreachable', async () => {
    const port = await closedPort();
    const detail = await checkMongoPermissions({ url: `mongodb://127.0.0.1:${port}`, timeoutMs: TIMEOUT });
    expect(detail).toMatchObject({ status: 'down', reason: 'refused' });
  });
});
