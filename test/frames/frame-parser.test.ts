import { afterEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { CloseCode } from '../../lib/frames/close-codes.js';
import type { DeflateCodec } from '../../lib/frames/deflate-codec.js';
import { CapacityError, InvalidUtf8Error, ProtocolError, type WsgError } from '../../lib/frames/errors.js';
import { encodeFrame, encodeFrameBytes } from '../../lib/frames/frame-encoder.js';
import { FrameParser, type FrameParserOptions, type FrameParserSink } from '../../lib/frames/frame-parser.js';
import { Opcode } from '../../lib/frames/opcodes.js';
import { bareCodec } from '../support/deflate-pair.js';
import { expectWsgError } from '../support/expect-wsg-error.js';

// RFC 6455 §5 framing as the engine's FrameParser reads it: bytes in (as socket reads), events out
// through its sink, the interface the connection implements. Every case feeds real encoded frames.

type Event =
  | ['message', 'text' | 'binary', string]
  | ['ping', string]
  | ['pong', string]
  | ['close', number, string]
  | ['error', string]
  | ['waiting', boolean];

/** The owner side of a parser: records what it was told, payloads copied (the parser reuses memory). */
class Recorder implements FrameParserSink {
  readonly events: Event[] = [];
  readonly errors: WsgError[] = [];
  /** Raw message payloads as delivered, for identity and length checks. */
  readonly payloads: Buffer[] = [];
  onMessageHook: ((data: Buffer) => void) | null = null;
  onMessage(data: Buffer, isText: boolean): void {
    this.payloads.push(data);
    this.events.push(['message', isText ? 'text' : 'binary', isText ? data.toString('utf8') : data.toString('hex')]);
    this.onMessageHook?.(data);
  }
  onPing(payload: Buffer): void {
    this.events.push(['ping', payload.toString('hex')]);
  }
  onPong(payload: Buffer): void {
    this.events.push(['pong', payload.toString('hex')]);
  }
  onClose(code: number, reason: string): void {
    this.events.push(['close', code, reason]);
  }
  onParseError(error: WsgError): void {
    this.errors.push(error);
    this.events.push(['error', error.code]);
  }
  onWaiting(waiting: boolean): void {
    this.events.push(['waiting', waiting]);
  }
}

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

function setup(options: Partial<FrameParserOptions> = {}): { parser: FrameParser; sink: Recorder } {
  const sink = new Recorder();
  const parser = new FrameParser(
    { role: 'server', maxFrameSize: 1 << 20, maxMessageSize: 1 << 20, acceptUnmaskedFrames: false, deflate: null, ...options },
    sink,
  );
  return { parser, sink };
}

/** A frame as a client sends it (masked) unless `mask` is false. */
function frame(opcode: number, payload: Buffer | string, options: { fin?: boolean; rsv1?: boolean; mask?: Buffer | false } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return encodeFrame(opcode, data, { fin: options.fin ?? true, rsv1: options.rsv1 ?? false, mask: options.mask ?? MASK });
}

/** A frame with a hand-set first byte (RSV2/RSV3, reserved opcodes), masked. */
function rawFrame(firstByte: number, payload: Buffer | string = ''): Buffer {
  return encodeFrameBytes(firstByte, typeof payload === 'string' ? Buffer.from(payload) : payload, MASK);
}

/** Feeds `bytes` as separate socket reads of `size` bytes, each in its own memory. */
function pushInReads(parser: FrameParser, bytes: Buffer, size: number): void {
  for (let at = 0; at < bytes.length; at += size) parser.push(Buffer.from(bytes.subarray(at, at + size)));
}

function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const text = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : reason;
  const out = Buffer.alloc(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}

/** A frame header declaring `length` (masked, no payload), for limit checks made before the payload. */
function header(opcode: number, length: number, options: { fin?: boolean } = {}): Buffer {
  const first = (options.fin === false ? 0 : 0x80) | opcode;
  if (length <= 125) return Buffer.from([first, 0x80 | length, ...MASK]);
  if (length <= 0xffff) {
    const out = Buffer.from([first, 0x80 | 126, 0, 0, ...MASK]);
    out.writeUInt16BE(length, 2);
    return out;
  }
  const out = Buffer.from([first, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, ...MASK]);
  out.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
  out.writeUInt32BE(length % 0x1_0000_0000, 6);
  return out;
}

function onlyError(sink: Recorder): WsgError {
  expect(sink.errors).toHaveLength(1);
  return sink.errors[0]!;
}

describe('RFC 6455 §5.2 base framing: reserved bits and opcodes', () => {
  it.each([
    ['RSV2', 0x80 | 0x20 | Opcode.Text],
    ['RSV3', 0x80 | 0x10 | Opcode.Text],
    ['RSV2 on a ping', 0x80 | 0x20 | Opcode.Ping],
  ])('fails 1002 WSG_ERR_UNEXPECTED_RSV on %s, whatever was negotiated', (_label, firstByte) => {
    const { parser, sink } = setup();
    parser.push(rawFrame(firstByte, 'x'));
    const error = expectWsgError(onlyError(sink), 'WSG_ERR_UNEXPECTED_RSV', CloseCode.ProtocolError);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toBe('RSV2 and RSV3 must be clear');
  });

  it('fails 1002 WSG_ERR_UNEXPECTED_RSV on RSV1 when permessage-deflate was not negotiated', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Text, 'x', { rsv1: true }));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_UNEXPECTED_RSV', CloseCode.ProtocolError).message).toBe(
      'RSV1 set but permessage-deflate was not negotiated',
    );
    expect(sink.events).toEqual([['error', 'WSG_ERR_UNEXPECTED_RSV']]);
  });

  it.each([3, 4, 5, 6, 7])('fails 1002 WSG_ERR_INVALID_OPCODE on reserved data opcode %i', (opcode) => {
    const { parser, sink } = setup();
    parser.push(rawFrame(0x80 | opcode, 'x'));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_OPCODE', CloseCode.ProtocolError).message).toBe(`Invalid opcode ${opcode}`);
  });

  it.each([0xb, 0xc, 0xd, 0xe, 0xf])('fails 1002 WSG_ERR_INVALID_OPCODE on reserved control opcode %i', (opcode) => {
    const { parser, sink } = setup();
    parser.push(rawFrame(0x80 | opcode));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_OPCODE', CloseCode.ProtocolError).message).toBe(`Invalid opcode ${opcode}`);
  });

  it('checks the opcode before the mask: an unmasked reserved opcode is reported as the opcode', () => {
    const { parser, sink } = setup();
    parser.push(encodeFrameBytes(0x80 | 0x3, Buffer.from('x'), null));
    expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_OPCODE', CloseCode.ProtocolError);
  });
});

