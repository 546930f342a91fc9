import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import type { DeflateCodec } from './deflate-codec.js';
import {
  CapacityError,
  InvalidUtf8Error,
  ProtocolError,
  type WsgError,
} from './errors.js';
import {
  FIN_BIT,
  LENGTH_16_MARKER,
  LENGTH_64_MARKER,
  LENGTH_7_BITS,
  MASK_BIT,
  MAX_LENGTH_16,
  MAX_LENGTH_7,
  OPCODE_BITS,
  RSV1_BIT,
  RSV2_BIT,
  RSV3_BIT,
} from './frame-encoder.js';
import { applyMask } from './mask.js';
import { Opcode, isControlOpcode } from './opcodes.js';
import { Utf8Validator, isValidUtf8 } from './utf8-validator.js';

/** What the parser reports to its owner (the connection). Called synchronously from `push()`. */
export interface FrameParserSink {
  onMessage(data: Buffer, isText: boolean): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** `code` is 1005 (NoStatus) when the close frame had no payload. */
  onClose(code: number, reason: string): void;
  onParseError(error: WsgError): void;
  /** True while a compressed frame waits for zlib: the owner should stop reading the socket. */
  onWaiting(waiting: boolean): void;
}

export interface FrameParserOptions {
  role: 'server' | 'client';
  maxFrameSize: number;
  maxMessageSize: number;
  acceptUnmaskedFrames: boolean;
  deflate: DeflateCodec | null;
}

/** Named parser states (one `switch` in one loop; each returns early when short of bytes). */
const State = {
  GetInfo: 0,
  GetLength16: 1,
  GetLength64: 2,
  GetMask: 3,
  GetData: 4,
  /** Waiting for zlib to hand back an inflated frame. */
  Inflating: 5,
  /** A protocol error was reported; everything after is ignored. */
  Failed: 6,
} as const;
type State = (typeof State)[keyof typeof State];

/** Fragment pieces shorter than this are copied into one growing buffer instead of kept as views. */
const SMALL_PIECE_BYTES = 4096;
const MAX_ACCUMULATOR_BYTES = 256 * 1024;
/** Single-frame binary messages from this size are gathered whole before unmasking. */
const GATHER_WHOLE_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** Length bytes are read and decoded at once, so one buffer serves every parser. */
const scratch = Buffer.allocUnsafe(8);

/**
 * Incremental RFC 6455 §5 frame parser over a list of socket chunks.
 *
 * Payload bytes are consumed as they arrive (a frame need not be complete), unmasked in
 * place and, for text, UTF-8 checked on the spot: a bad byte fails the connection before
 * the rest of the frame is read. Limits are checked on the declared length, before any
 * payload is buffered.
 */
export class FrameParser {
  private state: State = State.GetInfo;
  private readonly chunks: Buffer[] = [];
  /** Read position in `chunks[0]`. */
  private head = 0;
  private buffered = 0;
  private paused = false;
  private looping = false;

  // Current frame.
  private fin = false;
  private opcode = 0;
  private masked = false;
  private payloadLength = 0;
  private payloadRead = 0;
  /** Made with the first masked frame: an idle connection carries none. */
  private maskKey: Buffer | null = null;

  // Current message (data frames).
  private messageOpcode = 0;
  private messageCompressed = false;
  private messageLength = 0;
  private pieces: Buffer[] = [];
  private accumulator: Buffer | null = null;
  private accumulatorLength = 0;
  private accumulatorNext = SMALL_PIECE_BYTES;
  /** Created on the first text message that arrives in pieces. */
  private utf8: Utf8Validator | null = null;
  /** True while the text message in progress is validated piece by piece. */
  private utf8Streaming = false;
  /** True when the message arrived as a single piece, left to the native validator. */
  private wholePiece = false;

  // A frame gathered whole before use: control frames (≤ 125 bytes) and compressed frames.
  private wholeFramePieces: Buffer[] = [];

  constructor(
    private readonly options: FrameParserOptions,
    private readonly sink: FrameParserSink,
  ) {}

