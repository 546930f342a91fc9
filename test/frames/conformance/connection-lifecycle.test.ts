import { afterEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { AlreadyClosedError, ConnectionClosedError, InvalidArgumentError, TimeoutError } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import type { ReceivedMessage } from '../../../lib/frames/websocket-connection.js';
import type { WsServerOptions } from '../../../lib/frames/websocket-server.js';
import { expectRejectsWsgError, expectWsgError } from '../../support/expect-wsg-error.js';
import { EchoHarness, expectCleanClose, patterned, within, type ServerMode } from './echo-harness.js';

// The connection API around the protocol: timers, pull-style reading, closing from our side.
let harness: EchoHarness | undefined;
async function start(options: Omit<WsServerOptions, 'port' | 'server'>, mode: ServerMode = 'echo'): Promise<EchoHarness> {
  harness = await EchoHarness.start(options, mode);
  return harness;
}
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function catching<T>(fn: () => T): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('option closeTimeout (RFC 6455 §7.1.1: wait for the peer, but not forever)', () => {
  it('destroys the socket no sooner than closeTimeout and by closeTimeout + 500 ms when the peer never answers our close; CloseInfo error WSG_ERR_CLOSE_TIMEOUT', async () => {
    const h = await start({ closeTimeout: 300 });
    const { peer, side } = await h.connect();
    const started = Date.now();
    side.conn.close(1000, 'bye');
    expect((await peer.closeFrame()).code).toBe(1000);
    const info = await side.closeInfo;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(270);
    expect(elapsed).toBeLessThanOrEqual(800);
    expect(info).toMatchObject({ code: 1000, reason: 'bye', wasClean: false });
    expect(info.error).toBeInstanceOf(TimeoutError);
    // The close frame already went out with 1000; the timeout itself sends nothing.
    expectWsgError(info.error, 'WSG_ERR_CLOSE_TIMEOUT');
    await peer.closed;
    expect(peer.remoteClosedFirst).toBe(true);
  });

  it('finishes cleanly with no error when the peer answers within closeTimeout', async () => {
    const h = await start({ closeTimeout: 2000 });
    const { peer, side } = await h.connect();
    side.conn.close(1000);
    await peer.closeFrame();
    await peer.sendClose(1000);
    await peer.closed;
    const info = await side.closeInfo;
    expect(info).toMatchObject({ code: 1000, wasClean: true });
    expect(info.error).toBeUndefined();
  });
});

describe('option idleTimeout', () => {
  it('closes 1001 with CloseInfo error WSG_ERR_IDLE_TIMEOUT no sooner than idleTimeout and by idleTimeout + 500 ms of silence', async () => {
    const started = Date.now();
    const h = await start({ idleTimeout: 300 });
    const { peer, side } = await h.connect();
    const connected = Date.now();
    const close = await peer.closeFrame();
    // The timer starts when the engine builds the connection: after `started`, before `connected`.
    expect(Date.now() - connected).toBeGreaterThanOrEqual(270);
    expect(Date.now() - started).toBeLessThanOrEqual(800);
    expect(close.code).toBe(CloseCode.GoingAway);
    await peer.sendClose(CloseCode.GoingAway);
    await peer.closed;
    const info = await side.closeInfo;
    expect(info.code).toBe(CloseCode.GoingAway);
    expect(info.error).toBeInstanceOf(TimeoutError);
    expectWsgError(info.error, 'WSG_ERR_IDLE_TIMEOUT', CloseCode.GoingAway);
  });

  it('stays open while frames keep arriving within idleTimeout', async () => {
    const h = await start({ idleTimeout: 400 });
    const { peer, side } = await h.connect();
    // 10 pings 60 ms apart span 600 ms, longer than idleTimeout; each resets the timer.
    for (let i = 0; i < 10; i++) {
      await peer.ping(`${i}`);
      expect((await peer.nextFrame()).opcode).toBe(Opcode.Pong);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    expect(side.conn.isOpen).toBe(true);
    await expectCleanClose(peer, side);
  });
});

describe('options pingInterval / pongTimeout (heartbeat)', () => {
  it('drops the connection with CloseInfo error WSG_ERR_PONG_TIMEOUT no sooner than pongTimeout and by pongTimeout + 500 ms after an unanswered heartbeat ping', async () => {
    const h = await start({ pingInterval: 100, pongTimeout: 300 });
    const { peer, side } = await h.connect();
    const ping = await peer.nextFrame();
    const pinged = Date.now();
    expect(ping.opcode).toBe(Opcode.Ping);
    const info = await side.closeInfo;
    const elapsed = Date.now() - pinged;
    expect(elapsed).toBeGreaterThanOrEqual(270);
    expect(elapsed).toBeLessThanOrEqual(800);
    expect(info.code).toBe(CloseCode.Abnormal);
    expect(info.wasClean).toBe(false);
    expect(info.error).toBeInstanceOf(TimeoutError);
    // No close frame is sent: TCP is dropped, so the closeCode is 1006 (Abnormal).
    expectWsgError(info.error, 'WSG_ERR_PONG_TIMEOUT', CloseCode.Abnormal);
    await peer.closed;
    expect(peer.frames.filter((f) => f.opcode === Opcode.Close)).toEqual([]);
  });

  it('keeps a peer that answers heartbeat pings', async () => {
    const h = await start({ pingInterval: 50, pongTimeout: 40 });
    const { peer, side } = await h.connect({ autoPong: true });
    await peer.waitUntil(() => (peer.frames.filter((f) => f.opcode === Opcode.Ping).length >= 4 ? true : undefined), '4 heartbeat pings');
    expect(side.conn.isOpen).toBe(true);
    await expectCleanClose(peer, side);
  });
});

describe('pull-style reading: receive(), receiveText(), receiveBytes(), for await', () => {
  it('receive() returns text as a string and binary as a Buffer, in order', async () => {
    const h = await start({}, 'pull');
    const { peer, side } = await h.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Text, 'héllo'), peer.frame(Opcode.Binary, patterned(10))]));
    expect(await side.conn.receive()).toEqual({ data: 'héllo', isBinary: false });
    const second = await side.conn.receive();
    expect(second.isBinary).toBe(true);
    expect(Buffer.isBuffer(second.data) && second.data.equals(patterned(10))).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('receiveText() rejects a binary message and receiveBytes() a text one with InvalidArgumentError WSG_ERR_INVALID_ARGUMENT', async () => {
    const h = await start({}, 'pull');
    const { peer, side } = await h.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Binary, 'b'), peer.frame(Opcode.Text, 't')]));
    expect(await expectRejectsWsgError(side.conn.receiveText(), 'WSG_ERR_INVALID_ARGUMENT')).toBeInstanceOf(InvalidArgumentError);
    expect(await expectRejectsWsgError(side.conn.receiveBytes(), 'WSG_ERR_INVALID_ARGUMENT')).toBeInstanceOf(InvalidArgumentError);
    await expectCleanClose(peer, side);
  });

  it('for await yields every message and ends when the peer closes', async () => {
    const h = await start({}, 'pull');
    const { peer, side } = await h.connect();
    const collected: ReceivedMessage[] = [];
    const loop = (async () => {
      for await (const message of side.conn) collected.push(message);
    })();
    for (let i = 0; i < 5; i++) await peer.sendText(`m${i}`);
    await peer.sendClose(1000);
    await loop;
    expect(collected.map((m) => m.data)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    await peer.closed;
  });

  it('a pending receive() rejects with ConnectionClosedError WSG_ERR_CONNECTION_CLOSED when the peer closes', async () => {
    const h = await start({}, 'pull');
    const { peer, side } = await h.connect();
    const pending = side.conn.receive();
    await peer.sendClose(1000);
    expect(await expectRejectsWsgError(pending, 'WSG_ERR_CONNECTION_CLOSED')).toBeInstanceOf(ConnectionClosedError);
    expect(await expectRejectsWsgError(side.conn.receive(), 'WSG_ERR_CONNECTION_CLOSED')).toBeInstanceOf(ConnectionClosedError);
    await peer.closed;
  });

  it("delivers messages queued before a 'message' listener is attached, in order", async () => {
    const h = await start({}, 'pull');
    const { peer, side } = await h.connect();
    const pong = (async () => {
      await peer.write(Buffer.concat([peer.frame(Opcode.Text, 'a'), peer.frame(Opcode.Text, 'b'), peer.frame(Opcode.Ping, 'sync')]));
      return peer.nextFrame();
    })();
    expect((await pong).opcode).toBe(Opcode.Pong);
    const seen: unknown[] = [];
    const done = new Promise<void>((resolve) =>
      side.conn.on('message', (data) => {
        seen.push(data);
        if (seen.length === 3) resolve();
      }),
    );
    await peer.sendText('c');
    await done;
    expect(seen).toEqual(['a', 'b', 'c']);
    await expectCleanClose(peer, side);
  });
});

