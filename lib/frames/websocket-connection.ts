import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CloseCode, MAX_CLOSE_REASON_BYTES, isValidWireCloseCode } from './close-codes.js';
import { CloseHandshake, type CloseInfo } from './connection/close-handshake.js';
import { FrameWriter, type SendOptions, type SendResult } from './connection/frame-writer.js';
import { Heartbeat } from './connection/heartbeat.js';
import { InboundQueue, type ReceivedMessage } from './connection/inbound-queue.js';
import { resolveConnectionOptions, type ConnectionOptions, type ResolvedConnectionOptions } from './connection-options.js';
import {
  AlreadyClosedError,
  CapacityError,
  ConnectionClosedError,
  InvalidArgumentError,
  IoError,
  TimeoutError,
  WsgError,
} from './errors.js';
import { FrameParser } from './frame-parser.js';
import { Opcode } from './opcodes.js';
import type { DeflateCodec } from './deflate-codec.js';
import type { PreparedMessage } from './prepared-message.js';
import type { SendQueueObserver } from './send-queue-counters.js';

export { PreparedMessage, encodeOnce } from './prepared-message.js';
export type { SendOptions, SendResult } from './connection/frame-writer.js';
export type { CloseInfo } from './connection/close-handshake.js';
export type { ReceivedMessage } from './connection/inbound-queue.js';

/** `pending` (before the handshake completes) is used by layers above; the engine starts `open`. */
export type ConnectionState = 'pending' | 'open' | 'closing' | 'closed';

export interface ConnectionInit extends ConnectionOptions {
  role: 'server' | 'client';
  /** Subprotocol agreed in the handshake. */
  protocol?: string;
  /** Sec-WebSocket-Extensions value agreed in the handshake. */
  extensions?: string;
  /** Negotiated permessage-deflate, or null. */
  deflate?: DeflateCodec | null;
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

/** A server that tracks its connections: told once, when one closes. */
export interface ConnectionOwner {
  release(connection: WebSocketConnection): void;
}

const kConnection = Symbol('wsgate.connection');
type OwnedSocket = Duplex & { [kConnection]: WebSocketConnection };

const EMPTY = Buffer.alloc(0);

/** Reasons reading is stopped (WebSocketConnection.pausedBy bits). */
const PAUSED_BY_APP = 1;
const PAUSED_BY_QUEUE = 2;

/**
 * One WebSocket connection over any Duplex (TCP, TLS, an HTTP/2 stream), in either role: a
 * coordinator over focused parts — the parser (lib/frames/frame-parser.ts), the writer
 * (connection/frame-writer.ts), the closing handshake (connection/close-handshake.ts), the
 * timers (connection/heartbeat.ts) and the pull queue (connection/inbound-queue.ts). The
 * last three are made only when a connection needs them.
 *
 * Reading: text is delivered decoded (or as bytes: `decodeText`); one consumer (receive()
 * until a 'message' listener attaches, events after); back-pressure is pause()/resume().
 * Writing: `send()` reports back-pressure synchronously. Closing follows RFC 6455 §7 with a
 * `closeTimeout`.
 */
export class WebSocketConnection extends EventEmitter {
  readonly role: 'server' | 'client';
  readonly protocol: string;
  readonly extensions: string;
  readonly options: ResolvedConnectionOptions;

  private readonly socket: Duplex;
  // Made on first use (see the `parser` and `writer` getters): an idle connection that has
  // neither read nor sent a frame carries neither, nor their buffers' arrays.
  private _parser: FrameParser | null = null;
  private _writer: FrameWriter | null = null;
  private readonly deflate: DeflateCodec | null;
  private readonly abort: TransportAbort | null;
  private _id: string | undefined;
  private _state: ConnectionState = 'open';

  // Reading. One consumer: receive() / for-await read the queue until a 'message' listener
  // attaches; from then on messages are events, for good. Back-pressure is pause()/resume().
  private pushMode = false;
  private inbound: InboundQueue | null = null;
  /** Who wants reading stopped: PAUSED_BY_APP (pause()) and/or PAUSED_BY_QUEUE (maxReceiveQueue waiting). */
  private pausedBy = 0;
  /** The socket and parser are stopped (pausedBy != 0, unless closing forced reading on). */
  private readPaused = false;
  /** Bytes read with the handshake, parsed once listeners had a chance to attach. */
  private pendingHead: Buffer | null = null;
  /** After a close frame or a failure: bytes are read and dropped. */
  private discardInput = false;

