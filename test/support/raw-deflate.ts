import { constants, createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync, type DeflateRaw, type InflateRaw } from 'node:zlib';

/**
 * RFC 7692 §7.2 compression for raw test peers, on node:zlib directly (not the engine's
 * DeflateCodec), so the suites check the engine against an independent implementation.
 */

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** One message compressed with a fresh context (no context takeover), trailer removed (§7.2.1). */
export function compressMessage(data: Uint8Array, windowBits = 15): Buffer {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH, windowBits: Math.max(9, windowBits) });
  if (!out.subarray(out.length - 4).equals(TRAILER)) throw new Error('sync flush did not end with 00 00 ff ff');
  return out.subarray(0, out.length - 4);
}

/** A compressor that keeps its LZ77 window across messages (context takeover). */
export class RawDeflater {
  private readonly stream: DeflateRaw;
  private readonly chunks: Buffer[] = [];

  constructor(windowBits = 15) {
    this.stream = createDeflateRaw({ windowBits: Math.max(9, windowBits) });
    this.stream.on('data', (chunk: Buffer) => this.chunks.push(chunk));
  }

  compress(data: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.write(data);
      this.stream.flush(constants.Z_SYNC_FLUSH, () => {
        this.stream.off('error', reject);
        const out = Buffer.concat(this.chunks.splice(0));
        resolve(out.subarray(0, out.length - 4));
      });
    });
  }

  close(): void {
    this.stream.close();
  }
}

/** A decompressor that keeps its window across messages unless told the peer resets. */
export class RawInflater {
  private stream: InflateRaw;
  private readonly chunks: Buffer[] = [];

  constructor(private readonly windowBits = 15) {
    this.stream = this.create();
  }

  private create(): InflateRaw {
    const stream = createInflateRaw({ windowBits: this.windowBits });
    stream.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    return stream;
  }

  decompress(payload: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.write(payload);
      this.stream.write(TRAILER);
      this.stream.flush(() => {
        this.stream.off('error', reject);
        resolve(Buffer.concat(this.chunks.splice(0)));
      });
    });
  }

  close(): void {
    this.stream.close();
  }
}

/** Parses a Sec-WebSocket-Extensions value into comparable `name; a; b=1` strings with sorted params. */
export function normaliseExtensions(header: string | undefined): string[] {
  if (header === undefined || header.trim() === '') return [];
  return header.split(',').map((offer) => {
    const [name = '', ...params] = offer.split(';').map((p) => p.trim().replace(/\s*=\s*/, '=').replace(/"/g, ''));
    return [name, ...params.sort()].join('; ');
  });
}

/** One compressed message inflated with a fresh context (the sender did not take over context). */
export function inflateMessage(payload: Uint8Array, windowBits = 15): Buffer {
  return inflateRawSync(Buffer.concat([payload, TRAILER]), { finishFlush: constants.Z_SYNC_FLUSH, windowBits });
}
