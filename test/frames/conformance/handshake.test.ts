import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HandshakeError } from '../../../lib/frames/errors.js';
import { rejectUpgrade, validateUpgradeRequest } from '../../../lib/frames/handshake.js';
import { RawPeer, acceptKeyFor, rawHttpExchange } from '../../support/raw-peer.js';
import { EchoHarness, expectCleanClose, within } from './echo-harness.js';

// RFC 6455 §4.2.1 / §4.2.2: the server's opening handshake, driven by hand-written HTTP.
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function request(lines: Record<string, string | undefined>, method = 'GET', path = '/'): string {
  const headers: Record<string, string | undefined> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    'Sec-WebSocket-Version': '13',
    ...lines,
  };
  let out = `${method} ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out += `${name}: ${value}\r\n`;
  return out + '\r\n';
}

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

const REFUSALS: Array<[string, string, number, string]> = [
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
    const error = validating.errors[0] as HandshakeError;
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.code).toBe(code);
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
    const late = RawPeer.connect(harness.port);
    await expect(late).rejects.toThrow();
  });
});
