import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { InvalidUtf8Error } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { expectWsgError } from '../../support/expect-wsg-error.js';
import type { RawPeer } from '../../support/raw-peer.js';
import { EchoHarness, expectCleanClose, expectFailure } from './echo-harness.js';

// Autobahn category 6: UTF-8 handling of text messages.
let harness: EchoHarness;
beforeEach(async () => {
  harness = await EchoHarness.start();
});
afterEach(async () => {
  await harness.close();
});

const FAIL = { closeCode: CloseCode.InvalidPayload, errorClass: InvalidUtf8Error, code: 'WSG_ERR_INVALID_UTF8' } as const;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const KOSME = Buffer.from('κόσμε', 'utf8');
const EDITED = Buffer.from('edited', 'utf8');

/** Sends `payload` as a text message split into one-byte fragments, all in one write. */
function oneBytePerFragment(peer: RawPeer, payload: Buffer): Buffer {
  if (payload.length === 0) return peer.frame(Opcode.Text, payload);
  const frames: Buffer[] = [];
  for (let i = 0; i < payload.length; i++) {
    frames.push(peer.frame(i === 0 ? Opcode.Text : Opcode.Continuation, payload.subarray(i, i + 1), { fin: i === payload.length - 1 }));
  }
  return Buffer.concat(frames);
}

// [Autobahn case, bytes] — each must be accepted and echoed unchanged.
const VALID: Array<[string, string]> = [
  ['6.1.1 empty', ''],
  ['6.2.1 Hello-µ@ßöäüàá-UTF-8!!', Buffer.from('Hello-µ@ßöäüàá-UTF-8!!').toString('hex')],
  ['6.5.1 κόσμε', KOSME.toString('hex')],
  ['6.7.1 U+0000', '00'],
  ['6.7.2 U+0080', 'c280'],
  ['6.7.3 U+0800', 'e0a080'],
  ['6.7.4 U+10000', 'f0908080'],
  ['6.9.1 U+007F', '7f'],
  ['6.9.2 U+07FF', 'dfbf'],
  ['6.9.3 U+FFFF', 'efbfbf'],
  ['6.9.4 U+10FFFF', 'f48fbfbf'],
  ['6.11.1 U+D7FF', 'ed9fbf'],
  ['6.11.2 U+E000', 'ee8080'],
  ['6.11.3 U+FFFD', 'efbfbd'],
  ['6.22.1 noncharacter U+FFFE', 'efbfbe'],
  ['6.22.9 noncharacter U+5FFFE', 'f195bfbe'],
  ['6.22.34 noncharacter U+10FFFF', 'f48fbfbf'],
  ['6.23.1 U+FFFD', 'efbfbd'],
  ['mixed scripts and emoji', Buffer.from('日本語 Ελληνικά 🎉🚀 ascii').toString('hex')],
];

// [Autobahn case, bytes] — each must be refused with 1007.
const INVALID: Array<[string, string]> = [
  ['6.3.1 κόσμε + surrogate ED A0 80 + edited', KOSME.toString('hex') + 'eda080' + EDITED.toString('hex')],
  ['6.6.1 lone CE', 'ce'],
  ['6.6.3 κ + E1', 'ceba e1'],
  ['6.6.4 κ + E1 BD', 'ceba e1bd'],
  ['6.6.6 κό + CF', 'cebae1bdb9 cf'],
  ['6.6.8 κόσ + CE', 'cebae1bdb9cf83 ce'],
  ['6.6.10 κόσμ + CE', 'cebae1bdb9cf83cebc ce'],
  ['6.8.1 5-byte sequence F8 88 80 80 80', 'f888808080'],
  ['6.8.2 6-byte sequence FC 84 80 80 80 80', 'fc8480808080'],
  ['6.10.1 F7 BF BF BF', 'f7bfbfbf'],
  ['6.10.2 FB BF BF BF BF', 'fbbfbfbfbf'],
  ['6.10.3 FD BF BF BF BF BF', 'fdbfbfbfbfbf'],
  ['6.11.5 above U+10FFFF: F4 90 80 80', 'f4908080'],
  ['6.12.1 lone continuation 80', '80'],
  ['6.12.2 lone continuation BF', 'bf'],
  ['6.12.3 80 BF', '80bf'],
  ['6.12.8 all continuation bytes', Buffer.from(Array.from({ length: 64 }, (_, i) => 0x80 + i)).toString('hex')],
  ['6.13.1 C0 followed by space', 'c020'],
  ['6.13.2 E0 followed by space', 'e020'],
  ['6.13.3 F0 followed by space', 'f020'],
  ['6.13.4 F8 followed by space', 'f820'],
  ['6.13.5 FC followed by space', 'fc20'],
  ['6.14.1 C0 truncated', 'c0'],
  ['6.14.2 E0 80 truncated', 'e080'],
  ['6.14.3 F0 80 80 truncated', 'f08080'],
  ['6.14.6 DF truncated at end of message', 'df'],
  ['6.14.7 EF BF truncated at end of message', 'efbf'],
  ['6.14.8 F7 BF BF', 'f7bfbf'],
  ['6.15.1 concatenated incomplete sequences', 'c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf'],
  ['6.16.1 FE', 'fe'],
  ['6.16.2 FF', 'ff'],
  ['6.16.3 FE FE FF FF', 'fefeffff'],
  ['6.17.1 overlong / C0 AF', 'c0af'],
  ['6.17.2 overlong / E0 80 AF', 'e080af'],
  ['6.17.3 overlong / F0 80 80 AF', 'f08080af'],
  ['6.17.4 overlong / F8 80 80 80 AF', 'f8808080af'],
  ['6.18.1 maximum overlong C1 BF', 'c1bf'],
  ['6.18.2 maximum overlong E0 9F BF', 'e09fbf'],
  ['6.18.3 maximum overlong F0 8F BF BF', 'f08fbfbf'],
  ['6.19.1 overlong NUL C0 80', 'c080'],
  ['6.19.2 overlong NUL E0 80 80', 'e08080'],
  ['6.19.3 overlong NUL F0 80 80 80', 'f0808080'],
  ['6.20.1 surrogate U+D800', 'eda080'],
  ['6.20.4 surrogate U+DB80', 'edae80'],
  ['6.20.5 surrogate U+DC00', 'edb080'],
  ['6.20.7 surrogate U+DFFF', 'edbfbf'],
  ['6.21.1 surrogate pair U+D800 U+DC00', 'eda080edb080'],
  ['6.21.8 surrogate pair U+DBFF U+DFFF', 'edafbfedbfbf'],
  ['valid text then a truncated 4-byte sequence at the end', Buffer.from('abc').toString('hex') + 'f09f98'],
];

