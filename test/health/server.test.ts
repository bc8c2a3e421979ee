import { afterEach, describe, expect, it } from 'vitest';
import { OperationError, UsageError } from '../../src/errors.js';
import { fetchServerHealth, healthUrl } from '../../src/health/server.js';
import { closedPort, fakeWaha, HEALTHY_BODY, hungServer, UNHEALTHY_BODY, type Stoppable } from './helpers.js';

const running: Stoppable[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((server) => server.stop())); });

async function waha(status: number, body: unknown) {
  const server = await fakeWaha(status, body);
  running.push(server);
  return server;
}

describe('--server URL', () => {
  it('appends /health to the base URL, keeping a path prefix, and keeps a URL that names /health', () => {
    expect(healthUrl('http://localhost:3000').toString()).toBe('http://localhost:3000/health');
    expect(healthUrl('https://example.com/waha/').toString()).toBe('https://example.com/waha/health');
    expect(healthUrl('http://localhost:3000/health').toString()).toBe('http://localhost:3000/health');
  });

  it('rejects a URL that does not parse or is not http', () => {
    expect(() => healthUrl('not a url')).toThrow(UsageError);
    expect(() => healthUrl('ftp://host/')).toThrow(/use http:\/\/ or https:\/\//);
  });
});

describe('fetchServerHealth', () => {
  it('returns a 200 terminus answer as it is, sending the API key as X-Api-Key', async () => {
    const server = await waha(200, HEALTHY_BODY);
    const result = await fetchServerHealth({ url: server.url, apiKey: 'the-key', timeoutMs: 2000 });
    expect(result).toEqual(HEALTHY_BODY);
    expect(server.paths).toEqual(['/health']);
    expect(server.requests[0]!['x-api-key']).toBe('the-key');
  });

  it('returns a 503 terminus answer as an unhealthy result', async () => {
    const server = await waha(503, UNHEALTHY_BODY);
    expect(await fetchServerHealth({ url: server.url, timeoutMs: 2000 })).toEqual(UNHEALTHY_BODY);
  });

  it('explains 422 as health checks only in Plus', async () => {
    const server = await waha(422, { statusCode: 422, message: 'Available in WAHA Plus' });
    const failure = fetchServerHealth({ url: server.url, timeoutMs: 2000 });
    await expect(failure).rejects.toThrow(OperationError);
    await expect(failure).rejects.toThrow(/422: this WAHA version has health checks only in Plus/);
  });

  it('explains 401 as a wrong or missing API key', async () => {
    const server = await waha(401, { statusCode: 401, message: 'Unauthorized' });
    await expect(fetchServerHealth({ url: server.url, timeoutMs: 2000 })).rejects.toThrow(/401: wrong or missing API key/);
  });

  it('refuses a 503 that is not a health result (a proxy page)', async () => {
    const server = await waha(503, '<html>Service Unavailable</html>');
    await expect(fetchServerHealth({ url: server.url, timeoutMs: 2000 })).rejects.toThrow(/503 without a health result/);
  });

  it('says so when the server is unreachable or does not answer', async () => {
    const port = await closedPort();
    await expect(fetchServerHealth({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 })).rejects.toThrow(/unreachable: connection refused/);
    const hung = await hungServer();
    running.push(hung);
    await expect(fetchServerHealth({ url: `http://127.0.0.1:${hung.port}`, timeoutMs: 300 })).rejects.toThrow(/did not answer within 300 ms/);
  });
});
