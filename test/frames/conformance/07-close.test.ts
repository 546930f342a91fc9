import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { InvalidArgumentError, InvalidUtf8Error, ProtocolError } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { expectThrowsWsgError, expectWsgError } from '../../support/expect-wsg-error.js';
import { closePayload } from '../../support/raw-peer.js';
import { EchoHarness, expectCleanClose, expectFailure, patterned, within } from './echo-harness.js';

// Autobahn category 7: the closing handshake, close codes and reasons.
let harness: EchoHarness;
beforeEach(async () => {
  harness = await EchoHarness.start();
});
afterEach(async () => {
  await harness.close();
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RFC 6455 §7.1 closing handshake basics (Autobahn 7.1)', () => {
  it('echoes a message, then answers a close with the same code and closes TCP first (7.1.1)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendText('Hello World!');
    expect((await peer.nextFrame()).payload.toString()).toBe('Hello World!');
    await expectCleanClose(peer, side, CloseCode.Normal);
  });

  it('ignores a second close frame sent after the first (7.1.2)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Close, closePayload(1000)), peer.frame(Opcode.Close, closePayload(1001))]));
    const close = await peer.closeFrame();
    expect(close.code).toBe(1000);
    await peer.closed;
    expect(peer.framesAfterClose()).toEqual([]);
    expect(await side.closeInfo).toMatchObject({ code: 1000, wasClean: true });
    expect(side.errors).toEqual([]);
  });

  it('does not answer a ping sent after the close frame (7.1.3)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Close, closePayload(1000)), peer.frame(Opcode.Ping, 'after')]));
    await peer.closeFrame();
    await peer.closed;
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
    expect(await side.closeInfo).toMatchObject({ code: 1000, wasClean: true });
  });

  it('does not echo or deliver a text message sent after the close frame (7.1.4)', async () => {
    const { peer, side } = await harness.connect();
    const delivered: unknown[] = [];
    side.conn.on('message', (data) => delivered.push(data));
    await peer.write(Buffer.concat([peer.frame(Opcode.Close, closePayload(1000)), peer.frame(Opcode.Text, 'after')]));
    await peer.closeFrame();
    await peer.closed;
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
    await side.closeInfo;
    expect(delivered).toEqual([]);
  });

  it('closes cleanly when the close frame arrives in the middle of a fragmented message (7.1.5)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(
      Buffer.concat([
        peer.frame(Opcode.Text, 'fragment1', { fin: false }),
        peer.frame(Opcode.Close, closePayload(1000)),
        peer.frame(Opcode.Continuation, 'fragment2'),
      ]),
    );
    const close = await peer.closeFrame();
    expect(close.code).toBe(1000);
    await peer.closed;
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
    expect(await side.closeInfo).toMatchObject({ code: 1000, wasClean: true });
  });

  it('echoes a large message and a ping queued before the close, then the close (7.1.6)', async () => {
    const { peer, side } = await harness.connect();
    const big = patterned(256 * 1024);
    await peer.write(Buffer.concat([peer.frame(Opcode.Binary, big), peer.frame(Opcode.Close, closePayload(1000)), peer.frame(Opcode.Ping)]));
    const echo = await peer.nextMessage();
    expect(echo.payload.equals(big)).toBe(true);
    const close = await peer.closeFrame();
    expect(close.code).toBe(1000);
    await peer.closed;
    expect(peer.framesAfterClose()).toEqual([]);
    expect(await side.closeInfo).toMatchObject({ code: 1000, wasClean: true });
  });

  it('answers a close frame delivered one byte per tick', async () => {
    const { peer, side } = await harness.connect();
    await peer.drip(peer.frame(Opcode.Close, closePayload(1000, 'bye')));
    expect((await peer.closeFrame()).code).toBe(1000);
    await peer.closed;
    expect(await side.closeInfo).toMatchObject({ code: 1000, reason: 'bye', wasClean: true });
  });
});

