import fc from 'fast-check';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { CapacityError, InvalidUtf8Error, ProtocolError, type WsgError } from '../../../lib/frames/errors.js';
import { encodeFrame } from '../../../lib/frames/frame-encoder.js';
import { FrameParser, type FrameParserOptions, type FrameParserSink } from '../../../lib/frames/frame-parser.js';
import { Opcode } from '../../../lib/frames/opcodes.js';

/** What a FrameParser reported, in order; payloads copied and hex-encoded for comparison. */
export type ParserEvent =
  | ['message', boolean, string]
  | ['ping', string]
  | ['pong', string]
  | ['close', number, string]
  | ['error', string];

export class RecordingSink implements FrameParserSink {
  readonly events: ParserEvent[] = [];
  readonly errors: WsgError[] = [];
  onMessage(data: Buffer, isText: boolean): void {
    this.events.push(['message', isText, data.toString('hex')]);
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
  /** Only compressed frames wait for zlib; these parsers run without permessage-deflate. */
  waitingChanges = 0;
  onWaiting(): void {
    this.waitingChanges++;
  }
}

export function parserFor(role: 'server' | 'client', sink: FrameParserSink, overrides: Partial<FrameParserOptions> = {}): FrameParser {
  return new FrameParser(
    { role, maxFrameSize: 1 << 20, maxMessageSize: 1 << 20, acceptUnmaskedFrames: false, deflate: null, ...overrides },
    sink,
  );
}

/**
 * Cuts `bytes` at `cuts` (fractions in [0, 1)) into chunks, each copied into its own memory the
 * way socket reads arrive (the parser unmasks in place, so chunks must not share the source).
 */
export function chop(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) chunks.push(copy(bytes.subarray(at, p)));
    at = p;
  }
  return chunks;
}

/** A copy with its own ArrayBuffer (Buffer.alloc never uses the shared pool). */
export function copy(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(bytes.length);
  out.set(bytes);
  return out;
}

export const chunkingArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([]),
  fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { maxLength: 40 }),
  // Dense cuts: mostly one- and two-byte chunks.
  fc.integer({ min: 50, max: 400 }).map((n) => Array.from({ length: n }, (_, i) => i / n)),
);

const maskKeyArb = fc.uint8Array({ minLength: 4, maxLength: 4 });

const textPayloadArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }).map((s) => Buffer.from(s, 'utf8')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 40, maxLength: 1500 }).map((s) => Buffer.from(s, 'utf8')) },
  // Crosses the 16-bit length boundary with multi-byte characters.
  { weight: 1, arbitrary: fc.integer({ min: 21_830, max: 22_000 }).map((n) => Buffer.from('ξ€'.repeat(n).slice(0, n * 2), 'utf8')) },
);

const binaryPayloadArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 120, maxLength: 5000 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.integer({ min: 65_530, max: 70_000 }).map((n) => Buffer.alloc(n, n & 0xff)) },
);

interface ControlSpec {
  opcode: typeof Opcode.Ping | typeof Opcode.Pong;
  payload: Buffer;
  /** Inserted after fragment number `after % fragments`. */
  after: number;
}

export interface MessageSpec {
  isText: boolean;
  payload: Buffer;
  /** Fragment boundaries as fractions of the payload; repeats make empty fragments. */
  cuts: number[];
  controls: ControlSpec[];
  maskKey: Uint8Array;
}

const controlArb: fc.Arbitrary<ControlSpec> = fc.record({
  opcode: fc.constantFrom(Opcode.Ping, Opcode.Pong),
  payload: fc.uint8Array({ maxLength: 125 }).map((b) => Buffer.from(b)),
  after: fc.nat(),
});

export const messageArb: fc.Arbitrary<MessageSpec> = fc.boolean().chain((isText) =>
  fc.record({
    isText: fc.constant(isText),
    payload: isText ? textPayloadArb : binaryPayloadArb,
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
    controls: fc.array(controlArb, { maxLength: 3 }),
    maskKey: maskKeyArb,
  }),
);