describe('RFC 6455 §5.2 payload length: 7-bit, 16-bit and 64-bit forms', () => {
  it.each([
    ['125 bytes in the 7-bit form', 125],
    ['126 bytes in the 16-bit form', 126],
    ['65 535 bytes in the 16-bit form', 0xffff],
    ['65 536 bytes in the 64-bit form', 0x10000],
  ])('reads %s', (_label, length) => {
    const { parser, sink } = setup();
    const payload = Buffer.alloc(length, 0x61);
    parser.push(frame(Opcode.Text, payload));
    expect(sink.errors).toEqual([]);
    expect(sink.payloads).toHaveLength(1);
    expect(sink.payloads[0]!.equals(payload)).toBe(true);
  });

  it.each([
    ['a 16-bit length of 0', [126, 0, 0], 'A 16-bit length encoded 0, which fits a shorter form'],
    ['a 16-bit length of 125', [126, 0, 125], 'A 16-bit length encoded 125, which fits a shorter form'],
    ['a 64-bit length of 3', [127, 0, 0, 0, 0, 0, 0, 0, 3], 'A 64-bit length encoded 3, which fits a shorter form'],
    ['a 64-bit length of 65535', [127, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 'A 64-bit length encoded 65535, which fits a shorter form'],
  ])('fails 1002 WSG_ERR_NON_MINIMAL_LENGTH on %s (§5.2: the minimal form MUST be used), before the mask key', (_label, length, message) => {
    for (const role of ['server', 'client'] as const) {
      const { parser, sink } = setup({ role });
      const masked = role === 'server' ? 0x80 : 0;
      parser.push(Buffer.from([0x80 | Opcode.Binary, masked | length[0]!, ...length.slice(1)]));
      expect(expectWsgError(onlyError(sink), 'WSG_ERR_NON_MINIMAL_LENGTH', CloseCode.ProtocolError).message).toBe(message);
      expect(onlyError(sink)).toBeInstanceOf(ProtocolError);
    }
  });

  it('reads the smallest length of each long form: 126 in 16 bits, 65 536 in 64 bits', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([header(Opcode.Binary, 126), Buffer.alloc(126)]));
    parser.push(Buffer.concat([header(Opcode.Binary, 65536), Buffer.alloc(65536)]));
    expect(sink.errors).toEqual([]);
    expect(sink.payloads.map((p) => p.length)).toEqual([126, 65536]);
  });

  it('reads a header arriving one byte per socket read, for each length form', () => {
    const { parser, sink } = setup();
    const frames = [frame(Opcode.Text, 'a'.repeat(10)), frame(Opcode.Text, 'b'.repeat(300)), frame(Opcode.Binary, Buffer.alloc(70_000, 7))];
    pushInReads(parser, Buffer.concat(frames), 1);
    expect(sink.errors).toEqual([]);
    expect(sink.payloads.map((p) => p.length)).toEqual([10, 300, 70_000]);
    expect(sink.events[1]).toEqual(['message', 'text', 'b'.repeat(300)]);
    expect(sink.payloads[2]!.equals(Buffer.alloc(70_000, 7))).toBe(true);
  });

  it('fails 1002 WSG_ERR_INVALID_LENGTH when the most significant bit of a 64-bit length is set', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.from([0x80 | Opcode.Binary, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, ...MASK]));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_LENGTH', CloseCode.ProtocolError).message).toBe(
      'The most significant bit of a 64-bit length must be 0',
    );
  });

  it('decodes the largest legal 64-bit length (2^63 - 1 class) and refuses it by size, not as malformed', () => {
    const { parser, sink } = setup({ maxMessageSize: 100, maxFrameSize: 100 });
    parser.push(Buffer.from([0x80 | Opcode.Binary, 0x80 | 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...MASK]));
    const error = expectWsgError(onlyError(sink), 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    expect(error.message).toBe(`Message of at least ${0x7fffffff * 0x1_0000_0000 + 0xffffffff} bytes exceeds maxMessageSize (100)`);
  });

  it('combines both 32-bit halves of a 64-bit length', () => {
    const { parser, sink } = setup({ maxMessageSize: 100, maxFrameSize: 100 });
    parser.push(Buffer.from([0x80 | Opcode.Binary, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 5, ...MASK]));
    expect(onlyError(sink).message).toBe('Message of at least 4294967301 bytes exceeds maxMessageSize (100)');
  });
});