describe('limit maxReceiveQueue and the closing handshake', () => {
  it('still reads the peer\'s close reply after close() while reading is paused on a full receive queue', async () => {
    const h = await start({ maxReceiveQueue: 1, closeTimeout: 10_000 }, 'pull');
    const { peer, side } = await h.connect();
    const arrived = new Promise<void>((resolve) => side.conn.transport.once('data', () => resolve()));
    await peer.write(Buffer.concat([peer.frame(Opcode.Text, 'm1'), peer.frame(Opcode.Text, 'm2'), peer.frame(Opcode.Text, 'm3')]));
    await arrived;
    expect(side.conn.transport.isPaused()).toBe(true);
    // The application gives up on the backlog and closes.
    side.conn.close(1000, 'enough');
    expect((await peer.closeFrame()).code).toBe(1000);
    await peer.sendClose(1000);
    const info = await within(side.closeInfo, 2_000, 'close reply not read: CloseInfo still pending 2 s after the peer answered (closeTimeout is 10 s)');
    expect(info).toMatchObject({ code: 1000, wasClean: true });
    await peer.closed;
  });

  it('sees the peer\'s FIN after failing a connection whose reading was paused on a full receive queue', async () => {
    const h = await start({ maxReceiveQueue: 1, closeTimeout: 10_000, maxSendQueue: 1024, sendLowWaterMark: 0, sendQueuePolicy: 'close' }, 'pull');
    const { peer, side } = await h.connect();
    const arrived = new Promise<void>((resolve) => side.conn.transport.once('data', () => resolve()));
    await peer.write(Buffer.concat([peer.frame(Opcode.Text, 'm1'), peer.frame(Opcode.Text, 'm2')]));
    await arrived;
    expect(side.conn.transport.isPaused()).toBe(true);
    // A send below maxSendQueue is admitted whole; the next one, over it under the 'close'
    // policy, fails the connection with 1013.
    expect(side.conn.sendBytes(patterned(2048))).toBe('queued');
    expect(side.conn.sendBytes(patterned(1))).toBe('dropped');
    expect((await peer.closeFrame()).code).toBe(CloseCode.TryAgainLater);
    await peer.sendClose(CloseCode.TryAgainLater);
    peer.end();
    await peer.closed;
    const info = await within(side.closeInfo, 2_000, 'peer FIN not seen: CloseInfo still pending 2 s after the peer closed TCP (closeTimeout is 10 s)');
    expectWsgError(info.error, 'WSG_ERR_SEND_QUEUE_FULL', CloseCode.TryAgainLater);
  });
});

