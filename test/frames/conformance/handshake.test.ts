import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HandshakeError, InvalidArgumentError } from '../../../lib/frames/errors.js';
import { completeUpgrade, rejectUpgrade, validateUpgradeRequest } from '../../../lib/frames/handshake.js';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { expectWsgError } from '../../support/expect-wsg-error.js';
import { RawPeer, acceptKeyFor, rawHttpExchange } from '../../support/raw-peer.js';
import { EchoHarness, expectCleanClose, within } from './echo-harness.js';
import { SAMPLE_KEY, upgradeRequestText } from '../../support/upgrade-request-text.js';

// RFC 6455 §4.2.1 / §4.2.2: the server's opening handshake, driven by hand-written HTTP.
const KEY = SAMPLE_KEY;
const request = upgradeRequestText;

/** A bare http server that runs validateUpgradeRequest() and records what it threw. */
async function validatingServer(): Promise<{ server: Server; port: number; errors: unknown[] }> {
  const errors: unknown[] = [];
  const server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    try {
      validateUpgradeRequest(req);
      rejectUpgrade(socket, 200);
    } catch (error) {
      errors.push(error);
      const e = error as HandshakeError;
      rejectUpgrade(socket, e.status, e.headers, e.message);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, errors };
}

let harness: EchoHarness;
let validating: Awaited<ReturnType<typeof validatingServer>>;
beforeEach(async () => {
  harness = await EchoHarness.start({ handleProtocols: (offered) => (offered.includes('superchat') ? 'superchat' : false) });
  validating = await validatingServer();
});
afterEach(async () => {
  await harness.close();
  await new Promise<void>((resolve) => validating.server.close(() => resolve()));
});

const REFUSALS: Array<[string, string, number, `WSG_ERR_${string}`]> = [
  ['a missing Sec-WebSocket-Key', request({ 'Sec-WebSocket-Key': undefined }), 400, 'WSG_ERR_HANDSHAKE_KEY'],
  ['a Sec-WebSocket-Key that is not 16 bytes', request({ 'Sec-WebSocket-Key': 'c2hvcnQ=' }), 400, 'WSG_ERR_HANDSHAKE_KEY'],
  ['a Sec-WebSocket-Key that is not base64', request({ 'Sec-WebSocket-Key': '!!!!!!!!!!!!!!!!!!!!!!==' }), 400, 'WSG_ERR_HANDSHAKE_KEY'],
  ['two Sec-WebSocket-Key headers', request({ 'Sec-WebSocket-Key': KEY }).replace('\r\n\r\n', `\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`), 400, 'WSG_ERR_HANDSHAKE_KEY'],
  ['Upgrade: h2c instead of websocket', request({ Upgrade: 'h2c' }), 400, 'WSG_ERR_HANDSHAKE_UPGRADE'],
  ['Sec-WebSocket-Version: 8', request({ 'Sec-WebSocket-Version': '8' }), 426, 'WSG_ERR_HANDSHAKE_VERSION'],
  ['no Sec-WebSocket-Version', request({ 'Sec-WebSocket-Version': undefined }), 426, 'WSG_ERR_HANDSHAKE_VERSION'],
  ['method POST', request({}, 'POST'), 405, 'WSG_ERR_HANDSHAKE_METHOD'],
  ['a repeated subprotocol', request({ 'Sec-WebSocket-Protocol': 'chat, chat' }), 400, 'WSG_ERR_HANDSHAKE_PROTOCOL'],
  ['a subprotocol that is not a token', request({ 'Sec-WebSocket-Protocol': 'chat room' }), 400, 'WSG_ERR_HANDSHAKE_PROTOCOL'],
  ['an empty subprotocol in the list', request({ 'Sec-WebSocket-Protocol': 'chat,,superchat' }), 400, 'WSG_ERR_HANDSHAKE_PROTOCOL'],
  ['a malformed Sec-WebSocket-Extensions', request({ 'Sec-WebSocket-Extensions': 'permessage-deflate; =1' }), 400, 'WSG_ERR_HANDSHAKE_EXTENSION'],
];

