/**
 * A tiny HTTP proxy in front of an S3 test server: counts and records the requests a client sends,
 * can rewrite a response (e.g. to make DeleteObjects report a per-key error, which s3rver never
 * does), delay requests, and inject faults from a seeded random sequence: 503 SlowDown answers and
 * dropped connections (before the request reaches the server, or after it was carried out, so the
 * client retries something already done). Used by the tests and by the benchmarks (request counts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** What the proxy did: passed it on, answered 503 itself, dropped it before or after the server saw it. */
  fate?: 'forwarded' | 'unavailable' | 'dropped-before' | 'dropped-after';
}

export interface FaultOptions {
  /** Seed of the random sequence (same seed, same sequence of decisions). */
  seed: number;
  /** Share of requests answered 503 SlowDown without reaching the server (e.g. 0.3). */
  unavailable?: number;
  /** Share of requests whose connection is dropped (e.g. 0.1): half before, half after the server answered. */
  drop?: number;
  /**
   * Faults one logical request (one SDK invocation id, every attempt of it) gets at most (default 4,
   * half the tool's 8 attempts): transient faults, as a real outage's are; without a bound, which
   * request meets a long run of the sequence depends on the order concurrent requests arrive in.
   */
  perRequest?: number;
}

export interface ProxyOptions {
  /** Rewrites a response body; return undefined to pass it through. */
  rewrite?: (request: RecordedRequest, status: number, body: string) => { status?: number; body: string } | undefined;
  /** Keep request bodies (tests); benchmarks turn it off. */
  keepBodies?: boolean;
  /** Milliseconds to hold a request before passing it on. */
  delay?: (request: RecordedRequest) => number;
  faults?: FaultOptions;
}

export interface S3Proxy {
  url: string;
  requests: RecordedRequest[];
  count(kind?: RequestKind): number;
  /** Faults injected so far. */
  injected: { unavailable: number; dropped: number };
  close(): Promise<void>;
}

/** `lock`: any request on the tool's lock objects (under waha-storage-locks/). */
export type RequestKind = 'list' | 'deleteObjects' | 'deleteObject' | 'head' | 'lock' | 'other';

export function requestKind(request: Pick<RecordedRequest, 'method' | 'url'>): RequestKind {
  const url = new URL(request.url, 'http://x');
  if (url.pathname.includes('/waha-storage-locks/')) return 'lock';
  if (request.method === 'POST' && url.searchParams.has('delete')) return 'deleteObjects';
  if (request.method === 'DELETE') return 'deleteObject';
  if (request.method === 'HEAD') return 'head';
  const segments = url.pathname.split('/').filter(Boolean);
  if (request.method === 'GET' && segments.length <= 1 && !url.searchParams.has('location')) return 'list';
  return 'other';
}

/** Keys named in a DeleteObjects request body (XML-escaped as sent). */
export function deletedKeys(request: RecordedRequest): string[] {
  return [...request.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]!);
}

/** mulberry32: a small seeded generator, so a fault sequence can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>';

export async function startS3Proxy(target: string, options: ProxyOptions = {}): Promise<S3Proxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const injected = { unavailable: 0, dropped: 0 };
  const random = options.faults ? seeded(options.faults.seed) : undefined;
  const faultsOf = new Map<string, number>();
  /** One decision per request, drawn in arrival order. */
  const decide = (invocation: string): RecordedRequest['fate'] => {
    if (!random || !options.faults) return 'forwarded';
    const roll = random();
    const seen = faultsOf.get(invocation) ?? 0;
    if (invocation && seen >= (options.faults.perRequest ?? 4)) return 'forwarded';
    const fate = pick(roll);
    if (fate !== 'forwarded' && invocation) faultsOf.set(invocation, seen + 1);
    return fate;
  };
  const pick = (roll: number): RecordedRequest['fate'] => {
    const faults = options.faults!;
    const unavailable = faults.unavailable ?? 0;
    const drop = faults.drop ?? 0;
    if (roll < unavailable) return 'unavailable';
    if (roll < unavailable + drop / 2) return 'dropped-before';
    if (roll < unavailable + drop) return 'dropped-after';
    return 'forwarded';
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const record: RecordedRequest = {
        method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers,
        body: options.keepBodies === false ? '' : body.toString('utf8'),
      };
      requests.push(record);
      record.fate = decide(String(incoming.headers['amz-sdk-invocation-id'] ?? ''));
      if (record.fate === 'unavailable') {
        injected.unavailable++;
        outgoing.writeHead(503, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(SLOW_DOWN)) });
        outgoing.end(SLOW_DOWN);
        return;
      }
      if (record.fate === 'dropped-before') {
        injected.dropped++;
        incoming.socket.destroy();
        return;
      }
      const forward = () => http.request({
        host: upstream.hostname, port: upstream.port, method: record.method, path: record.url, agent,
        headers: incoming.headers, // the Host header as signed (versitygw checks the signature over it)
      }, (response) => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('end', () => {
          if (record.fate === 'dropped-after') {
            injected.dropped++;
            incoming.socket.destroy();
            return;
          }
          let responseBody = Buffer.concat(parts);
          let status = response.statusCode ?? 500;
          const headers = { ...response.headers };
          const rewritten = options.rewrite?.(record, status, responseBody.toString('utf8'));
          if (rewritten) {
            responseBody = Buffer.from(rewritten.body);
            status = rewritten.status ?? status;
            headers['content-length'] = String(responseBody.length);
            delete headers['transfer-encoding'];
          }
          outgoing.writeHead(status, headers);
          outgoing.end(responseBody);
        });
      });
      const send = () => {
        const request = forward();
        request.on('error', (error) => {
          outgoing.writeHead(502);
          outgoing.end(String(error));
        });
        request.end(body);
      };
      const wait = options.delay?.(record) ?? 0;
      if (wait > 0) setTimeout(send, wait);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    injected,
    count: (kind) => (kind ? requests.filter((request) => requestKind(request) === kind).length : requests.length),
    close: () => new Promise((resolve) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
