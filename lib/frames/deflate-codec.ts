import { constants as zlibConstants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { CloseCode } from './close-codes.js';
import type { Role } from './connection-options.js';
import type { DeflateAgreement, DeflateConfig } from './deflate-negotiation.js';
import { AlreadyClosedError, CapacityError, ConnectionClosedError, InvalidOptionError, WsgError } from './errors.js';
import { sharedZlibLimiter } from './zlib-limiter.js';

// The zlib runtime of permessage-deflate (RFC 7692 §7.2) for one connection, built from what
// negotiation (deflate-negotiation.ts) agreed. Nothing here decides parameters.

type Callback = (err: WsgError | null, result?: Buffer) => void;

/** RFC 7692 §7.2.1: the empty stored block a sync flush ends with, removed on the wire. */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

// zlib's deflate cannot use a 256-byte window; with 512 it never emits a distance over
// 250 (window - MIN_LOOKAHEAD), so a peer inflating with an 8-bit window still decodes it.
const MIN_DEFLATE_WINDOW_BITS = 9;

interface Operation {
  readonly kind: 'inflate' | 'deflate';
  readonly data: Buffer;
  readonly fin: boolean;
  readonly callback: Callback;
  settled: boolean;
  /** Frees this operation's slot in the process-wide limiter; null until it has one. */
  release: (() => void) | null;
}

function concat(chunks: Buffer[], length: number): Buffer {
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, length);
}

/**
 * permessage-deflate's codec for one connection: compress/decompress on two raw zlib streams,
 * created lazily on first use. Operations of one codec run one at a time, in call order, each
 * holding a slot of the process-wide zlib limiter. The connection owns it and calls
 * `cleanup()` when it closes.
 */
export class DeflateCodec {
  /** Bytes: messages smaller than this are sent uncompressed (the config's). */
  readonly threshold: number;

  readonly #role: Role;
  readonly #maxMessageSize: number;
  readonly #agreement: DeflateAgreement;
  readonly #concurrencyLimit: number;
  readonly #level: number;
  readonly #memLevel: number;

  // Per-codec FIFO (array + head index) feeding one operation at a time to the limiter.
  #queue: (Operation | undefined)[] = [];
  #queueHead = 0;
  #active: Operation | null = null;
  #closed = false;

  #inflate: InflateRaw | null = null;
  #inflated: Buffer[] = [];
  /** Inflated bytes of the message in progress, across its frames. */
  #inflatedBytes = 0;

  #deflate: DeflateRaw | null = null;
  #deflated: Buffer[] = [];
  #deflatedBytes = 0;

  /**
   * `config` was validated when it was made; `role` and `maxMessageSize` are checked here
   * because a wrong one would corrupt every message (InvalidOptionError 'WSG_ERR_INVALID_OPTION').
   */
  constructor(config: DeflateConfig, agreement: DeflateAgreement, role: Role, maxMessageSize: number) {
    if (role !== 'server' && role !== 'client') {
      throw new InvalidOptionError('WSG_ERR_INVALID_OPTION', `Role must be 'server' or 'client', got ${String(role)}`);
    }
    if (typeof maxMessageSize !== 'number' || !(maxMessageSize > 0) || !(Number.isInteger(maxMessageSize) || maxMessageSize === Infinity)) {
      throw new InvalidOptionError(
        'WSG_ERR_INVALID_OPTION',
        `maxMessageSize must be a positive integer (or Infinity), got ${String(maxMessageSize)}`,
      );
    }
    this.#role = role;
    this.#maxMessageSize = maxMessageSize;
    this.#agreement = agreement;
    this.threshold = config.threshold;
    this.#concurrencyLimit = config.concurrencyLimit;
    this.#level = config.level;
    this.#memLevel = config.memLevel;
  }

  /**
   * Inflates one frame's payload of a compressed message. Calls back with the whole
   * message when `fin`, with `undefined` before. Inflated bytes count against
   * maxMessageSize while inflating: crossing it closes the zlib stream at once and calls
   * back CapacityError 'WSG_ERR_MESSAGE_TOO_LARGE' (1009). Corrupt data: WsgError
   * 'WSG_ERR_INVALID_COMPRESSED_DATA' (1007). After cleanup(): ConnectionClosedError
   * 'WSG_ERR_CONNECTION_CLOSED'. Callbacks are always async and in call order.
   */
  decompress(data: Buffer, fin: boolean, callback: (err: WsgError | null, result?: Buffer) => void): void {
    this.#enqueue({ kind: 'inflate', data, fin, callback, settled: false, release: null });
  }

