import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CloseCode, MAX_CLOSE_REASON_BYTES, isValidWireCloseCode } from './close-codes.js';
import { resolveConnectionOptions, type ConnectionOptions, type ResolvedConnectionOptions } from './connection-options.js';
import {
  AlreadyClosedError,
  CapacityError,
  ConnectionClosedError,
  InvalidArgumentError,
  IoError,
  SendQueueFullError,
  TimeoutError,
  WsgError,
} from './errors.js';
import { FIN_BIT, RSV1_BIT, encodeFrameBytes, headerSize, writeHeader } from './frame-encoder.js';
import { FrameParser, type FrameParserSink } from './frame-parser.js';
import { nextMaskKey } from './mask-key-source.js';
import { applyMask } from './mask.js';
import { Opcode } from './opcodes.js';
import type { PerMessageDeflate } from './permessage-deflate.js';
import { PreparedMessage } from './prepared-message.js';

export { PreparedMessage, encodeOnce } from './prepared-message.js';

/** `pending` (before the handshake completes) is used by layers above; the engine starts `open`. */
export type ConnectionState = 'pending' | 'open' | 'closing' | 'closed';

/**
 * What `send()` did: `ok` — queued and the send queue is below `sendLowWaterMark`;
 * `queued` — accepted, but back-pressure is building (await `drain()`);
 * `dropped` — not sent, because the queue is full under the `drop` or `close` policy.
 */
export type SendResult = 'ok' | 'queued' | 'dropped';

/** How a connection ended. `code` 1006 means TCP went away without a close frame. */
export interface CloseInfo {
  code: number;
  reason: string;
  /** Both close frames were exchanged (RFC 6455 §7.1.4). */
  wasClean: boolean;
  /** Why the engine closed, when it did so because of an error or timeout. */
  error?: WsgError;
}

export interface ReceivedMessage {
  data: string | Buffer;
  isBinary: boolean;
}

export interface ConnectionInit extends ConnectionOptions {
  role: 'server' | 'client';
  /** Subprotocol agreed in the handshake. */
  protocol?: string;
  /** Sec-WebSocket-Extensions value agreed in the handshake. */
  extensions?: string;
  /** Negotiated permessage-deflate, or null. */
  deflate?: PerMessageDeflate | null;
  /** Options already resolved once for many connections (a server's); the fields above are then ignored. */
  resolvedOptions?: ResolvedConnectionOptions;
  /**
   * How to drop this transport at once (terminate, close timeout). The engine knows no
   * transport but a Duplex: the layer that made the socket hands in its abort (an HTTP/2
   * stream is reset with CANCEL, RFC 8441 §5). @defaultValue `socket.destroy()`
   */
  abort?: TransportAbort;
}

/** Drops a transport at once, without a close handshake (a TCP reset, an RST_STREAM). */
export type TransportAbort = (socket: Duplex) => void;

/** @internal */
export interface ConnectionOwner {
  release(connection: WebSocketConnection): void;
}

const kConnection = Symbol('wsgate.connection');
type OwnedSocket = Duplex & { [kConnection]: WebSocketConnection };

/** Payloads up to this size are copied next to their header: one buffer, one write. */
const COPY_PAYLOAD_BYTES = 16 * 1024;
/** A flush of several frames up to this size is joined into one buffer instead of writev. */
const JOIN_WRITE_BYTES = 64 * 1024;

interface DeferredSend {
  opcode: number;
  payload: Buffer;
  compress: boolean;
}

const EMPTY = Buffer.alloc(0);

/** Reasons reading is stopped (WebSocketConnection.pausedBy bits). */
const PAUSED_BY_APP = 1;
const PAUSED_BY_QUEUE = 2;

/**
 * One WebSocket connection over any Duplex (TCP, TLS, an HTTP/2 stream), in either role.
 *
 * Reading: an incremental parser; text is delivered decoded (or as bytes: `decodeText`).
 * Writing: frames queued in one tick go out in one socket write; pings and pongs jump the data
 * queue; `send()` reports back-pressure synchronously. Closing follows RFC 6455 §7 with a `closeTimeout`.
 */
