import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { encodeFrame } from '../../../lib/frames/frame-encoder.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import {
  chop,
  chunkingArb,
  copy,
  encodeSequence,
  PARSER_ERRORS,
  parserFor,
  rawFrameArb,
  rawFrameBytes,
  RecordingSink,
  retainedBackingBytes,
  retainedPayloadBytes,
  sequenceArb,
} from './frame-arbitraries.js';

/** Largest frame header (2 + 8 length + 4 mask) and control payload a parser may hold besides a message. */
const HEADER_BYTES = 14;
const CONTROL_BYTES = 125;

const limitsArb = fc.record({
  role: fc.constantFrom('server' as const, 'client' as const),
  maxMessageSize: fc.integer({ min: 1, max: 4096 }),
  frameRatio: fc.double({ min: 0.1, max: 1, noNaN: true }),
  acceptUnmaskedFrames: fc.boolean(),
});

type Mutation = { at: number; kind: 'flip' | 'set' | 'drop' | 'dup'; value: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  kind: fc.constantFrom('flip' as const, 'set' as const, 'drop' as const, 'dup' as const),
  value: fc.integer({ min: 0, max: 255 }),
});

function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    if (out.length === 0) break;
    const i = Math.floor(m.at * out.length);
    if (m.kind === 'flip') out[i] = out[i]! ^ (1 << (m.value & 7));
    else if (m.kind === 'set') out[i] = m.value;
    else if (m.kind === 'drop') out = Buffer.concat([out.subarray(0, i), out.subarray(i + 1)]);
    else out = Buffer.concat([out.subarray(0, i), out.subarray(i, i + 1 + (m.value % 16)), out.subarray(i)]);
  }
  return out;
}

const malformedArb = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(sequenceArb, fc.array(mutationArb, { minLength: 1, maxLength: 6 }))
      .filter(([sequence]) => sequence.messages.every((m) => m.payload.length < 20_000))
      .map(([sequence, mutations]) => mutate(encodeSequence(sequence).bytes, mutations)),
  },
);

type Limits = { role: 'server' | 'client'; maxMessageSize: number; frameRatio: number; acceptUnmaskedFrames: boolean };

/**
 * Feeds `bytes` in the chunks `cuts` makes and checks what must hold for any input: no throw,
 * at most one error and nothing after it, the error's class and close code as documented, and
 * at most maxMessageSize plus one frame header and one control frame held at any time.
 */
function checkParserOn(limits: Limits, bytes: Buffer, cuts: readonly number[]): RecordingSink {
  const maxFrameSize = Math.max(1, Math.floor(limits.maxMessageSize * limits.frameRatio));
  const sink = new RecordingSink();
  const parser = parserFor(limits.role, sink, {
    maxMessageSize: limits.maxMessageSize,
    maxFrameSize,
    acceptUnmaskedFrames: limits.acceptUnmaskedFrames,
  });
  for (const chunk of chop(bytes, cuts)) {
    expect(() => parser.push(chunk)).not.toThrow();
    expect(retainedPayloadBytes(parser)).toBeLessThanOrEqual(limits.maxMessageSize + HEADER_BYTES + CONTROL_BYTES);
  }
  expect(sink.errors.length).toBeLessThanOrEqual(1);
  const errorAt = sink.events.findIndex((e) => e[0] === 'error');
  if (errorAt !== -1) {
    expect(errorAt).toBe(sink.events.length - 1);
    const error = sink.errors[0]!;
    // Each parser code has one class and one close code (docs/errors.md), whatever the input.
    const expected = PARSER_ERRORS[error.code];
    expect(expected).toBeDefined();
    expect({ code: error.code, closeCode: error.closeCode }).toEqual({ code: error.code, closeCode: expected!.closeCode });
    expect(error).toBeInstanceOf(expected!.errorClass);
    // After the error nothing is held and further input is ignored.
    expect(retainedPayloadBytes(parser)).toBe(0);
    parser.push(copy(encodeFrame(Opcode.Ping, Buffer.from('late'), { mask: limits.role === 'server' })));
    expect(sink.events.length).toBe(errorAt + 1);
  }
  for (const event of sink.events) {
    if (event[0] === 'message') expect(event[2].length / 2).toBeLessThanOrEqual(limits.maxMessageSize);
  }
  return sink;
}

/**
 * Arbitrary bytes never make the parser throw; it reports at most one error (with a close code
 * the connection can send), nothing after it, and holds at most maxMessageSize plus one frame
 * header and one control frame.
 */
