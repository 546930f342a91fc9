import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { WsClient } from '../../lib/http2/ws-client.js';
import { WsServer, type WsServerOptions } from '../../lib/frames/websocket-server.js';
import type { WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { expectCodeInText, expectThrowsWsgError } from '../support/expect-wsg-error.js';
import { upgradeRequestText } from '../support/upgrade-request-text.js';

// Timing bounds have wide margins: the box is a loaded 2-core machine. A deadline of 300 ms
// must not fire before ~250 ms (timers never run early; the margin is clock granularity) and
// must have fired well before the next second.
const DEADLINE = 300;
const EARLIEST = DEADLINE - 50;
const LATEST = DEADLINE + 2_500;

let ws: WsServer | null = null;
let http: Server | null = null;
const sockets: Socket[] = [];
const clients: WebSocketConnection[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const client of clients.splice(0)) client.terminate();
  await ws?.close();
  ws = null;
  if (http !== null) {
    const server = http;
    http = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
});

async function ownPort(options: Omit<WsServerOptions, 'port' | 'server'>): Promise<number> {
  ws = new WsServer({ port: 0, ...options });
  return (await ws.listen()).port;
}

/** A Nest-less stand-in for an application's HTTP server: plain requests answered, WsServer attached. */
async function attachedPort(options: Omit<WsServerOptions, 'port' | 'server'>): Promise<number> {
  http = createServer((_req, res) => res.end('plain'));
  ws = new WsServer({ server: http, ...options });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return (http.address() as AddressInfo).port;
}

async function open(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

/** Resolves with what the server sent and how long after `since` the socket closed. */
function closedAfter(socket: Socket, since: number): Promise<{ elapsed: number; received: string }> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.once('close', () => resolve({ elapsed: performance.now() - since, received: Buffer.concat(chunks).toString('latin1') })));
}

/** A slowloris: the upgrade request one byte per 100 ms, never finished in time. */
function dribble(socket: Socket): NodeJS.Timeout {
  const bytes = Buffer.from(upgradeRequestText());
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= bytes.length - 1) return;
    socket.write(bytes.subarray(at, at + 1));
    at++;
  }, 100);
  socket.once('close', () => clearInterval(timer));
  return timer;
}

async function connectClient(port: number): Promise<WebSocketConnection> {
  const client = await WsClient.connect(`ws://127.0.0.1:${port}/`);
  clients.push(client);
  return client;
}