export class WebSocketConnection extends EventEmitter implements FrameParserSink {
  readonly role: 'server' | 'client';
  readonly protocol: string;
  readonly extensions: string;
  readonly options: ResolvedConnectionOptions;

  private readonly socket: Duplex;
  private readonly parser: FrameParser;
  private readonly deflate: PerMessageDeflate | null;
  private readonly abort: TransportAbort | null;
  private _id: string | undefined;
  private _state: ConnectionState = 'open';

  // Writer.
  private controlOut: Buffer[] | null = null;
  private dataOut: Buffer[] = [];
  /** Bytes in controlOut + dataOut. */
  private outBytes = 0;
  /** Bytes of messages waiting behind a compression (uncompressed size). */
  private deferredBytes = 0;
  /** End the transport once the queue is written (close handshake done, or connection failed). */
  private endAfterFlush = false;
  private flushScheduled = false;
  private inBatch = false;
  private deferred: DeferredSend[] | null = null;
  private compressing = false;
  private pendingPongs = 0;
  private drainWaiters: Array<() => void> | null = null;

  // Reader.
  // One consumer: receive() / for-await read the queue until a 'message' listener attaches;
  // from then on messages are events, for good. Back-pressure is pause()/resume() for both.
  private pushMode = false;
  private receiveQueue: ReceivedMessage[] | null = null;
  private receiveWaiters: Array<{ resolve: (m: ReceivedMessage) => void; reject: (e: Error) => void }> | null = null;
  /** Who wants reading stopped: PAUSED_BY_APP (pause()) and/or PAUSED_BY_QUEUE (maxReceiveQueue waiting). */
  private pausedBy = 0;
  /** The socket and parser are stopped (pausedBy != 0, unless closing forced reading on). */
  private readPaused = false;
  /** Bytes read with the handshake, parsed once listeners had a chance to attach. */
  private pendingHead: Buffer | null = null;
  /** After a close frame or a failure: bytes are read and dropped. */
  private discardInput = false;

  // Close handshake.
  private closeFrameSent = false;
  private closeFrameReceived = false;
  private sentCode: number = CloseCode.Abnormal;
  private sentReason = '';
  private receivedCode: number = CloseCode.Abnormal;
  private receivedReason = '';
  private closeError: WsgError | undefined;
  private closeTimer: NodeJS.Timeout | null = null;
  private closeInfo: CloseInfo | null = null;
  private closedPromise: Promise<CloseInfo> | null = null;
  private resolveClosed: ((info: CloseInfo) => void) | null = null;
  private owner: ConnectionOwner | null = null;

  // Timers.
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private awaitingSince = 0;
  private pongTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;

  /**
   * Builds a connection from a socket whose handshake is done, plus the bytes already read
   * past the handshake (Node's `upgrade` event `head`).
   */
  static fromPartiallyRead(socket: Duplex, head: Buffer | null | undefined, init: ConnectionInit): WebSocketConnection {
    return new WebSocketConnection(socket, head ?? EMPTY, init);
  }

