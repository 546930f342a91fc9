import { constants as zlibConstants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { CloseCode } from './close-codes.js';
import {
  AlreadyClosedError,
  CapacityError,
  ConnectionClosedError,
  HandshakeError,
  InvalidOptionError,
  WsgError,
} from './errors.js';
import { repeatedParamNames, type ExtensionParams } from './extension-header.js';
import { sharedZlibLimiter } from './zlib-limiter.js';

/** permessage-deflate (RFC 7692) settings; the same object configures a server or a client. */
export interface PerMessageDeflateOptions {
  /**
   * Server: always answer `server_no_context_takeover` (an offer asking for it is honoured
   * either way). Client: ask for it, and fail the handshake if the server does not agree.
   * @defaultValue false
   */
  serverNoContextTakeover?: boolean;
  /**
   * Server: always answer `client_no_context_takeover` (an offered hint is echoed either
   * way). Client: offer it, and deflate without context takeover even if unanswered.
   * @defaultValue false
   */
  clientNoContextTakeover?: boolean;
  /**
   * log2 of the server's LZ77 window, 8..15. Server: answer at most this (`false`: decline
   * offers that ask for a window). Client: ask for it. `true`: no preference. zlib cannot
   * deflate with 8, so a server deflates with 9, whose matches still fit a 256 B window.
   * @defaultValue undefined (15, the parameter unused unless the peer sends it)
   */
  serverMaxWindowBits?: number | boolean;
  /**
   * log2 of the client's LZ77 window, 8..15. Server: answer at most this, and decline
   * clients that cannot take the parameter; `false`: never answer it. Client: offer it;
   * `true` or unset offers the parameter without a value (support only); `false` omits it.
   * @defaultValue undefined
   */
  clientMaxWindowBits?: number | boolean;
  /** Bytes: messages smaller than this are sent uncompressed. @defaultValue 1024 */
  threshold?: number;
  /**
   * zlib operations in flight at once across the whole process (the limit this instance
   * waits for; see `ZlibLimiter`). @defaultValue 10
   */
  concurrencyLimit?: number;
  /** zlib compression level, -1..9. @defaultValue -1 (zlib's default, 6) */
  level?: number;
  /** zlib memLevel, 1..9: deflate state memory per connection. @defaultValue 8 */
  memLevel?: number;
}

type Callback = (err: WsgError | null, result?: Buffer) => void;

/** RFC 7692 §7.2.1: the empty stored block a sync flush ends with, removed on the wire. */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover';
const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover';
const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits';
const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits';

const MIN_WINDOW_BITS = 8;
const MAX_WINDOW_BITS = 15;
// zlib's deflate cannot use a 256-byte window; with 512 it never emits a distance over
// 250 (window - MIN_LOOKAHEAD), so a peer inflating with an 8-bit window still decodes it.
const MIN_DEFLATE_WINDOW_BITS = 9;

/** RFC 7692 §7.1.2: decimal, no leading zeros, 8..15. Lookup, not parseInt: "08" and "+9" fail. */
const WINDOW_BITS_VALUES = new Map<string, number>(
  Array.from({ length: MAX_WINDOW_BITS - MIN_WINDOW_BITS + 1 }, (_, i) => [String(MIN_WINDOW_BITS + i), MIN_WINDOW_BITS + i]),
);

const Defaults = {
  threshold: 1024,
  concurrencyLimit: 10,
  level: zlibConstants.Z_DEFAULT_COMPRESSION,
  memLevel: 8,
} as const;

/** The four RFC 7692 §7.1 parameters as read from one offer or response, already validated. */
interface WireParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: offered without a value (offers only). */
  clientMaxWindowBits: number | true | undefined;
}

