import { afterEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { CapacityError, SendQueueFullError } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import type { WsServerOptions } from '../../../lib/frames/websocket-server.js';
import { expectThrowsWsgError, expectWsgError } from '../../support/expect-wsg-error.js';
import type { RawPeer } from '../../support/raw-peer.js';
import { EchoHarness, expectCleanClose, expectFailure, fillUntilSocketFull, headerOnly, patterned, type ServerMode, type ServerSide } from './echo-harness.js';

// Autobahn category 9 (limits and performance) plus every engine limit, each crossed:
// exactly at the limit passes, one over fails with its code and close code.
let harness: EchoHarness | undefined;
async function start(options: Omit<WsServerOptions, 'port' | 'server'>, mode: ServerMode = 'echo'): Promise<EchoHarness> {
  harness = await EchoHarness.start(options, mode);
  return harness;
}
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const KiB = 1024;
const MiB = 1024 * KiB;

describe('limit maxMessageSize (declared length, before buffering)', () => {
  const TOO_LARGE = { closeCode: CloseCode.MessageTooBig, errorClass: CapacityError, code: 'WSG_ERR_MESSAGE_TOO_LARGE' } as const;

  it('accepts a single-frame message of exactly maxMessageSize bytes', async () => {
    const h = await start({ maxMessageSize: 64 * KiB });
    const { peer, side } = await h.connect();
    const payload = patterned(64 * KiB);
    await peer.sendBinary(payload);
    expect((await peer.nextMessage()).payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE on a frame declaring maxMessageSize + 1, with only its header sent', async () => {
    const h = await start({ maxMessageSize: 64 * KiB });
    const { peer, side } = await h.connect();
    await peer.write(headerOnly(Opcode.Binary, 64 * KiB + 1));
    await expectFailure(peer, side, TOO_LARGE);
  });

  it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE on a 64-bit length of 2^40, with only its header sent', async () => {
    const h = await start({ maxMessageSize: 64 * KiB });
    const { peer, side } = await h.connect();
    await peer.write(headerOnly(Opcode.Text, 2 ** 40));
    await expectFailure(peer, side, TOO_LARGE);
  });

  it('accepts fragments that add up to exactly maxMessageSize', async () => {
    const h = await start({ maxMessageSize: 10_000 });
    const { peer, side } = await h.connect();
    const frames = Array.from({ length: 10 }, (_, i) => peer.frame(i === 0 ? Opcode.Binary : Opcode.Continuation, patterned(1000, i), { fin: i === 9 }));
    await peer.write(Buffer.concat(frames));
    expect((await peer.nextMessage()).payload.length).toBe(10_000);
    await expectCleanClose(peer, side);
  });

  it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE when a fragment would take the message 1 byte over, before that fragment is sent', async () => {
    const h = await start({ maxMessageSize: 10_000 });
    const { peer, side } = await h.connect();
    const frames = Array.from({ length: 9 }, (_, i) => peer.frame(i === 0 ? Opcode.Binary : Opcode.Continuation, patterned(1000, i), { fin: false }));
    await peer.write(Buffer.concat(frames));
    await tick();
    await peer.write(headerOnly(Opcode.Continuation, 1001));
    await expectFailure(peer, side, TOO_LARGE);
  });

  it('with maxFrameSize above maxMessageSize, reports the message limit for one oversized frame', async () => {
    const h = await start({ maxMessageSize: 1000, maxFrameSize: 1_000_000 });
    const { peer, side } = await h.connect();
    await peer.write(headerOnly(Opcode.Binary, 1001));
    await expectFailure(peer, side, TOO_LARGE);
  });
});