  /**
   * Deflates a message (or, with `fin` false, one fragment of it); on `fin` strips the
   * trailing 00 00 ff ff (RFC 7692 §7.2.1) and, without context takeover, resets. After
   * cleanup(): AlreadyClosedError 'WSG_ERR_ALREADY_CLOSED'. Async, in call order.
   */
  compress(data: Buffer, fin: boolean, callback: (err: WsgError | null, result?: Buffer) => void): void {
    this.#enqueue({ kind: 'deflate', data, fin, callback, settled: false, release: null });
  }

  /**
   * Closes both zlib streams (called on connection close). Every pending operation is
   * called back with its closed error, in order; none succeeds after this.
   */
  cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#discardInflate();
    this.#discardDeflate();
    const active = this.#active;
    if (active !== null) this.#settle(active, this.#closedError(active));
    while (this.#queueHead < this.#queue.length) {
      const op = this.#queue[this.#queueHead] as Operation;
      this.#queue[this.#queueHead] = undefined;
      this.#queueHead += 1;
      this.#settle(op, this.#closedError(op));
    }
    this.#queue = [];
    this.#queueHead = 0;
  }

  #closedError(op: Operation): WsgError {
    return op.kind === 'inflate'
      ? new ConnectionClosedError('WSG_ERR_CONNECTION_CLOSED', 'permessage-deflate was cleaned up before this message was inflated')
      : new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', 'permessage-deflate was cleaned up before this message was deflated');
  }

  #enqueue(op: Operation): void {
    if (this.#closed) {
      this.#settle(op, this.#closedError(op));
      return;
    }
    this.#queue.push(op);
    this.#pump();
  }

  /** Starts the next queued operation when none of this codec's is running. */
  #pump(): void {
    if (this.#active !== null || this.#closed || this.#queueHead === this.#queue.length) return;
    const op = this.#queue[this.#queueHead] as Operation;
    this.#queue[this.#queueHead] = undefined;
    this.#queueHead += 1;
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    }
    this.#active = op;
    sharedZlibLimiter.run(this.#concurrencyLimit, (done) => {
      // Settled while waiting for a slot (cleanup): give the slot straight back.
      if (op.settled) {
        done();
        return;
      }
      op.release = done;
      if (op.kind === 'inflate') this.#runInflate(op);
      else this.#runDeflate(op);
    });
  }

  /**
   * Ends an operation exactly once: frees its limiter slot, starts the next one, and
   * delivers the callback on the next tick. Deliveries share one FIFO tick queue, so they
   * keep call order, and a throwing callback never unwinds through zlib's internals.
   */
  #settle(op: Operation, err: WsgError | null, result?: Buffer): void {
    if (op.settled) return;
    op.settled = true;
    const release = op.release;
    op.release = null;
    if (this.#active === op) this.#active = null;
    if (release !== null) release();
    process.nextTick(op.callback, err, result);
    this.#pump();
  }

  #runInflate(op: Operation): void {
    let inflate = this.#inflate;
    if (inflate === null) {
      const created = this.#createInflate(op);
      if (created === null) return;
      inflate = created;
    }
    const stream = inflate;
    stream.write(op.data);
    // §7.2.2: the sender stripped the sync-flush tail of the message; put it back.
    if (op.fin) stream.write(TRAILER);
    stream.flush(() => this.#onInflateFlushed(stream, op));
  }

  #createInflate(op: Operation): InflateRaw | null {
    const peerIsServer = this.#role === 'client';
    const windowBits = peerIsServer ? this.#agreement.serverMaxWindowBits : this.#agreement.clientMaxWindowBits;
    let stream: InflateRaw;
    try {
      stream = createInflateRaw({ windowBits });
    } catch (cause) {
      this.#settle(op, new WsgError('WSG_ERR_DEFLATE_FAILED', 'Could not create a zlib inflate stream', CloseCode.InternalError, { cause }));
      return null;
    }
    stream.on('data', (chunk: Buffer) => this.#onInflateData(stream, chunk));
    stream.on('error', (error: Error) => this.#onInflateError(stream, error));
    this.#inflate = stream;
    return stream;
  }

  #onInflateData(stream: InflateRaw, chunk: Buffer): void {
    if (stream !== this.#inflate) return;
    const op = this.#active;
    this.#inflatedBytes += chunk.length;
    if (this.#inflatedBytes <= this.#maxMessageSize) {
      this.#inflated.push(chunk);
      return;
    }
    // Stop zlib now: with the stream closed, the rest of the input is never inflated, so a
    // bomb costs at most maxMessageSize plus one zlib chunk (16 KiB).
    this.#discardInflate();
    if (op !== null && op.kind === 'inflate') {
      this.#settle(
        op,
        new CapacityError(
          'WSG_ERR_MESSAGE_TOO_LARGE',
          `Inflated message exceeds maxMessageSize (${this.#maxMessageSize} bytes)`,
          CloseCode.MessageTooBig,
        ),
      );
    }
  }

  #onInflateError(stream: InflateRaw, error: Error): void {
    // A stream we already discarded (bomb, cleanup) has nobody left to tell.
    if (stream !== this.#inflate) return;
    // zlib destroys a stream that errors; the next message would need a fresh one.
    this.#discardInflate();
    const op = this.#active;
    if (op !== null && op.kind === 'inflate') {
      this.#settle(
        op,
        new WsgError(
          'WSG_ERR_INVALID_COMPRESSED_DATA',
          `Compressed message could not be inflated: ${error.message}`,
          CloseCode.InvalidPayload,
          { cause: error },
        ),
      );
    }
  }

  #onInflateFlushed(stream: InflateRaw, op: Operation): void {
    if (op.settled || stream !== this.#inflate) return;
    let result: Buffer | undefined;
    if (op.fin) {
      result = this.#inflatedBytes === 0 ? Buffer.alloc(0) : concat(this.#inflated, this.#inflatedBytes);
      this.#inflated = [];
      this.#inflatedBytes = 0;
    }
    // §7.2.3.4: a peer may end its deflate stream (BFINAL); the next data needs a new one.
    if (stream.readableEnded) {
      this.#inflate = null;
      stream.close();
    } else if (op.fin) {
      const peerNoContextTakeover =
        this.#role === 'client' ? this.#agreement.serverNoContextTakeover : this.#agreement.clientNoContextTakeover;
      if (peerNoContextTakeover) stream.reset();
    }
    this.#settle(op, null, result);
  }

  #discardInflate(): void {
    const stream = this.#inflate;
    this.#inflate = null;
    this.#inflated = [];
    this.#inflatedBytes = 0;
    if (stream !== null) stream.close();
  }

  #runDeflate(op: Operation): void {
    let deflate = this.#deflate;
    if (deflate === null) {
      const ownBits = this.#role === 'server' ? this.#agreement.serverMaxWindowBits : this.#agreement.clientMaxWindowBits;
      let created: DeflateRaw;
      try {
        created = createDeflateRaw({
          windowBits: Math.max(MIN_DEFLATE_WINDOW_BITS, ownBits),
          level: this.#level,
          memLevel: this.#memLevel,
        });
      } catch (cause) {
        this.#settle(op, new WsgError('WSG_ERR_DEFLATE_FAILED', 'Could not create a zlib deflate stream', CloseCode.InternalError, { cause }));
        return;
      }
      const stream = created;
      stream.on('data', (chunk: Buffer) => {
        if (stream !== this.#deflate) return;
        this.#deflated.push(chunk);
        this.#deflatedBytes += chunk.length;
      });
      stream.on('error', (error: Error) => this.#onDeflateError(stream, error));
      this.#deflate = stream;
      deflate = stream;
    }
    const stream = deflate;
    stream.write(op.data);
    stream.flush(zlibConstants.Z_SYNC_FLUSH, () => this.#onDeflateFlushed(stream, op));
  }

  #onDeflateFlushed(stream: DeflateRaw, op: Operation): void {
    if (op.settled || stream !== this.#deflate) return;
    let result = concat(this.#deflated, this.#deflatedBytes);
    this.#deflated = [];
    this.#deflatedBytes = 0;
    if (op.fin) {
      // §7.2.1: a sync flush always ends in the empty stored block; the wire omits it.
      result = result.subarray(0, result.length - TRAILER.length);
      const ownNoContextTakeover =
        this.#role === 'server' ? this.#agreement.serverNoContextTakeover : this.#agreement.clientNoContextTakeover;
      if (ownNoContextTakeover) stream.reset();
    }
    this.#settle(op, null, result);
  }

  #onDeflateError(stream: DeflateRaw, error: Error): void {
    if (stream !== this.#deflate) return;
    this.#discardDeflate();
    const op = this.#active;
    if (op !== null && op.kind === 'deflate') {
      this.#settle(
        op,
        new WsgError('WSG_ERR_DEFLATE_FAILED', `zlib failed to deflate a message: ${error.message}`, CloseCode.InternalError, {
          cause: error,
        }),
      );
    }
  }

  #discardDeflate(): void {
    const stream = this.#deflate;
    this.#deflate = null;
    this.#deflated = [];
    this.#deflatedBytes = 0;
    if (stream !== null) stream.close();
  }
}
