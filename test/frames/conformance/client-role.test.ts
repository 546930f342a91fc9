import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo } from 'node:net';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { HandshakeError, InvalidUtf8Error, IoError, ProtocolError, type WsgError } from '../../../lib/frames/errors.js';
import { encodeFrame } from '../../../lib/frames/frame-encoder.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { WsClient, type WsClientOptions } from '../../../lib/http2/ws-client.js';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { RawInflater, compressMessage, inflateMessage } from '../../support/raw-deflate.js';
import { RawServer, closePayload, type HttpRequestHead, type RawHandshakeAnswer, type RawPeer } from '../../support/raw-peer.js';
import { expectRejectsWsgError, expectWsgError } from '../../support/expect-wsg-error.js';
import { patterned } from './echo-harness.js';

// The engine's CLIENT role (WsClient) against a hand-driven server.
let rawServer: RawServer | undefined;
const clients: WebSocketConnection[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  for (const client of clients.splice(0)) client.terminate();
  await rawServer?.close();
  rawServer = undefined;
});

async function open(
  answer?: (request: HttpRequestHead) => RawHandshakeAnswer,
  options: WsClientOptions = {},
): Promise<{ client: WebSocketConnection; peer: RawPeer; errors: WsgError[] }> {
  rawServer = await RawServer.listen(answer);
  const connecting = WsClient.connect(rawServer.url, options);
  const peer = await rawServer.nextPeer();
  const client = await connecting;
  clients.push(client);
  const errors: WsgError[] = [];
  client.on('error', (error: WsgError) => errors.push(error));
  return { client, peer, errors };
}

async function connectError(answer: (request: HttpRequestHead) => RawHandshakeAnswer, options: WsClientOptions = {}): Promise<HandshakeError> {
  rawServer = await RawServer.listen(answer);
  try {
    const client = await WsClient.connect(rawServer.url, options);
    clients.push(client);
  } catch (error) {
    expect(error).toBeInstanceOf(HandshakeError);
    return error as HandshakeError;
  }
  throw new Error('expected the handshake to fail');
}

