import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { LoggerService } from '@nestjs/common';
import { CloseCode } from '../../frames/close-codes.js';
import type { WsgError } from '../../frames/errors.js';
import type { CloseInfo, SendResult, WebSocketConnection } from '../../frames/websocket-connection.js';
import { closeMark, closeReasonOf, type CloseMark, type WsCloseCause, type WsCloseReason } from '../close-reason.js';
import { ReadyState } from '../ws-connection.js';
import type { ResolvedServerOptions } from './adapter-options.js';

/** What a client needs from the server that accepted it. */
export interface ClientOwner {
  readonly options: ResolvedServerOptions;
  readonly logger: LoggerService;
  /** Called once, when the client's connection is gone, before its `close` event. */
  released(client: WsGateClient): void;
}

/** Where the message dispatcher plugs in; one per client, set by `bindMessageHandlers`. */
export interface ClientMessageSink {
  receive(data: string | Buffer, isBinary: boolean): void;
  /** The connection is gone: drop what waits, end streams. */
  stop(): void;
}

type SendCallback = (error?: Error) => void;
type Payload = string | number | ArrayBufferLike | ArrayBufferView;

const kClient = Symbol('wsgate.adapterClient');
type OwnedEngine = WebSocketConnection & { [kClient]: WsGateClient };

const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;
const FORWARD_PING = 1;
const FORWARD_PONG = 2;

/** Bytes of what ws's `send`/`ping` accept: strings pass as they are, numbers as their text. */
function toSendable(data: Payload): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (typeof data === 'number') return String(data);
  if (ArrayBuffer.isView(data)) return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data as ArrayBuffer);
}

function notOpenError(state: number): Error {
  return new Error(`WebSocket is not open: readyState ${state} (${READY_STATE_NAMES[state]})`);
}

// Shared listeners that find the client on the engine: no closures per connection.
function engineOnMessage(this: OwnedEngine, data: string | Buffer, isBinary: boolean): void {
  this[kClient].onEngineMessage(data, isBinary);
}
function engineOnClose(this: OwnedEngine, info: CloseInfo): void {
  this[kClient].onEngineClose(info);
}
function engineOnError(this: OwnedEngine, error: WsgError): void {
  this[kClient].onEngineError(error);
}
function engineOnPing(this: OwnedEngine, data: Buffer): void {
  this[kClient].emit('ping', data);
}
function engineOnPong(this: OwnedEngine, data: Buffer): void {
  this[kClient].emit('pong', data);
}

/**
 * The client an `@WebSocketGateway` sees under `WsGateAdapter`: the surface of a `ws`
 * WebSocket (`send`, `close`, `terminate`, `ping`, `readyState` and its constants,
 * `bufferedAmount`, `protocol`, events `message` (a Buffer and `isBinary`), `close` (code
 * and reason Buffer), `error`, `ping`, `pong`) over a wsgate engine connection.
 *
 * Beyond ws: `send()` returns the engine's `SendResult`, `drain()` waits for the send queue,
 * `closeReason` says why it ended, `connection` is the engine connection.
 */
export class WsGateClient extends EventEmitter {
  static readonly CONNECTING = ReadyState.Connecting;
  static readonly OPEN = ReadyState.Open;
  static readonly CLOSING = ReadyState.Closing;
  static readonly CLOSED = ReadyState.Closed;

  /** @internal Set by the adapter's `bindMessageHandlers`. */
  sink: ClientMessageSink | null = null;
  private marked: CloseMark | null = null;
  private info: CloseInfo | null = null;
  private reasonCache: WsCloseReason | null = null;
  private forwarding = 0;
  private reading = true;

  constructor(
    /** The engine connection, for what the ws surface does not cover. */
    readonly connection: WebSocketConnection,
    /** @internal The server that accepted it. */
    readonly owner: ClientOwner,
  ) {
    super();
    (connection as OwnedEngine)[kClient] = this;
    connection.on('message', engineOnMessage);
    connection.once('close', engineOnClose);
    connection.on('error', engineOnError);
  }

  get CONNECTING(): 0 {
    return ReadyState.Connecting;
  }
  get OPEN(): 1 {
    return ReadyState.Open;
  }
  get CLOSING(): 2 {
    return ReadyState.Closing;
  }
  get CLOSED(): 3 {
    return ReadyState.Closed;
  }

  /** The engine connection's id: unique per process. */
  get id(): string {
    return this.connection.id;
  }

  /** WHATWG numbers, as ws (and Nest's BaseWsExceptionFilter, which tells native sockets by it). */
  get readyState(): ReadyState {
    switch (this.connection.state) {
      case 'open':
        return ReadyState.Open;
      case 'closing':
        return ReadyState.Closing;
      case 'closed':
        return ReadyState.Closed;
      default:
        return ReadyState.Connecting;
    }
  }

  /** Subprotocol agreed in the handshake ('' for none). */
  get protocol(): string {
    return this.connection.protocol;
  }

  /** Names of the negotiated extensions, comma separated, as ws reports them. */
  get extensions(): string {
    const header = this.connection.extensions;
    if (header === '') return '';
    return header
      .split(',')
      .map((offer) => offer.split(';')[0]!.trim())
      .join();
  }

  /** Bytes accepted for sending but not yet handed to the OS. */
  get bufferedAmount(): number {
    return this.connection.bufferedAmount;
  }

  /** Binary messages arrive as Buffers; the only type this client delivers. */
  get binaryType(): 'nodebuffer' {
    return 'nodebuffer';
  }

