import { FIN_BIT, encodeFrameBytes } from './frame-encoder.js';
import { Opcode } from './opcodes.js';

/**
 * A message encoded once for many sockets (broadcast): the server-role frame bytes are built
 * here and every connection writes the very same Buffer. Client-role connections, which must
 * mask with a fresh key, re-encode from `payload`.
 */
export class PreparedMessage {
  /** Header + payload, unmasked, FIN set. Shared: never modify. */
  readonly frame: Buffer;
  constructor(
    readonly opcode: typeof Opcode.Text | typeof Opcode.Binary,
    readonly payload: Buffer,
  ) {
    this.frame = encodeFrameBytes(FIN_BIT | opcode, payload, null);
  }
}

/** Encodes `data` once (string → text, bytes → binary unless `binary` says otherwise) for many `sendPrepared()` calls. */
export function encodeOnce(data: string | Uint8Array, options: { binary?: boolean } = {}): PreparedMessage {
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const binary = options.binary ?? typeof data !== 'string';
  return new PreparedMessage(binary ? Opcode.Binary : Opcode.Text, payload);
}
