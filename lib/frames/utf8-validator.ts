import { isUtf8 } from 'node:buffer';

/**
 * Incremental UTF-8 validator (RFC 3629 as required by RFC 6455 §8.1).
 *
 * It fails fast: `update()` returns false at the first byte after which no continuation
 * could make the sequence valid (overlongs, surrogates, code points over U+10FFFF are
 * caught on their first impossible byte), so a peer cannot make us buffer a message we
 * already know is bad. A code point split across chunks or fragments is carried over.
 */
export class Utf8Validator {
  /** Continuation bytes still owed by the code point in progress. */
  private need = 0;
  /** Allowed range of the next continuation byte (narrowed after E0, ED, F0, F4). */
  private lower = 0x80;
  private upper = 0xbf;

  update(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
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

/** Whole-buffer check; native (simdutf) in Node, used when a message arrives in one piece. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return bytes.length === 0 || isUtf8(bytes);
}
