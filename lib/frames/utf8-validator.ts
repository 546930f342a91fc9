import { isUtf8 } from 'node:buffer';

/**
 * Pieces shorter than this go through the JS state machine byte by byte: below it, a native
 * call plus a typed-array view cost more than the loop (Autobahn sends 1-byte fragments).
 */
const NATIVE_MIN_BYTES = 32;

/**
 * Incremental UTF-8 validator (RFC 3629 as required by RFC 6455 §8.1) for text that arrives in
 * pieces (fragments, or socket reads that cut a frame).
 *
 * Each piece is checked at native speed: the code point carried over from the previous piece is
 * finished byte by byte (≤ 3 bytes), the bytes up to the piece's last complete code point go to
 * node:buffer's `isUtf8` (simdutf), and only the unfinished code point at the end (≤ 3 bytes) is
 * carried, in the JS state machine. It fails fast: `update()` returns false on the piece in
 * which the bytes stopped being a possible prefix of valid UTF-8 (overlongs, surrogates, code
 * points over U+10FFFF are caught on their first impossible byte even when that byte ends a
 * piece), so a peer cannot make us buffer a message we already know is bad.
 */
export class Utf8Validator {
  /** Continuation bytes still owed by the code point in progress. */
  private need = 0;
  /** Allowed range of the next continuation byte (narrowed after E0, ED, F0, F4). */
  private lower = 0x80;
  private upper = 0xbf;

  update(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    let i = start;
    if (this.need !== 0) {
      // Finish the code point begun in an earlier piece.
      const stop = Math.min(end, i + this.need);
      if (!this.step(bytes, i, stop)) return false;
      i = stop;
      if (i === end) return true;
    }
    if (end - i < NATIVE_MIN_BYTES) return this.step(bytes, i, end);
    const cut = completeEnd(bytes, i, end);
    if (cut > i && !isUtf8(i === 0 && cut === bytes.length ? bytes : bytes.subarray(i, cut))) return false;
    return cut === end || this.step(bytes, cut, end);
  }

  /** The JS state machine over `bytes[start, end)`, carrying an unfinished code point. */
  private step(bytes: Uint8Array, start: number, end: number): boolean {
    let need = this.need;
    let lower = this.lower;
    let upper = this.upper;
    let i = start;
    while (i < end) {
      const b = bytes[i++]!;
      if (need === 0) {
        if (b < 0x80) continue;
        if (b < 0xc2) return false;
        if (b < 0xe0) {
          need = 1;
        } else if (b < 0xf0) {
          need = 2;
          if (b === 0xe0) lower = 0xa0;
          else if (b === 0xed) upper = 0x9f;
        } else if (b < 0xf5) {
          need = 3;
          if (b === 0xf0) lower = 0x90;
          else if (b === 0xf4) upper = 0x8f;
        } else {
          return false;
        }
      } else {
        if (b < lower || b > upper) return false;
        lower = 0x80;
        upper = 0xbf;
        need--;
      }
    }
    this.need = need;
    this.lower = lower;
    this.upper = upper;
    return true;
  }

  /** True when no code point is left half-finished. */
  get complete(): boolean {
    return this.need === 0;
  }

  reset(): void {
    this.need = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}

/**
 * Where the last complete code point of `bytes[from, end)` ends, assuming `from` starts one: the
 * lead byte of an unfinished sequence in the last 4 bytes, else `end`. When the bytes are not
 * valid UTF-8 the answer may be anything in range; `isUtf8` over the head or the state machine
 * over the tail then says so, so the cut never hides an error.
 */
function completeEnd(bytes: Uint8Array, from: number, end: number): number {
  const floor = Math.max(from, end - 4);
  for (let j = end - 1; j >= floor; j--) {
    const b = bytes[j]!;
    if ((b & 0xc0) === 0x80) continue;
    const length = b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    return end - j < length ? j : end;
  }
  return end;
}

/** Whole-buffer check; native (simdutf) in Node, used when a message arrives in one piece. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return bytes.length === 0 || isUtf8(bytes);
}
