import { describe, expect, it } from '@jest/globals';
import { Utf8Validator } from '../../lib/frames/utf8-validator.js';

// The validator checks each piece natively (isUtf8) up to its last complete code point and
// carries only the unfinished one (≤ 3 bytes) in JS. These tests cut real text at every kind of
// code point boundary, with pieces long enough (≥ 32 bytes) to take the native path.

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
/** 40 bytes of mixed 1- and 2-byte text: long enough for the native path on either side. */
const BEFORE = Buffer.from('zoë and κόσμε say hello to wsgate ');
const AFTER = Buffer.from(' — the rest of the message, ünïcödé');

/** Feeds pieces in order; returns the index of the piece on which update() said no, or -1. */
function failingPiece(validator: Utf8Validator, pieces: Buffer[]): number {
  for (let i = 0; i < pieces.length; i++) if (!validator.update(pieces[i]!)) return i;
  return -1;
}

/** `BEFORE + codePoint + AFTER` cut inside the code point after `split` of its bytes. */
function cutInside(codePoint: Buffer, split: number): Buffer[] {
  return [Buffer.concat([BEFORE, codePoint.subarray(0, split)]), Buffer.concat([codePoint.subarray(split), AFTER])];
}

describe('Utf8Validator: a code point split across pieces', () => {
  const cases: Array<[string, Buffer, number]> = [
    ['4-byte U+1F642 split 1|3', Buffer.from('🙂'), 1],
    ['4-byte U+1F642 split 2|2', Buffer.from('🙂'), 2],
    ['4-byte U+1F642 split 3|1', Buffer.from('🙂'), 3],
    ['4-byte U+10FFFF (F4 8F BF BF) split 1|3', hex('f48fbfbf'), 1],
    ['4-byte U+10000 (F0 90 80 80) split 3|1', hex('f0908080'), 3],
    ['3-byte U+2713 split 1|2', Buffer.from('✓'), 1],
    ['3-byte U+2713 split 2|1', Buffer.from('✓'), 2],
    ['3-byte U+D7FF (ED 9F BF, last before the surrogates) split 1|2', hex('ed9fbf'), 1],
    ['3-byte U+0800 (E0 A0 80) split 2|1', hex('e0a080'), 2],
    ['2-byte U+00EB split 1|1', Buffer.from('ë'), 1],
  ];

  it.each(cases)('accepts %s, each piece alone, and reports the message complete', (_name, codePoint, split) => {
    const validator = new Utf8Validator();
    const [first, second] = cutInside(codePoint, split);
    expect(validator.update(first!)).toBe(true);
    expect(validator.complete).toBe(false);
    expect(validator.update(second!)).toBe(true);
    expect(validator.complete).toBe(true);
  });

  it('accepts a 4-byte code point split 1|1|1|1 over four pieces between long text', () => {
    const validator = new Utf8Validator();
    const emoji = Buffer.from('🙂');
    const pieces = [Buffer.concat([BEFORE, emoji.subarray(0, 1)]), emoji.subarray(1, 2), emoji.subarray(2, 3), Buffer.concat([emoji.subarray(3), AFTER])];
    expect(failingPiece(validator, pieces)).toBe(-1);
    expect(validator.complete).toBe(true);
  });

  it('checks a piece between offsets (update(bytes, start, end)) without looking outside them', () => {
    const validator = new Utf8Validator();
    // Invalid bytes outside [start, end) must not count; the carried code point must.
    const first = Buffer.concat([hex('ff'), BEFORE, hex('f09f'), hex('ff')]);
    expect(validator.update(first, 1, first.length - 1)).toBe(true);
    const second = Buffer.concat([hex('c0'), hex('9982'), AFTER, hex('c0')]);
    expect(validator.update(second, 1, second.length - 1)).toBe(true);
    expect(validator.complete).toBe(true);
  });
});

