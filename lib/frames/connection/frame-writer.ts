import type { Duplex } from 'node:stream';
import { CloseCode } from '../close-codes.js';
import type { ResolvedConnectionOptions } from '../connection-options.js';
import { SendQueueFullError, type WsgError } from '../errors.js';
import { FIN_BIT, RSV1_BIT, encodeFrameBytes, headerSize, writeHeader } from '../frame-encoder.js';
import { nextMaskKey } from '../mask-key-source.js';
import { applyMask } from '../mask.js';
import { Opcode } from '../opcodes.js';
import type { DeflateCodec } from '../deflate-codec.js';
import type { PreparedMessage } from '../prepared-message.js';

/**
 * What `send()` did: `ok` — queued and the send queue is below `sendLowWaterMark`;
 * `queued` — accepted, but back-pressure is building (await `drain()`);
 * `dropped` — not sent, because the queue was at `maxSendQueue`: the message was volatile, or
 * the policy is `drop`, or it is `close` and the connection is now closing 1013.
 */
export type SendResult = 'ok' | 'queued' | 'dropped';

/** How one send is made. */
export interface SendOptions {
  /**
   * The message may be lost: at `maxSendQueue` it is dropped (and counted) instead of
   * following `sendQueuePolicy`. For what the next message supersedes (typing, positions).
   * @defaultValue false
   */
  volatile?: boolean;
}

/** What the writer needs from the connection it writes for. */
export interface FrameWriterHost {
  /** Fails the connection: the 'close' policy, or a compression that failed. */
  failWith(error: WsgError): void;
  /** A send was refused at maxSendQueue: the message dropped, or the connection closed 1013 (the policy). */
  sendRefused(outcome: 'dropped' | 'closed'): void;
  /** A close frame was queued, in order behind the data sent before it. */
  onCloseFrameQueued(): void;
  /** The transport is gone: a compression that finishes now has nowhere to go. */
  readonly isClosed: boolean;
  /** The socket took everything and the queue is at or below the low-water mark. */
  onDrained(): void;
  /** A write returned false: the socket's next 'drain' must reach onSocketDrain(). */
  watchDrain(): void;
}

/** Payloads up to this size are copied next to their header: one buffer, one write. */
const COPY_PAYLOAD_BYTES = 16 * 1024;
/** A flush of several frames up to this size is joined into one buffer instead of writev. */
const JOIN_WRITE_BYTES = 64 * 1024;

interface DeferredSend {
  opcode: number;
  payload: Buffer;
  compress: boolean;
}

/**
 * The sending side of one connection. Every send path meets in `admit()`: a send made while
 * the queue is below `maxSendQueue` is admitted whole (it may overshoot by that message), one
 * at or over it follows `sendQueuePolicy`. Frames queued in one tick leave in one socket write
 * (a writev past JOIN_WRITE_BYTES); control frames jump the data queue; a message waiting for
 * zlib holds the line so frames keep their order.
 */
export class FrameWriter {
  private controlOut: Buffer[] | null = null;
  private dataOut: Buffer[] = [];
  /** Bytes in controlOut + dataOut. */
  private outBytes = 0;
  /** Bytes of messages waiting behind a compression (uncompressed size). */
  private deferredBytes = 0;
  private deferred: DeferredSend[] | null = null;
  private compressing = false;
  private flushScheduled = false;
  /** Inside one read's parsing: flush once at its end, not per frame. */
  private inBatch = false;
  /** End the transport once the queue is written (close handshake done, or connection failed). */
  private endAfterFlush = false;
  /** Pongs queued since the socket last went over its high-water mark (reset once it drains). */
  private pendingPongs = 0;
  private drainWaiters: Array<() => void> | null = null;

  constructor(
    private readonly host: FrameWriterHost,
    private readonly socket: Duplex,
    private readonly masked: boolean,
    private readonly deflate: DeflateCodec | null,
    private readonly options: ResolvedConnectionOptions,
  ) {}

  /** Bytes accepted but not yet handed to the OS: ours plus the socket's buffer. */
  get bufferedAmount(): number {
    return this.outBytes + this.deferredBytes + this.socket.writableLength;
  }

  sendString(text: string, volatile = false): SendResult {
    // Short strings are encoded straight into the frame buffer: no intermediate Buffer.
    if (text.length <= COPY_PAYLOAD_BYTES / 3 && this.deferred === null && (this.deflate === null || text.length * 3 < this.deflate.threshold)) {
      const length = Buffer.byteLength(text, 'utf8');
      const verdict = this.admit(headerSize(length, this.masked) + length, volatile);
      if (verdict !== null) return verdict;
      const maskKey = this.masked ? nextMaskKey() : null;
      const frame = Buffer.allocUnsafe(headerSize(length, this.masked) + length);
      const at = writeHeader(frame, 0, FIN_BIT | Opcode.Text, length, maskKey);
      frame.write(text, at, length, 'utf8');
      if (maskKey !== null) applyMask(frame, maskKey, 0, at, at + length);
      this.dataOut.push(frame);
      this.outBytes += frame.length;
      this.scheduleFlush();
      return this.verdictAfterQueue();
    }
    return this.sendMessage(Opcode.Text, Buffer.from(text, 'utf8'), volatile);
  }

