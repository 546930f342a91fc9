/** Deterministic payloads, so each peer can rebuild and compare what it was sent. */

/** Pseudo-random bytes (xorshift32): deflate cannot shrink them. */
export function noiseBytes(size: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Text that deflate shrinks to a few percent of its size. */
export function compressibleText(size: number): string {
  const unit = 'wsgate interop: the quick brown fox jumps over the lazy dog. ';
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/**
 * `blockSize` noise bytes repeated `copies` times: each copy is a back-reference exactly
 * `blockSize` bytes away, so it compresses only with a window larger than the block.
 */
export function repeatedNoise(blockSize: number, copies: number, seed = 7): Buffer {
  const block = noiseBytes(blockSize, seed);
  return Buffer.concat(Array.from({ length: copies }, () => block));
}

/** Printable noise (hex), for text messages that must not compress much within themselves. */
export function noiseText(size: number, seed = 11): string {
  return noiseBytes(Math.ceil(size / 2), seed).toString('hex').slice(0, size);
}