describe('limit maxFrameSize', () => {
  const TOO_LARGE = { closeCode: CloseCode.MessageTooBig, errorClass: CapacityError, code: 'WSG_ERR_FRAME_TOO_LARGE' } as const;

  it('accepts a frame of exactly maxFrameSize and a message of many such frames', async () => {
    const h = await start({ maxFrameSize: 1000, maxMessageSize: 10_000 });
    const { peer, side } = await h.connect();
    await peer.sendBinary(patterned(1000));
    expect((await peer.nextMessage()).payload.length).toBe(1000);
    const frames = Array.from({ length: 10 }, (_, i) => peer.frame(i === 0 ? Opcode.Text : Opcode.Continuation, 'f'.repeat(1000), { fin: i === 9 }));
    await peer.write(Buffer.concat(frames));
    expect((await peer.nextMessage()).payload.length).toBe(10_000);
    await expectCleanClose(peer, side);
  });

  it('closes 1009 WSG_ERR_FRAME_TOO_LARGE on a frame declaring maxFrameSize + 1, with only its header sent', async () => {
    const h = await start({ maxFrameSize: 1000, maxMessageSize: 10_000 });
    const { peer, side } = await h.connect();
    await peer.write(headerOnly(Opcode.Binary, 1001));
    await expectFailure(peer, side, TOO_LARGE);
  });

  it('closes 1009 WSG_ERR_FRAME_TOO_LARGE on a continuation frame over maxFrameSize', async () => {
    const h = await start({ maxFrameSize: 1000, maxMessageSize: 10_000 });
    const { peer, side } = await h.connect();
    await peer.sendText('a'.repeat(10), { fin: false });
    await tick();
    await peer.write(headerOnly(Opcode.Continuation, 1001));
    await expectFailure(peer, side, TOO_LARGE);
  });
});

