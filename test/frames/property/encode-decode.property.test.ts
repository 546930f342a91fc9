import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { encodeFrame } from '../../../lib/frames/frame-encoder.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { chop, chunkingArb, copy, parserFor, RecordingSink, type ParserEvent } from './frame-arbitraries.js';

/** Reference decoding of one frame header (RFC 6455 §5.2), written independently of the engine. */
function decodeHeader(frame: Buffer): { fin: boolean; rsv: number; opcode: number; masked: boolean; length: number; headerLength: number; key: Buffer | null } {
  const fin = (frame[0]! & 0x80) !== 0;
  const rsv = (frame[0]! >> 4) & 0x7;
  const opcode = frame[0]! & 0x0f;
  const masked = (frame[1]! & 0x80) !== 0;
  let length = frame[1]! & 0x7f;
  let at = 2;
  if (length === 126) {
    length = frame.readUInt16BE(2);
    at = 4;
  } else if (length === 127) {
    length = Number(frame.readBigUInt64BE(2));
    at = 10;
  }
  const key = masked ? frame.subarray(at, at + 4) : null;
  return { fin, rsv, opcode, masked, length, headerLength: at + (masked ? 4 : 0), key };
}

const maskArb = fc.oneof(fc.constant(false as const), fc.constant(true as const), fc.uint8Array({ minLength: 4, maxLength: 4 }));
const payloadArb = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 125, maxLength: 128 }) },
  { weight: 1, arbitrary: fc.constantFrom(65535, 65536, 65537).map((n) => new Uint8Array(n).fill(0x5a)) },
);

describe('RFC 6455 §5.2 encodeFrame()', () => {
  it('writes FIN, RSV1, opcode, the minimal length form, the mask key and the masked payload, and never touches its input', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(Opcode.Continuation, Opcode.Text, Opcode.Binary, Opcode.Close, Opcode.Ping, Opcode.Pong),
        payloadArb,
        fc.boolean(),
        fc.boolean(),
        maskArb,
        (opcode, payload, fin, rsv1, mask) => {
          const before = Buffer.from(payload);
          const frame = encodeFrame(opcode, payload, { fin, rsv1, mask });
          const header = decodeHeader(frame);
          expect(Buffer.from(payload).equals(before)).toBe(true);
          expect(header).toMatchObject({ fin, rsv: rsv1 ? 4 : 0, opcode, masked: mask !== false, length: payload.length });
          const minimal = payload.length <= 125 ? 2 : payload.length <= 0xffff ? 4 : 10;
          expect(header.headerLength).toBe(minimal + (mask === false ? 0 : 4));
          expect(frame.length).toBe(header.headerLength + payload.length);
          if (mask instanceof Uint8Array) expect(header.key!.equals(Buffer.from(mask))).toBe(true);
          const body = Buffer.from(frame.subarray(header.headerLength));
          if (header.key !== null) for (let i = 0; i < body.length; i++) body[i]! ^= header.key[i & 3]!;
          expect(body.equals(before)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('RFC 6455 §5 encodeFrame() → FrameParser round trip', () => {
  const frameArb = fc.oneof(
    fc.record({
      kind: fc.constant('data' as const),
      isText: fc.boolean(),
      text: fc.string({ unit: 'binary', maxLength: 200 }),
      bytes: payloadArb,
      // Not final: the message is finished by a continuation carrying `rest`.
      fin: fc.boolean(),
      rest: fc.uint8Array({ maxLength: 50 }),
    }),
    fc.record({ kind: fc.constantFrom('ping' as const, 'pong' as const), bytes: fc.uint8Array({ maxLength: 125 }) }),
    fc.record({
      kind: fc.constant('close' as const),
      code: fc.option(fc.constantFrom(1000, 1001, 1003, 1011, 3000, 4999)),
      reason: fc.string({ unit: 'binary', maxLength: 30 }),
    }),
  );

  it('decodes what was encoded, for any payload, opcode, FIN and mask, however it is chunked', () => {
    fc.assert(
      fc.property(frameArb, maskArb, chunkingArb, (spec, mask, cuts) => {
        const role = mask === false ? 'client' : 'server';
        const frames: Buffer[] = [];
        let expected: ParserEvent;
        if (spec.kind === 'data') {
          // Text rest must keep the message valid UTF-8: use ASCII there.
          const first = spec.isText ? Buffer.from(spec.text, 'utf8') : Buffer.from(spec.bytes);
          const rest = spec.isText ? Buffer.from(Buffer.from(spec.rest).toString('hex'), 'ascii') : Buffer.from(spec.rest);
          frames.push(encodeFrame(spec.isText ? Opcode.Text : Opcode.Binary, first, { fin: spec.fin, mask }));
          if (!spec.fin) frames.push(encodeFrame(Opcode.Continuation, rest, { mask }));
          expected = ['message', spec.isText, Buffer.concat(spec.fin ? [first] : [first, rest]).toString('hex')];
        } else if (spec.kind === 'close') {
          const reason = Buffer.from(spec.reason, 'utf8');
          const payload = spec.code === null ? Buffer.alloc(0) : Buffer.concat([Buffer.from([spec.code >> 8, spec.code & 0xff]), reason]);
          frames.push(encodeFrame(Opcode.Close, payload, { mask }));
          expected = spec.code === null ? ['close', 1005, ''] : ['close', spec.code, reason.toString('utf8')];
        } else {
          frames.push(encodeFrame(spec.kind === 'ping' ? Opcode.Ping : Opcode.Pong, spec.bytes, { mask }));
          expected = [spec.kind, Buffer.from(spec.bytes).toString('hex')];
        }
        const sink = new RecordingSink();
        const parser = parserFor(role, sink);
        for (const chunk of chop(Buffer.concat(frames), cuts)) parser.push(chunk);
        expect(sink.events).toEqual([expected]);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses the frame in the wrong masking for the role (§5.1): masked to a client, unmasked to a server', () => {
    fc.assert(
      fc.property(fc.constantFrom(Opcode.Text, Opcode.Binary, Opcode.Ping), fc.uint8Array({ maxLength: 100 }), fc.boolean(), (opcode, payload, toServer) => {
        const sink = new RecordingSink();
        const frame = encodeFrame(opcode, opcode === Opcode.Text ? Buffer.from('ok') : payload, { mask: !toServer });
        parserFor(toServer ? 'server' : 'client', sink).push(copy(frame));
        expect(sink.events).toEqual([['error', toServer ? 'WSG_ERR_EXPECTED_MASK' : 'WSG_ERR_UNEXPECTED_MASK']]);
      }),
      { numRuns: 50 },
    );
  });
});
