import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { Opcode } from '../../lib/frames/opcodes.js';
import { WsServer } from '../../lib/frames/websocket-server.js';
import { ChatAppModule } from '../../sample/02-chat/app.module.js';
import { startSample } from '../../sample/shared/bootstrap.js';
import { expectCodeInText } from '../support/expect-wsg-error.js';
import { compressMessage } from '../support/raw-deflate.js';
import { rawHttpExchange, RawPeer } from '../support/raw-peer.js';
import { upgradeRequestText } from '../support/upgrade-request-text.js';

// One row per hostile input, against a real server (an engine WsServer echoing in this
// process; the chat sample for Origin). Each row asserts the answer (HTTP status or close
// code), the time the server took to give it, and how much the server's memory grew.
// Rows kept elsewhere: handshake deadline, slowloris and silent sockets
// (test/frames/conformance/connection-lifecycle.test.ts and the handshake-deadline suites),
// 256 KB ReDoS-shaped WebSocket headers (test/frames/header-parsing-time.test.ts), a slow
// consumer closed 1013 (test/frames/conformance/send-queue.test.ts), a ping flood from a peer
// that does not read, closed 1008 (test/frames/conformance/09-limits.test.ts).

/** ms: the longest any row may take to be answered (generous: the CI machine is shared). */
const REACT_MS = 3000;
/** bytes: how much the server's heap and buffers may grow over one row. */
const MEMORY_BOUND = 32 * 1024 * 1024;

let server: WsServer;
let port: number;

beforeAll(async () => {
  server = new WsServer({ port: 0, perMessageDeflate: true });
  server.on('connection', (conn) => conn.on('message', (data: string | Buffer) => conn.send(data)));
  port = (await server.listen()).port;
});

afterAll(async () => {
  await server.close();
});