describe('Utf8Validator: fails on the piece where the bytes stop being valid', () => {
  it('an invalid byte in a later piece fails on that piece, not before', () => {
    const validator = new Utf8Validator();
    const bad = Buffer.concat([AFTER, hex('ff'), AFTER]);
    expect(failingPiece(validator, [BEFORE, AFTER, bad, AFTER])).toBe(2);
  });

  it('a surrogate (ED A0 80) in the middle of a long later piece fails on that piece', () => {
    const validator = new Utf8Validator();
    expect(failingPiece(validator, [BEFORE, Buffer.concat([AFTER, hex('eda080'), AFTER])])).toBe(1);
  });

  it('a bad continuation right after a carried lead byte fails on the piece that brings it', () => {
    const validator = new Utf8Validator();
    // E2 is carried from piece 0; piece 1 starts with 0x41, which cannot continue it.
    expect(failingPiece(validator, [Buffer.concat([BEFORE, hex('e2')]), Buffer.concat([hex('41'), AFTER])])).toBe(1);
  });

  it.each([
    ['F4 90 (over U+10FFFF)', 'f490'],
    ['ED A0 (a surrogate)', 'eda0'],
    ['E0 80 (overlong)', 'e080'],
    ['F0 80 (overlong)', 'f080'],
    ['F5 (never a lead byte)', 'f5'],
    ['C1 (overlong lead)', 'c1'],
  ])('a long piece ending in the unfinished but already impossible %s fails on that piece', (_name, tail) => {
    const validator = new Utf8Validator();
    expect(failingPiece(validator, [BEFORE, Buffer.concat([AFTER, hex(tail)]), AFTER])).toBe(1);
  });

  it('a carried E0 followed by 9F (overlong) in the next piece fails on that piece', () => {
    const validator = new Utf8Validator();
    expect(failingPiece(validator, [Buffer.concat([BEFORE, hex('e0')]), Buffer.concat([hex('9fbf'), AFTER])])).toBe(1);
  });

  it('more than 3 continuation bytes at the end of a long piece fail on that piece', () => {
    const validator = new Utf8Validator();
    expect(failingPiece(validator, [Buffer.concat([BEFORE, hex('f09f9882 80')]), AFTER])).toBe(0);
  });
});

describe('Utf8Validator: a sequence truncated at the end of the message', () => {
  it.each([
    ['a 4-byte lead and two continuations', 'f09f98'],
    ['a 3-byte lead', 'e2'],
    ['a 2-byte lead', 'c3'],
  ])('is accepted piece by piece but leaves the message incomplete: %s', (_name, tail) => {
    const validator = new Utf8Validator();
    expect(failingPiece(validator, [BEFORE, Buffer.concat([AFTER, hex(tail)])])).toBe(-1);
    expect(validator.complete).toBe(false);
  });

  it('reset() forgets a carried code point (the next message starts clean)', () => {
    const validator = new Utf8Validator();
    expect(validator.update(Buffer.concat([BEFORE, hex('f09f')]))).toBe(true);
    validator.reset();
    expect(validator.complete).toBe(true);
    // Without the reset, 'A' could not continue F0 9F.
    expect(validator.update(Buffer.concat([hex('41'), AFTER]))).toBe(true);
    expect(validator.complete).toBe(true);
  });
});

describe('Utf8Validator: same verdict, on the same piece, as one byte at a time', () => {
  // A deterministic generator (no Math.random: a failure must replay).
  function lcg(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }
  const SAMPLES = ['a', 'ë', 'κ', '✓', '你', '🙂', '\u0000', '\u07ff', '\u0800', '\uffff', '\u{10000}', '\u{10ffff}'].map((s) => Buffer.from(s));
  const NOISE = [0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90];

  /** Mostly valid text with, sometimes, one stray byte: the interesting inputs are near-valid. */
  function message(rand: () => number): Buffer {
    const parts: Buffer[] = [];
    const count = 1 + Math.floor(rand() * 120);
    for (let i = 0; i < count; i++) parts.push(SAMPLES[Math.floor(rand() * SAMPLES.length)]!);
    if (rand() < 0.6) {
      const at = Math.floor(rand() * (parts.length + 1));
      parts.splice(at, 0, Buffer.from([NOISE[Math.floor(rand() * NOISE.length)]!]));
    }
    return Buffer.concat(parts);
  }

  /** The byte index at which a byte-at-a-time validator fails, or -1; and whether it ends complete. */
  function reference(bytes: Buffer): { failsAt: number; complete: boolean } {
    const v = new Utf8Validator();
    for (let i = 0; i < bytes.length; i++) if (!v.update(bytes, i, i + 1)) return { failsAt: i, complete: false };
    return { failsAt: -1, complete: v.complete };
  }

  it('over 3000 near-valid messages cut at random points', () => {
    const rand = lcg(0x5eed);
    let failures = 0;
    for (let n = 0; n < 3000; n++) {
      const bytes = message(rand);
      const cuts = [0];
      while (cuts[cuts.length - 1]! < bytes.length) cuts.push(Math.min(bytes.length, cuts[cuts.length - 1]! + 1 + Math.floor(rand() * 80)));
      const expected = reference(bytes);
      const v = new Utf8Validator();
      let failedPieceEnd = -1;
      for (let p = 1; p < cuts.length; p++) {
        if (!v.update(bytes, cuts[p - 1]!, cuts[p]!)) {
          failedPieceEnd = cuts[p]!;
          // The piece that failed must be the one holding the first impossible byte.
          expect(expected.failsAt).toBeGreaterThanOrEqual(cuts[p - 1]!);
          expect(expected.failsAt).toBeLessThan(cuts[p]!);
          failures++;
          break;
        }
      }
      if (failedPieceEnd === -1) {
        expect(expected.failsAt).toBe(-1);
        expect(v.complete).toBe(expected.complete);
      }
    }
    // The generator must produce both outcomes, or the comparison proves little.
    expect(failures).toBeGreaterThan(500);
    expect(failures).toBeLessThan(2500);
  });
});