  /** Feeds bytes read from the socket. */
  push(chunk: Buffer): void {
    if (this.state === State.Failed || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.run();
  }

  /** Stops delivering messages after the current one (receive queue full). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.run();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Bytes received but not yet parsed. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  private run(): void {
    if (this.looping) return;
    this.looping = true;
    try {
      this.loop();
    } finally {
      this.looping = false;
    }
  }

  private loop(): void {
    for (;;) {
      if (this.paused) return;
      switch (this.state) {
        case State.GetInfo:
          if (!this.getInfo()) return;
          break;
        case State.GetLength16:
          if (!this.getLength16()) return;
          break;
        case State.GetLength64:
          if (!this.getLength64()) return;
          break;
        case State.GetMask:
          if (!this.getMask()) return;
          break;
        case State.GetData:
          if (!this.getData()) return;
          break;
        case State.Inflating:
        case State.Failed:
          return;
      }
    }
  }

  // ---- byte access -------------------------------------------------------------------

  private readByte(): number {
    const chunk = this.chunks[0]!;
    const b = chunk[this.head++]!;
    this.buffered--;
    if (this.head === chunk.length) this.dropHead();
    return b;
  }

  /** Reads `n` (≤ 8) bytes into the scratch buffer. */
  private readInto(n: number): Buffer {
    for (let i = 0; i < n; i++) scratch[i] = this.readByte();
    return scratch;
  }

  /** Takes up to `max` bytes from the first chunk, as a view (no copy). */
  private takeView(max: number): Buffer {
    const chunk = this.chunks[0]!;
    const available = chunk.length - this.head;
    let view: Buffer;
    if (this.head === 0 && available <= max) {
      view = chunk;
      this.dropHead();
    } else if (available <= max) {
      view = chunk.subarray(this.head);
      this.dropHead();
    } else {
      view = chunk.subarray(this.head, this.head + max);
      this.head += max;
    }
    this.buffered -= view.length;
    return view;
  }

  /** Takes exactly `n` buffered bytes: a view when they sit in one chunk, else one copy. */
  private takeExact(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return this.takeView(n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const view = this.takeView(n - filled);
      out.set(view, filled);
      filled += view.length;
    }
    return out;
  }

  private dropHead(): void {
    this.chunks.shift();
    this.head = 0;
  }

  // ---- states --------------------------------------------------------------------------

  private getInfo(): boolean {
    if (this.buffered < 2) return false;
    const b0 = this.readByte();
    const b1 = this.readByte();

    if ((b0 & (RSV2_BIT | RSV3_BIT)) !== 0) {
      return this.fail(new ProtocolError('WSG_ERR_UNEXPECTED_RSV', 'RSV2 and RSV3 must be clear', CloseCode.ProtocolError));
    }
    const opcode = b0 & OPCODE_BITS;
    const rsv1 = (b0 & RSV1_BIT) !== 0;
    this.fin = (b0 & FIN_BIT) !== 0;
    this.opcode = opcode;
    this.masked = (b1 & MASK_BIT) !== 0;
    this.payloadLength = b1 & LENGTH_7_BITS;
    this.payloadRead = 0;

    if (isControlOpcode(opcode)) {
      if (opcode !== Opcode.Close && opcode !== Opcode.Ping && opcode !== Opcode.Pong) {
        return this.fail(new ProtocolError('WSG_ERR_INVALID_OPCODE', `Invalid opcode ${opcode}`, CloseCode.ProtocolError));
      }
      if (!this.fin) {
        return this.fail(new ProtocolError('WSG_ERR_FRAGMENTED_CONTROL', 'Control frames must not be fragmented', CloseCode.ProtocolError));
      }
      if (rsv1) {
        return this.fail(new ProtocolError('WSG_ERR_UNEXPECTED_RSV', 'RSV1 must be clear on control frames', CloseCode.ProtocolError));
      }
      if (this.payloadLength > MAX_LENGTH_7) {
        return this.fail(new ProtocolError('WSG_ERR_CONTROL_FRAME_TOO_LONG', 'Control frame payloads must be 125 bytes or less', CloseCode.ProtocolError));
      }
    } else if (opcode === Opcode.Continuation) {
      if (this.messageOpcode === 0) {
        return this.fail(new ProtocolError('WSG_ERR_UNEXPECTED_CONTINUATION', 'Continuation frame without a message in progress', CloseCode.ProtocolError));
      }
      if (rsv1) {
        return this.fail(new ProtocolError('WSG_ERR_UNEXPECTED_RSV', 'RSV1 must be clear on continuation frames', CloseCode.ProtocolError));
      }
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.messageOpcode !== 0) {
        return this.fail(new ProtocolError('WSG_ERR_EXPECTED_CONTINUATION', 'New data frame while a fragmented message is in progress', CloseCode.ProtocolError));
      }
      if (rsv1 && this.options.deflate === null) {
        return this.fail(new ProtocolError('WSG_ERR_UNEXPECTED_RSV', 'RSV1 set but permessage-deflate was not negotiated', CloseCode.ProtocolError));
      }
      this.messageOpcode = opcode;
      this.messageCompressed = rsv1;
      this.utf8Streaming = opcode === Opcode.Text && !rsv1;
    } else {
      return this.fail(new ProtocolError('WSG_ERR_INVALID_OPCODE', `Invalid opcode ${opcode}`, CloseCode.ProtocolError));
    }

    if (this.options.role === 'server') {
      if (!this.masked && !this.options.acceptUnmaskedFrames) {
        return this.fail(new ProtocolError('WSG_ERR_EXPECTED_MASK', 'Client frames must be masked', CloseCode.ProtocolError));
      }
    } else if (this.masked) {
      return this.fail(new ProtocolError('WSG_ERR_UNEXPECTED_MASK', 'Server frames must not be masked', CloseCode.ProtocolError));
    }

    if (this.payloadLength === LENGTH_16_MARKER) this.state = State.GetLength16;
    else if (this.payloadLength === LENGTH_64_MARKER) this.state = State.GetLength64;
    else return this.lengthKnown();
    return true;
  }

