import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { ProtocolError } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { EchoHarness, expectCleanClose, expectFailure, patterned } from './echo-harness.js';

// Autobahn category 5: fragmentation.
let harness: EchoHarness;
beforeEach(async () => {
  harness = await EchoHarness.start();
});
afterEach(async () => {
  await harness.close();
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RFC 6455 §5.5 control frames must not be fragmented (Autobahn 5.1, 5.2)', () => {
  it('closes 1002 WSG_ERR_FRAGMENTED_CONTROL on a ping in two fragments', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Ping, 'frag', { fin: false }), peer.frame(Opcode.Continuation, 'ment')]));
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_FRAGMENTED_CONTROL' });
    expect(peer.frames.filter((f) => f.opcode === Opcode.Pong)).toEqual([]);
  });

  it('closes 1002 WSG_ERR_FRAGMENTED_CONTROL on a pong in two fragments', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Pong, 'frag', { fin: false }), peer.frame(Opcode.Continuation, 'ment')]));
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_FRAGMENTED_CONTROL' });
  });

  it('closes 1002 WSG_ERR_FRAGMENTED_CONTROL on a close frame with FIN clear', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendFrame(Opcode.Close, Buffer.from([0x03, 0xe8]), { fin: false });
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_FRAGMENTED_CONTROL' });
  });
});

describe('RFC 6455 §5.4 fragmented messages are reassembled (Autobahn 5.3–5.8)', () => {
  const twoFragments = (peer: { frame: (op: number, p: string, o?: { fin?: boolean }) => Buffer }): Buffer =>
    Buffer.concat([peer.frame(Opcode.Text, 'fragment1', { fin: false }), peer.frame(Opcode.Continuation, 'fragment2')]);

  it('echoes a text message in two fragments sent in one write (5.3)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(twoFragments(peer));
    expect((await peer.nextMessage()).payload.toString()).toBe('fragment1fragment2');
    await expectCleanClose(peer, side);
  });

  it('echoes a text message in two fragments sent frame by frame (5.4)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendText('fragment1', { fin: false });
    await tick();
    await peer.sendFrame(Opcode.Continuation, 'fragment2');
    expect((await peer.nextMessage()).payload.toString()).toBe('fragment1fragment2');
    await expectCleanClose(peer, side);
  });

  it('echoes a text message in two fragments sent one byte per tick (5.5)', async () => {
    const { peer, side } = await harness.connect();
    await peer.drip(twoFragments(peer));
    expect((await peer.nextMessage()).payload.toString()).toBe('fragment1fragment2');
    await expectCleanClose(peer, side);
  });

  it('answers a ping between two fragments with a pong first, then echoes the message (5.6, 5.7)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(
      Buffer.concat([
        peer.frame(Opcode.Text, 'fragment1', { fin: false }),
        peer.frame(Opcode.Ping, 'between'),
        peer.frame(Opcode.Continuation, 'fragment2'),
      ]),
    );
    const pong = await peer.nextFrame();
    expect(pong.opcode).toBe(Opcode.Pong);
    expect(pong.payload.toString()).toBe('between');
    const echo = await peer.nextFrame();
    expect(echo.opcode).toBe(Opcode.Text);
    expect(echo.payload.toString()).toBe('fragment1fragment2');
    await expectCleanClose(peer, side);
  });

  it('answers a ping between two fragments delivered one byte per tick (5.8)', async () => {
    const { peer, side } = await harness.connect();
    await peer.drip(
      Buffer.concat([
        peer.frame(Opcode.Text, 'fragment1', { fin: false }),
        peer.frame(Opcode.Ping, 'between'),
        peer.frame(Opcode.Continuation, 'fragment2'),
      ]),
    );
    expect((await peer.nextFrame()).opcode).toBe(Opcode.Pong);
    expect((await peer.nextFrame()).payload.toString()).toBe('fragment1fragment2');
    await expectCleanClose(peer, side);
  });

  it('echoes a binary message in two fragments with a pong in between', async () => {
    const { peer, side } = await harness.connect();
    const a = patterned(70_000, 1);
    const b = patterned(5, 2);
    await peer.write(Buffer.concat([peer.frame(Opcode.Binary, a, { fin: false }), peer.frame(Opcode.Pong), peer.frame(Opcode.Continuation, b)]));
    const echo = await peer.nextMessage();
    expect(echo.opcode).toBe(Opcode.Binary);
    expect(echo.payload.equals(Buffer.concat([a, b]))).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('echoes a message whose fragments include empty ones, first and last', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(
      Buffer.concat([
        peer.frame(Opcode.Text, '', { fin: false }),
        peer.frame(Opcode.Continuation, 'mid', { fin: false }),
        peer.frame(Opcode.Continuation, '', { fin: false }),
        peer.frame(Opcode.Continuation, ''),
      ]),
    );
    expect((await peer.nextMessage()).payload.toString()).toBe('mid');
    await expectCleanClose(peer, side);
  });

  it('echoes a 1000-fragment text message of one byte per fragment, with a ping every 100 fragments', async () => {
    const { peer, side } = await harness.connect();
    const parts: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      parts.push(peer.frame(i === 0 ? Opcode.Text : Opcode.Continuation, String.fromCharCode(97 + (i % 26)), { fin: i === 999 }));
      if (i % 100 === 50) parts.push(peer.frame(Opcode.Ping, `p${i}`));
    }
    await peer.write(Buffer.concat(parts));
    const expected = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    expect((await peer.nextMessage()).payload.toString()).toBe(expected);
    expect(peer.frames.filter((f) => f.opcode === Opcode.Pong)).toHaveLength(10);
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §5.4 continuation with nothing to continue (Autobahn 5.9–5.17)', () => {
  const FAIL = { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_UNEXPECTED_CONTINUATION' } as const;

  it.each([true, false])('closes 1002 WSG_ERR_UNEXPECTED_CONTINUATION on a first continuation frame with FIN %s, answering nothing after', async (fin) => {
    const { peer, side } = await harness.connect();
    await peer.write(
      Buffer.concat([
        peer.frame(Opcode.Continuation, 'fragment1', { fin }),
        peer.frame(Opcode.Text, 'fragment2', { fin: false }),
        peer.frame(Opcode.Continuation, 'fragment3'),
      ]),
    );
    await expectFailure(peer, side, FAIL);
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
  });

  it('closes 1002 on a stray continuation sent one byte per tick (5.11)', async () => {
    const { peer, side } = await harness.connect();
    await peer.drip(peer.frame(Opcode.Continuation, 'fragment1'));
    await expectFailure(peer, side, FAIL);
  });

  it('echoes a complete fragmented message, then closes 1002 on a continuation that follows it (5.15)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(
      Buffer.concat([
        peer.frame(Opcode.Text, 'fragment1', { fin: false }),
        peer.frame(Opcode.Continuation, 'fragment2'),
        peer.frame(Opcode.Continuation, 'fragment3', { fin: false }),
        peer.frame(Opcode.Text, 'fragment4'),
      ]),
    );
    expect((await peer.nextFrame()).payload.toString()).toBe('fragment1fragment2');
    await expectFailure(peer, side, FAIL);
  });

  it('closes 1002 on a continuation after an unfragmented message (5.16, 5.17)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Binary, 'whole'), peer.frame(Opcode.Continuation, 'orphan')]));
    expect((await peer.nextFrame()).payload.toString()).toBe('whole');
    await expectFailure(peer, side, FAIL);
  });
});

