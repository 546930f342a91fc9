// Frames the load generator sends, encoded once before the run and reused as the same Buffer.
// Independent of lib/frames on purpose: the bench must not trust the engine it measures to build
// its own input, and it must work for ws and tcp before the engine is built.

export const Op = Object.freeze({ Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa });
export const CLOSE_NORMAL = 1000;

const FIN = 0x80;
const MASKED = 0x80;
// A fixed key is allowed for a benchmark (RFC 6455 §5.3 wants unpredictability against proxies,
// not servers); non-zero bytes keep the server's unmasking honest.
const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** One complete frame, masked when `masked` (client → ws/wsgate), plain for the raw TCP echo. */
export function encodeFrame(opcode, payload, masked) {
  const len = payload.length;
  const lengthBytes = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const headerLength = 2 + lengthBytes + (masked ? 4 : 0);
  const frame = Buffer.allocUnsafe(headerLength + len);
  frame[0] = FIN | opcode;
  const maskBit = masked ? MASKED : 0;
  if (lengthBytes === 0) {
    frame[1] = maskBit | len;
  } else if (lengthBytes === 2) {
    frame[1] = maskBit | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = maskBit | 127;
    frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    frame.writeUInt32BE(len >>> 0, 6);
  }
  if (!masked) {
    frame.set(payload, headerLength);
    return frame;
  }
  MASK.copy(frame, headerLength - 4);
  for (let i = 0; i < len; i++) frame[headerLength + i] = payload[i] ^ MASK[i & 3];
  return frame;
}

/**
 * `count` copies of one frame back to back, plus views of the first 1..count frames, so a
 * connection can refill n in-flight slots with one write and no allocation.
 */
export function frameTrain(frame, count) {
  const train = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(train, i * frame.length);
  const firstN = [train.subarray(0, 0)];
  for (let n = 1; n <= count; n++) firstN.push(train.subarray(0, n * frame.length));
  return firstN;
}

export function encodeClose(code, masked) {
  const payload = Buffer.allocUnsafe(2);
  payload.writeUInt16BE(code, 0);
  return encodeFrame(Op.Close, payload, masked);
}