describe('a frame is handled the moment its last byte arrives', () => {
  it('delivers a 2-byte frame (unmasked, empty) at a client', () => {
    const { parser, sink } = setup({ role: 'client' });
    parser.push(frame(Opcode.Pong, '', { mask: false }));
    expect(sink.events).toEqual([['pong', '']]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('delivers a 6-byte frame (masked, empty) at a server', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Ping, ''));
    expect(sink.events).toEqual([['ping', '']]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('checks a 16-bit declared length as soon as its 4-byte header is in', () => {
    const { parser, sink } = setup({ role: 'client', maxMessageSize: 200 });
    parser.push(Buffer.from([0x80 | Opcode.Binary, 126, 0x00, 0xc9]));
    expect(onlyError(sink).message).toBe('Message of at least 201 bytes exceeds maxMessageSize (200)');
  });

  it('checks a 64-bit declared length as soon as its 10-byte header is in', () => {
    const { parser, sink } = setup({ role: 'client', maxMessageSize: 200 });
    parser.push(Buffer.from([0x80 | Opcode.Binary, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]));
    expect(onlyError(sink).message).toBe('Message of at least 65536 bytes exceeds maxMessageSize (200)');
  });

  it('streams a single binary frame under 64 KiB as it arrives, and gathers one of 64 KiB whole before use', () => {
    // Below the threshold payload bytes are consumed on arrival; from it they wait until the frame is complete.
    for (const [length, waiting] of [
      [0xffff, 0],
      [0x10000, 1000],
    ] as const) {
      const { parser, sink } = setup({ role: 'client' });
      const bytes = frame(Opcode.Binary, Buffer.alloc(length, 5), { mask: false });
      const head = length < 0x10000 ? 4 : 10;
      parser.push(bytes.subarray(0, head + 1000));
      expect(parser.bufferedBytes).toBe(waiting);
      parser.push(bytes.subarray(head + 1000));
      expect(sink.payloads.map((p) => p.length)).toEqual([length]);
      expect(sink.payloads[0]!.equals(Buffer.alloc(length, 5))).toBe(true);
    }
  });
});

describe('RFC 6455 §5.1 / §5.3 masking', () => {
  it('fails 1002 WSG_ERR_EXPECTED_MASK when a client frame arrives unmasked at a server', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Text, 'hi', { mask: false }));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_EXPECTED_MASK', CloseCode.ProtocolError).message).toBe('Client frames must be masked');
  });

  it('reads unmasked frames at a server configured with acceptUnmaskedFrames', () => {
    const { parser, sink } = setup({ acceptUnmaskedFrames: true });
    parser.push(Buffer.concat([frame(Opcode.Text, 'plain', { mask: false }), frame(Opcode.Text, 'masked')]));
    expect(sink.events).toEqual([
      ['message', 'text', 'plain'],
      ['message', 'text', 'masked'],
    ]);
  });

  it('fails 1002 WSG_ERR_UNEXPECTED_MASK when a server frame arrives masked at a client', () => {
    const { parser, sink } = setup({ role: 'client' });
    parser.push(frame(Opcode.Text, 'hi'));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_UNEXPECTED_MASK', CloseCode.ProtocolError).message).toBe('Server frames must not be masked');
  });

  it('fails a masked frame at a client even with acceptUnmaskedFrames (the option is for servers)', () => {
    const { parser, sink } = setup({ role: 'client', acceptUnmaskedFrames: true });
    parser.push(frame(Opcode.Ping, 'x'));
    expectWsgError(onlyError(sink), 'WSG_ERR_UNEXPECTED_MASK', CloseCode.ProtocolError);
  });

  it('reads unmasked frames at a client', () => {
    const { parser, sink } = setup({ role: 'client' });
    parser.push(Buffer.concat([frame(Opcode.Binary, Buffer.from([1, 2]), { mask: false }), frame(Opcode.Ping, 'p', { mask: false })]));
    expect(sink.events).toEqual([
      ['message', 'binary', '0102'],
      ['ping', '70'],
    ]);
  });

  it('unmasks a payload split at every offset modulo 4 across socket reads', () => {
    const text = 'the quick brown fox jumps over the lazy dog';
    for (const size of [1, 2, 3, 5, 7]) {
      const { parser, sink } = setup();
      pushInReads(parser, frame(Opcode.Text, text), size);
      expect(sink.events).toEqual([['message', 'text', text]]);
    }
  });

  it('unmasks a mask key that arrives split across reads', () => {
    const { parser, sink } = setup();
    const bytes = frame(Opcode.Binary, Buffer.from([9, 8, 7, 6, 5]));
    parser.push(bytes.subarray(0, 4));
    parser.push(bytes.subarray(4, 5));
    parser.push(bytes.subarray(5));
    expect(sink.events).toEqual([['message', 'binary', '0908070605']]);
  });

  it('unmasks a large single-frame binary message gathered from many reads', () => {
    const payload = Buffer.alloc(200_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const { parser, sink } = setup();
    pushInReads(parser, frame(Opcode.Binary, payload), 16_381);
    expect(sink.errors).toEqual([]);
    expect(sink.payloads).toHaveLength(1);
    expect(sink.payloads[0]!.equals(payload)).toBe(true);
  });

  it('gathers a large frame whose last read also carries the next frame', () => {
    const payload = Buffer.alloc(100_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 13) & 0xff;
    const bytes = Buffer.concat([frame(Opcode.Binary, payload), frame(Opcode.Text, 'next')]);
    const { parser, sink } = setup();
    parser.push(bytes.subarray(0, 30_000));
    parser.push(bytes.subarray(30_000, 60_000));
    parser.push(bytes.subarray(60_000));
    expect(sink.errors).toEqual([]);
    expect(sink.payloads[0]!.equals(payload)).toBe(true);
    expect(sink.events[1]).toEqual(['message', 'text', 'next']);
  });

  it('reads an unmasked large single-frame binary message gathered from many reads (client role)', () => {
    const payload = Buffer.alloc(100_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    const { parser, sink } = setup({ role: 'client' });
    pushInReads(parser, frame(Opcode.Binary, payload, { mask: false }), 10_000);
    expect(sink.payloads).toHaveLength(1);
    expect(sink.payloads[0]!.equals(payload)).toBe(true);
  });
});

describe('RFC 6455 §5.4 fragmentation', () => {
  it('reassembles a text message from fragments, in order', () => {
    const { parser, sink } = setup();
    parser.push(
      Buffer.concat([
        frame(Opcode.Text, 'Hel', { fin: false }),
        frame(Opcode.Continuation, '', { fin: false }),
        frame(Opcode.Continuation, 'lo, ', { fin: false }),
        frame(Opcode.Continuation, 'world'),
      ]),
    );
    expect(sink.events).toEqual([['message', 'text', 'Hello, world']]);
  });

  it('reassembles a binary message and reports it as binary', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Binary, Buffer.from([1]), { fin: false }), frame(Opcode.Continuation, Buffer.from([2, 3]))]));
    expect(sink.events).toEqual([['message', 'binary', '010203']]);
  });

  it('delivers an empty message made of empty fragments', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Text, '', { fin: false }), frame(Opcode.Continuation, '')]));
    expect(sink.events).toEqual([['message', 'text', '']]);
    expect(sink.payloads[0]!.length).toBe(0);
  });

  it('delivers an empty single-frame message', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Binary, Buffer.alloc(0)), frame(Opcode.Text, '')]));
    expect(sink.events).toEqual([
      ['message', 'binary', ''],
      ['message', 'text', ''],
    ]);
  });

  it('accepts control frames between the fragments of a message (§5.4: they may be injected)', () => {
    const { parser, sink } = setup();
    parser.push(
      Buffer.concat([
        frame(Opcode.Text, 'ab', { fin: false }),
        frame(Opcode.Ping, 'p1'),
        frame(Opcode.Continuation, 'cd', { fin: false }),
        frame(Opcode.Pong, 'p2'),
        frame(Opcode.Continuation, 'ef'),
      ]),
    );
    expect(sink.events).toEqual([
      ['ping', '7031'],
      ['pong', '7032'],
      ['message', 'text', 'abcdef'],
    ]);
  });

  it('fails 1002 WSG_ERR_UNEXPECTED_CONTINUATION on a continuation with no message in progress', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Continuation, 'x'));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_UNEXPECTED_CONTINUATION', CloseCode.ProtocolError).message).toBe(
      'Continuation frame without a message in progress',
    );
  });

  it('fails 1002 WSG_ERR_UNEXPECTED_CONTINUATION on a continuation after the message ended', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Text, 'a', { fin: false }), frame(Opcode.Continuation, 'b'), frame(Opcode.Continuation, 'c')]));
    expect(sink.events).toEqual([
      ['message', 'text', 'ab'],
      ['error', 'WSG_ERR_UNEXPECTED_CONTINUATION'],
    ]);
    expectWsgError(sink.errors[0], 'WSG_ERR_UNEXPECTED_CONTINUATION', CloseCode.ProtocolError);
  });

  it.each([
    ['text', Opcode.Text],
    ['binary', Opcode.Binary],
  ])('fails 1002 WSG_ERR_EXPECTED_CONTINUATION on a new %s frame inside a fragmented message', (_label, opcode) => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Binary, Buffer.from([1]), { fin: false }), frame(opcode, 'x')]));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_EXPECTED_CONTINUATION', CloseCode.ProtocolError).message).toBe(
      'New data frame while a fragmented message is in progress',
    );
  });

  it('fails 1002 WSG_ERR_UNEXPECTED_RSV on RSV1 set on a continuation frame', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Text, 'a', { fin: false }), frame(Opcode.Continuation, 'b', { rsv1: true })]));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_UNEXPECTED_RSV', CloseCode.ProtocolError).message).toBe(
      'RSV1 must be clear on continuation frames',
    );
  });

  it('starts a new message after one ends: opcode, length and pieces are reset', () => {
    const { parser, sink } = setup({ maxMessageSize: 4 });
    parser.push(
      Buffer.concat([
        frame(Opcode.Binary, Buffer.from([1, 2]), { fin: false }),
        frame(Opcode.Continuation, Buffer.from([3, 4])),
        frame(Opcode.Text, 'wxy', { fin: false }),
        frame(Opcode.Continuation, 'z'),
      ]),
    );
    expect(sink.events).toEqual([
      ['message', 'binary', '01020304'],
      ['message', 'text', 'wxyz'],
    ]);
  });

  it('keeps every fragment of a message sent in 10 000 one-byte fragments', () => {
    const text = 'abcdefghij'.repeat(1000);
    const frames: Buffer[] = [];
    for (let i = 0; i < text.length; i++) {
      frames.push(frame(i === 0 ? Opcode.Text : Opcode.Continuation, text[i]!, { fin: i === text.length - 1 }));
    }
    const { parser, sink } = setup();
    parser.push(Buffer.concat(frames));
    expect(sink.events).toEqual([['message', 'text', text]]);
  });

  it('keeps large fragments (views of their reads) and small ones (copied) in order', () => {
    const big = Buffer.alloc(10_000, 0x62);
    const parts = [Buffer.from('s1'), big, Buffer.from('s2'), Buffer.alloc(300_000, 0x63), Buffer.from('s3'), big];
    const frames = parts.map((part, i) => frame(i === 0 ? Opcode.Binary : Opcode.Continuation, part, { fin: i === parts.length - 1 }));
    const { parser, sink } = setup({ maxMessageSize: 4 << 20 });
    for (const f of frames) parser.push(Buffer.from(f));
    expect(sink.payloads).toHaveLength(1);
    expect(sink.payloads[0]!.equals(Buffer.concat(parts))).toBe(true);
  });

  it('joins a fragmented binary message whose last fragment is over 64 KiB', () => {
    const first = Buffer.alloc(1000, 0x11);
    const last = Buffer.alloc(70_000, 0x22);
    const { parser, sink } = setup();
    pushInReads(parser, Buffer.concat([frame(Opcode.Binary, first, { fin: false }), frame(Opcode.Continuation, last)]), 8192);
    expect(sink.payloads).toHaveLength(1);
    expect(sink.payloads[0]!.equals(Buffer.concat([first, last]))).toBe(true);
  });

  it('keeps a small fragment read together with other frames apart from that read', () => {
    // One socket read carries a 2-byte fragment and a large frame: the fragment must survive
    // the read's memory being reused by the caller.
    const { parser, sink } = setup();
    const read = Buffer.concat([frame(Opcode.Text, 'ab', { fin: false }), frame(Opcode.Ping, Buffer.alloc(100, 1))]);
    parser.push(read);
    read.fill(0);
    parser.push(frame(Opcode.Continuation, 'cd'));
    expect(sink.events.at(-1)).toEqual(['message', 'text', 'abcd']);
  });
});