  private closing: CloseHandshake | null = null;
  private heartbeat: Heartbeat | null = null;
  private closeError: WsgError | undefined;
  private closeInfo: CloseInfo | null = null;
  private closedPromise: Promise<CloseInfo> | null = null;
  private resolveClosed: ((info: CloseInfo) => void) | null = null;
  private owner: ConnectionOwner | null = null;
  private sendQueueObserver: SendQueueObserver | null = null;
  private watchingDrain = false;

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

    const maybeNet = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
    if (typeof maybeNet.setNoDelay === 'function') maybeNet.setNoDelay(true);
    if (typeof maybeNet.setTimeout === 'function') maybeNet.setTimeout(0);

    // Shared handlers that find the connection on the socket: no closures per connection.
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    // 'drain' is listened for only after a write returned false (watchDrain): one listener
    // fewer on every idle socket.

    if (this.options.idleTimeout > 0 || this.options.pingInterval > 0) this.heartbeat = new Heartbeat(this, this.options);
    // Let the caller attach listeners (even after an awaited connect()) before bytes that came
    // with the handshake are parsed; data that arrives earlier is queued behind them.
    if (head.length > 0) {
      this.pendingHead = head;
      setImmediate(() => this.parsePendingHead());
    }
    if (socket.destroyed) process.nextTick(() => this.onSocketClose());
  }

  private get parser(): FrameParser {
    return (this._parser ??= new FrameParser(
      {
        role: this.role,
        maxFrameSize: this.options.maxFrameSize,
        maxMessageSize: this.options.maxMessageSize,
        acceptUnmaskedFrames: this.options.acceptUnmaskedFrames,
        deflate: this.deflate,
      },
      this,
    ));
  }