  private constructor(socket: Duplex, head: Buffer, init: ConnectionInit) {
    super();
    this.options = init.resolvedOptions ?? resolveConnectionOptions(init);
    this.role = init.role;
    this.protocol = init.protocol ?? '';
    this.extensions = init.extensions ?? '';
    this.deflate = init.deflate ?? null;
    this.abort = init.abort ?? null;
    this.socket = socket;
    this.parser = new FrameParser(
      {
        role: this.role,
        maxFrameSize: this.options.maxFrameSize,
        maxMessageSize: this.options.maxMessageSize,
        acceptUnmaskedFrames: this.options.acceptUnmaskedFrames,
        deflate: this.deflate,
      },
      this,
    );

    const maybeNet = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
    if (typeof maybeNet.setNoDelay === 'function') maybeNet.setNoDelay(true);
    if (typeof maybeNet.setTimeout === 'function') maybeNet.setTimeout(0);

    // Shared handlers that find the connection on the socket: no closures per connection.
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    socket.on('drain', socketOnDrain);

    if (this.options.idleTimeout > 0) {
      this.idleTimer = setTimeout(() => this.onIdleTimeout(), this.options.idleTimeout);
    }
    if (this.options.pingInterval > 0) {
      this.heartbeatTimer = setTimeout(() => this.onHeartbeat(), this.options.pingInterval);
    }
    // Let the caller attach listeners (even after an awaited connect()) before bytes that came
    // with the handshake are parsed; data that arrives earlier is queued behind them.
    if (head.length > 0) {
      this.pendingHead = head;
      setImmediate(() => this.parsePendingHead());
    }
    if (socket.destroyed) process.nextTick(() => this.onSocketClose());
  }

  /** Unique id (UUID), stable for the connection's life. */
  get id(): string {
    return (this._id ??= randomUUID());
  }

  get state(): ConnectionState {
    return this._state;
  }

  get isOpen(): boolean {
    return this._state === 'open';
  }

  /** Bytes accepted by `send()` but not yet handed to the OS: ours plus the socket's buffer. */
  get bufferedAmount(): number {
    return this.outBytes + this.deferredBytes + this.socket.writableLength;
  }

  /** The transport, for callers that need its address. */
  get transport(): Duplex {
    return this.socket;
  }

  /** @internal A server that tracks this connection; told once, when it closes (no listener per connection). */
  setOwner(owner: ConnectionOwner): void {
    this.owner = owner;
  }

  /** Resolves once, when the transport is gone, with how the connection ended. */
  get closed(): Promise<CloseInfo> {
    if (this.closedPromise === null) {
      this.closedPromise =
        this.closeInfo !== null
          ? Promise.resolve(this.closeInfo)
          : new Promise<CloseInfo>((resolve) => {
              this.resolveClosed = resolve;
            });
    }
    return this.closedPromise;
  }

  // ---- sending -------------------------------------------------------------------------

  /** Sends a message: a string as text, bytes as binary (or as `options.binary` says). */
  send(data: string | Uint8Array, options?: { binary?: boolean }): SendResult {
    if (typeof data === 'string') {
      if (options?.binary === true) return this.sendMessage(Opcode.Binary, Buffer.from(data, 'utf8'));
      return this.sendString(data);
    }
    if (!(data instanceof Uint8Array)) {
      throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', 'send() takes a string or a Uint8Array');
    }
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.sendMessage(options?.binary === false ? Opcode.Text : Opcode.Binary, bytes);
  }

  sendText(text: string): SendResult {
    return this.sendString(text);
  }

  sendBytes(bytes: Uint8Array): SendResult {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.sendMessage(Opcode.Binary, buf);
  }