describe('RFC 6455 §5.5 control frames', () => {
  it('delivers ping and pong payloads, empty or 125 bytes', () => {
    const { parser, sink } = setup();
    const max = Buffer.alloc(125, 0xab);
    parser.push(Buffer.concat([frame(Opcode.Ping, ''), frame(Opcode.Ping, max), frame(Opcode.Pong, ''), frame(Opcode.Pong, max)]));
    expect(sink.events).toEqual([
      ['ping', ''],
      ['ping', max.toString('hex')],
      ['pong', ''],
      ['pong', max.toString('hex')],
    ]);
  });

  it('gathers a control payload that arrives over several reads', () => {
    const { parser, sink } = setup();
    pushInReads(parser, frame(Opcode.Ping, Buffer.from('0123456789')), 3);
    expect(sink.events).toEqual([['ping', Buffer.from('0123456789').toString('hex')]]);
  });

  it('fails 1002 WSG_ERR_CONTROL_FRAME_TOO_LONG on a 126-byte control payload, before reading it', () => {
    const { parser, sink } = setup();
    parser.push(header(Opcode.Ping, 126));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_CONTROL_FRAME_TOO_LONG', CloseCode.ProtocolError).message).toBe(
      'Control frame payloads must be 125 bytes or less',
    );
  });

  it.each([
    ['ping', Opcode.Ping],
    ['pong', Opcode.Pong],
    ['close', Opcode.Close],
  ])('fails 1002 WSG_ERR_FRAGMENTED_CONTROL on a %s with FIN clear', (_label, opcode) => {
    const { parser, sink } = setup();
    parser.push(frame(opcode, '', { fin: false }));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_FRAGMENTED_CONTROL', CloseCode.ProtocolError).message).toBe('Control frames must not be fragmented');
  });

  it('fails 1002 WSG_ERR_UNEXPECTED_RSV on RSV1 set on a control frame, even with permessage-deflate', () => {
    const deflate = bareCodec('server', {}, 1 << 20);
    try {
      const { parser, sink } = setup({ deflate });
      parser.push(frame(Opcode.Ping, 'x', { rsv1: true }));
      expect(expectWsgError(onlyError(sink), 'WSG_ERR_UNEXPECTED_RSV', CloseCode.ProtocolError).message).toBe('RSV1 must be clear on control frames');
    } finally {
      deflate.cleanup();
    }
  });

  it('does not count control frames against maxFrameSize or maxMessageSize', () => {
    const { parser, sink } = setup({ maxFrameSize: 1, maxMessageSize: 1 });
    parser.push(Buffer.concat([frame(Opcode.Ping, Buffer.alloc(125)), frame(Opcode.Close, closePayload(1000, 'x'.repeat(123)))]));
    expect(sink.errors).toEqual([]);
    expect(sink.events.map((e) => e[0])).toEqual(['ping', 'close']);
  });
});