export interface CloseSpec {
  code: number;
  reason: string;
}

export const closeArb: fc.Arbitrary<CloseSpec | null> = fc.option(
  fc.record({
    code: fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4321, 4999),
    reason: fc.string({ unit: 'binary', maxLength: 30 }),
  }),
);

export interface Sequence {
  role: 'server' | 'client';
  messages: MessageSpec[];
  close: CloseSpec | null;
}

export const sequenceArb: fc.Arbitrary<Sequence> = fc.record({
  role: fc.constantFrom('server' as const, 'client' as const),
  messages: fc.array(messageArb, { maxLength: 5 }),
  close: closeArb,
});

/** Encodes a sequence as the peer of `role` would send it, with the events a parser must report. */
export function encodeSequence(sequence: Sequence): { bytes: Buffer; expected: ParserEvent[] } {
  const frames: Buffer[] = [];
  const expected: ParserEvent[] = [];
  const masked = sequence.role === 'server';
  for (const message of sequence.messages) {
    const mask = masked ? message.maskKey : false;
    const points = message.cuts.map((c) => Math.floor(c * message.payload.length)).sort((a, b) => a - b);
    const bounds = [0, ...points, message.payload.length];
    const fragments: Buffer[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) fragments.push(message.payload.subarray(bounds[i]!, bounds[i + 1]!));
    fragments.forEach((fragment, i) => {
      const last = i === fragments.length - 1;
      const opcode = i === 0 ? (message.isText ? Opcode.Text : Opcode.Binary) : Opcode.Continuation;
      frames.push(encodeFrame(opcode, fragment, { fin: last, mask }));
      if (last) expected.push(['message', message.isText, message.payload.toString('hex')]);
      for (const control of message.controls) {
        if (control.after % fragments.length !== i) continue;
        frames.push(encodeFrame(control.opcode, control.payload, { mask }));
        expected.push([control.opcode === Opcode.Ping ? 'ping' : 'pong', control.payload.toString('hex')]);
      }
    });
  }
  if (sequence.close !== null) {
    const reason = Buffer.from(sequence.close.reason, 'utf8');
    const payload = Buffer.alloc(2 + reason.length);
    payload.writeUInt16BE(sequence.close.code, 0);
    reason.copy(payload, 2);
    frames.push(encodeFrame(Opcode.Close, payload, { mask: masked ? Buffer.from([9, 8, 7, 6]) : false }));
    expected.push(['close', sequence.close.code, reason.toString('utf8')]);
  }
  return { bytes: Buffer.concat(frames), expected };
}

/** Fields of FrameParser that hold bytes, read for memory accounting only. */
export interface ParserInternals {
  chunks: Buffer[];
  pieces: Buffer[];
  accumulator: Buffer | null;
  accumulatorLength: number;
  wholeFramePieces: Buffer[];
  buffered: number;
}

export function internals(parser: FrameParser): ParserInternals {
  return parser as unknown as ParserInternals;
}

/** Payload bytes the parser holds: unparsed input plus the message and control frame in progress. */
export function retainedPayloadBytes(parser: FrameParser): number {
  const p = internals(parser);
  let total = p.buffered + (p.accumulator === null ? 0 : p.accumulatorLength);
  for (const piece of p.pieces) total += piece.length;
  for (const piece of p.wholeFramePieces) total += piece.length;
  return total;
}

/** Memory the parser keeps alive: every distinct ArrayBuffer its buffers point into. */
export function retainedBackingBytes(parser: FrameParser): number {
  const p = internals(parser);
  const seen = new Set<ArrayBufferLike>();
  let total = 0;
  const add = (b: Buffer | null): void => {
    if (b === null || seen.has(b.buffer)) return;
    seen.add(b.buffer);
    total += b.buffer.byteLength;
  };
  for (const b of p.chunks) add(b);
  for (const b of p.pieces) add(b);
  for (const b of p.wholeFramePieces) add(b);
  add(p.accumulator);
  return total;
}