function memory(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** Runs one attack; asserts it was answered in time and within the memory bound. */
async function bounded<T>(attack: () => Promise<T>): Promise<T> {
  const before = memory();
  const started = performance.now();
  const result = await attack();
  expect(performance.now() - started).toBeLessThan(REACT_MS);
  expect(memory() - before).toBeLessThan(MEMORY_BOUND);
  return result;
}

/** Opens a raw connection, writes `bytes`, and resolves with the close code the server sent. */
async function closeCodeAfter(build: (peer: RawPeer) => Uint8Array | Uint8Array[], headers: Record<string, string> = {}): Promise<number | undefined> {
  const peer = await RawPeer.connect(port, { headers });
  return bounded(async () => {
    const chunks = build(peer);
    for (const chunk of Array.isArray(chunks) ? chunks : [chunks]) await peer.write(chunk);
    const close = await peer.closeFrame();
    peer.destroy();
    await peer.closed;
    return close.code;
  });
}

/** A frame header declaring `length` with the 64-bit form, masked, and no payload. */
function header64(first: number, length: bigint): Buffer {
  const b = Buffer.alloc(14);
  b[0] = first;
  b[1] = 0x80 | 127;
  b.writeBigUInt64BE(length, 2);
  return b;
}

describe('2,001 request headers', () => {
  it('is answered with an HTTP status (no upgrade past the header count), in time and memory', async () => {
    const extra: Record<string, string> = {};
    for (let i = 0; i < 2001; i++) extra[`X-H${i}`] = 'v';
    const answer = await bounded(() => rawHttpExchange(port, upgradeRequestText({ ...extra })));
    expect([400, 431]).toContain(answer.status);
  });
});

describe('a 64 KiB request header', () => {
  it('is answered 431 before the head is read whole', async () => {
    const answer = await bounded(() => rawHttpExchange(port, upgradeRequestText({ 'X-Big': 'a'.repeat(64 * 1024) })));
    expect(answer.status).toBe(431);
  });
});

describe('__proto__ and constructor extension parameters', () => {
  it('declines the offer it cannot read (RFC 7692 §5: 101 without the extension) and leaves Object.prototype alone', async () => {
    const peer = await bounded(() => RawPeer.connect(port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; __proto__=1; constructor=2; client_max_window_bits' } }));
    expect(peer.response?.headers['sec-websocket-extensions']).toBeUndefined();
    expect(({} as Record<string, unknown>).client_max_window_bits).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, '1')).toBe(false);
    peer.destroy();
    await peer.closed;
  });
});

describe('a 2^63 payload length', () => {
  it('closes 1002 on the header, before any payload', async () => {
    expect(await closeCodeAfter(() => header64(0x82, 1n << 63n))).toBe(CloseCode.ProtocolError);
  });
});

describe('a non-minimal payload length', () => {
  it('closes 1002 for 5 bytes behind a 64-bit length', async () => {
    expect(await closeCodeAfter(() => header64(0x82, 5n))).toBe(CloseCode.ProtocolError);
  });
});

describe('an unmasked client frame', () => {
  it('closes 1002', async () => {
    expect(await closeCodeAfter((p) => p.frame(Opcode.Text, 'hi', { mask: false }))).toBe(CloseCode.ProtocolError);
  });
});

describe('RSV bits no extension defines', () => {
  it('closes 1002 for RSV2 and for RSV1 without permessage-deflate', async () => {
    expect(await closeCodeAfter((p) => p.frame(Opcode.Text, 'hi', { rsv2: true }))).toBe(CloseCode.ProtocolError);
    expect(await closeCodeAfter((p) => p.frame(Opcode.Text, 'hi', { rsv1: true }))).toBe(CloseCode.ProtocolError);
  });
});

describe('reserved opcodes', () => {
  it.each([0x3, 0x7, 0xb, 0xf])('closes 1002 for opcode %i', async (opcode) => {
    expect(await closeCodeAfter((p) => p.frame(opcode, 'x'))).toBe(CloseCode.ProtocolError);
  });
});

describe('a fragmented control frame', () => {
  it('closes 1002 for a ping with FIN clear', async () => {
    expect(await closeCodeAfter((p) => p.frame(Opcode.Ping, 'x', { fin: false }))).toBe(CloseCode.ProtocolError);
  });
});

describe('an oversized control frame', () => {
  it('closes 1002 for a 126-byte ping', async () => {
    expect(await closeCodeAfter((p) => p.frame(Opcode.Ping, Buffer.alloc(126)))).toBe(CloseCode.ProtocolError);
  });
});

describe('an empty-fragment flood', () => {
  it('holds 100,000 empty continuations in no memory and still delivers the message', async () => {
    const peer = await RawPeer.connect(port);
    await bounded(async () => {
      const empty = peer.frame(Opcode.Continuation, Buffer.alloc(0), { fin: false });
      const flood = Buffer.concat([peer.frame(Opcode.Text, '', { fin: false }), ...Array.from({ length: 100_000 }, () => empty), peer.frame(Opcode.Continuation, 'end')]);
      await peer.write(flood);
      const echoed = await peer.nextMessage();
      expect(echoed.payload.toString('utf8')).toBe('end');
    });
    peer.destroy();
    await peer.closed;
  });
});

describe('a ping flood from a reading peer', () => {
  it('answers 10,000 pings, one pong each, in time and memory', async () => {
    const peer = await RawPeer.connect(port);
    await bounded(async () => {
      const ping = peer.frame(Opcode.Ping, Buffer.alloc(125, 1));
      await peer.write(Buffer.concat(Array.from({ length: 10_000 }, () => ping)));
      await peer.waitUntil(() => (peer.frames.filter((f) => f.opcode === Opcode.Pong).length === 10_000 ? true : undefined), '10,000 pongs');
    });
    peer.destroy();
    await peer.closed;
  });
});

describe('a deflate bomb', () => {
  it('closes 1009 when 64 MiB of zeros inflate past maxMessageSize (1 MiB), resetting zlib at the limit', async () => {
    const bomb = compressMessage(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(128 * 1024);
    const code = await closeCodeAfter((p) => p.frame(Opcode.Binary, bomb, { rsv1: true }), { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    expect(code).toBe(CloseCode.MessageTooBig);
  });
});

describe('invalid close codes and reasons', () => {
  it.each([[999], [1004], [1005], [1006], [1015], [2999], [5000]])('closes 1002 for close code %i', async (code) => {
    expect(await closeCodeAfter((p) => p.frame(Opcode.Close, Buffer.from([code >> 8, code & 0xff])))).toBe(CloseCode.ProtocolError);
  });

  it('closes 1002 for a 1-byte close payload', async () => {
    expect(await closeCodeAfter((p) => p.frame(Opcode.Close, Buffer.from([3])))).toBe(CloseCode.ProtocolError);
  });

  it('closes 1007 for a reason that is not UTF-8', async () => {
    expect(await closeCodeAfter((p) => p.frame(Opcode.Close, Buffer.from([0x03, 0xe8, 0xc3, 0x28])))).toBe(CloseCode.InvalidPayload);
  });
});

describe('a forged Origin (the chat sample)', () => {
  let app: INestApplication;
  let chatPort: number;
  beforeAll(async () => {
    app = await startSample(ChatAppModule, { port: 0, platform: 'express', logger: false });
    chatPort = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
  });

  it.each([
    ['another site', 'http://evil.example'],
    ['null', 'null'],
    ['an 8 KiB origin', `http://${'a'.repeat(8192)}`],
  ])('answers 403 WSG_ERR_GATEWAY_ORIGIN to %s', async (_what, origin) => {
    const answer = await bounded(() =>
      rawHttpExchange(chatPort, upgradeRequestText({ Host: `127.0.0.1:${chatPort}`, Origin: origin, Connection: 'Upgrade, close' }, 'GET', '/chat/lobby?token=alice-token')),
    );
    expect(answer.status).toBe(403);
    expectCodeInText(answer.body, 'WSG_ERR_GATEWAY_ORIGIN');
    expect(answer.body.length).toBeLessThan(200);
  });
});
