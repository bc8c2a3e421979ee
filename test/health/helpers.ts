/** Stand-ins for broken servers: a port that refuses, a server that accepts and never answers, a proxy that can be stopped. */
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/servers.js';

export const tmpDir = (prefix = 'health') => mkdtempSync(path.join(os.tmpdir(), `waha-storage-${prefix}-`));

export interface Stoppable {
  port: number;
  stop(): Promise<void>;
}

async function listen(server: net.Server | http.Server, sockets: Set<net.Socket>): Promise<Stoppable> {
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    stop: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Accepts TCP connections and never sends a byte: the "hung server" case. */
export function hungServer(): Promise<Stoppable> {
  const sockets = new Set<net.Socket>();
  return listen(net.createServer(() => {}), sockets);
}

/** A port nothing listens on: the "refused" case. */
export const closedPort = freePort;

/** Forwards to a real server until stopped: the "server stopped during the test" case. */
export function tcpProxy(targetUrl: string): Promise<Stoppable> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return listen(server, sockets);
}

export interface FakeWaha extends Stoppable {
  url: string;
  /** Headers of the requests received. */
  requests: http.IncomingHttpHeaders[];
  paths: string[];
}

/** A stand-in for WAHA's GET /health that answers with the given status and body. */
export async function fakeWaha(status: number, body: unknown): Promise<FakeWaha> {
  const requests: http.IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(request.headers);
    paths.push(request.url ?? '');
    response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  const running = await listen(server, new Set());
  return { ...running, url: `http://127.0.0.1:${running.port}`, requests, paths };
}

export const HEALTHY_BODY = {
  status: 'ok',
  info: {
    'mediaFiles.space': { status: 'up', path: '/tmp/whatsapp-files', diskPath: '/', free: 5_000_000_000, threshold: 104857600 },
    mongodb: { status: 'up', message: 'Up and running' },
  },
  error: {},
  details: {
    'mediaFiles.space': { status: 'up', path: '/tmp/whatsapp-files', diskPath: '/', free: 5_000_000_000, threshold: 104857600 },
    mongodb: { status: 'up', message: 'Up and running' },
  },
};

export const UNHEALTHY_BODY = {
  status: 'error',
  info: { 'mediaFiles.space': HEALTHY_BODY.details['mediaFiles.space'] },
  error: { mongodb: { status: 'down', error: 'Timeout' } },
  details: { 'mediaFiles.space': HEALTHY_BODY.details['mediaFiles.space'], mongodb: { status: 'down', error: 'Timeout' } },
};