  private getLength16(): boolean {
    if (this.buffered < 2) return false;
    const b = this.readInto(2);
    this.payloadLength = b.readUInt16BE(0);
    if (this.payloadLength <= MAX_LENGTH_7) return this.nonMinimalLength(16);
    return this.lengthKnown();
  }

  private getLength64(): boolean {
    if (this.buffered < 8) return false;
    const b = this.readInto(8);
    const high = b.readUInt32BE(0);
    if (high > 0x7fffffff) {
      return this.fail(new ProtocolError('WSG_ERR_INVALID_LENGTH', 'The most significant bit of a 64-bit length must be 0', CloseCode.ProtocolError));
    }
    // Anything past 2^53 is far over every limit; compare as a float before it loses precision.
    this.payloadLength = high * 0x1_0000_0000 + b.readUInt32BE(4);
    if (this.payloadLength <= MAX_LENGTH_16) return this.nonMinimalLength(64);
    return this.lengthKnown();
  }

  /**
   * §5.2: "the minimal number of bytes MUST be used to encode the length". One length, one
   * encoding: a peer cannot hide a short frame behind a long form from a byte-level filter.
   */
  private nonMinimalLength(bits: 16 | 64): false {
    return this.fail(
      new ProtocolError('WSG_ERR_NON_MINIMAL_LENGTH', `A ${bits}-bit length encoded ${this.payloadLength}, which fits a shorter form`, CloseCode.ProtocolError),
    );
  }

  /** Limits are enforced here, on the declared length, before a payload byte is buffered. */
  private lengthKnown(): boolean {
    if (!isControlOpcode(this.opcode)) {
      const { maxFrameSize, maxMessageSize } = this.options;
      // A frame over both limits is a message over its limit: report the message limit first.
      // Compressed messages are measured after inflation, by the inflater.
      if (!this.messageCompressed && this.messageLength + this.payloadLength > maxMessageSize) {
        return this.fail(
          new CapacityError('WSG_ERR_MESSAGE_TOO_LARGE', `Message of at least ${this.messageLength + this.payloadLength} bytes exceeds maxMessageSize (${maxMessageSize})`, CloseCode.MessageTooBig),
        );
      }
      if (this.payloadLength > maxFrameSize) {
        return this.fail(
          new CapacityError('WSG_ERR_FRAME_TOO_LARGE', `Frame payload of ${this.payloadLength} bytes exceeds maxFrameSize (${maxFrameSize})`, CloseCode.MessageTooBig),
        );
      }
    }
    this.state = this.masked ? State.GetMask : State.GetData;
    return true;
  }