describe('RFC 6455 §5.5.1 close frame payloads (Autobahn 7.3)', () => {
  it('answers an empty close frame with an empty close frame; CloseInfo code is 1005 (7.3.1)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendClose();
    const close = await peer.closeFrame();
    expect(close.code).toBeUndefined();
    expect(close.frame.payload.length).toBe(0);
    await peer.closed;
    expect(peer.remoteClosedFirst).toBe(true);
    expect(await side.closeInfo).toMatchObject({ code: CloseCode.NoStatus, reason: '', wasClean: true });
  });

  it('closes 1002 WSG_ERR_INVALID_CLOSE_PAYLOAD on a close frame with a 1-byte payload (7.3.2)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendFrame(Opcode.Close, Buffer.from([0x03]));
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_INVALID_CLOSE_PAYLOAD' });
  });

  it('accepts a close with a code and no reason (7.3.3)', async () => {
    const { peer, side } = await harness.connect();
    await expectCleanClose(peer, side, 1000);
  });

  it('accepts a close with a code and a short reason and reports the reason (7.3.4)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendClose(1000, 'Hello World!');
    expect((await peer.closeFrame()).code).toBe(1000);
    expect(await side.closeInfo).toMatchObject({ code: 1000, reason: 'Hello World!', wasClean: true });
  });

  it('accepts a close with a 123-byte reason, the most that fits (7.3.5)', async () => {
    const { peer, side } = await harness.connect();
    const reason = '*'.repeat(123);
    await peer.sendClose(1000, reason);
    expect((await peer.closeFrame()).code).toBe(1000);
    expect(await side.closeInfo).toMatchObject({ code: 1000, reason, wasClean: true });
  });

  it('closes 1002 WSG_ERR_CONTROL_FRAME_TOO_LONG on a close with a 124-byte reason (7.3.6)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendClose(1000, '*'.repeat(124));
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_CONTROL_FRAME_TOO_LONG' });
  });

  it('accepts a reason with multi-byte UTF-8 characters (7.5 valid)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendClose(1000, 'κόσμε 🎉');
    expect((await peer.closeFrame()).code).toBe(1000);
    expect(await side.closeInfo).toMatchObject({ reason: 'κόσμε 🎉' });
  });

  it('closes 1007 WSG_ERR_INVALID_UTF8 on a close reason that is not UTF-8 (7.5.1)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendClose(1000, Buffer.concat([Buffer.from('κόσμε'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('edited')]));
    await expectFailure(peer, side, { closeCode: CloseCode.InvalidPayload, errorClass: InvalidUtf8Error, code: 'WSG_ERR_INVALID_UTF8' });
  });

  it('closes 1007 on a close reason truncated inside a code point', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendClose(1000, Buffer.from([0x61, 0xce]));
    await expectFailure(peer, side, { closeCode: CloseCode.InvalidPayload, errorClass: InvalidUtf8Error, code: 'WSG_ERR_INVALID_UTF8' });
  });
});

// §7.4.1 defined codes, §7.4.2 reserved ranges, IANA registry (1012–1014 registered).
const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

describe('RFC 6455 §7.4 close codes a peer may send (Autobahn 7.7)', () => {
  it.each(VALID_CODES)('echoes close code %i and reports it in CloseInfo', async (code) => {
    const { peer, side } = await harness.connect();
    await expectCleanClose(peer, side, code);
  });
});

describe('RFC 6455 §7.4 close codes a peer may not send (Autobahn 7.9)', () => {
  it.each(INVALID_CODES)('closes 1002 WSG_ERR_INVALID_CLOSE_CODE on close code %i', async (code) => {
    const { peer, side } = await harness.connect();
    await peer.sendClose(code);
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_INVALID_CLOSE_CODE' });
  });
});

describe('RFC 6455 §7.1.1 / §7.1.7 the server closes TCP', () => {
  it('closes TCP first after both close frames, without waiting for the client (§7.1.1)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendClose(1000);
    await peer.closeFrame();
    await peer.closed;
    expect(peer.remoteClosedFirst).toBe(true);
    expect((await side.closeInfo).wasClean).toBe(true);
  });

  it('completes a server-initiated close: sends the code and reason, closes TCP once the peer answers', async () => {
    const { peer, side } = await harness.connect();
    side.conn.close(4001, 'app says bye');
    const close = await peer.closeFrame();
    expect(close.code).toBe(4001);
    expect(close.reason.toString()).toBe('app says bye');
    expect(side.conn.state).toBe('closing');
    await peer.sendClose(4001);
    await peer.closed;
    expect(peer.remoteClosedFirst).toBe(true);
    expect(await side.closeInfo).toMatchObject({ code: 4001, wasClean: true });
  });

  it('delivers CloseInfo promptly after failing the connection once the peer answers and closes TCP (no closeTimeout wait)', async () => {
    await harness.close();
    harness = await EchoHarness.start({ closeTimeout: 10_000 });
    const { peer, side } = await harness.connect();
    await peer.sendFrame(0x3);
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.ProtocolError);
    await peer.sendClose(CloseCode.ProtocolError);
    peer.end();
    await peer.closed;
    const info = await within(side.closeInfo, 2_000, 'server-side CloseInfo still pending 2 s after the peer closed TCP (closeTimeout is 10 s)');
    expect(info.code).toBe(CloseCode.ProtocolError);
    expect(info.error).toBeInstanceOf(ProtocolError);
    expectWsgError(info.error, 'WSG_ERR_INVALID_OPCODE', CloseCode.ProtocolError);
  });

  it('close() rejects a code that may not be sent with InvalidArgumentError WSG_ERR_INVALID_ARGUMENT', async () => {
    const { peer, side } = await harness.connect();
    for (const code of [1005, 1006, 1015, 999, 5000]) {
      expect(expectThrowsWsgError(() => side.conn.close(code), 'WSG_ERR_INVALID_ARGUMENT')).toBeInstanceOf(InvalidArgumentError);
    }
    // §5.5: 2 code bytes + 123 reason bytes fill a control frame; 124 would not fit.
    expect(expectThrowsWsgError(() => side.conn.close(1000, 'x'.repeat(124)), 'WSG_ERR_INVALID_ARGUMENT')).toBeInstanceOf(InvalidArgumentError);
    expect(side.conn.isOpen).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('ignores data the peer sends after its close frame (the echo never happens)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendClose(1000);
    await tick();
    await peer.sendText('late');
    await peer.closeFrame();
    await peer.closed;
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
    expect(side.errors).toEqual([]);
  });
});
