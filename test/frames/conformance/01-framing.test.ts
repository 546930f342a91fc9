import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { ProtocolError } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { EchoHarness, expectCleanClose, expectFailure, patterned } from './echo-harness.js';

// Autobahn category 1: framing of text and binary messages across the three length encodings.
const SIZES = [0, 125, 126, 127, 128, 65535, 65536];

let harness: EchoHarness;
beforeEach(async () => {
  harness = await EchoHarness.start({ maxMessageSize: 1024 * 1024 });
});
afterEach(async () => {
  await harness.close();
});

describe('RFC 6455 §5.2 base framing: text messages (Autobahn 1.1)', () => {
  it.each(SIZES)('echoes a %i-byte text message in one frame', async (size) => {
    const { peer, side } = await harness.connect();
    const text = 'x'.repeat(size);
    await peer.sendText(text);
    const echo = await peer.nextFrame();
    expect(echo).toMatchObject({ fin: true, rsv1: false, opcode: Opcode.Text, masked: false });
    expect(echo.payload.toString('utf8')).toBe(text);
    await expectCleanClose(peer, side);
  });

  it('echoes a 65536-byte text message delivered in 997-byte chops (Autobahn 1.1.8)', async () => {
    const { peer, side } = await harness.connect();
    const text = 'y'.repeat(65536);
    await peer.chop(peer.frame(Opcode.Text, text), 997);
    const echo = await peer.nextMessage();
    expect(echo.opcode).toBe(Opcode.Text);
    expect(echo.payload.toString('utf8')).toBe(text);
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §5.2 base framing: binary messages (Autobahn 1.2)', () => {
  it.each(SIZES)('echoes a %i-byte binary message in one frame', async (size) => {
    const { peer, side } = await harness.connect();
    const payload = patterned(size, size);
    await peer.sendBinary(payload);
    const echo = await peer.nextFrame();
    expect(echo).toMatchObject({ fin: true, rsv1: false, opcode: Opcode.Binary, masked: false });
    expect(echo.payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('echoes a 65536-byte binary message delivered in 997-byte chops (Autobahn 1.2.8)', async () => {
    const { peer, side } = await harness.connect();
    const payload = patterned(65536, 7);
    await peer.chop(peer.frame(Opcode.Binary, payload), 997);
    const echo = await peer.nextMessage();
    expect(echo.opcode).toBe(Opcode.Binary);
    expect(echo.payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('echoes a 300-byte binary message delivered one byte per tick', async () => {
    const { peer, side } = await harness.connect();
    const payload = patterned(300, 3);
    await peer.drip(peer.frame(Opcode.Binary, payload));
    const echo = await peer.nextMessage();
    expect(echo.payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('echoes many messages written in one TCP write, in order', async () => {
    const { peer, side } = await harness.connect();
    const frames = SIZES.map((size, i) => peer.frame(i % 2 === 0 ? Opcode.Binary : Opcode.Text, i % 2 === 0 ? patterned(size, i) : 'z'.repeat(size)));
    await peer.write(Buffer.concat(frames));
    for (const [i, size] of SIZES.entries()) {
      const echo = await peer.nextMessage();
      expect(echo.opcode).toBe(i % 2 === 0 ? Opcode.Binary : Opcode.Text);
      expect(echo.payload.length).toBe(size);
    }
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §5.2 many messages in flight (Autobahn 9.7, 9.8 shape)', () => {
  it('echoes 1000 small text and binary messages written back to back, in order', async () => {
    const { peer, side } = await harness.connect();
    const frames = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? peer.frame(Opcode.Text, `msg ${i}`) : peer.frame(Opcode.Binary, patterned(16, i))));
    await peer.write(Buffer.concat(frames));
    for (let i = 0; i < 1000; i++) {
      const echo = await peer.nextMessage();
      if (i % 2 === 0) expect(echo.payload.toString()).toBe(`msg ${i}`);
      else expect(echo.payload.equals(patterned(16, i))).toBe(true);
    }
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §5.2 payload length encoding', () => {
  // §5.2: "the minimal number of bytes MUST be used to encode the length". Each form is refused
  // one byte below its range and accepted at its first length.
  const NON_MINIMAL = { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_NON_MINIMAL_LENGTH' } as const;
  const MASK = [1, 2, 3, 4];

  it('closes 1002 WSG_ERR_NON_MINIMAL_LENGTH on a 16-bit length used for a 2-byte payload, before its payload arrives', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.from([0x82, 0x80 | 126, 0, 2]));
    await expectFailure(peer, side, NON_MINIMAL);
  });

  it('closes 1002 WSG_ERR_NON_MINIMAL_LENGTH on a 16-bit length of 125', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.from([0x82, 0x80 | 126, 0, 125, ...MASK]));
    await expectFailure(peer, side, NON_MINIMAL);
  });

  it('closes 1002 WSG_ERR_NON_MINIMAL_LENGTH on a 64-bit length of 65535', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.from([0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...MASK]));
    await expectFailure(peer, side, NON_MINIMAL);
  });

  it('closes 1002 WSG_ERR_NON_MINIMAL_LENGTH on a 64-bit length of 0', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.from([0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, ...MASK]));
    await expectFailure(peer, side, NON_MINIMAL);
  });

  it('echoes the first length of each form: 126 in 16 bits, 65536 in 64 bits', async () => {
    const { peer, side } = await harness.connect();
    // The encoder always picks the minimal form; these are the smallest lengths each form may carry.
    await peer.sendBinary(patterned(126, 1));
    expect((await peer.nextMessage()).payload.equals(patterned(126, 1))).toBe(true);
    await peer.sendBinary(patterned(65536, 2));
    expect((await peer.nextMessage()).payload.equals(patterned(65536, 2))).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('closes 1002 WSG_ERR_INVALID_LENGTH when a 64-bit length has its most significant bit set', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.from([0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]));
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_INVALID_LENGTH' });
  });
});

describe('RFC 6455 §5.1 masking', () => {
  it('closes 1002 WSG_ERR_EXPECTED_MASK when a client frame arrives unmasked', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendText('unmasked', { mask: false });
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_EXPECTED_MASK' });
  });

  it('echoes an unmasked client frame when acceptUnmaskedFrames is on', async () => {
    await harness.close();
    harness = await EchoHarness.start({ acceptUnmaskedFrames: true });
    const { peer, side } = await harness.connect();
    await peer.sendText('unmasked', { mask: false });
    expect((await peer.nextMessage()).payload.toString()).toBe('unmasked');
    await expectCleanClose(peer, side);
  });

  it('accepts frames that arrived in the same TCP write as the upgrade request', async () => {
    await harness.close();
    harness = await EchoHarness.start();
    const { encodeFrame } = await import('../../../lib/frames/frame-encoder.js');
    const early = encodeFrame(Opcode.Text, Buffer.from('early'), { mask: true });
    const { peer, side } = await harness.connect({ afterHead: early });
    expect((await peer.nextMessage()).payload.toString()).toBe('early');
    await expectCleanClose(peer, side);
  });
});