describe('RFC 6455 §5.5.1 / §7.4 close frames', () => {
  it('reports 1005 (no status) and an empty reason for an empty close frame', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Close, ''));
    expect(sink.events).toEqual([['close', CloseCode.NoStatus, '']]);
  });

  it('reports the code and the UTF-8 reason', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Close, closePayload(4321, 'bye ✓')));
    expect(sink.events).toEqual([['close', 4321, 'bye ✓']]);
  });

  it('reports a code with an empty reason', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Close, closePayload(1000)));
    expect(sink.events).toEqual([['close', 1000, '']]);
  });

  it('fails 1002 WSG_ERR_INVALID_CLOSE_PAYLOAD on a 1-byte close payload', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Close, Buffer.from([0x03])));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_CLOSE_PAYLOAD', CloseCode.ProtocolError).message).toBe(
      'A close frame payload must not be 1 byte',
    );
  });

  it.each([999, 1004, 1005, 1006, 1015, 2999, 5000])('fails 1002 WSG_ERR_INVALID_CLOSE_CODE on code %i', (code) => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Close, closePayload(code)));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_CLOSE_CODE', CloseCode.ProtocolError).message).toBe(`Invalid close code ${code}`);
  });

  it('fails 1007 WSG_ERR_INVALID_UTF8 on a close reason that is not UTF-8', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Close, closePayload(1000, Buffer.from([0x61, 0xff]))));
    const error = expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
    expect(error).toBeInstanceOf(InvalidUtf8Error);
    expect(error.message).toBe('Close reason is not valid UTF-8');
  });
});

describe('RFC 6455 §8.1 text messages must be UTF-8', () => {
  const INVALID = Buffer.from([0x61, 0xc3, 0x28]);

  it('fails 1007 WSG_ERR_INVALID_UTF8 on a single-frame text message that is not UTF-8', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Text, INVALID));
    const error = expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
    expect(error.message).toBe('Text message is not valid UTF-8');
    expect(sink.events).toEqual([['error', 'WSG_ERR_INVALID_UTF8']]);
  });

  it('delivers the same bytes as a binary message: only text is checked', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Binary, INVALID), frame(Opcode.Binary, INVALID, { fin: false }), frame(Opcode.Continuation, INVALID)]));
    expect(sink.events).toEqual([
      ['message', 'binary', '61c328'],
      ['message', 'binary', '61c32861c328'],
    ]);
  });

  it('accepts a character split across two fragments', () => {
    const bytes = Buffer.from('€uro', 'utf8');
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Text, bytes.subarray(0, 1), { fin: false }), frame(Opcode.Continuation, bytes.subarray(1))]));
    expect(sink.events).toEqual([['message', 'text', '€uro']]);
  });

  it('fails a fragmented text message at the bad fragment, before the final one arrives', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Text, 'ok', { fin: false }), frame(Opcode.Continuation, Buffer.from([0xff]), { fin: false })]));
    expect(expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload).message).toBe('Text message is not valid UTF-8');
  });

  it('fails a single text frame at the bad byte, before the rest of the frame arrives', () => {
    const { parser, sink } = setup();
    const bytes = frame(Opcode.Text, Buffer.concat([Buffer.from('fine'), Buffer.from([0xff]), Buffer.alloc(1000, 0x61)]));
    // Header: 2 bytes, a 16-bit length, a 4-byte mask key; then "fine", then the bad byte.
    parser.push(bytes.subarray(0, 8 + 4));
    expect(sink.events).toEqual([]);
    parser.push(bytes.subarray(8 + 4, 8 + 20));
    expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
  });

  it('fails a text frame over 64 KiB at the bad byte too: text is never gathered whole', () => {
    const { parser, sink } = setup();
    const bytes = frame(Opcode.Text, Buffer.concat([Buffer.from('fine'), Buffer.from([0xff]), Buffer.alloc(100_000, 0x61)]));
    // Header: 2 bytes, a 64-bit length, a 4-byte mask key; then "fine" and the bad byte.
    parser.push(bytes.subarray(0, 14 + 5));
    expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
  });

  it('fails 1007 at the end when a fragmented message stops inside a character', () => {
    const euro = Buffer.from('€', 'utf8');
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Text, 'a', { fin: false }), frame(Opcode.Continuation, euro.subarray(0, 2))]));
    const error = expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
    expect(error.message).toBe('Text message is not valid UTF-8');
  });

  it('fails 1007 at the end when a single frame read in pieces stops inside a character', () => {
    const payload = Buffer.concat([Buffer.from('abc'), Buffer.from('€', 'utf8').subarray(0, 2)]);
    const { parser, sink } = setup();
    pushInReads(parser, frame(Opcode.Text, payload), 4);
    expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
  });

  it('validates each message afresh: a partial character does not carry into the next message', () => {
    const euro = Buffer.from('€', 'utf8');
    const { parser, sink } = setup();
    parser.push(
      Buffer.concat([
        frame(Opcode.Text, 'x', { fin: false }),
        frame(Opcode.Continuation, 'y'),
        frame(Opcode.Text, euro.subarray(0, 1), { fin: false }),
        frame(Opcode.Continuation, euro.subarray(1)),
        frame(Opcode.Text, euro.subarray(1, 2), { fin: false }),
        frame(Opcode.Continuation, euro.subarray(2)),
      ]),
    );
    expect(sink.events).toEqual([
      ['message', 'text', 'xy'],
      ['message', 'text', '€'],
      ['error', 'WSG_ERR_INVALID_UTF8'],
    ]);
  });

  it('accepts long multi-byte text split into many reads and fragments', () => {
    const text = 'ξ€😀a'.repeat(5000);
    const bytes = Buffer.from(text, 'utf8');
    const third = Math.floor(bytes.length / 3);
    const { parser, sink } = setup();
    pushInReads(
      parser,
      Buffer.concat([
        frame(Opcode.Text, bytes.subarray(0, third), { fin: false }),
        frame(Opcode.Continuation, bytes.subarray(third, 2 * third + 1), { fin: false }),
        frame(Opcode.Continuation, bytes.subarray(2 * third + 1)),
      ]),
      4093,
    );
    expect(sink.errors).toEqual([]);
    expect(sink.events).toEqual([['message', 'text', text]]);
  });
});