describe('limit maxMessageSize with many small fragments (Autobahn 9.3, 9.4: counted in bytes, not fragments)', () => {
  it('echoes a 4 MiB text message sent in 64-byte fragments with maxMessageSize 8 MiB (9.3.1)', async () => {
    const h = await start({ maxMessageSize: 8 * MiB });
    const { peer, side } = await h.connect();
    const total = 4 * MiB;
    const fragment = Buffer.alloc(64, 0x2a);
    const frames: Buffer[] = [];
    for (let at = 0; at < total; at += 64) {
      frames.push(peer.frame(at === 0 ? Opcode.Text : Opcode.Continuation, fragment, { fin: at + 64 >= total }));
    }
    const wire = Buffer.concat(frames);
    for (let at = 0; at < wire.length; at += 256 * KiB) await peer.write(wire.subarray(at, at + 256 * KiB));
    const echo = await peer.nextMessage();
    expect(echo.opcode).toBe(Opcode.Text);
    expect(echo.payload.length).toBe(total);
    expect(echo.payload.every((b) => b === 0x2a)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('echoes a 4 MiB binary message sent in 64-byte fragments with maxMessageSize 8 MiB (9.4.1)', async () => {
    const h = await start({ maxMessageSize: 8 * MiB });
    const { peer, side } = await h.connect();
    const payload = patterned(4 * MiB, 9);
    const frames: Buffer[] = [];
    for (let at = 0; at < payload.length; at += 64) {
      frames.push(peer.frame(at === 0 ? Opcode.Binary : Opcode.Continuation, payload.subarray(at, at + 64), { fin: at + 64 >= payload.length }));
    }
    await peer.write(Buffer.concat(frames));
    const echo = await peer.nextMessage();
    expect(echo.payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('echoes a 16 MiB binary message in one frame with maxMessageSize 16 MiB (9.2.6, exactly at the limit)', async () => {
    const h = await start({ maxMessageSize: 16 * MiB, maxSendQueue: 32 * MiB });
    const { peer, side } = await h.connect();
    const payload = patterned(16 * MiB, 4);
    await peer.sendBinary(payload);
    const echo = await peer.nextMessage();
    expect(echo.payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });
});

describe('limit maxPendingPongs (ping flood)', () => {
  const FLOOD = { closeCode: CloseCode.PolicyViolation, errorClass: CapacityError, code: 'WSG_ERR_TOO_MANY_PENDING_PONGS' } as const;

  it('answers 1 000 pings written in one TCP write to a reading peer with 1 000 pongs and no close (maxPendingPongs 8)', async () => {
    const h = await start({ maxPendingPongs: 8 });
    const { peer, side } = await h.connect();
    // Pongs owed while the socket drains do not count, however many pings one read held.
    await peer.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => peer.frame(Opcode.Ping, `p${i}`))));
    for (let i = 0; i < 1000; i++) expect((await peer.nextFrame())).toMatchObject({ opcode: Opcode.Pong, payload: Buffer.from(`p${i}`) });
    await expectCleanClose(peer, side);
  });

  it('answers 1 000 pings of 125 bytes written at once (several socket reads) with 1 000 pongs, default maxPendingPongs', async () => {
    const h = await start({});
    const { peer, side } = await h.connect();
    await peer.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => peer.frame(Opcode.Ping, patterned(125, i)))));
    for (let i = 0; i < 1000; i++) expect((await peer.nextFrame()).payload.equals(patterned(125, i))).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('answers exactly maxPendingPongs pings owed behind a socket that does not drain, and closes 1008 WSG_ERR_TOO_MANY_PENDING_PONGS at one more', async () => {
    const h = await start({ maxPendingPongs: 8 });
    const { peer, side } = await h.connect();
    await fillUntilSocketFull(peer, side);
    let pings = 0;
    const eighth = new Promise<void>((resolve) => side.conn.on('ping', () => ++pings === 8 && resolve()));
    await peer.write(Buffer.concat(Array.from({ length: 8 }, (_, i) => peer.frame(Opcode.Ping, `p${i}`))));
    await eighth;
    expect(side.errors).toEqual([]);
    expect(side.conn.isOpen).toBe(true);
    await peer.ping('one more');
    const error = await side.firstError;
    expect(pings).toBe(9);
    peer.resume();
    await expectFailure(peer, side, FLOOD);
    expect(error.message).toBe('More than 8 pongs owed; the peer is not reading');
  });

  it('closes 1008 when a peer that never reads keeps pinging (pongs pile up behind a full socket), in bounded memory', async () => {
    const h = await start({ maxPendingPongs: 16 });
    const { peer, side } = await h.connect();
    peer.pause();
    let failed = false;
    void side.firstError.then(() => (failed = true), () => undefined);
    let pingsSeen = 0;
    let onPing: (() => void) | null = null;
    let socketPeak = 0;
    side.conn.on('ping', () => {
      pingsSeen++;
      socketPeak = Math.max(socketPeak, side.conn.bufferedAmount);
      onPing?.();
    });
    // Batches far over the limit, each parsed before the next is written: a read's pongs leave
    // with its flush, so only pongs owed behind a socket that will not drain cross the limit.
    const perBatch = 500;
    const batch = Buffer.concat(Array.from({ length: perBatch }, () => peer.frame(Opcode.Ping, patterned(125))));
    for (let sent = 0; !failed && sent < 500_000; ) {
      await peer.write(batch);
      sent += perBatch;
      const target = sent;
      await new Promise<void>((resolve) => {
        onPing = () => {
          if (pingsSeen >= target || failed) resolve();
        };
        void side.firstError.then(() => resolve(), () => undefined);
        onPing();
      });
    }
    expect(failed).toBe(true);
    peer.resume();
    await expectFailure(peer, side, FLOOD);
    expect(peer.frames.slice(0, -1).every((f) => f.opcode === Opcode.Pong)).toBe(true);
    expect(peer.frames.length).toBeGreaterThan(perBatch * 2);
    // What waits for the peer: the socket's high-water mark (16 KiB), one read's pongs
    // (≤ 64 KiB of pings) and 16 pongs owed behind it; never the whole flood.
    expect(socketPeak).toBeLessThan(16 * KiB + 64 * KiB + 16 * 127);
  });
});

/** Sends `size`-byte binary messages from the server until `stop` says so; returns what was sent. */
async function fillSendQueue(
  side: ServerSide,
  size: number,
  stop: (result: string | Error) => boolean,
): Promise<{ accepted: number; last: string | Error }> {
  let accepted = 0;
  for (let i = 0; i < 100_000; i++) {
    let result: string | Error;
    try {
      result = side.conn.sendBytes(patterned(size, accepted));
    } catch (error) {
      result = error as Error;
    }
    if (result === 'ok' || result === 'queued') accepted++;
    if (stop(result)) return { accepted, last: result };
    await tick();
  }
  throw new Error('send queue never filled');
}

async function receiveAll(peer: RawPeer, count: number, size: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const message = await peer.nextMessage();
    expect(message.payload.equals(patterned(size, i))).toBe(true);
  }
}

describe('limit maxSendQueue with sendQueuePolicy', () => {
  it("'error': accepts a message whose frame fills maxSendQueue exactly", async () => {
    const h = await start({ maxSendQueue: 64 * KiB, sendLowWaterMark: 0, sendQueuePolicy: 'error' });
    const { peer, side } = await h.connect();
    // 65532 payload bytes + 4 header bytes (16-bit length) = 65536 bytes queued.
    expect(side.conn.sendBytes(patterned(64 * KiB - 4))).toBe('queued');
    expect(side.conn.bufferedAmount).toBe(64 * KiB);
    expect((await peer.nextMessage()).payload.length).toBe(64 * KiB - 4);
    await expectCleanClose(peer, side);
  });

  it("'error': admits a send made below maxSendQueue whole (overshooting by it); throws SendQueueFullError WSG_ERR_SEND_QUEUE_FULL for a send made at it, and stays open", async () => {
    const h = await start({ maxSendQueue: 64 * KiB, sendLowWaterMark: 0, sendQueuePolicy: 'error' });
    const { peer, side } = await h.connect();
    side.conn.sendBytes(patterned(64 * KiB - 1000));
    // Queued now: 64 KiB - 996 bytes, under the limit: 1000 more are admitted whole.
    expect(side.conn.sendBytes(patterned(1000))).toBe('queued');
    expect(side.conn.bufferedAmount).toBe(64 * KiB - 996 + 1004);
    // Over the limit now. Under 'error' nothing is closed, so the error carries no closeCode.
    const thrown = expectThrowsWsgError(() => side.conn.sendBytes(patterned(1)), 'WSG_ERR_SEND_QUEUE_FULL');
    expect(thrown).toBeInstanceOf(SendQueueFullError);
    expect(side.conn.isOpen).toBe(true);
    expect((await peer.nextMessage()).payload.length).toBe(64 * KiB - 1000);
    expect((await peer.nextMessage()).payload.length).toBe(1000);
    await expectCleanClose(peer, side);
  });

  it("'error': with a peer that does not read, send() throws SendQueueFullError once socket and queue hold maxSendQueue, and every accepted message still arrives", async () => {
    const h = await start({ maxSendQueue: 256 * KiB, sendLowWaterMark: 16 * KiB, sendQueuePolicy: 'error' });
    const { peer, side } = await h.connect();
    peer.pause();
    const { accepted, last } = await fillSendQueue(side, 16 * KiB, (r) => r instanceof Error);
    expect(last).toBeInstanceOf(SendQueueFullError);
    expectWsgError(last, 'WSG_ERR_SEND_QUEUE_FULL');
    // At most one admitted message past the limit (16 KiB + its 4-byte header).
    expect(side.conn.bufferedAmount).toBeGreaterThanOrEqual(256 * KiB);
    expect(side.conn.bufferedAmount).toBeLessThan(256 * KiB + 16 * KiB + 4);
    expect(side.conn.isOpen).toBe(true);
    peer.resume();
    await receiveAll(peer, accepted, 16 * KiB);
    await expectCleanClose(peer, side);
  });

  it("'drop': with a peer that does not read, send() returns 'dropped' and the connection stays open", async () => {
    const h = await start({ maxSendQueue: 256 * KiB, sendLowWaterMark: 16 * KiB, sendQueuePolicy: 'drop' });
    const { peer, side } = await h.connect();
    peer.pause();
    const { accepted, last } = await fillSendQueue(side, 16 * KiB, (r) => r === 'dropped');
    expect(last).toBe('dropped');
    expect(side.conn.isOpen).toBe(true);
    expect(side.errors).toEqual([]);
    peer.resume();
    await receiveAll(peer, accepted, 16 * KiB);
    await expectCleanClose(peer, side);
  });

  it("'close' (the default): with a peer that does not read, closes 1013 with SendQueueFullError WSG_ERR_SEND_QUEUE_FULL after the accepted messages", async () => {
    const h = await start({ maxSendQueue: 256 * KiB, sendLowWaterMark: 16 * KiB, closeTimeout: 10_000 });
    const { peer, side } = await h.connect();
    peer.pause();
    const { accepted, last } = await fillSendQueue(side, 16 * KiB, (r) => r === 'dropped');
    expect(last).toBe('dropped');
    const error = await side.firstError;
    expect(error).toBeInstanceOf(SendQueueFullError);
    expectWsgError(error, 'WSG_ERR_SEND_QUEUE_FULL', CloseCode.TryAgainLater);
    expect(side.conn.state).toBe('closing');
    peer.resume();
    await receiveAll(peer, accepted, 16 * KiB);
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.TryAgainLater);
    await peer.sendClose(CloseCode.TryAgainLater);
    await peer.closed;
    const info = await side.closeInfo;
    expect(info.code).toBe(CloseCode.TryAgainLater);
    expect(info.error).toBe(error);
  });
});

describe('back-pressure: send() results and drain()', () => {
  it("reports 'ok' with exactly sendLowWaterMark bytes queued and 'queued' at sendLowWaterMark + 1", async () => {
    const h = await start({ sendLowWaterMark: 1000 });
    const { peer, side } = await h.connect();
    // 996 payload bytes + a 4-byte header (16-bit length) = 1000 bytes queued.
    expect(side.conn.sendBytes(patterned(996))).toBe('ok');
    expect(side.conn.bufferedAmount).toBe(1000);
    await peer.nextMessage();
    expect(side.conn.bufferedAmount).toBe(0);
    expect(side.conn.sendBytes(patterned(997))).toBe('queued');
    expect(side.conn.bufferedAmount).toBe(1001);
    await peer.nextMessage();
    await expectCleanClose(peer, side);
  });

  it("counts every frame queued in the tick: 'ok' while the sum stays at sendLowWaterMark, 'queued' once it passes it", async () => {
    const h = await start({ sendLowWaterMark: 1000 });
    const { peer, side } = await h.connect();
    // Two frames of 496 + 4 bytes fill the mark exactly; one more byte-sized frame (2 + 1) passes it.
    expect(side.conn.sendBytes(patterned(496))).toBe('ok');
    expect(side.conn.sendBytes(patterned(496))).toBe('ok');
    expect(side.conn.sendBytes(patterned(1))).toBe('queued');
    for (let i = 0; i < 3; i++) await peer.nextMessage();
    await expectCleanClose(peer, side);
  });

  it('drain() resolves at once with exactly sendLowWaterMark bytes queued, and only once they are written at sendLowWaterMark + 1', async () => {
    const h = await start({ sendLowWaterMark: 1000 }, 'pull');
    const { peer, side } = await h.connect();
    // The queue is written on the next tick; a promise that resolves at once settles before that,
    // so bufferedAmount seen on resolution tells "at once" (1000) from "after the write" (0).
    side.conn.sendBytes(patterned(996));
    expect(await side.conn.drain().then(() => side.conn.bufferedAmount)).toBe(1000);
    await peer.nextMessage();
    side.conn.sendBytes(patterned(997));
    expect(await side.conn.drain().then(() => side.conn.bufferedAmount)).toBe(0);
    await peer.nextMessage();
    await expectCleanClose(peer, side);
  });

  it("drain() resolves, and 'drain' fires, once a paused peer reads again and the queue falls to sendLowWaterMark", async () => {
    const h = await start({ maxSendQueue: 4 * MiB, sendLowWaterMark: 16 * KiB });
    const { peer, side } = await h.connect();
    peer.pause();
    const { accepted } = await fillSendQueue(side, 64 * KiB, () => side.conn.bufferedAmount > 512 * KiB);
    let drained = false;
    const drainEvent = new Promise<void>((resolve) => side.conn.once('drain', () => resolve()));
    const drain = side.conn.drain().then(() => {
      drained = true;
      return side.conn.bufferedAmount;
    });
    await tick();
    expect(drained).toBe(false);
    peer.resume();
    expect(await drain).toBeLessThanOrEqual(16 * KiB);
    await drainEvent;
    await receiveAll(peer, accepted, 64 * KiB);
    await expectCleanClose(peer, side);
  });
});

describe('limit maxReceiveQueue (pull-style reading pauses the socket)', () => {
  it('stops reading at maxReceiveQueue queued messages and resumes as receive() takes them', async () => {
    const h = await start({ maxReceiveQueue: 2 }, 'pull');
    const { peer, side } = await h.connect();
    let pings = 0;
    side.conn.on('ping', () => pings++);
    const arrived = new Promise<void>((resolve) => side.conn.transport.once('data', () => resolve()));
    await peer.write(Buffer.concat([peer.frame(Opcode.Text, 'm1'), peer.frame(Opcode.Text, 'm2'), peer.frame(Opcode.Text, 'm3'), peer.frame(Opcode.Ping, 'p')]));
    await arrived;
    expect(side.conn.transport.isPaused()).toBe(true);
    expect(pings).toBe(0);
    expect(await side.conn.receiveText()).toBe('m1');
    expect(pings).toBe(0);
    expect(await side.conn.receiveText()).toBe('m2');
    expect(pings).toBe(1);
    expect((await peer.nextFrame()).opcode).toBe(Opcode.Pong);
    expect(await side.conn.receiveText()).toBe('m3');
    await expectCleanClose(peer, side);
  });
});