  /** The transport (a `net.Socket` over HTTP/1.1), where ws keeps it, for `remoteAddress` and the like. */
  get _socket(): Duplex {
    return this.connection.transport;
  }

  /** Why the connection ended; null while it is open. */
  get closeReason(): WsCloseReason | null {
    if (this.info === null) return null;
    return (this.reasonCache ??= closeReasonOf(this.info, this.marked));
  }

  /**
   * Sends a message as ws does: a string as text, anything else as binary (`binary`
   * overrides). Not open: nothing is sent, `cb` gets the error. `cb` otherwise runs once the
   * send queue is back under `sendLowWaterMark`.
   */
  send(data: Payload, options?: { binary?: boolean } | SendCallback, cb?: SendCallback): SendResult {
    const callback = typeof options === 'function' ? options : cb;
    const binary = typeof options === 'object' ? options.binary : undefined;
    const state = this.readyState;
    if (state !== ReadyState.Open) {
      if (callback !== undefined) process.nextTick(callback, notOpenError(state));
      return 'dropped';
    }
    const payload = toSendable(data);
    const result = this.connection.send(payload, binary === undefined ? undefined : { binary });
    if (callback !== undefined) {
      void this.connection.drain().then(() => callback());
    }
    return result;
  }

  /** Sends a ping (`data` up to 125 bytes). Not open: nothing is sent, `cb` gets the error. */
  ping(data?: Payload, _mask?: boolean, cb?: SendCallback): void {
    this.control('ping', data, cb);
  }

  /** Sends an unsolicited pong. Not open: nothing is sent, `cb` gets the error. */
  pong(data?: Payload, _mask?: boolean, cb?: SendCallback): void {
    this.control('pong', data, cb);
  }

  private control(kind: 'ping' | 'pong', data: Payload | undefined, cb: SendCallback | undefined): void {
    const state = this.readyState;
    if (state !== ReadyState.Open) {
      if (cb !== undefined) process.nextTick(cb, notOpenError(state));
      return;
    }
    const payload = data === undefined ? undefined : toSendable(data);
    if (kind === 'ping') this.connection.ping(payload);
    else this.connection.pong(payload);
    if (cb !== undefined) process.nextTick(cb);
  }

  /**
   * Starts the closing handshake, as ws does. Does nothing unless open; a code that may not be
   * sent or a reason over 123 bytes throws (`WSG_ERR_INVALID_ARGUMENT`). Without a code, 1000
   * is sent. `cause` is what `closeReason` will report (`kick` unless given; the adapter gives
   * its own, with the `error` behind it).
   */
  close(code?: number, reason?: string | Buffer, cause: WsCloseCause = 'kick', error?: unknown): void {
    if (this.connection.state !== 'open') return;
    this.marked ??= closeMark(cause, error);
    this.connection.close(code ?? CloseCode.Normal, typeof reason === 'string' ? reason : (reason?.toString('utf8') ?? ''));
  }

  /**
   * Drops the transport at once, without a closing handshake (the peer sees 1006), as ws
   * does. `cause` is what `closeReason` will report (`kick` unless given).
   */
  terminate(cause: WsCloseCause = 'kick'): void {
    if (this.connection.state === 'closed') return;
    this.marked ??= { cause };
    this.connection.terminate();
  }

  /** Resolves when the send queue is at or below its low-water mark (or the connection closed). */
  drain(): Promise<void> {
    return this.connection.drain();
  }

  override on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  override on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  override on(event: 'error', listener: (error: Error) => void): this;
  override on(event: 'ping' | 'pong', listener: (data: Buffer) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    this.forward(event);
    return this;
  }

  override addListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.on(event, listener);
  }

  override prependListener(event: string | symbol, listener: (...args: any[]) => void): this {
    super.prependListener(event, listener);
    this.forward(event);
    return this;
  }

  /** The engine reports pings and pongs only to listeners: subscribe to it once somebody here listens. */
  private forward(event: string | symbol): void {
    if (event === 'ping' && (this.forwarding & FORWARD_PING) === 0) {
      this.forwarding |= FORWARD_PING;
      this.connection.on('ping', engineOnPing);
    } else if (event === 'pong' && (this.forwarding & FORWARD_PONG) === 0) {
      this.forwarding |= FORWARD_PONG;
      this.connection.on('pong', engineOnPong);
    }
  }

  // ---- for the adapter -----------------------------------------------------------------

  /**
   * @internal Stops (or resumes) taking messages from the engine, which stops reading the
   * socket: back-pressure reaches the client's TCP.
   */
  holdReading(hold: boolean): void {
    if (hold === !this.reading || this.info !== null) return;
    this.reading = !hold;
    if (hold) this.connection.pause();
    else this.connection.resume();
  }

  /** @internal */
  onEngineMessage(data: string | Buffer, isBinary: boolean): void {
    // ws hands text over as bytes too; only pay for the copy when somebody listens.
    if (this.listenerCount('message') > 0) this.emit('message', typeof data === 'string' ? Buffer.from(data, 'utf8') : data, isBinary);
    this.sink?.receive(data, isBinary);
  }

  /** @internal */
  onEngineError(error: WsgError): void {
    this.owner.logger.warn?.(`[${error.code}] client ${this.connection.id}: ${error.message}`);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** @internal */
  onEngineClose(info: CloseInfo): void {
    this.info = info;
    this.sink?.stop();
    this.owner.released(this);
    this.emit('close', info.code, Buffer.from(info.reason, 'utf8'));
  }
}
