import { randomFillSync } from 'node:crypto';

/**
 * Client masking keys (RFC 6455 §5.3: unpredictable, from a strong source). Drawn from a
 * pooled block of crypto randomness so a message costs a subarray, not a syscall.
 */
const POOL_SIZE = 8192;
let pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

export function nextMaskKey(): Buffer {
  if (offset + 4 > POOL_SIZE) {
    pool = Buffer.allocUnsafe(POOL_SIZE);
    randomFillSync(pool);
    offset = 0;
  }
  const key = pool.subarray(offset, offset + 4);
  offset += 4;
  return key;
}