  private get writer(): FrameWriter {
    return (this._writer ??= new FrameWriter(this, this.socket, this.role === 'client', this.deflate, this.options));
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

  /** @internal The transport is gone (the writer's host). */
  get isClosed(): boolean {
    return this._state === 'closed';
  }

  /** Bytes accepted by `send()` but not yet handed to the OS: ours plus the socket's buffer. */
  get bufferedAmount(): number {
    return this._writer !== null ? this._writer.bufferedAmount : this.socket.writableLength;
  }

  /** The transport, for callers that need its address. */
  get transport(): Duplex {
    return this.socket;
  }

  /** @internal A server that tracks this connection; told once, when it closes (no listener per connection). */
  setOwner(owner: ConnectionOwner): void {
    this.owner = owner;
  }

  /** @internal Who counts this connection's drops and policy closes (a server's or a gateway's counters). */
  observeSendQueue(observer: SendQueueObserver): void {
    this.sendQueueObserver = observer;
  }

  /** @internal The writer's host: a send was refused at maxSendQueue. */
  sendRefused(outcome: 'dropped' | 'closed'): void {
    const observer = this.sendQueueObserver;
    if (observer === null) return;
    if (outcome === 'dropped') observer.messageDropped();
    else observer.connectionClosed();
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

  /**
   * Sends a message: a string as text, bytes as binary (or as `options.binary` says). Below
   * `maxSendQueue` it is admitted whole; at it, a `volatile` message is dropped (counted) and
   * any other follows `sendQueuePolicy` (default: close 1013).
   */
  send(data: string | Uint8Array, options?: SendOptions & { binary?: boolean }): SendResult {
    this.assertOpen('send');
    const volatile = options?.volatile === true;
    if (typeof data === 'string') {
      if (options?.binary === true) return this.writer.sendMessage(Opcode.Binary, Buffer.from(data, 'utf8'), volatile);
      return this.writer.sendString(data, volatile);
    }
    if (!(data instanceof Uint8Array)) {
      throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', 'send() takes a string or a Uint8Array');
    }
    return this.writer.sendMessage(options?.binary === false ? Opcode.Text : Opcode.Binary, asBuffer(data), volatile);
  }

  sendText(text: string): SendResult {
    this.assertOpen('send');
    return this.writer.sendString(text);
  }

  sendBytes(bytes: Uint8Array): SendResult {
    this.assertOpen('send');
    return this.writer.sendMessage(Opcode.Binary, asBuffer(bytes));
  }

  /** Sends a message encoded once by `encodeOnce()`; servers write the shared bytes as they are. */
  sendPrepared(message: PreparedMessage, options?: SendOptions): SendResult {
    this.assertOpen('send');
    return this.writer.sendPrepared(message, options?.volatile === true);
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
    this.writer.queueControl(opcode, payload);
  }

  private assertOpen(what: string): void {
    if (this._state !== 'open') {
      throw new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', `Cannot ${what}: the connection is ${this._state}`);
    }
  }

  /** Resolves when `bufferedAmount` is at or below `sendLowWaterMark` (or the connection closed). */
  drain(): Promise<void> {
    return this.writer.drain(this._state === 'closed');
  }

  /** @internal The writer's host: the socket drained below the low-water mark. */
  onDrained(): void {
    this.emit('drain');
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
    this.heartbeat?.stop();
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
    (this.closing ??= new CloseHandshake()).sending(code, reasonBytes.toString('utf8'));
    this.writer.queueClose(payload);
    this.armCloseTimer();
  }

  /** @internal The writer's host: our close frame is in the queue, behind earlier data. */
  onCloseFrameQueued(): void {
    const closing = (this.closing ??= new CloseHandshake());
    closing.frameSent = true;
    if (closing.frameReceived && this.role === 'server') this.writer.endWhenFlushed();
  }

  private armCloseTimer(): void {
    this.closing!.arm(this.options.closeTimeout, () => {
      this.closeError ??= new TimeoutError('WSG_ERR_CLOSE_TIMEOUT', `Close handshake not finished within ${this.options.closeTimeout} ms`);
      this.abortTransport();
    });
  }

  /** @internal Fail the WebSocket connection (§7.1.7): send a close with the error's code, then drop TCP. */
  failWith(error: WsgError): void {
    if (this._state === 'closed') return;
    this.closeError ??= error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    if (this._state === 'open') {
      const code = error.closeCode ?? CloseCode.InternalError;
      this.startClose(code, truncateReason(error.message));
    }
    // Stop parsing but keep the socket flowing, so the peer's FIN is seen and TCP ends promptly.
    this.discardInput = true;
    this.writer.endWhenFlushed();
    if (this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
    this.writer.flushUnlessBatching();
  }

  // ---- timers (the heartbeat's host) ------------------------------------------------------

  /** @internal */
  sendHeartbeatPing(): void {
    this.writer.queueControl(Opcode.Ping, EMPTY);
  }

  /** @internal */
  onIdleTimeout(): void {
    this.closeError ??= new TimeoutError('WSG_ERR_IDLE_TIMEOUT', `No frame for ${this.options.idleTimeout} ms`, CloseCode.GoingAway);
    this.startClose(CloseCode.GoingAway, Buffer.from('idle timeout'));
  }

  /** @internal */
  onPongTimeout(): void {
    this.closeError ??= new TimeoutError('WSG_ERR_PONG_TIMEOUT', `No answer to a ping within ${this.options.pongTimeout} ms`, CloseCode.Abnormal);
    this.abortTransport();
  }

  // ---- reading (the parser's sink) -------------------------------------------------------

  /**
   * The first 'message' listener makes messages events for the rest of the connection's life;
   * it gets what queued before it (e.g. bytes that came with the handshake) first, in order.
   */
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'message' && !this.pushMode) {
      this.pushMode = true;
      if (this.inbound !== null && this.inbound.length > 0) process.nextTick(deliverQueuedOnTick, this);
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
    this.heartbeat?.onInbound();
    this.writer.beginBatch();
    try {
      this.parser.push(chunk);
    } finally {
      this.writer.endBatch();
    }
    this.writer.flush();
  }

  /** @internal */
  onMessage(data: Buffer, isText: boolean): void {
    if (this.closing?.frameReceived === true) return;
    const inbound = this.inbound;
    if (this.pushMode && (inbound === null || inbound.length === 0)) {
      // Paused yet reading: only while closing, to reach the peer's close reply. The
      // application asked not to be fed, so what comes before the reply is dropped.
      if (this.pausedBy !== 0) return;
      this.emit('message', isText && this.options.decodeText ? data.toString('utf8') : data, !isText);
      return;
    }
    const queue = (this.inbound ??= new InboundQueue());
    // Closing and nobody reading: drop, so the close reply behind this message gets through.
    if (this._state !== 'open' && queue.length >= this.options.maxReceiveQueue) return;
    queue.offer({ data: isText && this.options.decodeText ? data.toString('utf8') : data, isBinary: !isText });
    if (queue.length >= this.options.maxReceiveQueue) this.pauseFor(PAUSED_BY_QUEUE);
  }

  /** @internal */
  onPing(payload: Buffer): void {
    if (this.listenerCount('ping') > 0) this.emit('ping', payload);
    if (this._state !== 'open') return;
    if (!this.writer.queuePong(payload)) {
      this.failWith(
        new CapacityError('WSG_ERR_TOO_MANY_PENDING_PONGS', `More than ${this.options.maxPendingPongs} pongs owed; the peer is not reading`, CloseCode.PolicyViolation),
      );
    }
  }

  /** @internal */
  onPong(payload: Buffer): void {
    if (this.listenerCount('pong') > 0) this.emit('pong', payload);
  }

  /** @internal */
  onClose(code: number, reason: string): void {
    const closing = (this.closing ??= new CloseHandshake());
    closing.received(code, reason);
    // §5.5.1: nothing after a close frame is data; drop it without buffering.
    this.discardInput = true;
    this.parser.pause();
    if (this._state === 'open') {
      // Echo the code (§5.5.1); an empty close is answered with an empty close.
      this._state = 'closing';
      this.heartbeat?.stop();
      let payload = EMPTY;
      if (code !== CloseCode.NoStatus) {
        payload = Buffer.allocUnsafe(2);
        payload.writeUInt16BE(code, 0);
      }
      this.writer.queueClose(payload);
      this.armCloseTimer();
    }
    // The server closes TCP first once both close frames are out (§7.1.1); a client waits for it.
    if (this.role === 'server') this.writer.endWhenFlushed();
    this.writer.flushUnlessBatching();
    this.inbound?.rejectWaiters(() => this.closedError());
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
    if (this.pushMode && this.inbound !== null && this.inbound.length > 0) process.nextTick(deliverQueuedOnTick, this);
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
    this.writer.beginBatch();
    try {
      this.parser.resume();
    } finally {
      this.writer.endBatch();
    }
    this.writer.flush();
  }

  /** @internal Push mode began with messages queued: they go out first, in order. */
  deliverQueued(): void {
    const queue = this.inbound;
    if (queue === null) return;
    while (queue.length > 0 && (this.pausedBy & PAUSED_BY_APP) === 0) {
      const m = queue.take()!;
      this.emit('message', m.data, m.isBinary);
    }
    if (queue.length < this.options.maxReceiveQueue) this.resumeFor(PAUSED_BY_QUEUE);
  }

  /** Pull style: the next message. Rejects with `ConnectionClosedError` once closed. */
  receive(): Promise<ReceivedMessage> {
    const queue = this.inbound;
    if (queue !== null && queue.length > 0) {
      const m = queue.take()!;
      if (queue.length < this.options.maxReceiveQueue) this.resumeFor(PAUSED_BY_QUEUE);
      return Promise.resolve(m);
    }
    if (this._state === 'closed' || this.closing?.frameReceived === true) {
      return Promise.reject(this.closedError());
    }
    return (this.inbound ??= new InboundQueue()).wait();
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
    const code = this.closeInfo?.code ?? this.closing?.receivedCodeOrAbnormal ?? CloseCode.Abnormal;
    return new ConnectionClosedError('WSG_ERR_CONNECTION_CLOSED', `The connection closed (${code})`, undefined, { cause: this.closeError });
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

  /** @internal The writer's host: a write returned false. */
  watchDrain(): void {
    if (this.watchingDrain) return;
    this.watchingDrain = true;
    this.socket.once('drain', socketOnDrain);
  }

  /** @internal */
  onSocketDrain(): void {
    this.watchingDrain = false;
    this.writer.onSocketDrain();
  }

  /** @internal */
  onSocketClose(): void {
    if (this.closeInfo !== null) return;
    this._state = 'closed';
    this.heartbeat?.stop();
    this.closing?.disarm();
    this.deflate?.cleanup();
    const info: CloseInfo = this.closing !== null ? this.closing.info() : { code: CloseCode.Abnormal, reason: '', wasClean: false };
    if (this.closeError !== undefined) info.error = this.closeError;
    this.closeInfo = info;
    this._writer?.discard();
    this.inbound?.rejectWaiters(() => this.closedError());
    this.owner?.release(this);
    this.resolveClosed?.(info);
    this.emit('close', info);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