describe('RFC 6455 §4.2.1 the server refuses a bad upgrade request with a real HTTP error', () => {
  it.each(REFUSALS)('answers %s with the right status, never 101, and closes the socket', async (_name, raw, status) => {
    const response = await rawHttpExchange(harness.port, raw);
    expect(response.status).toBe(status);
    expect(response.headers['connection']).toBe('close');
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.body, 'latin1'));
    if (status === 426) expect(response.headers['sec-websocket-version']).toBe('13');
    if (status === 405) expect(response.headers['allow']).toBe('GET');
    expect(harness.sides).toEqual([]);
  });

  it.each(REFUSALS)('validateUpgradeRequest() throws HandshakeError with its code and status for %s', async (_name, raw, status, code) => {
    const response = await rawHttpExchange(validating.port, raw);
    expect(response.status).toBe(status);
    expect(validating.errors).toHaveLength(1);
    expect(validating.errors[0]).toBeInstanceOf(HandshakeError);
    // A refused handshake closes nothing: there is no WebSocket yet, so no closeCode.
    const error = expectWsgError(validating.errors[0], code) as HandshakeError;
    expect(error.status).toBe(status);
  });

  it('answers a plain GET without Upgrade with 426, Upgrade: websocket, and closes as the client asked', async () => {
    const exchange = rawHttpExchange(harness.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    // RFC 9112 §9.6: a server that receives "Connection: close" closes after its response.
    const response = await within(exchange, 1000, 'server kept the connection open after answering 426 to a request with Connection: close');
    expect(response.status).toBe(426);
    expect(response.headers['upgrade']).toBe('websocket');
  });

  it('answers 404 for an upgrade to a path other than the configured one', async () => {
    const h = await EchoHarness.start({ path: '/ws' });
    try {
      expect((await rawHttpExchange(h.port, request({}, 'GET', '/other'))).status).toBe(404);
      const { peer, side } = await h.connect({ path: '/ws?token=1' });
      await expectCleanClose(peer, side);
    } finally {
      await h.close();
    }
  });
});