describe('limit maxMessageSize', () => {
  it('accepts exactly maxMessageSize bytes in one frame', () => {
    const { parser, sink } = setup({ maxMessageSize: 300, maxFrameSize: 1000 });
    parser.push(frame(Opcode.Binary, Buffer.alloc(300, 1)));
    expect(sink.errors).toEqual([]);
    expect(sink.payloads[0]!.length).toBe(300);
  });

  it('fails 1009 WSG_ERR_MESSAGE_TOO_LARGE at maxMessageSize + 1, on the declared length, before any payload', () => {
    const { parser, sink } = setup({ maxMessageSize: 300, maxFrameSize: 1000 });
    parser.push(header(Opcode.Binary, 301));
    const error = expectWsgError(onlyError(sink), 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    expect(error).toBeInstanceOf(CapacityError);
    expect(error.message).toBe('Message of at least 301 bytes exceeds maxMessageSize (300)');
  });

  it('accepts fragments adding up to exactly maxMessageSize and fails at one byte more', () => {
    const ok = setup({ maxMessageSize: 10 });
    ok.parser.push(Buffer.concat([frame(Opcode.Text, 'abcde', { fin: false }), frame(Opcode.Continuation, 'fghij')]));
    expect(ok.sink.events).toEqual([['message', 'text', 'abcdefghij']]);

    const over = setup({ maxMessageSize: 10 });
    over.parser.push(Buffer.concat([frame(Opcode.Text, 'abcde', { fin: false }), header(Opcode.Continuation, 6)]));
    const error = expectWsgError(onlyError(over.sink), 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    expect(error.message).toBe('Message of at least 11 bytes exceeds maxMessageSize (10)');
  });

  it('counts a message fragmented in 16-bit and 64-bit length forms', () => {
    const { parser, sink } = setup({ maxMessageSize: 70_000, maxFrameSize: 70_000 });
    parser.push(Buffer.concat([frame(Opcode.Binary, Buffer.alloc(200), { fin: false }), header(Opcode.Continuation, 69_801)]));
    expect(onlyError(sink).message).toBe('Message of at least 70001 bytes exceeds maxMessageSize (70000)');
  });

  it('reports the message limit when a frame is over both limits', () => {
    const { parser, sink } = setup({ maxMessageSize: 100, maxFrameSize: 50 });
    parser.push(header(Opcode.Binary, 101));
    expectWsgError(onlyError(sink), 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
  });
});

describe('limit maxFrameSize', () => {
  it('accepts a frame of exactly maxFrameSize bytes', () => {
    const { parser, sink } = setup({ maxMessageSize: 1000, maxFrameSize: 200 });
    parser.push(frame(Opcode.Binary, Buffer.alloc(200, 2)));
    expect(sink.errors).toEqual([]);
    expect(sink.payloads[0]!.length).toBe(200);
  });

  it('fails 1009 WSG_ERR_FRAME_TOO_LARGE at maxFrameSize + 1, on the declared length', () => {
    const { parser, sink } = setup({ maxMessageSize: 1000, maxFrameSize: 200 });
    parser.push(header(Opcode.Binary, 201));
    const error = expectWsgError(onlyError(sink), 'WSG_ERR_FRAME_TOO_LARGE', CloseCode.MessageTooBig);
    expect(error).toBeInstanceOf(CapacityError);
    expect(error.message).toBe('Frame payload of 201 bytes exceeds maxFrameSize (200)');
  });

  it('applies to every fragment, not only the first', () => {
    const { parser, sink } = setup({ maxMessageSize: 1000, maxFrameSize: 200 });
    parser.push(Buffer.concat([frame(Opcode.Binary, Buffer.alloc(200), { fin: false }), header(Opcode.Continuation, 201)]));
    expectWsgError(onlyError(sink), 'WSG_ERR_FRAME_TOO_LARGE', CloseCode.MessageTooBig);
  });
});

describe('permessage-deflate frames (RFC 7692 §6)', () => {
  const deflates: DeflateCodec[] = [];
  afterEach(() => {
    for (const d of deflates.splice(0)) d.cleanup();
  });

  function compressed(text: string): Buffer {
    // RFC 7692 §7.2.1: the sender strips the final 00 00 ff ff.
    const raw = deflateRawSync(Buffer.from(text, 'utf8'), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    return raw.subarray(0, raw.length - 4);
  }

  function withDeflate(options: Partial<FrameParserOptions> = {}): { parser: FrameParser; sink: Recorder; done: (n: number) => Promise<void> } {
    const deflate = bareCodec('server', {}, options.maxMessageSize ?? 1 << 20);
    deflates.push(deflate);
    const { parser, sink } = setup({ deflate, ...options });
    const done = (n: number): Promise<void> =>
      new Promise((resolve) => {
        const poll = (): void => {
          if (sink.events.filter((e) => e[0] === 'message' || e[0] === 'error').length >= n) resolve();
          else setImmediate(poll);
        };
        poll();
      });
    return { parser, sink, done };
  }

  it('inflates a compressed text message and tells the owner to wait meanwhile', async () => {
    const { parser, sink, done } = withDeflate();
    parser.push(frame(Opcode.Text, compressed('hello hello hello'), { rsv1: true }));
    expect(sink.events).toEqual([['waiting', true]]);
    await done(1);
    expect(sink.events).toEqual([
      ['waiting', true],
      ['waiting', false],
      ['message', 'text', 'hello hello hello'],
    ]);
  });

  it('reads the frames that follow a compressed one once it is inflated, in order', async () => {
    const { parser, sink, done } = withDeflate();
    parser.push(Buffer.concat([frame(Opcode.Binary, compressed('ab'), { rsv1: true }), frame(Opcode.Ping, 'p'), frame(Opcode.Text, 'plain')]));
    await done(2);
    expect(sink.events.filter((e) => e[0] !== 'waiting')).toEqual([
      ['message', 'binary', Buffer.from('ab').toString('hex')],
      ['ping', '70'],
      ['message', 'text', 'plain'],
    ]);
  });

  it('inflates a compressed message sent in fragments (RSV1 on the first only), gathered over reads', async () => {
    const body = compressed('fragmented and compressed '.repeat(20));
    const half = Math.floor(body.length / 2);
    const { parser, sink, done } = withDeflate();
    pushInReads(
      parser,
      Buffer.concat([frame(Opcode.Text, body.subarray(0, half), { rsv1: true, fin: false }), frame(Opcode.Continuation, body.subarray(half))]),
      7,
    );
    await done(1);
    expect(sink.events.filter((e) => e[0] !== 'waiting')).toEqual([['message', 'text', 'fragmented and compressed '.repeat(20)]]);
  });

  it('measures a compressed message after inflation, not on its declared length', async () => {
    // 2000 bytes inflate from a few dozen: the declared length is far under the limit, the inflated one over.
    const { parser, sink, done } = withDeflate({ maxMessageSize: 1000, maxFrameSize: 1000 });
    const body = compressed('a'.repeat(2000));
    expect(body.length).toBeLessThan(100);
    parser.push(frame(Opcode.Text, body, { rsv1: true }));
    await done(1);
    expectWsgError(onlyError(sink), 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
  });

  it('lets a compressed frame declare more than maxMessageSize when it inflates to less', async () => {
    // Random bytes do not compress: the compressed frame is a little longer than the message.
    const { parser, sink, done } = withDeflate({ maxMessageSize: 600, maxFrameSize: 1000 });
    const random = randomBytes(600);
    const raw = deflateRawSync(random, { finishFlush: 2 });
    const body = raw.subarray(0, raw.length - 4);
    expect(body.length).toBeGreaterThan(600);
    parser.push(frame(Opcode.Binary, body, { rsv1: true }));
    await done(1);
    expect(sink.errors).toEqual([]);
    expect(sink.payloads[0]!.equals(random)).toBe(true);
  });

  it('fails 1007 WSG_ERR_INVALID_UTF8 on a compressed text message that inflates to bad UTF-8', async () => {
    const { parser, sink, done } = withDeflate();
    const raw = deflateRawSync(Buffer.from([0x61, 0xff]), { finishFlush: 2 });
    parser.push(frame(Opcode.Text, raw.subarray(0, raw.length - 4), { rsv1: true }));
    await done(1);
    const error = expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
    expect(error.message).toBe('Text message is not valid UTF-8');
  });

  it('delivers bad UTF-8 in a compressed binary message', async () => {
    const { parser, sink, done } = withDeflate();
    const raw = deflateRawSync(Buffer.from([0x61, 0xff]), { finishFlush: 2 });
    parser.push(frame(Opcode.Binary, raw.subarray(0, raw.length - 4), { rsv1: true }));
    await done(1);
    expect(sink.events.filter((e) => e[0] !== 'waiting')).toEqual([['message', 'binary', '61ff']]);
  });

  it('reports corrupt compressed data as the inflater\'s error and reads nothing after it', async () => {
    const { parser, sink, done } = withDeflate();
    parser.push(Buffer.concat([frame(Opcode.Text, Buffer.from([0xff, 0xff, 0xff, 0xff]), { rsv1: true }), frame(Opcode.Text, 'after')]));
    await done(1);
    expectWsgError(onlyError(sink), 'WSG_ERR_INVALID_COMPRESSED_DATA', CloseCode.InvalidPayload);
    expect(sink.events.filter((e) => e[0] === 'message')).toEqual([]);
  });

  it('inflates an empty compressed message to an empty one', async () => {
    const { parser, sink, done } = withDeflate();
    parser.push(frame(Opcode.Text, compressed(''), { rsv1: true }));
    await done(1);
    expect(sink.events.filter((e) => e[0] !== 'waiting')).toEqual([['message', 'text', '']]);
  });
});

describe('retained memory is counted in bytes, not in fragments', () => {
  /** Fields of FrameParser that hold message bytes, read for memory accounting only. */
  interface Held {
    pieces: Buffer[];
    accumulator: Buffer | null;
  }

  /** Every distinct ArrayBuffer the message in progress keeps alive, in bytes. */
  function retainedBytes(parser: FrameParser): { bytes: number; buffers: number } {
    const held = parser as unknown as Held;
    const seen = new Set<ArrayBufferLike>();
    for (const piece of held.pieces) seen.add(piece.buffer);
    if (held.accumulator !== null) seen.add(held.accumulator.buffer);
    let bytes = 0;
    for (const buffer of seen) bytes += buffer.byteLength;
    return { bytes, buffers: seen.size };
  }

  it('holds a message sent in 10 000 one-byte fragments, each its own read, in a few growing buffers', () => {
    const { parser, sink } = setup();
    for (let i = 0; i < 10_000; i++) parser.push(frame(i === 0 ? Opcode.Binary : Opcode.Continuation, Buffer.from([i & 0xff]), { fin: false }));
    const held = retainedBytes(parser);
    // 4 KiB then 8 KiB: about the 10 000 bytes carried, not 10 000 reads of 7 bytes.
    expect(held.bytes).toBe(4096 + 8192);
    expect(held.buffers).toBe(2);
    parser.push(frame(Opcode.Continuation, Buffer.alloc(0)));
    expect(sink.payloads[0]!.length).toBe(10_000);
    expect(sink.payloads[0]![9_999]).toBe(9_999 & 0xff);
  });

  it('caps each buffer at 256 KiB for a long run of small fragments', () => {
    const { parser } = setup({ maxMessageSize: 4 << 20 });
    const piece = Buffer.alloc(4000, 1);
    const read = Buffer.concat(Array.from({ length: 200 }, (_, i) => frame(i === 0 ? Opcode.Binary : Opcode.Continuation, piece, { fin: false })));
    parser.push(read);
    const held = parser as unknown as Held;
    const sizes = [...new Set([...held.pieces.map((p) => p.buffer), held.accumulator!.buffer])].map((b) => b.byteLength);
    expect(Math.max(...sizes)).toBe(256 * 1024);
    expect(sizes.slice(0, 4)).toEqual([4096, 8192, 16384, 32768]);
  });

  it('copies a fragment out of a read much larger than itself instead of keeping the read alive', () => {
    const { parser } = setup();
    // One read: a 5000-byte fragment followed by 160 pings (about 21 KB in all).
    const pings = Array.from({ length: 160 }, () => frame(Opcode.Ping, Buffer.alloc(125)));
    parser.push(Buffer.concat([frame(Opcode.Binary, Buffer.alloc(5000, 3), { fin: false }), ...pings]));
    expect(retainedBytes(parser)).toEqual({ bytes: 5000, buffers: 1 });
  });

  it('keeps a large fragment that fills most of its read as a view (no copy)', () => {
    const { parser } = setup();
    const read = frame(Opcode.Binary, Buffer.alloc(50_000, 4), { fin: false });
    parser.push(read);
    const held = parser as unknown as Held;
    expect(held.pieces).toHaveLength(1);
    expect(held.pieces[0]!.buffer).toBe(read.buffer);
  });
});

describe('the parser after an error, and flow control', () => {
  it('reports one error and ignores every byte after it', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.concat([frame(Opcode.Continuation, 'x'), frame(Opcode.Text, 'ignored')]));
    parser.push(frame(Opcode.Text, 'also ignored'));
    expect(sink.events).toEqual([['error', 'WSG_ERR_UNEXPECTED_CONTINUATION']]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('ignores an empty read', () => {
    const { parser, sink } = setup();
    parser.push(Buffer.alloc(0));
    expect(parser.bufferedBytes).toBe(0);
    parser.push(frame(Opcode.Text, 'x'));
    expect(sink.events).toEqual([['message', 'text', 'x']]);
  });

  it('counts the bytes received but not yet parsed', () => {
    const { parser, sink } = setup();
    const bytes = frame(Opcode.Binary, Buffer.alloc(70_000));
    parser.push(bytes.subarray(0, 1));
    expect(parser.bufferedBytes).toBe(1);
    parser.push(bytes.subarray(1, 1000));
    // A large single-frame message is gathered whole: its payload waits in the buffer.
    expect(parser.bufferedBytes).toBe(1000 - 14);
    parser.push(bytes.subarray(1000));
    expect(parser.bufferedBytes).toBe(0);
    expect(sink.payloads[0]!.length).toBe(70_000);
  });

  it('delivers no message while paused, keeps the bytes, and delivers them in order on resume', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Text, 'one'));
    parser.pause();
    expect(parser.isPaused).toBe(true);
    const rest = Buffer.concat([frame(Opcode.Text, 'two'), frame(Opcode.Text, 'three')]);
    parser.push(rest);
    expect(sink.events).toEqual([['message', 'text', 'one']]);
    expect(parser.bufferedBytes).toBe(rest.length);
    parser.resume();
    expect(parser.isPaused).toBe(false);
    expect(sink.events).toEqual([
      ['message', 'text', 'one'],
      ['message', 'text', 'two'],
      ['message', 'text', 'three'],
    ]);
  });

  it('stops after the current message when the owner pauses from its message callback', () => {
    const { parser, sink } = setup();
    sink.onMessageHook = () => parser.pause();
    parser.push(Buffer.concat([frame(Opcode.Text, 'a'), frame(Opcode.Text, 'b')]));
    expect(sink.events).toEqual([['message', 'text', 'a']]);
    sink.onMessageHook = null;
    parser.resume();
    expect(sink.events).toEqual([
      ['message', 'text', 'a'],
      ['message', 'text', 'b'],
    ]);
  });

  it('does nothing on resume() when not paused', () => {
    const { parser, sink } = setup();
    parser.push(frame(Opcode.Text, 'x'));
    parser.resume();
    expect(parser.isPaused).toBe(false);
    expect(sink.events).toEqual([['message', 'text', 'x']]);
  });

  it('handles a read pushed from inside a message callback after the messages already buffered', () => {
    const { parser, sink } = setup();
    let pushed = false;
    sink.onMessageHook = () => {
      if (pushed) return;
      pushed = true;
      parser.push(frame(Opcode.Text, 'c'));
      // Re-entrant: nothing more is parsed until the outer loop continues.
      expect(sink.events).toEqual([['message', 'text', 'a']]);
    };
    parser.push(Buffer.concat([frame(Opcode.Text, 'a'), frame(Opcode.Text, 'b')]));
    expect(sink.events).toEqual([
      ['message', 'text', 'a'],
      ['message', 'text', 'b'],
      ['message', 'text', 'c'],
    ]);
  });
});