  private getMask(): boolean {
    if (this.buffered < 4) return false;
    const maskKey = (this.maskKey ??= Buffer.allocUnsafe(4));
    maskKey[0] = this.readByte();
    maskKey[1] = this.readByte();
    maskKey[2] = this.readByte();
    maskKey[3] = this.readByte();
    this.state = State.GetData;
    return true;
  }

  private getData(): boolean {
    if (isControlOpcode(this.opcode)) return this.getControlData();
    if (this.messageCompressed) return this.getCompressedData();

    // A large binary message in one frame: wait for all of it (the declared length is within the
    // limits), then one copy and one word-wise unmask over our own buffer, instead of an unmask
    // and a typed-array view per socket read plus a join. Text keeps streaming so UTF-8 fails fast.
    if (!this.utf8Streaming && this.fin && this.messageLength === 0 && this.payloadRead === 0 && this.payloadLength >= GATHER_WHOLE_BYTES) {
      if (this.buffered < this.payloadLength) return false;
      const data = this.takeExact(this.payloadLength);
      if (this.masked) applyMask(data, this.maskKey!, 0, 0, data.length);
      this.payloadRead = this.payloadLength;
      this.messageLength = data.length;
      this.wholePiece = true;
      this.pieces.push(data);
      return this.frameDone();
    }
    // Uncompressed data: stream what is here; the frame need not be complete.
    while (this.payloadRead < this.payloadLength) {
      if (this.buffered === 0) return false;
      const view = this.takeView(this.payloadLength - this.payloadRead);
      if (this.masked) applyMask(view, this.maskKey!, this.payloadRead, 0, view.length);
      this.payloadRead += view.length;
      if (!this.addPiece(view)) return false;
    }
    return this.frameDone();
  }

  private addPiece(view: Buffer): boolean {
    // A message that arrives as one piece is checked at the end by the native validator.
    const whole = this.fin && this.messageLength === 0 && view.length === this.payloadLength;
    if (whole) {
      this.wholePiece = true;
      this.messageLength = view.length;
      this.pieces.push(view);
      return true;
    }
    if (this.utf8Streaming && !(this.utf8 ??= new Utf8Validator()).update(view)) {
      return this.fail(new InvalidUtf8Error('WSG_ERR_INVALID_UTF8', 'Text message is not valid UTF-8', CloseCode.InvalidPayload));
    }
    this.messageLength += view.length;
    // A piece much smaller than the socket read it lives in would pin the whole read: copy it.
    if (view.length < SMALL_PIECE_BYTES || view.length * 2 < view.buffer.byteLength) {
      this.appendSmall(view);
    } else {
      this.sealAccumulator();
      this.pieces.push(view);
    }
    return true;
  }

  /**
   * Small pieces are copied into one growing buffer so that a message sent in tiny fragments
   * retains about as many bytes as it carries, not one Buffer object per fragment.
   */
  private appendSmall(view: Buffer): void {
    let acc = this.accumulator;
    if (acc === null || acc.length - this.accumulatorLength < view.length) {
      this.sealAccumulator();
      // Doubles with each buffer this message needs (4 KiB, 8 KiB, … 256 KiB): tiny fragments
      // cost few buffers, and one small tail piece of a large message costs a small one.
      const size = Math.min(this.accumulatorNext, MAX_ACCUMULATOR_BYTES);
      this.accumulatorNext = size * 2;
      acc = Buffer.allocUnsafe(Math.max(size, view.length));
      this.accumulator = acc;
      this.accumulatorLength = 0;
    }
    acc.set(view, this.accumulatorLength);
    this.accumulatorLength += view.length;
  }

  private sealAccumulator(): void {
    if (this.accumulator !== null && this.accumulatorLength > 0) {
      this.pieces.push(this.accumulator.subarray(0, this.accumulatorLength));
      // The rest of the buffer stays usable for the next small pieces.
      this.accumulator = this.accumulator.subarray(this.accumulatorLength);
      this.accumulatorLength = 0;
    }
  }