  /** Sends a message encoded once by `encodeOnce()`; servers write the shared bytes as they are. */
  sendPrepared(message: PreparedMessage): SendResult {
    if (this.role === 'client') return this.sendMessage(message.opcode, message.payload);
    const size = message.frame.length;
    const verdict = this.admit(size);
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

  private sendString(text: string): SendResult {
    // Short strings are encoded straight into the frame buffer: no intermediate Buffer.
    if (text.length <= COPY_PAYLOAD_BYTES / 3 && this.deferred === null && (this.deflate === null || text.length * 3 < this.deflate.threshold)) {
      const length = Buffer.byteLength(text, 'utf8');
      const masked = this.role === 'client';
      const verdict = this.admit(headerSize(length, masked) + length);
      if (verdict !== null) return verdict;
      const maskKey = masked ? nextMaskKey() : null;
      const frame = Buffer.allocUnsafe(headerSize(length, masked) + length);
      const at = writeHeader(frame, 0, FIN_BIT | Opcode.Text, length, maskKey);
      frame.write(text, at, length, 'utf8');
      if (maskKey !== null) applyMask(frame, maskKey, 0, at, at + length);
      this.dataOut.push(frame);
      this.outBytes += frame.length;
      this.scheduleFlush();
      return this.verdictAfterQueue();
    }
    return this.sendMessage(Opcode.Text, Buffer.from(text, 'utf8'));
  }

  private sendMessage(opcode: number, payload: Buffer): SendResult {
    const verdict = this.admit(headerSize(payload.length, this.role === 'client') + payload.length);
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

  /**
   * Returns null when the message may be queued, else the policy's answer. A send made while
   * the queue is below maxSendQueue is admitted whole, whatever its size (the queue may
   * overshoot by that one message, like a Writable's highWaterMark): a message larger than the
   * limit can still be sent. At or over the limit, sendQueuePolicy decides.
   */
  private admit(size: number): SendResult | null {
    if (this._state !== 'open') {
      throw new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', `Cannot send: the connection is ${this._state}`);
    }
    if (this.bufferedAmount < this.options.maxSendQueue) return null;
    switch (this.options.sendQueuePolicy) {
      case 'drop':
        return 'dropped';
      case 'close':
        this.failWith(
          new SendQueueFullError('WSG_ERR_SEND_QUEUE_FULL', `Send queue over maxSendQueue (${this.options.maxSendQueue} bytes)`, CloseCode.TryAgainLater),
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
    const masked = this.role === 'client';
    const maskKey = masked ? nextMaskKey() : null;
    const firstByte = FIN_BIT | (compressed ? RSV1_BIT : 0) | opcode;
    const hlen = headerSize(payload.length, masked);
    if (payload.length <= COPY_PAYLOAD_BYTES || masked) {
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
          if (this._state === 'closed') return;
          if (error !== null) {
            this.failWith(error);
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

  /** Sends a ping; control frames jump queued data. */
  ping(data: string | Uint8Array = EMPTY): void {
    this.sendControl(Opcode.Ping, data);
  }

  pong(data: string | Uint8Array = EMPTY): void {
    this.sendControl(Opcode.Pong, data);
  }

  private sendControl(opcode: number, data: string | Uint8Array): void {
    if (this._state !== 'open') {
      throw new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', `Cannot send a control frame: the connection is ${this._state}`);
    }
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (payload.length > 125) {
      throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', 'Control frame payloads must be 125 bytes or less');
    }
    this.queueControl(opcode, payload);
  }

  private queueControl(opcode: number, payload: Uint8Array): void {
    const frame = encodeFrameBytes(FIN_BIT | opcode, payload, this.role === 'client' ? nextMaskKey() : null);
    (this.controlOut ??= []).push(frame);
    this.outBytes += frame.length;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inBatch) return;
    this.flushScheduled = true;
    process.nextTick(flushOnTick, this);
  }

  /** @internal Writes everything queued in one socket write (or one writev). */
  flush(): void {
    this.flushScheduled = false;
    const control = this.controlOut;
    const data = this.dataOut;
    // Every queued frame adds at least its 2-byte header, so outBytes > 0 means frames wait.
    if (this.outBytes > 0) {
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
          this.pendingPongs = 0;
          if (this.drainWaiters !== null && this.bufferedAmount <= this.options.sendLowWaterMark) this.releaseDrainWaiters();
        }
      }
    }
    if (this.endAfterFlush && this.deferred === null && !this.socket.writableEnded) this.socket.end();
  }

  /** Resolves when `bufferedAmount` is at or below `sendLowWaterMark` (or the connection closed). */
  drain(): Promise<void> {
    if (this.bufferedAmount <= this.options.sendLowWaterMark || this._state === 'closed') return Promise.resolve();
    return new Promise<void>((resolve) => (this.drainWaiters ??= []).push(resolve));
  }

  /** @internal */
  onSocketDrain(): void {
    this.pendingPongs = 0;
    if (this.bufferedAmount <= this.options.sendLowWaterMark) {
      this.releaseDrainWaiters();
      this.emit('drain');
    }
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = null;
    if (waiters !== null) for (const resolve of waiters) resolve();
  }

  // ---- closing -------------------------------------------------------------------------

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). Idempotent once closing. Throws
   * `InvalidArgumentError` for a code that may not be sent or a reason over 123 bytes.
   */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (!isValidWireCloseCode(code)) {
      throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Close code ${code} may not be sent (RFC 6455 §7.4)`);
    }
    const reasonBytes = Buffer.from(reason, 'utf8');
    if (reasonBytes.length > MAX_CLOSE_REASON_BYTES) {
      throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Close reason is ${reasonBytes.length} bytes; the limit is ${MAX_CLOSE_REASON_BYTES}`);
    }
    if (this._state !== 'open') return;
    this.startClose(code, reasonBytes);
  }

  /** Drops the transport with the abort its layer handed in (default: destroy, a TCP reset). */
  private abortTransport(): void {
    if (this.abort !== null) this.abort(this.socket);
    else this.socket.destroy();
  }

  /** Destroys the transport at once, without a close handshake. */
  terminate(): void {
    if (this._state === 'closed') return;
    this._state = 'closing';
    this.abortTransport();
  }

  private startClose(code: number, reasonBytes: Buffer): void {
    this._state = 'closing';
    this.stopTimers();
    // The peer's close reply must be read even if the application stopped reading: messages
    // before it are dropped while pausedBy holds (see onMessage).
    if (this.readPaused && !this.discardInput) {
      this.readPaused = false;
      this.socket.resume();
      this.parser.resume();
    }
    const payload = Buffer.allocUnsafe(2 + reasonBytes.length);
    payload.writeUInt16BE(code, 0);
    reasonBytes.copy(payload, 2);
    this.sentCode = code;
    this.sentReason = reasonBytes.toString('utf8');
    if (this.deferred !== null) {
      this.deferred.push({ opcode: Opcode.Close, payload, compress: false });
    } else {
      this.queueCloseFrame(payload);
    }
    this.armCloseTimer();
  }

  private queueCloseFrame(payload: Buffer): void {
    this.closeFrameSent = true;
    if (this.closeFrameReceived && this.role === 'server') this.endAfterFlush = true;
    const frame = encodeFrameBytes(FIN_BIT | Opcode.Close, payload, this.role === 'client' ? nextMaskKey() : null);
    this.dataOut.push(frame);
    this.outBytes += frame.length;
    this.scheduleFlush();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null || this.options.closeTimeout === 0) return;
    this.closeTimer = setTimeout(() => {
      this.closeError ??= new TimeoutError('WSG_ERR_CLOSE_TIMEOUT', `Close handshake not finished within ${this.options.closeTimeout} ms`);
      this.abortTransport();
    }, this.options.closeTimeout);
    this.closeTimer.unref();
  }