describe('limit handshakeTimeout on a WsServer that owns its port (the head reader)', () => {
  it('answers 408 WSG_ERR_HANDSHAKE_TIMEOUT to a slowloris (1 byte per 100 ms) and closes at the deadline', async () => {
    const port = await ownPort({ handshakeTimeout: DEADLINE });
    const socket = await open(port);
    const since = performance.now();
    dribble(socket);
    const { elapsed, received } = await closedAfter(socket, since);
    expect(received.startsWith('HTTP/1.1 408 ')).toBe(true);
    expectCodeInText(received, 'WSG_ERR_HANDSHAKE_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(EARLIEST);
    expect(elapsed).toBeLessThan(LATEST);
  });

  it('reaps 200 sockets that never send a byte, and a normal client connecting meanwhile stays open past the deadline', async () => {
    const port = await ownPort({ handshakeTimeout: DEADLINE });
    const silent = await Promise.all(Array.from({ length: 200 }, () => open(port)));
    const since = performance.now();
    const closes = silent.map((socket) => closedAfter(socket, since));
    const client = await connectClient(port);
    const results = await Promise.all(closes);
    expect(Math.max(...results.map((r) => r.elapsed))).toBeLessThan(LATEST);
    await new Promise((resolve) => setTimeout(resolve, DEADLINE));
    expect(client.isOpen).toBe(true);
    expect(ws!.clients.size).toBe(1);
  });
});

describe('limit handshakeTimeout on a node:http server WsServer attaches to', () => {
  it('destroys a slowloris still without its first request head at the deadline', async () => {
    const port = await attachedPort({ handshakeTimeout: DEADLINE });
    const socket = await open(port);
    const since = performance.now();
    dribble(socket);
    const { elapsed, received } = await closedAfter(socket, since);
    expect(received).toBe('');
    expect(elapsed).toBeGreaterThanOrEqual(EARLIEST);
    expect(elapsed).toBeLessThan(LATEST);
  });

  it('reaps 200 silent sockets; a normal client still upgrades', async () => {
    const port = await attachedPort({ handshakeTimeout: DEADLINE });
    const silent = await Promise.all(Array.from({ length: 200 }, () => open(port)));
    const since = performance.now();
    const closes = silent.map((socket) => closedAfter(socket, since));
    const client = await connectClient(port);
    const results = await Promise.all(closes);
    expect(Math.max(...results.map((r) => r.elapsed))).toBeLessThan(LATEST);
    expect(client.isOpen).toBe(true);
  });

  it('leaves a keep-alive HTTP client alone once its first request is in, however long it then idles', async () => {
    const port = await attachedPort({ handshakeTimeout: DEADLINE });
    const socket = await open(port);
    const answers: string[] = [];
    socket.on('data', (chunk: Buffer) => answers.push(chunk.toString('latin1')));
    const request = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n';
    socket.write(request);
    await new Promise((resolve) => setTimeout(resolve, DEADLINE * 3));
    expect(socket.destroyed).toBe(false);
    socket.write(request);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answers.join('').split('HTTP/1.1 200').length - 1).toBe(2);
    expect(socket.destroyed).toBe(false);
  });
});

describe('option handshakeTimeout and the caps: validation', () => {
  it.each([
    ['handshakeTimeout', -1],
    ['maxConnections', 0],
    ['maxConnectionsPerIp', 1.5],
    ['maxPendingHandshakes', 0],
    ['maxPendingHandshakesPerIp', -3],
  ])('refuses %s = %p with WSG_ERR_INVALID_OPTION', (name, value) => {
    expectThrowsWsgError(() => new WsServer({ port: 0, [name]: value }), 'WSG_ERR_INVALID_OPTION');
  });
});

describe('limit maxConnections and maxConnectionsPerIp (HTTP/1.1 road)', () => {
  async function upgrade(port: number, localAddress = '127.0.0.1'): Promise<string> {
    const socket = await open(port, localAddress);
    const answer = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    socket.write(upgradeRequestText());
    return answer;
  }

  it('answers 503 WSG_ERR_SERVER_BUSY with Retry-After once maxConnections are open, from any address', async () => {
    const port = await ownPort({ maxConnections: 1 });
    expect(await upgrade(port)).toMatch(/^HTTP\/1\.1 101 /);
    const refused = await upgrade(port, '127.0.0.2');
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused).toMatch(/\r\nRetry-After: 5\r\n/);
    expectCodeInText(refused, 'WSG_ERR_SERVER_BUSY');
  });

  it('answers 429 WSG_ERR_IP_LIMIT with Retry-After once maxConnectionsPerIp are open from that address; another address gets in', async () => {
    const port = await ownPort({ maxConnectionsPerIp: 1 });
    expect(await upgrade(port)).toMatch(/^HTTP\/1\.1 101 /);
    const refused = await upgrade(port);
    expect(refused).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused).toMatch(/\r\nRetry-After: 5\r\n/);
    expectCodeInText(refused, 'WSG_ERR_IP_LIMIT');
    expect(await upgrade(port, '127.0.0.2')).toMatch(/^HTTP\/1\.1 101 /);
  });

  it('frees the slot when a connection closes', async () => {
    const port = await ownPort({ maxConnections: 1 });
    const first = await connectClient(port);
    first.close();
    await first.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await connectClient(port)).isOpen).toBe(true);
  });
});