  sendMessage(opcode: number, payload: Buffer, volatile = false): SendResult {
    const verdict = this.admit(headerSize(payload.length, this.masked) + payload.length, volatile);
    if (verdict !== null) return verdict;
    const compress = this.deflate !== null && payload.length >= this.deflate.threshold;
    if (this.deferred !== null || compress) {
      (this.deferred ??= []).push({ opcode, payload, compress });
      this.deferredBytes += payload.length;
      this.pumpDeferred();
    } else {
      this.queueDataFrame(opcode, payload, false);
    }
    return this.verdictAfterQueue();
  }

  /** A message encoded once by `encodeOnce()`; servers write the shared bytes as they are. */
  sendPrepared(message: PreparedMessage, volatile = false): SendResult {
    if (this.masked) return this.sendMessage(message.opcode, message.payload, volatile);
    const size = message.frame.length;
    const verdict = this.admit(size, volatile);
    if (verdict !== null) return verdict;
    if (this.deferred !== null) {
      this.deferred.push({ opcode: message.opcode, payload: message.payload, compress: false });
      this.deferredBytes += message.payload.length;
    } else {
      this.dataOut.push(message.frame);
      this.outBytes += size;
      this.scheduleFlush();
    }
    return this.verdictAfterQueue();
  }

  /**
   * Returns null when the message may be queued, else the policy's answer. A send made while
   * the queue is below maxSendQueue is admitted whole, whatever its size (the queue may
   * overshoot by that one message, like a Writable's highWaterMark): a message larger than the
   * limit can still be sent. At or over the limit a volatile message is dropped; any other
   * follows sendQueuePolicy. Every drop and policy close is told to the host, which counts it.
   */
  private admit(size: number, volatile: boolean): SendResult | null {
    if (this.bufferedAmount < this.options.maxSendQueue) return null;
    if (volatile) {
      this.host.sendRefused('dropped');
      return 'dropped';
    }
    switch (this.options.sendQueuePolicy) {
      case 'drop':
        this.host.sendRefused('dropped');
        return 'dropped';
      case 'close':
        // The close frame queues behind what was admitted (RFC 6455 §5.5.1: no data after it);
        // a peer that never reads cannot see it, and closeTimeout then resets the transport.
        this.host.sendRefused('closed');
        this.host.failWith(
          new SendQueueFullError(
            'WSG_ERR_SEND_QUEUE_FULL',
            `Send queue at maxSendQueue (${this.options.maxSendQueue} bytes): the peer does not read fast enough`,
            CloseCode.TryAgainLater,
          ),
        );
        return 'dropped';
      default:
        throw new SendQueueFullError(
          'WSG_ERR_SEND_QUEUE_FULL',
          `Send queue at maxSendQueue (${this.options.maxSendQueue} bytes): ${this.bufferedAmount} queued, ${size} more refused`,
        );
    }
  }

  private verdictAfterQueue(): SendResult {
    return this.bufferedAmount > this.options.sendLowWaterMark ? 'queued' : 'ok';
  }

  private queueDataFrame(opcode: number, payload: Buffer, compressed: boolean): void {
    const maskKey = this.masked ? nextMaskKey() : null;
    const firstByte = FIN_BIT | (compressed ? RSV1_BIT : 0) | opcode;
    const hlen = headerSize(payload.length, this.masked);
    if (payload.length <= COPY_PAYLOAD_BYTES || this.masked) {
      this.dataOut.push(encodeFrameBytes(firstByte, payload, maskKey));
    } else {
      const header = Buffer.allocUnsafe(hlen);
      writeHeader(header, 0, firstByte, payload.length, null);
      this.dataOut.push(header, payload);
    }
    this.outBytes += hlen + payload.length;
    this.scheduleFlush();
  }

  /** Moves deferred sends to the output in order; a compressed one holds the line until zlib answers. */
  private pumpDeferred(): void {
    const queue = this.deferred;
    if (queue === null || this.compressing) return;
    while (queue.length > 0) {
      const item = queue[0]!;
      if (item.compress) {
        this.compressing = true;
        this.deflate!.compress(item.payload, true, (error, compressed) => {
          this.compressing = false;
          queue.shift();
          this.deferredBytes -= item.payload.length;
          if (this.host.isClosed) return;
          if (error !== null) {
            this.host.failWith(error);
            return;
          }
          this.queueDataFrame(item.opcode, compressed!, true);
          this.pumpDeferred();
        });
        return;
      }
      queue.shift();
      this.deferredBytes -= item.payload.length;
      if (item.opcode === Opcode.Close) {
        this.queueCloseFrame(item.payload);
      } else {
        this.queueDataFrame(item.opcode, item.payload, false);
      }
    }
    this.deferred = null;
  }