describe('RFC 6455 §4.2.2 the server accepts a valid upgrade', () => {
  it('answers 101 with the Sec-WebSocket-Accept of the RFC example key', async () => {
    expect(acceptKeyFor(KEY)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const { peer, side } = await harness.connect({ key: KEY });
    const response = peer.response!;
    expect(response.status).toBe(101);
    expect(response.headers['upgrade']?.toLowerCase()).toBe('websocket');
    expect(response.headers['connection']?.toLowerCase()).toBe('upgrade');
    expect(response.headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    await expectCleanClose(peer, side);
  });

  it('accepts header tokens in any case and in lists (Connection: keep-alive, Upgrade)', async () => {
    const { peer, side } = await harness.connect({ headers: { Connection: 'keep-alive, Upgrade', Upgrade: 'WebSocket' } });
    await expectCleanClose(peer, side);
  });

  it('selects the subprotocol chosen by handleProtocols and reports it on the connection', async () => {
    const { peer, side } = await harness.connect({ headers: { 'Sec-WebSocket-Protocol': 'chat, superchat' } });
    expect(peer.response?.headers['sec-websocket-protocol']).toBe('superchat');
    expect(side.conn.protocol).toBe('superchat');
    await expectCleanClose(peer, side);
  });

  it('answers without Sec-WebSocket-Protocol when handleProtocols declines every offer', async () => {
    const { peer, side } = await harness.connect({ headers: { 'Sec-WebSocket-Protocol': 'chat' } });
    expect(peer.response?.headers['sec-websocket-protocol']).toBeUndefined();
    expect(side.conn.protocol).toBe('');
    await expectCleanClose(peer, side);
  });

  it('keeps serving other connections after refusing one', async () => {
    expect((await rawHttpExchange(harness.port, request({ 'Sec-WebSocket-Version': '7' }))).status).toBe(426);
    const { peer, side } = await harness.connect();
    await peer.sendText('still here');
    expect((await peer.nextFrame()).payload.toString()).toBe('still here');
    await expectCleanClose(peer, side);
  });

  it('closes every client with 1001 when the server closes', async () => {
    const { peer } = await harness.connect();
    const closing = harness.server.close();
    const close = await peer.closeFrame();
    expect(close.code).toBe(1001);
    await peer.sendClose(1001);
    await peer.closed;
    await closing;
    // The listening socket is gone: the kernel refuses the TCP connection itself.
    const late = RawPeer.connect(harness.port);
    await expect(late).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', port: harness.port });
  });
});

/**
 * A bare http server whose upgrade handler is the test's: it runs validateUpgradeRequest() and
 * then `answer`. Whatever `answer` throws is recorded and refused with a plain 500, so a header
 * that was refused never reaches the client, and one that slipped through does.
 */
async function answeringServer(
  answer: (socket: Duplex, head: Buffer, key: string) => WebSocketConnection | void,
): Promise<{ port: number; thrown: unknown[]; close: () => Promise<void> }> {
  const thrown: unknown[] = [];
  const opened: WebSocketConnection[] = [];
  const server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const { key } = validateUpgradeRequest(req);
    try {
      const conn = answer(socket, head, key);
      // Only reached when the headers were accepted: close at once so the exchange ends.
      if (conn !== undefined) {
        opened.push(conn);
        conn.close(1000);
      }
    } catch (error) {
      thrown.push(error);
      rejectUpgrade(socket, 500);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    thrown,
    close: async () => {
      for (const conn of opened) conn.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Each entry would split the response or forge a header if written as it is.
const INJECTED_HEADERS: Array<[string, Record<string, string>]> = [
  ['CR LF in a value (response splitting)', { 'X-Room': 'lobby\r\nSet-Cookie: session=forged' }],
  ['a bare LF in a value', { 'X-Room': 'lobby\nSet-Cookie: session=forged' }],
  ['a bare CR in a value', { 'X-Room': 'lobby\rSet-Cookie: session=forged' }],
  ['CR LF CR LF in a value (a forged body)', { 'X-Room': 'lobby\r\n\r\nSet-Cookie: session=forged' }],
  ['a NUL byte in a value', { 'X-Room': 'lobby\u0000Set-Cookie: session=forged' }],
  ['CR LF in a name', { 'X-Room: lobby\r\nSet-Cookie': 'session=forged' }],
  ['a colon in a name', { 'Set-Cookie:': 'session=forged' }],
  ['a space in a name', { 'Set-Cookie session': 'forged' }],
  ['an empty name', { '': 'session=forged' }],
];

describe('response header validation (header injection)', () => {
  // Mutation caught: checkHeaders() skipped (made a no-op) in lib/frames/handshake.ts.
  let site: Awaited<ReturnType<typeof answeringServer>> | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });

  it.each(INJECTED_HEADERS)('completeUpgrade() refuses %s with InvalidArgumentError WSG_ERR_INVALID_ARGUMENT and writes no 101', async (_name, headers) => {
    site = await answeringServer((socket, head, key) => completeUpgrade(socket, head, { key, headers, closeTimeout: 100 }));
    const response = await rawHttpExchange(site.port, request({}));
    expect(response.status).toBe(500);
    expect(response.raw).not.toContain('session=forged');
    expect(response.raw).not.toContain('101 Switching Protocols');
    expect(site.thrown).toHaveLength(1);
    expect(site.thrown[0]).toBeInstanceOf(InvalidArgumentError);
    expectWsgError(site.thrown[0], 'WSG_ERR_INVALID_ARGUMENT');
  });

  it.each(INJECTED_HEADERS)('rejectUpgrade() refuses %s with InvalidArgumentError WSG_ERR_INVALID_ARGUMENT and writes nothing', async (_name, headers) => {
    site = await answeringServer((socket) => rejectUpgrade(socket, 403, headers, 'denied'));
    const response = await rawHttpExchange(site.port, request({}));
    expect(response.status).toBe(500);
    expect(response.raw).not.toContain('session=forged');
    expect(response.raw).not.toContain('403');
    expect(site.thrown).toHaveLength(1);
    expect(site.thrown[0]).toBeInstanceOf(InvalidArgumentError);
    expectWsgError(site.thrown[0], 'WSG_ERR_INVALID_ARGUMENT');
  });

  it('completeUpgrade() refuses a subprotocol carrying CR LF with WSG_ERR_INVALID_ARGUMENT and writes no 101', async () => {
    site = await answeringServer((socket, head, key) => completeUpgrade(socket, head, { key, protocol: 'chat\r\nSet-Cookie: session=forged', closeTimeout: 100 }));
    const response = await rawHttpExchange(site.port, request({ 'Sec-WebSocket-Protocol': 'chat' }));
    expect(response.status).toBe(500);
    expect(response.raw).not.toContain('session=forged');
    expectWsgError(site.thrown[0], 'WSG_ERR_INVALID_ARGUMENT');
  });

  it('completeUpgrade() writes valid extra headers (every token character; values with spaces and tabs) into the 101', async () => {
    site = await answeringServer((socket, head, key) =>
      completeUpgrade(socket, head, { key, headers: { 'X-Room': 'lobby 1', "X-Trace_Id!#$%&'*+-.^`|~": 'a\tb' }, closeTimeout: 100 }),
    );
    const response = await rawHttpExchange(site.port, request({}));
    expect(response.status).toBe(101);
    expect(response.headers['x-room']).toBe('lobby 1');
    expect(response.headers["x-trace_id!#$%&'*+-.^`|~"]).toBe('a\tb');
    expect(site.thrown).toEqual([]);
  });

  it('rejectUpgrade() writes valid extra headers into the refusal', async () => {
    site = await answeringServer((socket) => rejectUpgrade(socket, 401, { 'WWW-Authenticate': 'Bearer realm="chat"' }, 'log in first'));
    const response = await rawHttpExchange(site.port, request({}));
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="chat"');
    expect(response.body).toBe('log in first');
    expect(site.thrown).toEqual([]);
  });
});