describe('RFC 6455 §5, §7.1.7 FrameParser on malformed input', () => {
  it('never throws, reports at most one error and nothing after it, and retains at most maxMessageSize + header + control bytes', () => {
    fc.assert(
      fc.property(limitsArb, malformedArb, chunkingArb, (limits, bytes, cuts) => {
        checkParserOn(limits, bytes, cuts);
      }),
      { numRuns: 400 },
    );
  });

  it('holds the same on frames with every header field fuzzed (any first byte, mask bit, length form and value)', () => {
    fc.assert(
      fc.property(limitsArb, fc.array(rawFrameArb, { minLength: 1, maxLength: 6 }), chunkingArb, (limits, frames, cuts) => {
        checkParserOn(limits, Buffer.concat(frames.map(rawFrameBytes)), cuts);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every non-minimal length with 1002 WSG_ERR_NON_MINIMAL_LENGTH, in both roles, before any payload (§5.2)', () => {
    const nonMinimalArb = fc.oneof(
      fc.record({ form: fc.constant<16>(16), length: fc.integer({ min: 0, max: 125 }).map(BigInt) }),
      fc.record({ form: fc.constant<64>(64), length: fc.integer({ min: 0, max: 0xffff }).map(BigInt) }),
    );
    fc.assert(
      fc.property(limitsArb, nonMinimalArb, rawFrameArb, chunkingArb, (limits, { form, length }, frame, cuts) => {
        // A data frame correct in every other respect: only its length form is wrong.
        const firstByte = 0x80 | (frame.firstByte & 1 ? 0x1 : 0x2);
        const bytes = rawFrameBytes({ ...frame, firstByte, form, length, masked: limits.role === 'server' });
        const sink = checkParserOn({ ...limits, maxMessageSize: 1 << 20, frameRatio: 1 }, bytes, cuts);
        expect(sink.events).toEqual([['error', 'WSG_ERR_NON_MINIMAL_LENGTH']]);
      }),
      { numRuns: 150 },
    );
  });

  it('reports the same outcome for malformed input however it is chunked', () => {
    fc.assert(
      fc.property(limitsArb, malformedArb, chunkingArb, (limits, bytes, cuts) => {
        const options = { maxMessageSize: limits.maxMessageSize, maxFrameSize: limits.maxMessageSize, acceptUnmaskedFrames: limits.acceptUnmaskedFrames };
        const whole = new RecordingSink();
        parserFor(limits.role, whole, options).push(copy(bytes));
        const chunked = new RecordingSink();
        const parser = parserFor(limits.role, chunked, options);
        for (const chunk of chop(bytes, cuts)) parser.push(chunk);
        // Fail-fast may reject a bad UTF-8 byte earlier when it arrives in pieces; the verdict is the same.
        expect(chunked.events).toEqual(whole.events);
      }),
      { numRuns: 200 },
    );
  });
});

describe('limit maxMessageSize: memory retained for a fragmented message is counted in bytes', () => {
  it('holds about one copy of a 4 MiB message sent in 64-byte fragments (Autobahn 9.3 shape)', () => {
    const maxMessageSize = 8 * 1024 * 1024;
    const sink = new RecordingSink();
    const parser = parserFor('server', sink, { maxMessageSize });
    const mask = Buffer.from([1, 2, 3, 4]);
    const fragment = Buffer.alloc(64, 0x61);
    const total = 4 * 1024 * 1024;
    let peak = 0;
    // 64 KiB socket reads, each in its own memory, as Node delivers them.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = (): void => {
      parser.push(copy(Buffer.concat(pending, pendingBytes)));
      pending = [];
      pendingBytes = 0;
      peak = Math.max(peak, retainedBackingBytes(parser));
    };
    for (let at = 0; at < total; at += 64) {
      const frame = encodeFrame(at === 0 ? Opcode.Binary : Opcode.Continuation, fragment, { fin: at + 64 >= total, mask });
      pending.push(frame);
      pendingBytes += frame.length;
      if (pendingBytes >= 65536) flush();
    }
    flush();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]![0]).toBe('message');
    // Growing one buffer may briefly hold up to twice the message; never one Buffer per fragment.
    expect(peak).toBeLessThanOrEqual(2 * total + 64 * 1024);
  });

  it('does not let fragments that each pin a whole 64 KiB socket read hold more than 2 × maxMessageSize', () => {
    const maxMessageSize = 256 * 1024;
    const sink = new RecordingSink();
    const parser = parserFor('server', sink, { maxMessageSize });
    const mask = Buffer.from([5, 6, 7, 8]);
    // Each read: one 4 KiB fragment followed by pings that fill the read up to 64 KiB. If the
    // fragment is kept as a view, it keeps the whole read alive: 16× its size.
    const ping = encodeFrame(Opcode.Ping, Buffer.alloc(125), { mask });
    const fragmentSize = 4096;
    const fragments = maxMessageSize / fragmentSize;
    let peak = 0;
    for (let i = 0; i < fragments; i++) {
      const frame = encodeFrame(i === 0 ? Opcode.Binary : Opcode.Continuation, Buffer.alloc(fragmentSize, i), { fin: i === fragments - 1, mask });
      const parts = [frame];
      let size = frame.length;
      while (size + ping.length <= 65536) {
        parts.push(ping);
        size += ping.length;
      }
      parser.push(copy(Buffer.concat(parts, size)));
      if (i < fragments - 1) peak = Math.max(peak, retainedBackingBytes(parser));
    }
    expect(sink.errors).toEqual([]);
    expect(sink.events.filter((e) => e[0] === 'message')).toHaveLength(1);
    expect(peak).toBeLessThanOrEqual(2 * maxMessageSize + 64 * 1024);
  });
});