  /** A ping or pong: jumps queued data. */
  queueControl(opcode: number, payload: Uint8Array): void {
    const frame = encodeFrameBytes(FIN_BIT | opcode, payload, this.masked ? nextMaskKey() : null);
    (this.controlOut ??= []).push(frame);
    this.outBytes += frame.length;
    this.scheduleFlush();
  }

  /**
   * Owes the peer a pong for its ping. False when more than maxPendingPongs were owed while the
   * socket's buffer stayed over its high-water mark: the peer pings without reading (a flood).
   * Pongs owed while the socket drains do not count, however many pings one read held: they
   * leave with that read's flush, and a pong is never larger than the ping that asked for it.
   */
  queuePong(payload: Uint8Array): boolean {
    if (!this.socket.writableNeedDrain) this.pendingPongs = 0;
    else if (++this.pendingPongs > this.options.maxPendingPongs) return false;
    this.queueControl(Opcode.Pong, payload);
    return true;
  }

  /** The close frame goes behind every data frame sent before it, compressed ones included. */
  queueClose(payload: Buffer): void {
    if (this.deferred !== null) this.deferred.push({ opcode: Opcode.Close, payload, compress: false });
    else this.queueCloseFrame(payload);
  }

  private queueCloseFrame(payload: Buffer): void {
    this.host.onCloseFrameQueued();
    const frame = encodeFrameBytes(FIN_BIT | Opcode.Close, payload, this.masked ? nextMaskKey() : null);
    this.dataOut.push(frame);
    this.outBytes += frame.length;
    this.scheduleFlush();
  }

  /** Ends the transport once everything queued is written. */
  endWhenFlushed(): void {
    this.endAfterFlush = true;
  }

  /** Parsing one read: frames queued meanwhile leave together when it ends. */
  beginBatch(): void {
    this.inBatch = true;
  }

  endBatch(): void {
    this.inBatch = false;
  }

  /** Flushes now unless a read is being parsed (its end flushes). */
  flushUnlessBatching(): void {
    if (!this.inBatch) this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inBatch) return;
    this.flushScheduled = true;
    process.nextTick(flushOnTick, this);
  }

  /** Writes everything queued in one socket write (or one writev). */
  flush(): void {
    this.flushScheduled = false;
    // Every queued frame adds at least its 2-byte header, so outBytes > 0 means frames wait.
    if (this.outBytes > 0) {
      const control = this.controlOut;
      const data = this.dataOut;
      this.controlOut = null;
      this.dataOut = [];
      const total = this.outBytes;
      this.outBytes = 0;
      if (!this.socket.destroyed && this.socket.writable) {
        const chunks = control === null ? data : data.length === 0 ? control : control.concat(data);
        let ok: boolean;
        if (chunks.length === 1) {
          ok = this.socket.write(chunks[0]);
        } else if (total <= JOIN_WRITE_BYTES) {
          ok = this.socket.write(Buffer.concat(chunks, total));
        } else {
          this.socket.cork();
          ok = true;
          for (const chunk of chunks) ok = this.socket.write(chunk);
          this.socket.uncork();
        }
        if (ok) {
          if (this.drainWaiters !== null && this.bufferedAmount <= this.options.sendLowWaterMark) this.releaseDrainWaiters();
        } else {
          this.host.watchDrain();
        }
      }
    }
    if (this.endAfterFlush && this.deferred === null && !this.socket.writableEnded) this.socket.end();
  }

  /** Resolves when `bufferedAmount` is at or below `sendLowWaterMark` (at once when `closed`). */
  drain(closed: boolean): Promise<void> {
    if (this.bufferedAmount <= this.options.sendLowWaterMark || closed) return Promise.resolve();
    return new Promise<void>((resolve) => (this.drainWaiters ??= []).push(resolve));
  }

  /** The socket's 'drain'. */
  onSocketDrain(): void {
    if (this.bufferedAmount <= this.options.sendLowWaterMark) {
      this.releaseDrainWaiters();
      this.host.onDrained();
    }
  }

  /** The transport is gone: nothing queued will be written; drain() waiters are released. */
  discard(): void {
    this.controlOut = null;
    this.dataOut = [];
    this.deferred = null;
    this.outBytes = 0;
    this.deferredBytes = 0;
    this.releaseDrainWaiters();
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = null;
    if (waiters !== null) for (const resolve of waiters) resolve();
  }
}

function flushOnTick(writer: FrameWriter): void {
  writer.flush();
}