/** Every code the parser may report, with its error class and the close code it must carry. */
export const PARSER_ERRORS: Record<string, { errorClass: typeof ProtocolError; closeCode: number } | undefined> = {
  WSG_ERR_INVALID_OPCODE: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_UNEXPECTED_RSV: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_EXPECTED_MASK: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_UNEXPECTED_MASK: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_INVALID_LENGTH: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_NON_MINIMAL_LENGTH: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_CONTROL_FRAME_TOO_LONG: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_FRAGMENTED_CONTROL: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_UNEXPECTED_CONTINUATION: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_EXPECTED_CONTINUATION: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_INVALID_CLOSE_CODE: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_INVALID_CLOSE_PAYLOAD: { errorClass: ProtocolError, closeCode: CloseCode.ProtocolError },
  WSG_ERR_INVALID_UTF8: { errorClass: InvalidUtf8Error, closeCode: CloseCode.InvalidPayload },
  WSG_ERR_MESSAGE_TOO_LARGE: { errorClass: CapacityError, closeCode: CloseCode.MessageTooBig },
  WSG_ERR_FRAME_TOO_LARGE: { errorClass: CapacityError, closeCode: CloseCode.MessageTooBig },
};

/** One frame as a fuzzer writes it: every header field free, the length in any of its three forms. */
export interface RawFrameSpec {
  firstByte: number;
  masked: boolean;
  form: 7 | 16 | 64;
  /** The declared length; for form 7 only 0..125 (126 and 127 name the other forms). */
  length: bigint;
  maskKey: Uint8Array;
  /** What follows the header: may be shorter or longer than declared. */
  body: Uint8Array;
}

const declaredLengthArb = (form: 7 | 16 | 64): fc.Arbitrary<bigint> => {
  if (form === 7) return fc.integer({ min: 0, max: 125 }).map(BigInt);
  if (form === 16) return fc.oneof(fc.integer({ min: 0, max: 125 }), fc.integer({ min: 126, max: 0xffff })).map(BigInt);
  return fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map(BigInt),
    fc.integer({ min: 0x10000, max: 0x20_0000 }).map(BigInt),
    fc.constantFrom(2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n),
  );
};

export const rawFrameArb: fc.Arbitrary<RawFrameSpec> = fc
  .constantFrom<7 | 16 | 64>(7, 16, 64)
  .chain((form) =>
    fc.record({
      firstByte: fc.oneof(
        fc.integer({ min: 0, max: 255 }),
        // Mostly plausible: FIN or not, RSV clear, a defined opcode.
        fc.tuple(fc.boolean(), fc.constantFrom(0, 1, 2, 8, 9, 10)).map(([fin, opcode]) => (fin ? 0x80 : 0) | opcode),
      ),
      masked: fc.boolean(),
      form: fc.constant(form),
      length: declaredLengthArb(form),
      maskKey: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      body: fc.uint8Array({ maxLength: 300 }),
    }),
  );

/** The bytes of a RawFrameSpec: header (length in the chosen form, whatever its value), key, body. */
export function rawFrameBytes(spec: RawFrameSpec): Buffer {
  const lengthBytes = spec.form === 7 ? 0 : spec.form === 16 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (spec.masked ? 4 : 0));
  header[0] = spec.firstByte;
  header[1] = (spec.masked ? 0x80 : 0) | (spec.form === 7 ? Number(spec.length) : spec.form === 16 ? 126 : 127);
  if (spec.form === 16) header.writeUInt16BE(Number(spec.length), 2);
  if (spec.form === 64) header.writeBigUInt64BE(spec.length, 2);
  if (spec.masked) header.set(spec.maskKey, 2 + lengthBytes);
  return Buffer.concat([header, spec.body]);
}
