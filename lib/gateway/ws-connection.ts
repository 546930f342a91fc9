import type { IncomingHttpHeaders } from 'node:http';
import { CloseCode } from '../frames/close-codes.js';
import { AlreadyClosedError } from '../frames/errors.js';
import type { PreparedMessage, SendOptions, SendResult, WebSocketConnection } from '../frames/websocket-connection.js';
import type { HubMember } from '../hub/hub-member.js';
import type { WsHub } from '../hub/index.js';
import type { WsCloseCause, WsCloseReason } from './close-reason.js';
import type { WsCodec } from './codec.js';
import { GatewayError } from './errors.js';
import type { WsUpgradeRequest } from './upgrade-request.js';

/** `pending` until @OnAccept decides; `denied` when it refused (no 101 was sent). */
export type WsConnectionState = 'pending' | 'open' | 'closing' | 'closed' | 'denied';

/** The WHATWG WebSocket `readyState` numbers. */
export const ReadyState = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** What a `WsConnection` stands on; implemented by the gateway's connection runner. */
export interface ConnectionCore {
  readonly state: WsConnectionState;
  /** The engine connection; null before the 101. */
  readonly connection: WebSocketConnection | null;
  readonly codec: WsCodec;
  readonly hub: WsHub;
  deliverInfo(type: string, data: unknown): void;
  /** Starts the closing handshake for `cause`; nothing when not open. */
  close(code: number, reason: string, cause: WsCloseCause, error?: unknown): void;
  closed(): Promise<WsCloseReason>;
}

/**
 * One client connection as gateways see it: the upgrade request snapshot, the state given
 * at accept (`data`, what `@State()` returns), sending, closing, and topics in the hub.
 * It is the `REQUEST` of a connection-scoped gateway's DI context.
 */
export class WsConnection<S = unknown> implements HubMember {
  /** Per-connection state: set by `accept(state)`, free to change afterwards. */
  data: S = undefined as S;

  constructor(
    /** Unique per process; the hub's id for this connection. */
    readonly id: string,
    readonly request: WsUpgradeRequest,
    private readonly core: ConnectionCore,
  ) {}

  /** Resolves once, after `@OnClose` ran, with why the connection ended. */
  get closed(): Promise<WsCloseReason> {
    return this.core.closed();
  }

  get state(): WsConnectionState {
    return this.core.state;
  }

  /** WHATWG numbers, so code written for `ws` sockets (Nest's BaseWsExceptionFilter) recognizes it. */
  get readyState(): ReadyState {
    switch (this.core.state) {
      case 'pending':
        return ReadyState.Connecting;
      case 'open':
        return ReadyState.Open;
      case 'closing':
        return ReadyState.Closing;
      default:
        return ReadyState.Closed;
    }
  }

  get isOpen(): boolean {
    return this.core.state === 'open';
  }

  /** Subprotocol agreed in the handshake ('' for none). */
  get protocol(): string {
    return this.core.connection?.protocol ?? '';
  }

  /** The upgrade request's headers, so context-id strategies written for HTTP requests work. */
  get headers(): Readonly<IncomingHttpHeaders> {
    return this.request.headers;
  }

  get remoteAddress(): string | undefined {
    return this.request.remoteAddress;
  }

  /** Bytes accepted for sending but not yet handed to the OS. */
  get bufferedAmount(): number {
    return this.core.connection?.bufferedAmount ?? 0;
  }

  /** The engine connection (null before the 101); for what the gateway API does not cover. */
  get connection(): WebSocketConnection | null {
    return this.core.connection;
  }

  /**
   * The engine connection: the old name of `connection` (a socket is the transport under it).
   * @deprecated Use `connection`; `socket` goes away in 0.2.0.
   */
  get socket(): WebSocketConnection | null {
    return this.core.connection;
  }

  /**
   * Sends a message as it is: a string as text, bytes as binary. Throws when not open. At a
   * full send queue a `volatile` message is dropped (counted); any other closes the connection 1013.
   */
  send(raw: string | Uint8Array, options?: SendOptions): SendResult {
    return this.openConnection('send').send(raw, options);
  }

  /** Sends `data` under `event`, encoded by the gateway's codec. Throws when not open. `volatile` as for `send()`. */
  emit(event: string, data?: unknown, options?: SendOptions): SendResult {
    return this.openConnection('emit').send(this.core.codec.encode(event, data), options);
  }

  /**
   * Starts the closing handshake from outside the handlers (cause `kick`); handlers return
   * `close(code, reason)` instead. Throws `WSG_ERR_GATEWAY_NOT_OPEN` when not open.
   */
  close(code: number = CloseCode.Normal, reason = ''): void {
    this.openConnection('close');
    this.core.close(code, reason, 'kick');
  }

  /** Resolves when the send queue is at or below its low-water mark. */
  drain(): Promise<void> {
    return this.core.connection?.drain() ?? Promise.resolve();
  }

  join(topic: string): void {
    this.openConnection('join');
    this.core.hub.join(this, topic);
  }

  leave(topic: string): void {
    this.core.hub.leave(this, topic);
  }

  get topics(): ReadonlySet<string> {
    return this.core.hub.topicsOf(this);
  }

  /** The hub (HubMember) writes broadcasts encoded once through this. */
  sendPrepared(message: PreparedMessage, options?: SendOptions): SendResult {
    const connection = this.core.connection;
    if (connection === null) throw new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', 'The connection is not open yet');
    return connection.sendPrepared(message, options);
  }

  private openConnection(operation: string): WebSocketConnection {
    const state = this.core.state;
    if (state !== 'open') throw new GatewayError('WSG_ERR_GATEWAY_NOT_OPEN', `Cannot ${operation}: connection ${this.id} is ${state}`);
    return this.core.connection!;
  }

  /** Queues an info for `@OnInfo`, in order with client messages (what `hub.send()` calls). */
  deliverInfo(type: string, data?: unknown): void {
    this.core.deliverInfo(type, data);
  }
}
