import { afterEach, describe, expect, it } from '@jest/globals';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { parseRequestHead, type RequestHead } from '../../lib/frames/request-head-reader.js';
import { UpgradeOnlyServer } from '../../lib/frames/upgrade-only-server.js';
import { WsServer } from '../../lib/frames/websocket-server.js';
import type { WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { acceptKeyFor, rawHttpExchange } from '../support/raw-peer.js';
import { SAMPLE_KEY, upgradeRequestText } from '../support/upgrade-request-text.js';

// A WsServer that owns its port reads request heads itself (lib/frames/request-head-reader.ts)
// instead of through node:http; these pin what that reader accepts, refuses and hands on.

/** A masked client text frame (RFC 6455 §5.2), small payloads only. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Writes `parts` one by one (a tick apart) and collects everything until the server ends. */
async function exchangeInParts(port: number, parts: Array<string | Buffer>): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'connect');
  for (const part of parts) {
    socket.write(part);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { socket, received: () => Buffer.concat(chunks).toString('latin1') };
}

let server: WsServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function ownServer(): Promise<number> {
  server = new WsServer({ port: 0 });
  return (await server.listen()).port;
}

describe('request head reader: heads a WsServer on its own port accepts', () => {
  it('completes the handshake for a head that arrives one byte per write', async () => {
    const port = await ownServer();
    const connected = once(server!, 'connection');
    const request = upgradeRequestText();
    const { socket, received } = await exchangeInParts(port, [...request]);
    const [conn, req] = (await connected) as [WebSocketConnection, import('node:http').IncomingMessage];
    expect(req.headers['sec-websocket-key']).toBe(SAMPLE_KEY);
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/');
    // 'connection' follows the 101's write; its bytes reach the client a moment later.
    while (!received().includes('\r\n\r\n')) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(received()).toContain(`Sec-WebSocket-Accept: ${acceptKeyFor(SAMPLE_KEY)}`);
    socket.destroy();
    await conn.closed;
  });

  it('hands the bytes written behind the head, in the same write, to the connection as its first frames', async () => {
    const port = await ownServer();
    const messages: string[] = [];
    server!.on('connection', (conn: WebSocketConnection) => conn.on('message', (m: string) => messages.push(m)));
    const { socket } = await exchangeInParts(port, [Buffer.concat([Buffer.from(upgradeRequestText(), 'latin1'), maskedText('first'), maskedText('second')])]);
    for (let i = 0; i < 100 && messages.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(messages).toEqual(['first', 'second']);
    socket.destroy();
  });

  it('hands pipelined frames that follow the head in later writes to the connection', async () => {
    const port = await ownServer();
    const messages: string[] = [];
    server!.on('connection', (conn: WebSocketConnection) => conn.on('message', (m: string) => messages.push(m)));
    const { socket } = await exchangeInParts(port, [upgradeRequestText().slice(0, 20), upgradeRequestText().slice(20), maskedText('later')]);
    for (let i = 0; i < 100 && messages.length < 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(messages).toEqual(['later']);
    socket.destroy();
  });

  it('answers a request without Upgrade with 426 Upgrade Required and closes', async () => {
    const port = await ownServer();
    const answer = await rawHttpExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer.status).toBe(426);
    expect(answer.headers['upgrade']).toBe('websocket');
    expect(answer.body).toBe('Upgrade Required');
  });
});

describe('request head reader: heads it refuses', () => {
  it('answers 431 to a head over 16 KiB without waiting for its end', async () => {
    const port = await ownServer();
    const answer = await rawHttpExchange(port, `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n`);
    expect(answer.status).toBe(431);
  });

  it('answers 431 to a complete head over 16 KiB', async () => {
    const port = await ownServer();
    const answer = await rawHttpExchange(port, upgradeRequestText({ 'X-Big': 'a'.repeat(17 * 1024) }));
    expect(answer.status).toBe(431);
  });

  it.each([
    ['a malformed request line', 'GET /\r\nHost: x\r\n\r\n', 400],
    ['a request line with two spaces', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost x\r\n\r\n', 400],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400],
    ['a folded header line', 'GET / HTTP/1.1\r\nHost: x\r\n  y\r\n\r\n', 400],
    ['a control character in a value', 'GET / HTTP/1.1\r\nHost: x\x01y\r\n\r\n', 400],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ])('answers %s with %i and closes', async (_what, text, status) => {
    const port = await ownServer();
    expect((await rawHttpExchange(port, text)).status).toBe(status);
  });

  it('answers 408 to a head not complete within its deadline', async () => {
    const listener = new UpgradeOnlyServer({ timeoutMs: 50 });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const answer = await rawHttpExchange((listener.address() as AddressInfo).port, 'GET / HTTP/1.1\r\nHost: x\r\n');
      expect(answer.status).toBe(408);
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  it('lets close() finish while a head is half read', async () => {
    const port = await ownServer();
    const { socket } = await exchangeInParts(port, ['GET / HTTP/1.1\r\nHost: x\r\n']);
    const closedSocket = once(socket, 'close');
    await server!.close();
    server = null;
    await closedSocket;
  });
});

describe('request head reader: parseRequestHead', () => {
  it('joins repeated headers as node:http does: commas, cookie with "; ", set-cookie as a list, Host first wins', () => {
    const head = parseRequestHead(
      'GET /chat?x=1 HTTP/1.1\r\nHost: a\r\nHost: b\r\nX-A: 1\r\nx-a: 2\r\nCookie: c=1\r\nCookie: d=2\r\nSet-Cookie: e\r\nSet-Cookie: f',
    ) as RequestHead;
    expect(head.url).toBe('/chat?x=1');
    expect(head.httpVersionMinor).toBe(1);
    expect(head.headers['host']).toBe('a');
    expect(head.headers['x-a']).toBe('1, 2');
    expect(head.headers['cookie']).toBe('c=1; d=2');
    expect(head.headers['set-cookie']).toEqual(['e', 'f']);
    expect(head.rawHeaders.slice(0, 4)).toEqual(['Host', 'a', 'Host', 'b']);
  });

  it('trims optional whitespace around a value and keeps obs-text bytes', () => {
    const head = parseRequestHead('GET / HTTP/1.1\r\nX-Name: \t caf\xe9 \t') as RequestHead;
    expect(head.headers['x-name']).toBe('caf\xe9');
  });
});