describe('RFC 6455 §8.1 valid UTF-8 text is accepted (Autobahn 6.1, 6.2, 6.5, 6.7, 6.9, 6.11, 6.22, 6.23)', () => {
  it.each(VALID)('echoes %s in one frame', async (_name, hex) => {
    const { peer, side } = await harness.connect();
    const payload = bytes(hex);
    await peer.sendText(payload);
    const echo = await peer.nextMessage();
    expect(echo.opcode).toBe(Opcode.Text);
    expect(echo.payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it.each(VALID)('echoes %s split into one-byte fragments (code points span fragments)', async (_name, hex) => {
    const { peer, side } = await harness.connect();
    const payload = bytes(hex);
    await peer.write(oneBytePerFragment(peer, payload));
    expect((await peer.nextMessage()).payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('echoes a multi-byte text frame delivered one byte per tick (code points span TCP reads)', async () => {
    const { peer, side } = await harness.connect();
    const payload = Buffer.from('κόσμε 🎉 Ελληνικά');
    await peer.drip(peer.frame(Opcode.Text, payload));
    expect((await peer.nextMessage()).payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('echoes empty fragments around a split code point (Autobahn 6.1.3)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(
      Buffer.concat([
        peer.frame(Opcode.Text, '', { fin: false }),
        peer.frame(Opcode.Continuation, bytes('ce'), { fin: false }),
        peer.frame(Opcode.Continuation, '', { fin: false }),
        peer.frame(Opcode.Continuation, bytes('ba')),
      ]),
    );
    expect((await peer.nextMessage()).payload.toString('utf8')).toBe('κ');
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §8.1 invalid UTF-8 fails the connection with 1007 (Autobahn 6.3–6.21)', () => {
  it.each(INVALID)('closes 1007 WSG_ERR_INVALID_UTF8 on %s in one frame', async (_name, hex) => {
    const { peer, side } = await harness.connect();
    await peer.sendText(bytes(hex));
    await expectFailure(peer, side, FAIL);
    expect(peer.frames.filter((f) => f.opcode === Opcode.Text)).toEqual([]);
  });

  it.each(INVALID)('closes 1007 WSG_ERR_INVALID_UTF8 on %s split into one-byte fragments', async (_name, hex) => {
    const { peer, side } = await harness.connect();
    await peer.write(oneBytePerFragment(peer, bytes(hex)));
    await expectFailure(peer, side, FAIL);
  });

  it('closes 1007 on an invalid sequence in a text frame delivered one byte per tick', async () => {
    const { peer, side } = await harness.connect();
    await peer.drip(peer.frame(Opcode.Text, bytes(KOSME.toString('hex') + 'eda080')));
    await expectFailure(peer, side, FAIL);
  });

  it('accepts invalid UTF-8 in a binary message (only text is checked)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendBinary(bytes('eda080 c0af ff'));
    expect((await peer.nextMessage()).payload.equals(bytes('eda080c0afff'))).toBe(true);
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §8.1 fail fast: 1007 as soon as the bytes can no longer be valid (Autobahn 6.4)', () => {
  it('6.4.1: closes 1007 after the fragment holding F4 90 80 80, before the last fragment is sent', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendText(KOSME, { fin: false });
    await tick();
    await peer.sendFrame(Opcode.Continuation, bytes('f4908080'), { fin: false });
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.InvalidPayload);
    await peer.sendFrame(Opcode.Continuation, EDITED);
    await expectFailureAfterClose(peer, side);
  });

  it('6.4.2: closes 1007 after the fragment ending in F4 90, before the rest is sent', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendText(KOSME, { fin: false });
    await tick();
    await peer.sendFrame(Opcode.Continuation, bytes('f490'), { fin: false });
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.InvalidPayload);
    await peer.sendFrame(Opcode.Continuation, Buffer.concat([bytes('8080'), EDITED]));
    await expectFailureAfterClose(peer, side);
  });

  it('6.4.3: closes 1007 after the TCP chop holding F4 90 80 80 of a single frame, before the rest of the frame is sent', async () => {
    const { peer, side } = await harness.connect();
    const payload = Buffer.concat([KOSME, bytes('f4908080'), EDITED]);
    const frame = peer.frame(Opcode.Text, payload);
    const headerLength = frame.length - payload.length;
    const cut1 = headerLength + KOSME.length;
    const cut2 = cut1 + 4;
    await peer.write(frame.subarray(0, cut1));
    await tick();
    await peer.write(frame.subarray(cut1, cut2));
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.InvalidPayload);
    await peer.write(frame.subarray(cut2));
    await expectFailureAfterClose(peer, side);
  });

  it('6.4.4: closes 1007 after the TCP chop ending in F4 90 of a single frame, before the rest of the frame is sent', async () => {
    const { peer, side } = await harness.connect();
    const payload = Buffer.concat([KOSME, bytes('f4908080'), EDITED]);
    const frame = peer.frame(Opcode.Text, payload);
    const headerLength = frame.length - payload.length;
    const cut1 = headerLength + KOSME.length;
    const cut2 = cut1 + 2;
    await peer.write(frame.subarray(0, cut1));
    await tick();
    await peer.write(frame.subarray(cut1, cut2));
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.InvalidPayload);
    await peer.write(frame.subarray(cut2));
    await expectFailureAfterClose(peer, side);
  });

  // Pieces of 32 bytes and more are checked natively up to their last complete code point; the
  // unfinished one at the end is carried. These keep fail-fast on that path.
  it('6.4.2 with long fragments: closes 1007 after a 90-byte fragment ending in F4 90, before the rest is sent', async () => {
    const { peer, side } = await harness.connect();
    const long = Buffer.from('κόσμε '.repeat(8));
    await peer.sendText(long, { fin: false });
    await tick();
    await peer.sendFrame(Opcode.Continuation, Buffer.concat([long, bytes('f490')]), { fin: false });
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.InvalidPayload);
    await peer.sendFrame(Opcode.Continuation, Buffer.concat([bytes('8080'), long]));
    await expectFailureAfterClose(peer, side);
  });

  it('closes 1007 on the TCP chop that completes a carried code point wrongly (F0 9F | 41), before the rest is sent', async () => {
    const { peer, side } = await harness.connect();
    const long = Buffer.from('κόσμε '.repeat(8));
    const payload = Buffer.concat([long, bytes('f09f'), Buffer.from('A'), long, long]);
    const frame = peer.frame(Opcode.Text, payload);
    const cut1 = frame.length - payload.length + long.length + 2;
    const cut2 = cut1 + 1 + long.length;
    await peer.write(frame.subarray(0, cut1));
    await tick();
    await peer.write(frame.subarray(cut1, cut2));
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.InvalidPayload);
    await peer.write(frame.subarray(cut2));
    await expectFailureAfterClose(peer, side);
  });

  it('echoes a 1 MiB text frame of mixed-width code points chopped into 1000-byte TCP writes, one per tick (code points cut everywhere)', async () => {
    const { peer, side } = await harness.connect();
    const unit = Buffer.from('zoë κόσμε ✓ 你好 🙂 ');
    const payload = Buffer.concat(Array.from({ length: Math.ceil((1 << 20) / unit.length) }, () => unit)).subarray(0, 1 << 20);
    const whole = payload.subarray(0, payload.length - (payload.length % unit.length));
    const frame = peer.frame(Opcode.Text, whole);
    await peer.chop(frame, 1000);
    const echo = await peer.nextMessage();
    expect(echo.opcode).toBe(Opcode.Text);
    expect(echo.payload.equals(whole)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('closes 1007 on a surrogate in the first chop of a 1 MB text frame whose rest is never sent', async () => {
    const { peer, side } = await harness.connect();
    const payload = Buffer.alloc(1_000_000, 0x61);
    bytes('eda080').copy(payload, 10);
    const frame = peer.frame(Opcode.Text, payload);
    await peer.write(frame.subarray(0, 64));
    const close = await peer.closeFrame();
    expect(close.code).toBe(CloseCode.InvalidPayload);
    await expectFailureAfterClose(peer, side);
  });
});

async function expectFailureAfterClose(peer: RawPeer, side: Awaited<ReturnType<EchoHarness['connect']>>['side']): Promise<void> {
  const error = await side.firstError;
  expect(error).toBeInstanceOf(InvalidUtf8Error);
  expectWsgError(error, 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
  await peer.closed;
  expect(peer.framesAfterClose()).toEqual([]);
  expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
}