  private frameDone(): boolean {
    this.state = State.GetInfo;
    if (!this.fin) return true;
    const isText = this.messageOpcode === Opcode.Text;
    this.sealAccumulator();
    const pieces = this.pieces;
    const data =
      pieces.length === 1 ? pieces[0]! : pieces.length === 0 ? EMPTY : Buffer.concat(pieces, this.messageLength);
    if (isText) {
      if (this.wholePiece ? !isValidUtf8(data) : this.utf8 !== null && !this.utf8.complete) {
        return this.fail(new InvalidUtf8Error('WSG_ERR_INVALID_UTF8', 'Text message is not valid UTF-8', CloseCode.InvalidPayload));
      }
    }
    this.resetMessage();
    this.sink.onMessage(data, isText);
    return true;
  }

  private resetMessage(): void {
    this.messageOpcode = 0;
    this.messageCompressed = false;
    this.messageLength = 0;
    this.pieces = [];
    this.accumulator = null;
    this.accumulatorLength = 0;
    this.accumulatorNext = SMALL_PIECE_BYTES;
    this.utf8?.reset();
    this.utf8Streaming = false;
    this.wholePiece = false;
  }

  private gatherWhole(into: Buffer[]): boolean {
    while (this.payloadRead < this.payloadLength) {
      if (this.buffered === 0) return false;
      const view = this.takeView(this.payloadLength - this.payloadRead);
      if (this.masked) applyMask(view, this.maskKey!, this.payloadRead, 0, view.length);
      this.payloadRead += view.length;
      into.push(view);
    }
    return true;
  }

  private getCompressedData(): boolean {
    const parts: Buffer[] = this.wholeFramePieces;
    if (!this.gatherWhole(parts)) return false;
    const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.payloadLength);
    this.wholeFramePieces = [];
    const fin = this.fin;
    this.state = State.Inflating;
    this.sink.onWaiting(true);
    this.options.deflate!.decompress(payload, fin, (error, inflated) => {
      if (this.state !== State.Inflating) return;
      this.sink.onWaiting(false);
      if (error !== null) {
        this.fail(error);
        return;
      }
      this.state = State.GetInfo;
      if (fin) {
        const data = inflated ?? EMPTY;
        const isText = this.messageOpcode === Opcode.Text;
        if (isText && !isValidUtf8(data)) {
          this.fail(new InvalidUtf8Error('WSG_ERR_INVALID_UTF8', 'Text message is not valid UTF-8', CloseCode.InvalidPayload));
          return;
        }
        this.resetMessage();
        this.sink.onMessage(data, isText);
      }
      this.run();
    });
    return false;
  }

  private getControlData(): boolean {
    if (this.payloadLength > 0 && !this.gatherWhole(this.wholeFramePieces)) return false;
    const parts = this.wholeFramePieces;
    const payload = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.payloadLength);
    this.wholeFramePieces = [];
    this.state = State.GetInfo;
    switch (this.opcode) {
      case Opcode.Ping:
        this.sink.onPing(payload);
        return true;
      case Opcode.Pong:
        this.sink.onPong(payload);
        return true;
      default:
        return this.closeFrame(payload);
    }
  }

  /** §5.5.1 / §7.4: an empty close, or a valid code plus a UTF-8 reason; anything else is 1002/1007. */
  private closeFrame(payload: Buffer): boolean {
    if (payload.length === 0) {
      this.sink.onClose(CloseCode.NoStatus, '');
      return true;
    }
    if (payload.length === 1) {
      return this.fail(new ProtocolError('WSG_ERR_INVALID_CLOSE_PAYLOAD', 'A close frame payload must not be 1 byte', CloseCode.ProtocolError));
    }
    const code = payload.readUInt16BE(0);
    if (!isValidWireCloseCode(code)) {
      return this.fail(new ProtocolError('WSG_ERR_INVALID_CLOSE_CODE', `Invalid close code ${code}`, CloseCode.ProtocolError));
    }
    const reasonBytes = payload.subarray(2);
    if (!isValidUtf8(reasonBytes)) {
      return this.fail(new InvalidUtf8Error('WSG_ERR_INVALID_UTF8', 'Close reason is not valid UTF-8', CloseCode.InvalidPayload));
    }
    this.sink.onClose(code, reasonBytes.toString('utf8'));
    return true;
  }

  private fail(error: WsgError): false {
    this.state = State.Failed;
    this.chunks.length = 0;
    this.buffered = 0;
    this.pieces = [];
    this.accumulator = null;
    this.sink.onParseError(error);
    return false;
  }
}
