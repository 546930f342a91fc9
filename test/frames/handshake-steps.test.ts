import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { resolveDeflateConfig, type PerMessageDeflateOption } from '../../lib/frames/deflate-negotiation.js';
import { HandshakeError, InvalidArgumentError } from '../../lib/frames/errors.js';
import { parseExtensionHeader } from '../../lib/frames/extension-header.js';
import { parseProtocolHeader } from '../../lib/frames/protocol-header.js';
import {
  WEBSOCKET_GUID,
  completeUpgrade,
  computeAcceptKey,
  guardUpgradeSocket,
  negotiateDeflate,
  rejectUpgrade,
  validateOrRefuseUpgrade,
  validateUpgradeRequest,
  type UpgradeOffer,
} from '../../lib/frames/handshake.js';
import { Opcode } from '../../lib/frames/opcodes.js';
import type { WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';
import { RawPeer, rawHttpExchange } from '../support/raw-peer.js';
import { SAMPLE_KEY, upgradeRequestText } from '../support/upgrade-request-text.js';

// The opening handshake step by step (RFC 6455 §4.1, §4.2), through the functions a router
// composes (validate, negotiate, complete or reject) on a real node:http server and raw TCP clients.

const KEY = SAMPLE_KEY;
const request = upgradeRequestText;

interface Site {
  port: number;
  /** What the upgrade handler returned or threw, per request. */
  results: unknown[];
  conns: WebSocketConnection[];
  close(): Promise<void>;
}

/** A node:http server whose 'upgrade' handler is `handle`; whatever it throws is recorded and refused 500. */
async function site(handle: (req: IncomingMessage, socket: Duplex, head: Buffer) => unknown): Promise<Site> {
  const results: unknown[] = [];
  const conns: WebSocketConnection[] = [];
  const sockets = new Set<Duplex>();
  // Node emits 'upgrade' only for "Upgrade: x" with "Connection: upgrade"; a request lacking them is
  // a plain 'request', handed to `handle` too (a router validates both), and answered 400 here.
  const server: Server = createServer((req, res) => {
    try {
      results.push(handle(req, req.socket, Buffer.alloc(0)));
    } catch (error) {
      results.push(error);
    }
    res.writeHead(400, { Connection: 'close' }).end();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    try {
      const result = handle(req, socket, head);
      results.push(result);
      if (result !== null && typeof result === 'object' && 'terminate' in result) conns.push(result as WebSocketConnection);
    } catch (error) {
      results.push(error);
      rejectUpgrade(socket, 500);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    results,
    conns,
    close: async () => {
      for (const conn of conns) conn.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let current: Site | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function open(handle: (req: IncomingMessage, socket: Duplex, head: Buffer) => unknown): Promise<Site> {
  current = await site(handle);
  return current;
}

/** The offer the server read from `lines`, through a real request. */
async function offerFor(lines: Record<string, string | undefined>): Promise<UpgradeOffer> {
  const s = await open((req, socket) => {
    const offer = validateUpgradeRequest(req);
    rejectUpgrade(socket, 204);
    return offer;
  });
  expect((await rawHttpExchange(s.port, request(lines))).status).toBe(204);
  return s.results[0] as UpgradeOffer;
}

/** The HandshakeError validateUpgradeRequest() threw for this raw request. */
async function refusalFor(raw: string): Promise<HandshakeError> {
  const s = await open((req) => validateUpgradeRequest(req));
  await rawHttpExchange(s.port, raw);
  expect(s.results).toHaveLength(1);
  expect(s.results[0]).toBeInstanceOf(HandshakeError);
  return s.results[0] as HandshakeError;
}

function plainOffers(offer: UpgradeOffer): Record<string, Record<string, string | true>[]> {
  const out: Record<string, Record<string, string | true>[]> = {};
  for (const [name, list] of offer.extensions) out[name] = list.map((p) => ({ ...p }));
  return out;
}

describe('RFC 6455 §4.2.2 step 5.4: Sec-WebSocket-Accept', () => {
  it('is base64(SHA-1(key + the RFC GUID)), as in the RFC example', () => {
    expect(WEBSOCKET_GUID).toBe('258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
    expect(computeAcceptKey(KEY)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

describe('RFC 6455 §4.1 Sec-WebSocket-Protocol: tokens, comma separated, no repeats', () => {
  it('returns no protocol when the header is absent', () => {
    expect(parseProtocolHeader(undefined)).toEqual([]);
  });

  it('keeps the client\'s order and trims optional whitespace', () => {
    expect(parseProtocolHeader('chat,  superchat ,v2.json')).toEqual(['chat', 'superchat', 'v2.json']);
  });

  it.each([
    ['a repeated protocol', 'chat, chat'],
    ['an empty element', 'chat,,superchat'],
    ['an empty header', ''],
    ['a protocol that is not a token', 'chat room'],
    ['a separator in a protocol', 'chat/1'],
  ])('throws HandshakeError WSG_ERR_HANDSHAKE_PROTOCOL, 400, for %s', (_label, value) => {
    const error = expectThrowsWsgError(() => parseProtocolHeader(value), 'WSG_ERR_HANDSHAKE_PROTOCOL') as HandshakeError;
    expect(error.status).toBe(400);
    expect(error.message).toBe(`Invalid Sec-WebSocket-Protocol header: ${JSON.stringify(value)}`);
  });
});

describe('RFC 6455 §4.2.1 validateUpgradeRequest(): what a valid request offers', () => {
  it('returns the key, the protocols in order and the extension offers', async () => {
    const offer = await offerFor({
      'Sec-WebSocket-Protocol': 'chat, superchat',
      'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits, x-foo',
    });
    expect(offer.key).toBe(KEY);
    expect(offer.protocols).toEqual(['chat', 'superchat']);
    expect(plainOffers(offer)).toEqual({ 'permessage-deflate': [{ client_max_window_bits: true }], 'x-foo': [{}] });
  });

  it('returns no protocols and no extensions when none are offered', async () => {
    const offer = await offerFor({});
    expect(offer).toEqual({ key: KEY, protocols: [], extensions: new Map() });
  });

  it('reads Sec-WebSocket-Protocol and Sec-WebSocket-Extensions sent on several lines as one list', async () => {
    const s = await open((req, socket) => {
      const offer = validateUpgradeRequest(req);
      rejectUpgrade(socket, 204);
      return offer;
    });
    const raw = request({}).replace(
      '\r\n\r\n',
      '\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\nSec-WebSocket-Extensions: a\r\nSec-WebSocket-Extensions: b; x=1\r\n\r\n',
    );
    expect((await rawHttpExchange(s.port, raw)).status).toBe(204);
    const offer = s.results[0] as UpgradeOffer;
    expect(offer.protocols).toEqual(['chat', 'superchat']);
    expect(plainOffers(offer)).toEqual({ a: [{}], b: [{ x: '1' }] });
  });

  it('finds "websocket" and "upgrade" among other tokens, in any case', async () => {
    const offer = await offerFor({ Upgrade: 'h2c, WebSocket', Connection: 'keep-alive,UPGRADE' });
    expect(offer.key).toBe(KEY);
  });

  it('throws WSG_ERR_HANDSHAKE_METHOD, 405 with Allow: GET, naming the method', async () => {
    const error = await refusalFor(request({}, 'PUT'));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_METHOD');
    expect(error.status).toBe(405);
    expect(error.headers).toEqual({ Allow: 'GET' });
    expect(error.message).toBe('WebSocket upgrades must use GET, not PUT');
  });

  it.each([
    ['no Upgrade header', { Upgrade: undefined }, 'Missing or invalid Upgrade: websocket header'],
    ['Upgrade: websockets', { Upgrade: 'websockets' }, 'Missing or invalid Upgrade: websocket header'],
    ['no Connection: Upgrade', { Connection: 'keep-alive' }, 'Missing Connection: Upgrade header'],
    ['Connection: upgraded', { Connection: 'upgraded' }, 'Missing Connection: Upgrade header'],
  ])('throws WSG_ERR_HANDSHAKE_UPGRADE, 400, for %s', async (_label, lines, message) => {
    const error = await refusalFor(request(lines));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_UPGRADE');
    expect(error.status).toBe(400);
    expect(error.message).toBe(message);
  });

  it.each([
    ['no key', undefined],
    ['a 15-byte key', 'AAAAAAAAAAAAAAAAAAAA'],
    ['a 17-byte key', 'AAAAAAAAAAAAAAAAAAAAAAA='],
    ['a key with padding in the middle', 'dGhlIHNhbXBsZSBub25j==ZQ'],
    ['a key with one character too many', `x${KEY}`],
    ['a key with text after its padding', `${KEY}x`],
  ])('throws WSG_ERR_HANDSHAKE_KEY, 400, for %s', async (_label, key) => {
    const error = await refusalFor(request({ 'Sec-WebSocket-Key': key }));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_KEY');
    expect(error.status).toBe(400);
    expect(error.message).toBe('Missing or invalid Sec-WebSocket-Key header (16 bytes, base64)');
  });

  it.each([
    ['8', '"8"'],
    ['13, 8', '"13, 8"'],
    [undefined, 'null'],
  ])('throws WSG_ERR_HANDSHAKE_VERSION, 426 with Sec-WebSocket-Version: 13, for version %s', async (version, shown) => {
    const error = await refusalFor(request({ 'Sec-WebSocket-Version': version }));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_VERSION');
    expect(error.status).toBe(426);
    expect(error.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
    expect(error.message).toBe(`Unsupported Sec-WebSocket-Version ${shown}; this server speaks 13`);
  });

  it('checks the method first, then Upgrade, the key, the version, the protocols and the extensions', async () => {
    const all = { 'Sec-WebSocket-Key': 'bad', 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Protocol': 'a, a', 'Sec-WebSocket-Extensions': ';' };
    expectWsgError(await refusalFor(request(all, 'POST')), 'WSG_ERR_HANDSHAKE_METHOD');
    await current!.close();
    expectWsgError(await refusalFor(request({ ...all, Upgrade: 'h2c' })), 'WSG_ERR_HANDSHAKE_UPGRADE');
    await current!.close();
    expectWsgError(await refusalFor(request(all)), 'WSG_ERR_HANDSHAKE_KEY');
    await current!.close();
    expectWsgError(await refusalFor(request({ ...all, 'Sec-WebSocket-Key': KEY })), 'WSG_ERR_HANDSHAKE_VERSION');
    await current!.close();
    expectWsgError(await refusalFor(request({ ...all, 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '13' })), 'WSG_ERR_HANDSHAKE_PROTOCOL');
    await current!.close();
    const last = await refusalFor(request({ 'Sec-WebSocket-Extensions': ';' }));
    expectWsgError(last, 'WSG_ERR_HANDSHAKE_EXTENSION');
    expect(last.status).toBe(400);
  });
});

describe('validateOrRefuseUpgrade(): a router\'s front door', () => {
  it('returns the offer and writes nothing for a valid request', async () => {
    const s = await open((req, socket, head) => {
      const offer = validateOrRefuseUpgrade(req, socket);
      expect(offer).not.toBeNull();
      return completeUpgrade(socket, head, { key: offer!.key, closeTimeout: 100 });
    });
    const peer = await RawPeer.connect(s.port);
    expect(peer.response!.status).toBe(101);
    peer.destroy();
    await peer.closed;
  });

  it('answers the refusal the error names (status, headers, message as body) and returns null', async () => {
    const s = await open((req, socket) => validateOrRefuseUpgrade(req, socket));
    const response = await rawHttpExchange(s.port, request({ 'Sec-WebSocket-Version': '7' }));
    expect(s.results).toEqual([null]);
    expect(response.statusLine).toBe('HTTP/1.1 426 Upgrade Required');
    expect(response.headers['sec-websocket-version']).toBe('13');
    expect(response.headers['connection']).toBe('close');
    expect(response.body).toBe('Unsupported Sec-WebSocket-Version "7"; this server speaks 13');
  });

  it('lets an error that is not a handshake refusal through to the caller', async () => {
    const s = await open((req, socket) => {
      // A request whose headers cannot be read is a programming error, not a bad client.
      Object.defineProperty(req, 'headers', {
        get() {
          throw new TypeError('headers unavailable');
        },
      });
      return validateOrRefuseUpgrade(req, socket);
    });
    const response = await rawHttpExchange(s.port, request());
    expect(response.status).toBe(500);
    expect(s.results[0]).toBeInstanceOf(TypeError);
    expect((s.results[0] as Error).message).toBe('headers unavailable');
  });
});

describe('RFC 7692 §5 negotiateDeflate(): the server\'s answer to permessage-deflate offers', () => {
  function offer(header: string | undefined): UpgradeOffer {
    return { key: KEY, protocols: [], extensions: parseExtensionHeader(header) };
  }

  function negotiate(header: string | undefined, options: PerMessageDeflateOption | undefined): string | null {
    const config = resolveDeflateConfig(options);
    const result = negotiateDeflate(offer(header), config);
    if (result === null) return null;
    // The config it was given, unchanged: the codec is built from it when the connection opens.
    expect(result.config).toBe(config);
    expect(Object.isFrozen(result.agreement)).toBe(true);
    return result.header;
  }

  it('declines when the server did not enable permessage-deflate', () => {
    expect(negotiate('permessage-deflate', undefined)).toBeNull();
    expect(negotiate('permessage-deflate', false)).toBeNull();
  });

  it('declines when the client did not offer it', () => {
    expect(negotiate(undefined, true)).toBeNull();
    expect(negotiate('x-webkit-deflate-frame', true)).toBeNull();
  });

  it('declines when every offer is one the server cannot accept', () => {
    expect(negotiate('permessage-deflate; unknown_param', true)).toBeNull();
  });

  it('accepts with the defaults when enabled with true', () => {
    expect(negotiate('permessage-deflate', true)).toBe('permessage-deflate');
  });

  it('answers the first acceptable offer with the server\'s options', () => {
    expect(negotiate('permessage-deflate; bogus, permessage-deflate; client_max_window_bits', { serverNoContextTakeover: true, clientMaxWindowBits: 10 })).toBe(
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
    );
  });
});

describe('RFC 6455 §4.2.2 completeUpgrade(): the 101 response and the open connection', () => {
  it('writes exactly the status line, Upgrade, Connection and Sec-WebSocket-Accept when nothing else was agreed', async () => {
    const s = await open((_req, socket, head) => completeUpgrade(socket, head, { key: KEY, closeTimeout: 100 }));
    const peer = await RawPeer.connect(s.port, { key: KEY });
    expect(peer.response!.statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(peer.response!.headers).toEqual({ upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' });
    const conn = s.conns[0]!;
    expect(conn.protocol).toBe('');
    expect(conn.extensions).toBe('');
    peer.destroy();
    await peer.closed;
  });

  it('writes the chosen subprotocol, the extension answer and extra headers, and reports them on the connection', async () => {
    const s = await open((req, socket, head) => {
      const offer = validateUpgradeRequest(req);
      return completeUpgrade(socket, head, {
        key: offer.key,
        protocol: 'superchat',
        deflate: negotiateDeflate(offer, resolveDeflateConfig(true)),
        headers: { 'X-Room': 'lobby' },
        closeTimeout: 100,
      });
    });
    const peer = await RawPeer.connect(s.port, { headers: { 'Sec-WebSocket-Protocol': 'chat, superchat', 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
    expect(peer.response!.headers['sec-websocket-protocol']).toBe('superchat');
    expect(peer.response!.headers['sec-websocket-extensions']).toBe('permessage-deflate');
    expect(peer.response!.headers['x-room']).toBe('lobby');
    const conn = s.conns[0]!;
    expect(conn.protocol).toBe('superchat');
    expect(conn.extensions).toBe('permessage-deflate');
    // The negotiated deflate is the connection's: a compressed frame from the client is read.
    const received = new Promise<string>((resolve) => conn.on('message', (data: string | Buffer) => resolve(String(data))));
    await peer.sendFrame(Opcode.Text, Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), { rsv1: true });
    expect(await received).toBe('Hello');
    peer.destroy();
    await peer.closed;
  });

  it('measures inflated messages against the maxMessageSize it was given (1009 WSG_ERR_MESSAGE_TOO_LARGE one byte over)', async () => {
    const s = await open((req, socket, head) => {
      const offer = validateUpgradeRequest(req);
      return completeUpgrade(socket, head, { key: offer.key, deflate: negotiateDeflate(offer, resolveDeflateConfig(true)), maxMessageSize: 4, maxFrameSize: 16, closeTimeout: 100 });
    });
    const peer = await RawPeer.connect(s.port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
    const conn = s.conns[0]!;
    const errors: unknown[] = [];
    conn.on('error', (error: unknown) => errors.push(error));
    // "Hello" deflated: 7 bytes on the wire (within maxFrameSize), 5 once inflated (over maxMessageSize).
    await peer.sendFrame(Opcode.Text, Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), { rsv1: true });
    const close = await peer.closeFrame();
    expect(close.code).toBe(1009);
    expectWsgError(errors[0], 'WSG_ERR_MESSAGE_TOO_LARGE', 1009);
    peer.destroy();
    await peer.closed;
  });

  it('treats an empty subprotocol as none: no Sec-WebSocket-Protocol header', async () => {
    const s = await open((_req, socket, head) => completeUpgrade(socket, head, { key: KEY, protocol: '', closeTimeout: 100 }));
    const peer = await RawPeer.connect(s.port, { key: KEY, headers: { 'Sec-WebSocket-Protocol': 'chat' } });
    expect(peer.response!.headers['sec-websocket-protocol']).toBeUndefined();
    expect(s.conns[0]!.protocol).toBe('');
    peer.destroy();
    await peer.closed;
  });

  it('reads frames the client sent in the same flight as its request (the head bytes)', async () => {
    const s = await open((_req, socket, head) => {
      expect(head.length).toBeGreaterThan(0);
      return completeUpgrade(socket, head, { key: KEY, closeTimeout: 100 });
    });
    const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
    const peer = await RawPeer.connect(s.port, { key: KEY, afterHead: frame });
    const conn = s.conns[0]!;
    const message = await new Promise<string>((resolve) => {
      conn.on('message', (data: string | Buffer) => resolve(String(data)));
    });
    expect(message).toBe('hi');
    peer.destroy();
    await peer.closed;
  });

  it('throws InvalidArgumentError WSG_ERR_INVALID_ARGUMENT for a subprotocol that is not a token, writing nothing', async () => {
    const s = await open((_req, socket, head) => completeUpgrade(socket, head, { key: KEY, protocol: 'a b', closeTimeout: 100 }));
    const response = await rawHttpExchange(s.port, request({ 'Sec-WebSocket-Protocol': 'a' }));
    expect(response.status).toBe(500);
    const error = expectWsgError(s.results[0], 'WSG_ERR_INVALID_ARGUMENT');
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('Invalid subprotocol "a b"');
  });

  it.each([
    ['CR LF in a value (response splitting)', { 'X-Room': 'lobby\r\nSet-Cookie: session=forged' }, 'X-Room'],
    ['a NUL byte in a value', { 'X-Room': 'lobby\u0000' }, 'X-Room'],
    ['DEL in a value', { 'X-Room': 'lobby\u007f' }, 'X-Room'],
    ['CR LF in a name', { 'X-Room: lobby\r\nSet-Cookie': 'session=forged' }, 'X-Room: lobby\r\nSet-Cookie'],
    ['an empty name', { '': 'v' }, ''],
  ])('refuses %s with WSG_ERR_INVALID_ARGUMENT and writes no 101', async (_label, headers, name) => {
    const s = await open((_req, socket, head) => completeUpgrade(socket, head, { key: KEY, headers, closeTimeout: 100 }));
    const response = await rawHttpExchange(s.port, request());
    expect(response.status).toBe(500);
    expect(response.raw).not.toContain('101 Switching Protocols');
    expect(expectWsgError(s.results[0], 'WSG_ERR_INVALID_ARGUMENT').message).toBe(`Invalid response header ${JSON.stringify(name)}`);
  });

  it('writes values made of tabs, spaces, visible ASCII and obs-text bytes', async () => {
    const s = await open((_req, socket, head) => completeUpgrade(socket, head, { key: KEY, headers: { 'X-Value': '\ta b~\u0080\u00ff' }, closeTimeout: 100 }));
    const peer = await RawPeer.connect(s.port, { key: KEY });
    // The head is written as UTF-8: U+0080..U+00FF go out as two bytes each (read back here as latin1).
    expect(peer.response!.headers['x-value']).toBe(Buffer.from('a b~\u0080\u00ff', 'utf8').toString('latin1'));
    expect(s.results).toHaveLength(1);
    expect(s.results[0]).not.toBeInstanceOf(Error);
    peer.destroy();
    await peer.closed;
  });

  it('names the offending header in WSG_ERR_INVALID_ARGUMENT', async () => {
    const s = await open((_req, socket, head) => completeUpgrade(socket, head, { key: KEY, headers: { 'X-A': 'ok', 'X B': 'v' }, closeTimeout: 100 }));
    await rawHttpExchange(s.port, request());
    expect(expectWsgError(s.results[0], 'WSG_ERR_INVALID_ARGUMENT').message).toBe('Invalid response header "X B"');
  });
});

describe('rejectUpgrade(): a refusal is a real HTTP response, then the socket closes', () => {
  it('writes the status line, Connection: close, a text body with its byte length, and extra headers', async () => {
    const s = await open((_req, socket) => rejectUpgrade(socket, 403, { 'X-Reason': 'origin' }, 'nicht erlaubt – ✗'));
    const response = await rawHttpExchange(s.port, request());
    expect(response.statusLine).toBe('HTTP/1.1 403 Forbidden');
    expect(response.headers['connection']).toBe('close');
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength('nicht erlaubt – ✗', 'utf8')));
    expect(response.headers['x-reason']).toBe('origin');
    expect(Buffer.from(response.body, 'latin1').toString('utf8')).toBe('nicht erlaubt – ✗');
  });

  it('uses the status text as the body when none is given', async () => {
    const s = await open((_req, socket) => rejectUpgrade(socket, 404));
    const response = await rawHttpExchange(s.port, request());
    expect(response.statusLine).toBe('HTTP/1.1 404 Not Found');
    expect(response.body).toBe(STATUS_CODES[404]);
    expect(response.headers['content-length']).toBe(String(STATUS_CODES[404]!.length));
  });

  it('writes "Error" and an empty body for a status without a standard text', async () => {
    const s = await open((_req, socket) => rejectUpgrade(socket, 499));
    const response = await rawHttpExchange(s.port, request());
    expect(response.statusLine).toBe('HTTP/1.1 499 Error');
    expect(response.body).toBe('');
    expect(response.headers['content-length']).toBe('0');
  });

  it('writes an empty body when given one', async () => {
    const s = await open((_req, socket) => rejectUpgrade(socket, 400, undefined, ''));
    const response = await rawHttpExchange(s.port, request());
    expect(response.status).toBe(400);
    expect(response.body).toBe('');
  });

  it('only destroys a socket that can no longer be written to', async () => {
    const sockets: Duplex[] = [];
    const s = await open((_req, socket) => {
      socket.end();
      sockets.push(socket);
      expect(() => rejectUpgrade(socket, 400, { 'Bad Header': 'x' }, 'never written')).not.toThrow();
      expect(socket.destroyed).toBe(true);
      return 'refused';
    });
    const response = await rawHttpExchange(s.port, request());
    expect(response.raw).toBe('');
    expect(s.results).toEqual(['refused']);
    expect(sockets).toHaveLength(1);
  });

  it('survives a reset while the refusal is written (no unhandled socket error)', async () => {
    let onClosed!: () => void;
    const socketClosed = new Promise<void>((resolve) => (onClosed = resolve));
    const s = await open((_req, socket) => {
      socket.once('close', onClosed);
      rejectUpgrade(socket, 400, undefined, 'x'.repeat(4 << 20));
      socket.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      return socket.destroyed;
    });
    const client: Socket = connect({ host: '127.0.0.1', port: s.port });
    client.on('error', () => undefined);
    client.write(request());
    await socketClosed;
    client.destroy();
    expect(s.results).toEqual([true]);
  });
});

describe('guardUpgradeSocket(): the socket between the upgrade event and the 101', () => {
  it('destroys the socket on an error instead of crashing, until unguarded', async () => {
    const seen: Array<{ destroyed: boolean; listeners: number; after: number }> = [];
    const s = await open((_req, socket) => {
      const before = socket.listenerCount('error');
      const unguard = guardUpgradeSocket(socket);
      const listeners = socket.listenerCount('error') - before;
      unguard();
      const after = socket.listenerCount('error') - before;
      guardUpgradeSocket(socket);
      socket.emit('error', new Error('reset during accept'));
      seen.push({ destroyed: socket.destroyed, listeners, after });
      return null;
    });
    const response = await rawHttpExchange(s.port, request());
    expect(response.raw).toBe('');
    expect(seen).toEqual([{ destroyed: true, listeners: 1, after: 0 }]);
  });
});
