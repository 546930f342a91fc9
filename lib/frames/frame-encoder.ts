import { nextMaskKey } from './mask-key-source.js';
import { maskInto } from './mask.js';

/** RFC 6455 §5.2 header bit layout, named once. */
export const FIN_BIT = 0x80;
export const RSV1_BIT = 0x40;
export const RSV2_BIT = 0x20;
export const RSV3_BIT = 0x10;
export const OPCODE_BITS = 0x0f;
export const MASK_BIT = 0x80;
export const LENGTH_7_BITS = 0x7f;
/** 7-bit length values that announce a 16- or 64-bit extended length. */
export const LENGTH_16_MARKER = 126;
export const LENGTH_64_MARKER = 127;
export const MAX_LENGTH_7 = 125;
export const MAX_LENGTH_16 = 0xffff;
export const MASK_KEY_BYTES = 4;

/** Header size for a payload of `length` bytes, masked or not. */
export function headerSize(length: number, masked: boolean): number {
  const base = length <= MAX_LENGTH_7 ? 2 : length <= MAX_LENGTH_16 ? 4 : 10;
  return masked ? base + MASK_KEY_BYTES : base;
}

/**
 * Writes a frame header into `target` at `offset` and returns the offset after it.
 * `maskKey` (4 bytes) is written after the length when given.
 */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  firstByte: number,
  length: number,
  maskKey: Uint8Array | null,
): number {
  const maskBit = maskKey === null ? 0 : MASK_BIT;
  target[offset++] = firstByte;
  if (length <= MAX_LENGTH_7) {
    target[offset++] = maskBit | length;
  } else if (length <= MAX_LENGTH_16) {
    target[offset++] = maskBit | LENGTH_16_MARKER;
    target[offset++] = length >>> 8;
    target[offset++] = length & 0xff;
  } else {
    target[offset++] = maskBit | LENGTH_64_MARKER;
    const high = Math.floor(length / 0x1_0000_0000);
    const low = length >>> 0;
    target[offset++] = high >>> 24;
    target[offset++] = (high >>> 16) & 0xff;
    target[offset++] = (high >>> 8) & 0xff;
    target[offset++] = high & 0xff;
    target[offset++] = low >>> 24;
    target[offset++] = (low >>> 16) & 0xff;
    target[offset++] = (low >>> 8) & 0xff;
    target[offset++] = low & 0xff;
  }
  if (maskKey !== null) {
    target[offset++] = maskKey[0]!;
    target[offset++] = maskKey[1]!;
    target[offset++] = maskKey[2]!;
    target[offset++] = maskKey[3]!;
  }
  return offset;
}

export interface EncodeFrameOptions {
  /** Last frame of the message. @defaultValue true */
  fin?: boolean;
  /** RSV1 (permessage-deflate's "compressed" bit). @defaultValue false */
  rsv1?: boolean;
  /** A 4-byte key, `true` for a fresh random key, or `false` for none. @defaultValue false */
  mask?: Uint8Array | boolean;
}

/**
 * Encodes one frame (header + payload) into a new Buffer. Pure: the caller's payload is never
 * modified (masking works on the copy). Tests and benchmarks build their input with it.
 */
export function encodeFrame(opcode: number, payload: Uint8Array, options: EncodeFrameOptions = {}): Buffer {
  const maskKey =
    options.mask === true ? nextMaskKey() : options.mask instanceof Uint8Array ? options.mask : null;
  const firstByte = (options.fin === false ? 0 : FIN_BIT) | (options.rsv1 === true ? RSV1_BIT : 0) | opcode;
  return encodeFrameBytes(firstByte, payload, maskKey);
}

/** Header (first byte as given) + payload, masked with `maskKey` when not null, in one new Buffer. */
export function encodeFrameBytes(firstByte: number, payload: Uint8Array, maskKey: Uint8Array | null): Buffer {
  const out = Buffer.allocUnsafe(headerSize(payload.length, maskKey !== null) + payload.length);
  const at = writeHeader(out, 0, firstByte, payload.length, maskKey);
  if (maskKey !== null) maskInto(payload, maskKey, out, at);
  else out.set(payload, at);
  return out;
}
