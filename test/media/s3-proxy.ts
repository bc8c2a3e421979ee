/**
 * A tiny HTTP proxy in front of s3rver: counts and records the requests a client sends, and can
 * rewrite a response (e.g. to make DeleteObjects report a per-key error, which s3rver never does).
 * Used by the tests and by the benchmarks (request counts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface ProxyOptions {
  /** Rewrites a response body; return undefined to pass it through. */
  rewrite?: (request: RecordedRequest, status: number, body: string) => { status?: number; body: string } | undefined;
  /** Keep request bodies (tests); benchmarks turn it off. */
  keepBodies?: boolean;
}

export interface S3Proxy {
  url: string;
  requests: RecordedRequest[];
  count(kind?: 'list' | 'deleteObjects' | 'deleteObject' | 'head' | 'other'): number;
  close(): Promise<void>;
}

export function requestKind(request: Pick<RecordedRequest, 'method' | 'url'>): 'list' | 'deleteObjects' | 'deleteObject' | 'head' | 'other' {
  const url = new URL(request.url, 'http://x');
  if (request.method === 'POST' && url.searchParams.has('delete')) return 'deleteObjects';
  if (request.method === 'DELETE') return 'deleteObject';
  if (request.method === 'HEAD') return 'head';
  const segments = url.pathname.split('/').filter(Boolean);
  if (request.method === 'GET' && segments.length <= 1 && !url.searchParams.has('location')) return 'list';
  return 'other';
}

export async function startS3Proxy(target: string, options: ProxyOptions = {}): Promise<S3Proxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
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
      const forward = http.request({
        host: upstream.hostname, port: upstream.port, method: record.method, path: record.url, agent,
        headers: { ...incoming.headers, host: upstream.host },
      }, (response) => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('end', () => {
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
      forward.on('error', (error) => {
        outgoing.writeHead(502);
        outgoing.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (kind) => (kind ? requests.filter((request) => requestKind(request) === kind).length : requests.length),
    close: () => new Promise((resolve) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