describe('RFC 6455 §4.1 the client sends a valid upgrade request', () => {
  it('sends GET with Upgrade, Connection, version 13, a 16-byte base64 key and the caller headers', async () => {
    const { peer } = await open(undefined, { headers: { 'X-Trace': 'abc' }, protocols: ['chat', 'superchat'] });
    const request = peer.request!;
    expect(request.method).toBe('GET');
    expect(request.headers['upgrade']?.toLowerCase()).toBe('websocket');
    expect(request.headers['connection']?.toLowerCase()).toContain('upgrade');
    expect(request.headers['sec-websocket-version']).toBe('13');
    expect(Buffer.from(request.headers['sec-websocket-key']!, 'base64')).toHaveLength(16);
    expect(request.headers['sec-websocket-protocol']).toBe('chat, superchat');
    expect(request.headers['x-trace']).toBe('abc');
    expect(request.headers['sec-websocket-extensions']).toBeUndefined();
  });

  it('uses a fresh key for every connection', async () => {
    rawServer = await RawServer.listen();
    const a = WsClient.connect(rawServer.url);
    const b = WsClient.connect(rawServer.url);
    const keys = [(await rawServer.nextPeer()).request!.headers['sec-websocket-key'], (await rawServer.nextPeer()).request!.headers['sec-websocket-key']];
    clients.push(await a, await b);
    expect(keys[0]).not.toBe(keys[1]);
  });

  it('offers permessage-deflate when asked', async () => {
    const { peer } = await open(undefined, { perMessageDeflate: true });
    expect(peer.request!.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
  });
});

describe('RFC 6455 §4.1 the client checks the server handshake', () => {
  it('rejects a wrong Sec-WebSocket-Accept with HandshakeError WSG_ERR_HANDSHAKE_ACCEPT', async () => {
    const error = await connectError(() => ({ kind: 'accept', acceptKey: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' }));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_ACCEPT');
  });

  it('rejects a 101 without Sec-WebSocket-Accept with WSG_ERR_HANDSHAKE_ACCEPT', async () => {
    const error = await connectError(() => ({ kind: 'raw', head: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade' }));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_ACCEPT');
  });

  it('rejects a subprotocol that was not offered with WSG_ERR_HANDSHAKE_PROTOCOL', async () => {
    const error = await connectError(() => ({ kind: 'accept', headers: { 'Sec-WebSocket-Protocol': 'mqtt' } }), { protocols: ['chat'] });
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_PROTOCOL');
  });

  it('rejects a subprotocol when none was offered with WSG_ERR_HANDSHAKE_PROTOCOL', async () => {
    const error = await connectError(() => ({ kind: 'accept', headers: { 'Sec-WebSocket-Protocol': 'chat' } }));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_PROTOCOL');
  });

  it('accepts the offered subprotocol the server picked and reports it', async () => {
    const { client } = await open(() => ({ kind: 'accept', headers: { 'Sec-WebSocket-Protocol': 'superchat' } }), { protocols: ['chat', 'superchat'] });
    expect(client.protocol).toBe('superchat');
  });

  it('rejects an extension it did not offer with WSG_ERR_HANDSHAKE_EXTENSION', async () => {
    const error = await connectError(() => ({ kind: 'accept', headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_EXTENSION');
  });

  it('rejects a permessage-deflate answer with an unknown parameter with WSG_ERR_HANDSHAKE_EXTENSION', async () => {
    const error = await connectError(() => ({ kind: 'accept', headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; foo' } }), { perMessageDeflate: true });
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_EXTENSION');
  });

  it.each([
    ['two permessage-deflate answers', 'permessage-deflate, permessage-deflate'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['client_max_window_bits without a value (only offers may omit it)', 'permessage-deflate; client_max_window_bits'],
    ['a value on client_no_context_takeover', 'permessage-deflate; client_no_context_takeover=1'],
  ])('rejects a permessage-deflate answer with %s with WSG_ERR_HANDSHAKE_EXTENSION (RFC 7692 §7.1)', async (_name, header) => {
    const error = await connectError(() => ({ kind: 'accept', headers: { 'Sec-WebSocket-Extensions': header } }), { perMessageDeflate: true });
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_EXTENSION');
  });

  it('rejects a non-101 answer with WSG_ERR_HANDSHAKE_STATUS carrying the status', async () => {
    const error = await connectError(() => ({ kind: 'raw', head: 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0' }));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_STATUS');
    expect(error.status).toBe(403);
  });

  it('rejects a 200 answer with WSG_ERR_HANDSHAKE_STATUS', async () => {
    const error = await connectError(() => ({ kind: 'raw', head: 'HTTP/1.1 200 OK\r\nContent-Length: 0' }));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_STATUS');
    expect(error.status).toBe(200);
  });

  it('gives up after handshakeTimeout with WSG_ERR_HANDSHAKE_TIMEOUT when the server never answers', async () => {
    const started = Date.now();
    const error = await connectError(() => ({ kind: 'silent' }), { handshakeTimeout: 150 });
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_TIMEOUT');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThanOrEqual(650);
  });

  it('rejects with IoError WSG_ERR_IO, cause ECONNREFUSED, when nothing listens on the port', async () => {
    // A port that was just free: listen on 0, note the port, close.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await expectRejectsWsgError(WsClient.connect(`ws://127.0.0.1:${port}/`), 'WSG_ERR_IO');
    expect(error).toBeInstanceOf(IoError);
    expect(error.cause).toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('RFC 6455 §5.1, §5.3 client framing', () => {
  it('masks every frame it sends: text, binary, ping, pong, close', async () => {
    const { client, peer } = await open();
    client.sendText('t');
    client.sendBytes(patterned(70_000));
    client.ping('p');
    client.pong('q');
    client.close(1000, 'bye');
    const frames = [await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame()];
    expect(frames.map((f) => f.masked)).toEqual([true, true, true, true, true]);
    expect(frames.map((f) => f.opcode).sort()).toEqual([Opcode.Text, Opcode.Binary, Opcode.Close, Opcode.Ping, Opcode.Pong].sort());
    expect(frames.find((f) => f.opcode === Opcode.Binary)!.payload.equals(patterned(70_000))).toBe(true);
  });

  it('delivers messages and answers pings that arrived in the same TCP write as the 101', async () => {
    const trailing = Buffer.concat([
      encodeFrame(Opcode.Text, Buffer.from('early text')),
      encodeFrame(Opcode.Ping, Buffer.from('early ping')),
      encodeFrame(Opcode.Binary, patterned(300)),
    ]);
    const { client, peer } = await open(() => ({ kind: 'accept', trailing }));
    const seen: Array<string | Buffer> = [];
    const both = new Promise<void>((resolve) =>
      client.on('message', (data: string | Buffer) => {
        seen.push(data);
        if (seen.length === 2) resolve();
      }),
    );
    await both;
    expect(seen[0]).toBe('early text');
    expect(Buffer.isBuffer(seen[1]) && seen[1].equals(patterned(300))).toBe(true);
    const pong = await peer.nextFrame();
    expect(pong).toMatchObject({ opcode: Opcode.Pong, masked: true });
    expect(pong.payload.toString()).toBe('early ping');
  });

  it('closes 1002 WSG_ERR_UNEXPECTED_MASK when the server sends a masked frame', async () => {
    const { client, peer, errors } = await open();
    await peer.sendText('masked', { mask: true });
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.ProtocolError);
    expect(close.frame.masked).toBe(true);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expectWsgError(errors[0], 'WSG_ERR_UNEXPECTED_MASK', CloseCode.ProtocolError);
    peer.end();
    expect((await client.closed).error).toBe(errors[0]);
  });

  it.each([
    ['a 16-bit length of 2', [0x82, 126, 0, 2, 0x61, 0x62]],
    ['a 64-bit length of 65535', [0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff]],
  ])('closes 1002 WSG_ERR_NON_MINIMAL_LENGTH when the server sends %s (§5.2 binds both directions)', async (_label, bytes) => {
    const { client, peer, errors } = await open();
    await peer.write(Buffer.from(bytes));
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.ProtocolError);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expectWsgError(errors[0], 'WSG_ERR_NON_MINIMAL_LENGTH', CloseCode.ProtocolError);
    peer.end();
    expect((await client.closed).error).toBe(errors[0]);
  });

  it('closes 1007 WSG_ERR_INVALID_UTF8 on invalid UTF-8 from the server', async () => {
    const { client, peer, errors } = await open();
    await peer.sendText(Buffer.from([0xce, 0xba, 0xed, 0xa0, 0x80]));
    expect((await peer.closeFrame()).code).toBe(CloseCode.InvalidPayload);
    expect(errors[0]).toBeInstanceOf(InvalidUtf8Error);
    expectWsgError(errors[0], 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
    peer.end();
    await client.closed;
  });

  it('answers a server ping with a masked pong carrying the same payload', async () => {
    const { peer } = await open();
    await peer.ping('are you there');
    const pong = await peer.nextFrame();
    expect(pong).toMatchObject({ opcode: Opcode.Pong, masked: true });
    expect(pong.payload.toString()).toBe('are you there');
  });
});

describe('RFC 6455 §7.1 client side of the closing handshake', () => {
  it('echoes a server close and leaves closing TCP to the server (§7.1.1)', async () => {
    const { client, peer } = await open();
    await peer.sendClose(1000, 'done');
    const echo = await peer.closeFrame();
    expect(echo.code).toBe(1000);
    expect(echo.frame.masked).toBe(true);
    expect(client.transport.writableEnded).toBe(false);
    peer.end();
    const info = await client.closed;
    expect(info).toMatchObject({ code: 1000, reason: 'done', wasClean: true });
  });

  it('starts a close, and finishes cleanly when the server answers and closes TCP', async () => {
    const { client, peer } = await open();
    client.close(4000, 'client done');
    const close = await peer.closeFrame();
    expect(close.code).toBe(4000);
    expect(close.reason.toString()).toBe('client done');
    await peer.write(peer.frame(Opcode.Close, closePayload(4000)));
    peer.end();
    expect(await client.closed).toMatchObject({ code: 4000, wasClean: true });
  });

  it('destroys the socket after closeTimeout when the server never answers its close, CloseInfo error WSG_ERR_CLOSE_TIMEOUT', async () => {
    const { client, peer } = await open(undefined, { closeTimeout: 150 });
    client.close(1000);
    await peer.closeFrame();
    const info = await client.closed;
    expect(info.wasClean).toBe(false);
    expectWsgError(info.error, 'WSG_ERR_CLOSE_TIMEOUT');
    await peer.closed;
  });

  it('reports 1006 when the server drops TCP without a close frame', async () => {
    const { client, peer } = await open();
    peer.destroy();
    expect(await client.closed).toMatchObject({ code: CloseCode.Abnormal, wasClean: false });
  });
});

describe('RFC 7692 permessage-deflate in the client role', () => {
  it('sends compressed, masked messages above the threshold and inflates compressed server messages', async () => {
    const { client, peer } = await open(() => ({ kind: 'accept', headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }), { perMessageDeflate: true });
    expect(client.extensions).toMatch(/permessage-deflate/);
    const inflater = new RawInflater();
    cleanups.push(() => inflater.close());
    const text = 'compress me please '.repeat(200);
    client.sendText(text);
    const frame = await peer.nextFrame();
    expect(frame).toMatchObject({ opcode: Opcode.Text, rsv1: true, masked: true });
    expect((await inflater.decompress(frame.payload)).toString()).toBe(text);
    const received = client.receiveText();
    await peer.sendText(compressMessage(Buffer.from('from server '.repeat(100))), { rsv1: true });
    expect(await received).toBe('from server '.repeat(100));
  });

  it('deflates within client_max_window_bits=9 when the server asks for it', async () => {
    const { client, peer } = await open(
      () => ({ kind: 'accept', headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits=9; client_no_context_takeover' } }),
      { perMessageDeflate: true },
    );
    // Distances over 512 bytes would break an inflater with a 9-bit window.
    const payload = Buffer.concat([patterned(2000, 1), patterned(2000, 1)]);
    for (let i = 0; i < 3; i++) {
      client.sendBytes(payload);
      const frame = await peer.nextFrame();
      expect(frame.rsv1).toBe(true);
      expect(inflateMessage(frame.payload, 9).equals(payload)).toBe(true);
    }
  });
});