describe('sending on a closing or closed connection', () => {
  it('send(), ping() and pong() throw AlreadyClosedError WSG_ERR_ALREADY_CLOSED once close() was called; close() again is a no-op', async () => {
    const h = await start({});
    const { peer, side } = await h.connect();
    side.conn.close(1000);
    for (const call of [() => side.conn.send('x'), () => side.conn.sendBytes(Buffer.from('x')), () => side.conn.ping(), () => side.conn.pong()]) {
      const error = catching(call);
      expect(error).toBeInstanceOf(AlreadyClosedError);
      expectWsgError(error, 'WSG_ERR_ALREADY_CLOSED');
    }
    side.conn.close(1001);
    expect((await peer.closeFrame()).code).toBe(1000);
    await peer.sendClose(1000);
    await peer.closed;
    expect(peer.frames.filter((f) => f.opcode === Opcode.Close)).toHaveLength(1);
  });

  it('ping() and pong() accept 125 bytes and throw InvalidArgumentError WSG_ERR_INVALID_ARGUMENT at 126 (§5.5)', async () => {
    const h = await start({});
    const { peer, side } = await h.connect();
    side.conn.ping(patterned(125));
    const ping = await peer.nextFrame();
    expect(ping).toMatchObject({ opcode: Opcode.Ping, masked: false });
    expect(ping.payload.length).toBe(125);
    for (const call of [() => side.conn.ping(patterned(126)), () => side.conn.pong(patterned(126))]) {
      const error = catching(call);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expectWsgError(error, 'WSG_ERR_INVALID_ARGUMENT');
    }
    expect(side.conn.isOpen).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('terminate() drops TCP without a close frame; CloseInfo code 1006', async () => {
    const h = await start({});
    const { peer, side } = await h.connect();
    side.conn.terminate();
    await peer.closed;
    expect(peer.frames).toEqual([]);
    expect(await side.closeInfo).toMatchObject({ code: CloseCode.Abnormal, wasClean: false });
    expect(side.conn.state).toBe('closed');
  });

  it('reports 1006 when the peer drops TCP without a close frame', async () => {
    const h = await start({});
    const { peer, side } = await h.connect();
    peer.destroy();
    expect(await side.closeInfo).toMatchObject({ code: CloseCode.Abnormal, wasClean: false });
  });
});
