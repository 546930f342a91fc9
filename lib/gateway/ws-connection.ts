import type { IncomingHttpHeaders } from 'node:http';
import { CloseCode } from '../frames/close-codes.js';
import type { PreparedMessage, SendResult, WebSocketConnection } from '../frames/websocket-connection.js';
import type { HubMember } from '../hub/hub-member.js';
import type { WsCloseReason } from './close-reason.js';
import type { WsUpgradeRequest } from './upgrade-request.js';

/** `pending` until @OnAccept decides; `denied` when it refused (no 101 was sent). */
export type WsConnectionState = 'pending' | 'open' | 'closing' | 'closed' | 'denied';

/** The WHATWG WebSocket `readyState` numbers. */
export const ReadyState = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** What a `WsConnection` delegates to; implemented by the gateway's executor. */
export interface ConnectionCore {
  readonly state: WsConnectionState;
  readonly socket: WebSocketConnection | null;
  send(raw: string | Uint8Array): SendResult;
  emit(event: string, data: unknown): SendResult;
  sendPrepared(message: PreparedMessage): SendResult;
  deliverInfo(type: string, data: unknown): void;
  kick(code: number, reason: string): void;
  join(topic: string): void;
  leave(topic: string): void;
  topics(): ReadonlySet<string>;
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
    return this.core.socket?.protocol ?? '';
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
    return this.core.socket?.bufferedAmount ?? 0;
  }

  /** The engine connection (null before the 101); for what the gateway API does not cover. */
  get socket(): WebSocketConnection | null {
    return this.core.socket;
  }

  /** Sends a message as it is: a string as text, bytes as binary. Throws when not open. */
  send(raw: string | Uint8Array): SendResult {
    return this.core.send(raw);
  }

  /** Sends `data` under `event`, encoded by the gateway's codec. Throws when not open. */
  emit(event: string, data?: unknown): SendResult {
    return this.core.emit(event, data);
  }

  /** Closes from outside the handlers (cause `kick`); handlers return `close(code, reason)` instead. */
  close(code: number = CloseCode.Normal, reason = ''): void {
    this.core.kick(code, reason);
  }

  /** Resolves when the send queue is at or below its low-water mark. */
  drain(): Promise<void> {
    return this.core.socket?.drain() ?? Promise.resolve();
  }

  join(topic: string): void {
    this.core.join(topic);
  }

  leave(topic: string): void {
    this.core.leave(topic);
  }

  get topics(): ReadonlySet<string> {
    return this.core.topics();
  }

  /** The hub (HubMember) writes broadcasts encoded once through this. */
  sendPrepared(message: PreparedMessage): SendResult {
    return this.core.sendPrepared(message);
  }

  /** Queues an info for `@OnInfo`, in order with client messages (what `hub.send()` calls). */
  deliverInfo(type: string, data?: unknown): void {
    this.core.deliverInfo(type, data);
  }
}