  /** Fail the WebSocket connection (§7.1.7): send a close with the error's code, then drop TCP. */
  private failWith(error: WsgError): void {
    if (this._state === 'closed') return;
    this.closeError ??= error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    if (this._state === 'open') {
      const code = error.closeCode ?? CloseCode.InternalError;
      this.startClose(code, truncateReason(error.message));
    }
    // Stop parsing but keep the socket flowing, so the peer's FIN is seen and TCP ends promptly.
    this.discardInput = true;
    this.endAfterFlush = true;
    if (this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
    if (!this.inBatch) this.flush();
  }

  // ---- reading (FrameParserSink) -------------------------------------------------------

  /**
   * The first 'message' listener makes messages events for the rest of the connection's life;
   * it gets what queued before it (e.g. bytes that came with the handshake) first, in order.
   */
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'message' && !this.pushMode) {
      this.pushMode = true;
      if (this.receiveQueue !== null && this.receiveQueue.length > 0) process.nextTick(deliverQueuedOnTick, this);
    }
    return this;
  }

  override addListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.on(event, listener);
  }

  private parsePendingHead(): void {
    const head = this.pendingHead;
    if (head === null) return;
    this.pendingHead = null;
    this.onSocketData(head);
  }

  /** @internal */
  onSocketData(chunk: Buffer): void {
    if (this.pendingHead !== null) this.parsePendingHead();
    if (this.discardInput) return;
    if (this.idleTimer !== null) this.idleTimer.refresh();
    this.awaitingPong = false;
    this.inBatch = true;
    try {
      this.parser.push(chunk);
    } finally {
      this.inBatch = false;
    }
    this.flush();
  }

  /** @internal */
  onMessage(data: Buffer, isText: boolean): void {
    if (this.closeFrameReceived) return;
    if (this.pushMode && (this.receiveQueue === null || this.receiveQueue.length === 0)) {
      // Paused yet reading: only while closing, to reach the peer's close reply. The
      // application asked not to be fed, so what comes before the reply is dropped.
      if (this.pausedBy !== 0) return;
      this.emit('message', isText && this.options.decodeText ? data.toString('utf8') : data, !isText);
      return;
    }
    const message: ReceivedMessage = { data: isText && this.options.decodeText ? data.toString('utf8') : data, isBinary: !isText };
    const waiter = this.receiveWaiters?.shift();
    if (waiter !== undefined) {
      waiter.resolve(message);
      return;
    }
    const queue = (this.receiveQueue ??= []);
    // Closing and nobody reading: drop, so the close reply behind this message gets through.
    if (this._state !== 'open' && queue.length >= this.options.maxReceiveQueue) return;
    queue.push(message);
    if (queue.length >= this.options.maxReceiveQueue) this.pauseFor(PAUSED_BY_QUEUE);
  }

  /** @internal */
  onPing(payload: Buffer): void {
    if (this.listenerCount('ping') > 0) this.emit('ping', payload);
    if (this._state !== 'open') return;
    if (++this.pendingPongs > this.options.maxPendingPongs) {
      this.failWith(
        new CapacityError('WSG_ERR_TOO_MANY_PENDING_PONGS', `More than ${this.options.maxPendingPongs} pongs owed; the peer is not reading`, CloseCode.PolicyViolation),
      );
      return;
    }
    this.queueControl(Opcode.Pong, payload);
  }

  /** @internal */
  onPong(payload: Buffer): void {
    if (this.listenerCount('pong') > 0) this.emit('pong', payload);
  }

  /** @internal */
  onClose(code: number, reason: string): void {
    this.closeFrameReceived = true;
    this.receivedCode = code;
    this.receivedReason = reason;
    // §5.5.1: nothing after a close frame is data; drop it without buffering.
    this.discardInput = true;
    this.parser.pause();
    if (this._state === 'open') {
      // Echo the code (§5.5.1); an empty close is answered with an empty close.
      this._state = 'closing';
      this.stopTimers();
      let payload = EMPTY;
      if (code !== CloseCode.NoStatus) {
        payload = Buffer.allocUnsafe(2);
        payload.writeUInt16BE(code, 0);
      }
      if (this.deferred !== null) this.deferred.push({ opcode: Opcode.Close, payload, compress: false });
      else this.queueCloseFrame(payload);
      this.armCloseTimer();
    }
    // The server closes TCP first once both close frames are out (§7.1.1); a client waits for it.
    if (this.role === 'server') this.endAfterFlush = true;
    if (!this.inBatch) this.flush();
    this.rejectReceivers();
  }

  /** @internal */
  onParseError(error: WsgError): void {
    this.failWith(error);
  }

  /** @internal Stop reading while zlib works on a frame: the bytes held stay bounded. */
  onWaiting(waiting: boolean): void {
    if (waiting) this.socket.pause();
    else if (!this.readPaused) this.socket.resume();
  }

  /**
   * Stops taking messages: no 'message' event (and nothing new for receive()) until `resume()`.
   * The socket stops being read, so back-pressure reaches the peer's TCP; what was read stays
   * in the parser. While closing, reading goes on to find the peer's close reply, and data
   * messages before it are dropped.
   */
  pause(): void {
    this.pauseFor(PAUSED_BY_APP);
  }

  /** Takes messages again after `pause()`. */
  resume(): void {
    if ((this.pausedBy & PAUSED_BY_APP) === 0) return;
    this.resumeFor(PAUSED_BY_APP);
    // Messages queued before push mode began, and held by the pause, go out first.
    if (this.pushMode && this.receiveQueue !== null && this.receiveQueue.length > 0) process.nextTick(deliverQueuedOnTick, this);
  }

  /** Whether `pause()` is in force. */
  get isPaused(): boolean {
    return (this.pausedBy & PAUSED_BY_APP) !== 0;
  }

  private pauseFor(reason: number): void {
    this.pausedBy |= reason;
    if (this.readPaused || this._state !== 'open') return;
    this.readPaused = true;
    this.parser.pause();
    this.socket.pause();
  }

  private resumeFor(reason: number): void {
    this.pausedBy &= ~reason;
    if (this.pausedBy !== 0 || !this.readPaused || this.discardInput) return;
    this.readPaused = false;
    this.socket.resume();
    this.inBatch = true;
    try {
      this.parser.resume();
    } finally {
      this.inBatch = false;
    }
    this.flush();
  }

  /** @internal Push mode began with messages queued: they go out first, in order. */
  deliverQueued(): void {
    const queue = this.receiveQueue;
    if (queue === null) return;
    while (queue.length > 0 && (this.pausedBy & PAUSED_BY_APP) === 0) {
      const m = queue.shift()!;
      this.emit('message', m.data, m.isBinary);
    }
    if (queue.length < this.options.maxReceiveQueue) this.resumeFor(PAUSED_BY_QUEUE);
  }

  /** Pull style: the next message. Rejects with `ConnectionClosedError` once closed. */
  receive(): Promise<ReceivedMessage> {
    const queue = this.receiveQueue;
    if (queue !== null && queue.length > 0) {
      const m = queue.shift()!;
      if (queue.length < this.options.maxReceiveQueue) this.resumeFor(PAUSED_BY_QUEUE);
      return Promise.resolve(m);
    }
    if (this._state === 'closed' || this.closeFrameReceived) {
      return Promise.reject(this.closedError());
    }
    return new Promise<ReceivedMessage>((resolve, reject) => {
      (this.receiveWaiters ??= []).push({ resolve, reject });
    });
  }

  /** The next message, which must be text. */
  async receiveText(): Promise<string> {
    const m = await this.receive();
    if (m.isBinary) throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', 'Expected a text message, got binary');
    return typeof m.data === 'string' ? m.data : m.data.toString('utf8');
  }

  /** The next message, which must be binary. */
  async receiveBytes(): Promise<Buffer> {
    const m = await this.receive();
    if (!m.isBinary) throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', 'Expected a binary message, got text');
    return m.data as Buffer;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    for (;;) {
      let message: ReceivedMessage;
      try {
        message = await this.receive();
      } catch (error) {
        if (error instanceof ConnectionClosedError) return;
        throw error;
      }
      yield message;
    }
  }

  private closedError(): ConnectionClosedError {
    return new ConnectionClosedError('WSG_ERR_CONNECTION_CLOSED', `The connection closed (${this.closeInfo?.code ?? this.receivedCode})`, undefined, {
      cause: this.closeError,
    });
  }

  // ---- transport events ----------------------------------------------------------------

  /** @internal */
  onSocketEnd(): void {
    // The peer half-closed; nothing more will arrive. Finish our side.
    if (!this.socket.writableEnded) this.socket.end();
  }

  /** @internal */
  onSocketError(err: Error): void {
    this.closeError ??= new IoError('WSG_ERR_IO', `Socket error: ${err.message}`, undefined, { cause: err });
    if (this.listenerCount('error') > 0) this.emit('error', this.closeError);
  }

  /** @internal */
  onSocketClose(): void {
    if (this.closeInfo !== null) return;
    this._state = 'closed';
    this.stopTimers();
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.deflate?.cleanup();
    const info: CloseInfo = this.closeFrameReceived
      ? { code: this.receivedCode, reason: this.receivedReason, wasClean: this.closeFrameSent }
      : this.closeFrameSent
        ? { code: this.sentCode, reason: this.sentReason, wasClean: false }
        : { code: CloseCode.Abnormal, reason: '', wasClean: false };
    if (this.closeError !== undefined) info.error = this.closeError;
    this.closeInfo = info;
    this.controlOut = null;
    this.dataOut = [];
    this.deferred = null;
    this.outBytes = 0;
    this.deferredBytes = 0;
    this.releaseDrainWaiters();
    this.rejectReceivers();
    this.owner?.release(this);
    this.resolveClosed?.(info);
    this.emit('close', info);
  }

  private rejectReceivers(): void {
    const waiters = this.receiveWaiters;
    this.receiveWaiters = null;
    if (waiters !== null) for (const w of waiters) w.reject(this.closedError());
  }

  // ---- timers --------------------------------------------------------------------------

  private onIdleTimeout(): void {
    this.idleTimer = null;
    if (this._state !== 'open') return;
    const error = new TimeoutError('WSG_ERR_IDLE_TIMEOUT', `No frame for ${this.options.idleTimeout} ms`, CloseCode.GoingAway);
    this.closeError ??= error;
    this.startClose(CloseCode.GoingAway, Buffer.from('idle timeout'));
  }

  /** Every pingInterval: a ping; the first unanswered one starts the pongTimeout deadline. */
  private onHeartbeat(): void {
    if (this._state !== 'open') return;
    if (!this.awaitingPong) {
      this.awaitingPong = true;
      this.awaitingSince = Date.now();
    }
    this.queueControl(Opcode.Ping, EMPTY);
    if (this.pongTimer === null) this.pongTimer = setTimeout(() => this.onPongDeadline(), this.options.pongTimeout);
    this.heartbeatTimer?.refresh();
  }

  /** Any inbound byte clears awaitingPong; the deadline only fires for silence since the first unanswered ping. */
  private onPongDeadline(): void {
    this.pongTimer = null;
    if (this._state !== 'open' || !this.awaitingPong) return;
    const waited = Date.now() - this.awaitingSince;
    if (waited < this.options.pongTimeout) {
      this.pongTimer = setTimeout(() => this.onPongDeadline(), this.options.pongTimeout - waited);
      return;
    }
    this.closeError ??= new TimeoutError('WSG_ERR_PONG_TIMEOUT', `No answer to a ping within ${this.options.pongTimeout} ms`, CloseCode.Abnormal);
    this.abortTransport();
  }

  private stopTimers(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    if (this.pongTimer !== null) clearTimeout(this.pongTimer);
    this.idleTimer = null;
    this.heartbeatTimer = null;
    this.pongTimer = null;
  }
}

/** Cuts a reason to 123 bytes without splitting a UTF-8 sequence. */
function truncateReason(message: string): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return bytes;
  let end = MAX_CLOSE_REASON_BYTES;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut code point.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function deliverQueuedOnTick(connection: WebSocketConnection): void {
  connection.deliverQueued();
}

function socketOnData(this: OwnedSocket, chunk: Buffer): void {
  this[kConnection].onSocketData(chunk);
}
function socketOnEnd(this: OwnedSocket): void {
  this[kConnection].onSocketEnd();
}
function socketOnClose(this: OwnedSocket): void {
  this[kConnection].onSocketClose();
}
function socketOnError(this: OwnedSocket, err: Error): void {
  this[kConnection].onSocketError(err);
}
function socketOnDrain(this: OwnedSocket): void {
  this[kConnection].onSocketDrain();
}


function flushOnTick(connection: WebSocketConnection): void {
  connection.flush();
}
