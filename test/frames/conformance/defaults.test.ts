import { afterEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { resolveConnectionOptions } from '../../../lib/frames/connection-options.js';
import { CapacityError, SendQueueFullError, TimeoutError } from '../../../lib/frames/errors.js';
import { Limits } from '../../../lib/frames/limits.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import type { WsServerOptions } from '../../../lib/frames/websocket-server.js';
import { sharedZlibLimiter } from '../../../lib/frames/zlib-limiter.js';
import { bareCodec } from '../../support/deflate-pair.js';
import { expectWsgError } from '../../support/expect-wsg-error.js';
import { inflateMessage } from '../../support/raw-deflate.js';
import type { RawPeer } from '../../support/raw-peer.js';
import { EchoHarness, expectCleanClose, expectFailure, fillUntilSocketFull, headerOnly, patterned, type ServerMode, type ServerSide } from './echo-harness.js';

// Every default that README, the TSDoc of ConnectionOptions / PerMessageDeflateOptions and
// lib/frames/limits.ts document, checked on a server started WITHOUT that option: at the
// default the engine accepts, one unit over it refuses (or times out within its bounds).
let harness: EchoHarness | undefined;
async function start(options: Omit<WsServerOptions, 'port' | 'server'> = {}, mode: ServerMode = 'echo'): Promise<EchoHarness> {
  harness = await EchoHarness.start(options, mode);
  return harness;
}
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const KiB = 1024;
const MiB = 1024 * KiB;

/** Header (with mask key) of a masked client frame declaring `length`, and no payload. */
describe('documented defaults', () => {
  it('resolveConnectionOptions({}) applies the documented defaults, and Limits states them', () => {
    expect(resolveConnectionOptions({})).toEqual({
      maxMessageSize: 1 * MiB,
      maxFrameSize: 1 * MiB,
      maxSendQueue: 16 * MiB,
      sendQueuePolicy: 'close',
      sendLowWaterMark: 64 * KiB,
      maxPendingPongs: 128,
      maxReceiveQueue: 64,
      acceptUnmaskedFrames: false,
      closeTimeout: 5_000,
      pingInterval: 0,
      pongTimeout: 10_000,
      idleTimeout: 0,
      decodeText: true,
    });
    expect(Object.fromEntries(Object.entries(Limits).map(([name, limit]) => [name, limit.default]))).toEqual({
      maxMessageSize: 1 * MiB,
      maxFrameSize: 1 * MiB,
      maxSendQueue: 16 * MiB,
      sendLowWaterMark: 64 * KiB,
      maxPendingPongs: 128,
      maxReceiveQueue: 64,
      closeTimeout: 5_000,
      pingInterval: 0,
      pongTimeout: 10_000,
      idleTimeout: 0,
      handshakeTimeout: 10_000,
      maxConnections: 100_000,
      maxConnectionsPerIp: 4_096,
      maxPendingHandshakes: 4_096,
      maxPendingHandshakesPerIp: 256,
    });
  });

  describe('maxMessageSize: 1 MiB', () => {
    it('echoes a message of exactly 1 MiB', async () => {
      const h = await start();
      const { peer, side } = await h.connect();
      const payload = patterned(1 * MiB, 7);
      await peer.sendBinary(payload);
      expect((await peer.nextMessage()).payload.equals(payload)).toBe(true);
      await expectCleanClose(peer, side);
    });

    it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE on a frame declaring 1 MiB + 1, with only its header sent', async () => {
      const h = await start();
      const { peer, side } = await h.connect();
      await peer.write(headerOnly(Opcode.Binary, 1 * MiB + 1));
      await expectFailure(peer, side, { closeCode: CloseCode.MessageTooBig, errorClass: CapacityError, code: 'WSG_ERR_MESSAGE_TOO_LARGE' });
    });
  });

  describe('maxFrameSize: maxMessageSize', () => {
    it('follows a raised maxMessageSize: one frame of 2 MiB is accepted with only maxMessageSize set to 2 MiB', async () => {
      const h = await start({ maxMessageSize: 2 * MiB, maxSendQueue: 4 * MiB });
      const { peer, side } = await h.connect();
      const payload = patterned(2 * MiB, 3);
      await peer.sendBinary(payload);
      expect((await peer.nextMessage()).payload.equals(payload)).toBe(true);
      await expectCleanClose(peer, side);
    });

    it('follows a lowered maxMessageSize: a 1-frame message of 2 KiB + 1 closes 1009 with only maxMessageSize set to 2 KiB', async () => {
      const h = await start({ maxMessageSize: 2 * KiB });
      const { peer, side } = await h.connect();
      expect(side.conn.options.maxFrameSize).toBe(2 * KiB);
      await peer.write(headerOnly(Opcode.Binary, 2 * KiB + 1));
      await expectFailure(peer, side, { closeCode: CloseCode.MessageTooBig, errorClass: CapacityError, code: 'WSG_ERR_MESSAGE_TOO_LARGE' });
    });
  });

  describe("maxSendQueue: 16 MiB, sendQueuePolicy: 'close'", () => {
    it("admits a send while under 16 MiB queued; at exactly 16 MiB queued, the next send answers 'dropped' and closes 1013 WSG_ERR_SEND_QUEUE_FULL", async () => {
      const h = await start({ maxMessageSize: 32 * MiB });
      const { side } = await h.connect();
      expect(side.conn.bufferedAmount).toBe(0);
      // A payload over 64 KiB has a 10-byte header (64-bit length). Frames leave on the next
      // tick, so sends in one tick see each other in bufferedAmount.
      expect(side.conn.sendBytes(Buffer.alloc(16 * MiB - 10 - 1))).toBe('queued');
      expect(side.conn.bufferedAmount).toBe(16 * MiB - 1);
      // 1 byte under the limit: admitted whole, overshooting by that message.
      expect(side.conn.sendBytes(Buffer.alloc(16))).toBe('queued');
      expect(side.conn.bufferedAmount).toBe(16 * MiB - 1 + 18);
      expect(side.conn.send(Buffer.alloc(1))).toBe('dropped');
      expect(side.conn.state).toBe('closing');
      const error = await side.firstError;
      expect(error).toBeInstanceOf(SendQueueFullError);
      expectWsgError(error, 'WSG_ERR_SEND_QUEUE_FULL', CloseCode.TryAgainLater);
    });

    it('refuses the next send at exactly 16 MiB queued, not at 16 MiB - 1', async () => {
      const h = await start({ maxMessageSize: 32 * MiB });
      const { side } = await h.connect();
      expect(side.conn.sendBytes(Buffer.alloc(16 * MiB - 10))).toBe('queued');
      expect(side.conn.bufferedAmount).toBe(16 * MiB);
      expect(side.conn.send(Buffer.alloc(1))).toBe('dropped');
      expect(side.conn.isOpen).toBe(false);
    });
  });

  describe('sendLowWaterMark: 64 KiB', () => {
    it("send() answers 'ok' when the queue holds exactly 64 KiB, and 'queued' at 64 KiB + 1", async () => {
      const h = await start({}, 'pull');
      const { peer, side } = await h.connect();
      // A payload of 126..65535 bytes has a 4-byte header (16-bit length).
      expect(side.conn.sendBytes(patterned(64 * KiB - 4))).toBe('ok');
      expect(side.conn.bufferedAmount).toBe(64 * KiB);
      await peer.nextMessage();
      expect(side.conn.bufferedAmount).toBe(0);
      expect(side.conn.sendBytes(patterned(64 * KiB - 3))).toBe('queued');
      expect(side.conn.bufferedAmount).toBe(64 * KiB + 1);
      await peer.nextMessage();
      await expectCleanClose(peer, side);
    });
  });

  describe('maxPendingPongs: 128', () => {
    it('answers 1 000 pings that arrive in one read: pongs owed while the socket drains do not count', async () => {
      const h = await start();
      const { peer, side } = await h.connect();
      await peer.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => peer.frame(Opcode.Ping, `${i}`))));
      for (let i = 0; i < 1000; i++) expect((await peer.nextFrame()).payload.toString()).toBe(`${i}`);
      await expectCleanClose(peer, side);
    });

    it('closes 1008 WSG_ERR_TOO_MANY_PENDING_PONGS on the 129th pong owed behind a socket that does not drain', async () => {
      const h = await start();
      const { peer, side } = await h.connect();
      await fillUntilSocketFull(peer, side);
      let pings = 0;
      const all = new Promise<void>((resolve) => side.conn.on('ping', () => ++pings === 128 && resolve()));
      await peer.write(Buffer.concat(Array.from({ length: 128 }, (_, i) => peer.frame(Opcode.Ping, `${i}`))));
      await all;
      expect(side.errors).toEqual([]);
      await peer.ping('129');
      peer.resume();
      await expectFailure(peer, side, { closeCode: CloseCode.PolicyViolation, errorClass: CapacityError, code: 'WSG_ERR_TOO_MANY_PENDING_PONGS' });
    });
  });

  describe('maxReceiveQueue: 64 messages', () => {
    /** Writes `count` text messages and a ping in one chunk; resolves once the engine has read it. */
    async function burst(count: number): Promise<{ pings: () => number; side: ServerSide; peer: RawPeer }> {
      const h = await start({}, 'pull');
      const { peer, side } = await h.connect();
      let pings = 0;
      side.conn.on('ping', () => pings++);
      const bytes = Buffer.concat([...Array.from({ length: count }, (_, i) => peer.frame(Opcode.Text, `m${i}`)), peer.frame(Opcode.Ping, 'after')]);
      const arrived = new Promise<number>((resolve) => side.conn.transport.once('data', (chunk: Buffer) => resolve(chunk.length)));
      await peer.write(bytes);
      // One read of the whole burst is the premise: the kernel delivered it in one chunk.
      expect(await arrived).toBe(bytes.length);
      return { pings: () => pings, side, peer };
    }

    it('keeps reading with 63 messages queued: the ping behind them is answered', async () => {
      const { pings, side, peer } = await burst(63);
      expect((await peer.nextFrame()).opcode).toBe(Opcode.Pong);
      expect(pings()).toBe(1);
      expect(side.conn.transport.isPaused()).toBe(false);
      for (let i = 0; i < 63; i++) expect(await side.conn.receiveText()).toBe(`m${i}`);
      await expectCleanClose(peer, side);
    });

    it('stops reading at 64 queued messages: the ping behind them waits until receive() takes one', async () => {
      const { pings, side, peer } = await burst(64);
      expect(side.conn.transport.isPaused()).toBe(true);
      expect(pings()).toBe(0);
      expect(await side.conn.receiveText()).toBe('m0');
      expect((await peer.nextFrame()).opcode).toBe(Opcode.Pong);
      expect(pings()).toBe(1);
      for (let i = 1; i < 64; i++) expect(await side.conn.receiveText()).toBe(`m${i}`);
      await expectCleanClose(peer, side);
    });
  });

  describe('closeTimeout: 5 s', () => {
    it('destroys the socket no sooner than 4.9 s and by 6 s after close() when the peer never answers; CloseInfo error WSG_ERR_CLOSE_TIMEOUT', async () => {
      const h = await start();
      const { peer, side } = await h.connect();
      const started = Date.now();
      side.conn.close(CloseCode.Normal, 'bye');
      expect((await peer.closeFrame()).code).toBe(CloseCode.Normal);
      const info = await side.closeInfo;
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(4_900);
      expect(elapsed).toBeLessThanOrEqual(6_000);
      expect(info).toMatchObject({ code: CloseCode.Normal, reason: 'bye', wasClean: false });
      expect(info.error).toBeInstanceOf(TimeoutError);
      expectWsgError(info.error, 'WSG_ERR_CLOSE_TIMEOUT');
      await peer.closed;
    }, 15_000);
  });

  describe('pongTimeout: 10 s', () => {
    it('drops a silent peer no sooner than 9.9 s and by 11 s after the first heartbeat ping; CloseInfo error WSG_ERR_PONG_TIMEOUT (1006)', async () => {
      const h = await start({ pingInterval: 200 });
      const { peer, side } = await h.connect();
      expect((await peer.nextFrame()).opcode).toBe(Opcode.Ping);
      const pinged = Date.now();
      const info = await side.closeInfo;
      const elapsed = Date.now() - pinged;
      expect(elapsed).toBeGreaterThanOrEqual(9_900);
      expect(elapsed).toBeLessThanOrEqual(11_000);
      expect(info).toMatchObject({ code: CloseCode.Abnormal, wasClean: false });
      expect(info.error).toBeInstanceOf(TimeoutError);
      expectWsgError(info.error, 'WSG_ERR_PONG_TIMEOUT', CloseCode.Abnormal);
      await peer.closed;
      // Heartbeat pings kept coming every pingInterval while the deadline ran.
      expect(peer.frames.filter((f) => f.opcode === Opcode.Ping).length).toBeGreaterThanOrEqual(40);
    }, 20_000);
  });

  describe('perMessageDeflate.threshold: 1024 bytes', () => {
    it('sends 1023 bytes uncompressed and 1024 bytes compressed (RSV1)', async () => {
      const h = await start({ perMessageDeflate: true }, 'pull');
      const { peer, side } = await h.connect({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover' } });
      expect(peer.response?.headers['sec-websocket-extensions']).toBe('permessage-deflate; server_no_context_takeover');
      side.conn.sendBytes(patterned(1023));
      side.conn.sendBytes(patterned(1024));
      const below = await peer.nextFrame();
      expect(below.rsv1).toBe(false);
      expect(below.payload.equals(patterned(1023))).toBe(true);
      const at = await peer.nextFrame();
      expect(at.rsv1).toBe(true);
      expect(inflateMessage(at.payload).equals(patterned(1024))).toBe(true);
      await expectCleanClose(peer, side);
    });
  });

  describe('perMessageDeflate.concurrencyLimit: 10 zlib operations in flight', () => {
    it('starts 10 compressions at once and holds the 11th until one finishes', async () => {
      expect({ inFlight: sharedZlibLimiter.inFlight, queued: sharedZlibLimiter.queued }).toEqual({ inFlight: 0, queued: 0 });
      const instances = Array.from({ length: 11 }, () => bareCodec('server', {}, 1 * MiB));
      const done: Array<Promise<Buffer>> = instances.map(
        (deflate, i) =>
          new Promise<Buffer>((resolve, reject) => deflate.compress(patterned(4 * KiB, i), true, (error, result) => (error === null ? resolve(result!) : reject(error)))),
      );
      expect({ inFlight: sharedZlibLimiter.inFlight, queued: sharedZlibLimiter.queued }).toEqual({ inFlight: 10, queued: 1 });
      const results = await Promise.all(done);
      results.forEach((compressed, i) => expect(inflateMessage(compressed).equals(patterned(4 * KiB, i))).toBe(true));
      expect({ inFlight: sharedZlibLimiter.inFlight, queued: sharedZlibLimiter.queued }).toEqual({ inFlight: 0, queued: 0 });
      for (const deflate of instances) deflate.cleanup();
    });
  });
});