/** What both ends agreed; window bits are effective sizes (15 when the parameter was absent). */
interface Agreement {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

interface Operation {
  readonly kind: 'inflate' | 'deflate';
  readonly data: Buffer;
  readonly fin: boolean;
  readonly callback: Callback;
  settled: boolean;
  /** Frees this operation's slot in the process-wide limiter; null until it has one. */
  release: (() => void) | null;
}

function quoteName(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}

/** Reads one offer or response; returns why it is invalid (RFC 7692 §7) as a string. */
function readWireParams(params: ExtensionParams, side: 'offer' | 'response'): WireParams | string {
  const repeated = repeatedParamNames(params);
  if (repeated.length > 0) return `repeats parameter ${quoteName(repeated[0]!)}`;
  const wire: WireParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const name of Object.keys(params)) {
    const value: unknown = params[name];
    switch (name) {
      case SERVER_NO_CONTEXT_TAKEOVER:
      case CLIENT_NO_CONTEXT_TAKEOVER:
        if (value !== true) return `gives ${name} a value; it takes none`;
        if (name === SERVER_NO_CONTEXT_TAKEOVER) wire.serverNoContextTakeover = true;
        else wire.clientNoContextTakeover = true;
        break;
      case SERVER_MAX_WINDOW_BITS:
      case CLIENT_MAX_WINDOW_BITS: {
        // §7.1.2.2: only an offer may carry client_max_window_bits without a value.
        if (value === true && name === CLIENT_MAX_WINDOW_BITS && side === 'offer') {
          wire.clientMaxWindowBits = true;
          break;
        }
        const bits = typeof value === 'string' ? WINDOW_BITS_VALUES.get(value) : undefined;
        if (bits === undefined) {
          return `gives ${name} the value ${value === true ? '(none)' : quoteName(String(value))}; it needs 8..15`;
        }
        if (name === SERVER_MAX_WINDOW_BITS) wire.serverMaxWindowBits = bits;
        else wire.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `has unknown parameter ${quoteName(name)}`;
    }
  }
  return wire;
}

function checkWindowBitsOption(name: string, value: unknown): void {
  if (value === undefined || typeof value === 'boolean') return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_WINDOW_BITS || value > MAX_WINDOW_BITS) {
    throw new InvalidOptionError(
      'WSG_ERR_INVALID_OPTION',
      `Option perMessageDeflate.${name} must be a boolean or an integer from 8 to 15, got ${String(value)}`,
    );
  }
}