describe('RFC 6455 §5.4 a new message may not start inside a fragmented one (Autobahn 5.18)', () => {
  const FAIL = { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_EXPECTED_CONTINUATION' } as const;

  it('closes 1002 WSG_ERR_EXPECTED_CONTINUATION on a text frame while a text message is in progress', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Text, 'fragment1', { fin: false }), peer.frame(Opcode.Text, 'fragment2')]));
    await expectFailure(peer, side, FAIL);
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
  });

  it('closes 1002 WSG_ERR_EXPECTED_CONTINUATION on a binary frame while a text message is in progress, sent frame by frame', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendText('fragment1', { fin: false });
    await tick();
    await peer.sendBinary(patterned(10), { fin: false });
    await expectFailure(peer, side, FAIL);
  });
});

describe('RFC 6455 §5.4 control frames interleaved with slow fragments (Autobahn 5.19, 5.20)', () => {
  it('answers each ping between five fragments sent with pauses, then echoes the joined message', async () => {
    const { peer, side } = await harness.connect();
    const fragments = ['fragment1', 'fragment2', 'fragment3', 'fragment4', 'fragment5'];
    for (const [i, text] of fragments.entries()) {
      await peer.sendFrame(i === 0 ? Opcode.Text : Opcode.Continuation, text, { fin: i === fragments.length - 1 });
      if (i < fragments.length - 1) {
        await peer.ping(`pongme ${i}`);
        // The pong proves the engine has consumed everything up to here before the next fragment.
        const pong = await peer.nextFrame();
        expect(pong.opcode).toBe(Opcode.Pong);
        expect(pong.payload.toString()).toBe(`pongme ${i}`);
      }
    }
    expect((await peer.nextFrame()).payload.toString()).toBe(fragments.join(''));
    await expectCleanClose(peer, side);
  });
});
