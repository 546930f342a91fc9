import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { chop, chunkingArb, encodeSequence, parserFor, RecordingSink, sequenceArb, copy } from './frame-arbitraries.js';

// RFC 6455 §5: framing is independent of how TCP delivers the bytes.
describe('RFC 6455 §5 FrameParser: any chunking of any valid frame sequence', () => {
  it('reports the same messages, pings, pongs and close, in order, however the bytes are cut', () => {
    fc.assert(
      fc.property(sequenceArb, chunkingArb, (sequence, cuts) => {
        const { bytes, expected } = encodeSequence(sequence);
        const sink = new RecordingSink();
        const parser = parserFor(sequence.role, sink);
        for (const chunk of chop(bytes, cuts)) parser.push(chunk);
        expect(sink.errors).toEqual([]);
        expect(sink.events).toEqual(expected);
        expect(parser.bufferedBytes).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('reports the same events when every byte is its own push', () => {
    fc.assert(
      fc.property(sequenceArb, (sequence) => {
        const { bytes, expected } = encodeSequence(sequence);
        fc.pre(bytes.length <= 20_000);
        const sink = new RecordingSink();
        const parser = parserFor(sequence.role, sink);
        for (let i = 0; i < bytes.length; i++) parser.push(copy(bytes.subarray(i, i + 1)));
        expect(sink.events).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it('gives the same result for one push and for chunks that share one buffer', () => {
    fc.assert(
      fc.property(sequenceArb, chunkingArb, (sequence, cuts) => {
        const { bytes, expected } = encodeSequence(sequence);
        const whole = new RecordingSink();
        parserFor(sequence.role, whole).push(copy(bytes));
        // Views into one socket read, as a stream may hand over after a split.
        const shared = copy(bytes);
        const points = [...new Set(cuts.map((c) => Math.floor(c * shared.length)))].sort((a, b) => a - b);
        const views = new RecordingSink();
        const parser = parserFor(sequence.role, views);
        let at = 0;
        for (const p of [...points, shared.length]) {
          if (p > at) parser.push(shared.subarray(at, p));
          at = Math.max(at, p);
        }
        expect(whole.events).toEqual(expected);
        expect(views.events).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});