function checkIntegerOption(name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      'WSG_ERR_INVALID_OPTION',
      `Option perMessageDeflate.${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
}

function concat(chunks: Buffer[], length: number): Buffer {
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, length);
}

/**
 * RFC 7692 permessage-deflate for one connection: negotiation in both roles, then
 * compress/decompress on two lazily created raw zlib streams. Operations of one instance
 * run one at a time, in call order, each holding a slot of the process-wide zlib limiter.
 */
export class PerMessageDeflate {
  static readonly extensionName = 'permessage-deflate';

  readonly threshold: number;

  readonly #role: 'server' | 'client';
  readonly #maxMessageSize: number;
  readonly #serverNoContextTakeover: boolean;
  readonly #clientNoContextTakeover: boolean;
  readonly #serverMaxWindowBits: number | boolean | undefined;
  readonly #clientMaxWindowBits: number | boolean | undefined;
  readonly #concurrencyLimit: number;
  readonly #level: number;
  readonly #memLevel: number;

  #agreement: Agreement = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: MAX_WINDOW_BITS,
    clientMaxWindowBits: MAX_WINDOW_BITS,
  };

  // Per-instance FIFO (array + head index) feeding one operation at a time to the limiter.
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

  constructor(options: PerMessageDeflateOptions | undefined, role: 'server' | 'client', maxMessageSize: number) {
    const opts = options ?? {};
    if (role !== 'server' && role !== 'client') {
      throw new InvalidOptionError('WSG_ERR_INVALID_OPTION', `Role must be 'server' or 'client', got ${String(role)}`);
    }
    if (typeof maxMessageSize !== 'number' || !(maxMessageSize > 0) || !(Number.isInteger(maxMessageSize) || maxMessageSize === Infinity)) {
      throw new InvalidOptionError(
        'WSG_ERR_INVALID_OPTION',
        `maxMessageSize must be a positive integer (or Infinity), got ${String(maxMessageSize)}`,
      );
    }
    for (const name of ['serverNoContextTakeover', 'clientNoContextTakeover'] as const) {
      if (opts[name] !== undefined && typeof opts[name] !== 'boolean') {
        throw new InvalidOptionError('WSG_ERR_INVALID_OPTION', `Option perMessageDeflate.${name} must be a boolean, got ${String(opts[name])}`);
      }
    }
    checkWindowBitsOption('serverMaxWindowBits', opts.serverMaxWindowBits);
    checkWindowBitsOption('clientMaxWindowBits', opts.clientMaxWindowBits);
    checkIntegerOption('threshold', opts.threshold, 0, Number.MAX_SAFE_INTEGER);
    checkIntegerOption('concurrencyLimit', opts.concurrencyLimit, 1, Number.MAX_SAFE_INTEGER);
    checkIntegerOption('level', opts.level, zlibConstants.Z_DEFAULT_COMPRESSION, zlibConstants.Z_BEST_COMPRESSION);
    checkIntegerOption('memLevel', opts.memLevel, zlibConstants.Z_MIN_MEMLEVEL, zlibConstants.Z_MAX_MEMLEVEL);

    this.#role = role;
    this.#maxMessageSize = maxMessageSize;
    this.#serverNoContextTakeover = opts.serverNoContextTakeover ?? false;
    this.#clientNoContextTakeover = opts.clientNoContextTakeover ?? false;
    this.#serverMaxWindowBits = opts.serverMaxWindowBits;
    this.#clientMaxWindowBits = opts.clientMaxWindowBits;
    this.threshold = opts.threshold ?? Defaults.threshold;
    this.#concurrencyLimit = opts.concurrencyLimit ?? Defaults.concurrencyLimit;
    this.#level = opts.level ?? Defaults.level;
    this.#memLevel = opts.memLevel ?? Defaults.memLevel;
  }

  /** Client: the params to offer in the request header. */
  offer(): ExtensionParams {
    const params = Object.create(null) as ExtensionParams;
    if (this.#serverNoContextTakeover) params[SERVER_NO_CONTEXT_TAKEOVER] = true;
    if (this.#clientNoContextTakeover) params[CLIENT_NO_CONTEXT_TAKEOVER] = true;
    // §7.1.2.1: server_max_window_bits always carries a value, so `true` offers nothing.
    if (typeof this.#serverMaxWindowBits === 'number') params[SERVER_MAX_WINDOW_BITS] = String(this.#serverMaxWindowBits);
    if (typeof this.#clientMaxWindowBits === 'number') params[CLIENT_MAX_WINDOW_BITS] = String(this.#clientMaxWindowBits);
    else if (this.#clientMaxWindowBits !== false) params[CLIENT_MAX_WINDOW_BITS] = true;
    return params;
  }

  /**
   * Client: validates the server's response (exactly one entry) and configures itself.
   * Throws HandshakeError 'WSG_ERR_HANDSHAKE_EXTENSION' (status 0) when the response is
   * invalid, repeats or invents a parameter, or does not accept what was offered (§7).
   */
  acceptAsClient(response: readonly ExtensionParams[]): void {
    const fail = (reason: string): HandshakeError =>
      new HandshakeError('WSG_ERR_HANDSHAKE_EXTENSION', `The server's permessage-deflate response ${reason}`, 0);
    if (response.length !== 1) throw fail(`appears ${response.length} times; exactly one is allowed`);
    const wire = readWireParams(response[0]!, 'response');
    if (typeof wire === 'string') throw fail(wire);

    // §7.1.1.1: a server accepts server_no_context_takeover only by echoing it.
    if (this.#serverNoContextTakeover && !wire.serverNoContextTakeover) {
      throw fail(`omits ${SERVER_NO_CONTEXT_TAKEOVER}, which was offered`);
    }
    // §7.1.2.1: a server accepts server_max_window_bits only by answering it, same or smaller.
    if (typeof this.#serverMaxWindowBits === 'number') {
      if (wire.serverMaxWindowBits === undefined) throw fail(`omits ${SERVER_MAX_WINDOW_BITS}, which was offered`);
      if (wire.serverMaxWindowBits > this.#serverMaxWindowBits) {
        throw fail(`raises ${SERVER_MAX_WINDOW_BITS} to ${wire.serverMaxWindowBits} above the offered ${this.#serverMaxWindowBits}`);
      }
    }
    // §7.1.2.2: client_max_window_bits may be answered only if offered, and not above the offer.
    if (wire.clientMaxWindowBits !== undefined) {
      if (this.#clientMaxWindowBits === false) throw fail(`has ${CLIENT_MAX_WINDOW_BITS}, which was not offered`);
      if (typeof this.#clientMaxWindowBits === 'number' && (wire.clientMaxWindowBits as number) > this.#clientMaxWindowBits) {
        throw fail(`raises ${CLIENT_MAX_WINDOW_BITS} to ${String(wire.clientMaxWindowBits)} above the offered ${this.#clientMaxWindowBits}`);
      }
    }

    const answeredClientBits = (wire.clientMaxWindowBits as number | undefined) ?? MAX_WINDOW_BITS;
    const offeredClientBits = typeof this.#clientMaxWindowBits === 'number' ? this.#clientMaxWindowBits : MAX_WINDOW_BITS;
    this.#agreement = {
      serverNoContextTakeover: wire.serverNoContextTakeover,
      // Our own option is a promise made in the offer (§7.1.1.2 hint): keep it even if unanswered.
      clientNoContextTakeover: wire.clientNoContextTakeover || this.#clientNoContextTakeover,
      serverMaxWindowBits: wire.serverMaxWindowBits ?? MAX_WINDOW_BITS,
      // An offered value is also a promise (§7.1.2.2 hint): never deflate with a bigger window.
      clientMaxWindowBits: Math.min(answeredClientBits, offeredClientBits),
    };
  }

  /**
   * Server: picks the first acceptable offer (RFC 7692 §5, §7.1), configures itself and
   * returns the params for the 101 response; null when none is acceptable. An offer with
   * an unknown, repeated or invalid parameter is declined (skipped), never an error.
   */
  acceptAsServer(offers: readonly ExtensionParams[]): ExtensionParams | null {
    for (const offer of offers) {
      // §7: an offer with an unknown, repeated or invalid parameter is declined, not fatal.
      const wire = readWireParams(offer, 'offer');
      if (typeof wire === 'string') continue;
      if (this.#serverMaxWindowBits === false && wire.serverMaxWindowBits !== undefined) continue;
      // A numeric clientMaxWindowBits is a memory bound we insist on; a client that cannot
      // take the parameter (§7.1.2.2: it must offer it) would ignore the bound.
      if (typeof this.#clientMaxWindowBits === 'number' && wire.clientMaxWindowBits === undefined) continue;

      const response = Object.create(null) as ExtensionParams;
      // §7.1.1.1: accepting an offer that has it means echoing it; we may also add it.
      const serverNoContextTakeover = this.#serverNoContextTakeover || wire.serverNoContextTakeover;
      // §7.1.1.2: echoing the client's hint costs nothing and lets both ends reset.
      const clientNoContextTakeover = this.#clientNoContextTakeover || wire.clientNoContextTakeover;
      if (serverNoContextTakeover) response[SERVER_NO_CONTEXT_TAKEOVER] = true;
      if (clientNoContextTakeover) response[CLIENT_NO_CONTEXT_TAKEOVER] = true;

      // §7.1.2.1: same or smaller than offered; allowed even when not offered.
      let serverBits: number | undefined = wire.serverMaxWindowBits;
      if (typeof this.#serverMaxWindowBits === 'number') {
        serverBits = Math.min(this.#serverMaxWindowBits, serverBits ?? MAX_WINDOW_BITS);
      }
      if (serverBits !== undefined) response[SERVER_MAX_WINDOW_BITS] = String(serverBits);

      // §7.1.2.2: only if offered; same or smaller than an offered value.
      let clientBits: number | undefined;
      if (wire.clientMaxWindowBits !== undefined && this.#clientMaxWindowBits !== false) {
        const offered = wire.clientMaxWindowBits === true ? undefined : wire.clientMaxWindowBits;
        if (typeof this.#clientMaxWindowBits === 'number') {
          clientBits = Math.min(this.#clientMaxWindowBits, offered ?? MAX_WINDOW_BITS);
        } else {
          clientBits = offered;
        }
      }
      if (clientBits !== undefined) response[CLIENT_MAX_WINDOW_BITS] = String(clientBits);

      this.#agreement = {
        serverNoContextTakeover,
        clientNoContextTakeover,
        serverMaxWindowBits: serverBits ?? MAX_WINDOW_BITS,
        clientMaxWindowBits: clientBits ?? MAX_WINDOW_BITS,
      };
      return response;
    }
    return null;
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

  /** Starts the next queued operation when none of this instance's is running. */
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
