import { CloseCode } from '../frames/close-codes.js';
import { IoError, SendQueueFullError, TimeoutError } from '../frames/errors.js';
import type { CloseInfo } from '../frames/websocket-connection.js';

/**
 * Why a connection ended, from the gateway's point of view:
 * - `client`   the client started the closing handshake
 * - `server`   a handler returned `close(code, reason)`
 * - `kick`     application code outside the handlers closed it: `conn.close()`, `hub.disconnect()`
 * - `timeout`  idle timeout, heartbeat (pong) timeout, or the closing handshake timed out
 * - `protocol` the client broke RFC 6455 or a limit, or sent a message the gateway closes on
 * - `io`       the transport failed or dropped without a close frame
 * - `error`    a handler failed unexpectedly and the gateway's `onError` is `'close'`
 * - `overflow` the mailbox or the send queue ran over its bound
 * - `shutdown` the application is shutting down (1001)
 * - `denied`   `@OnAccept` refused; no WebSocket existed (only `conn.closed` reports this; `@OnClose` does not run)
 */
export type WsCloseCause = 'client' | 'server' | 'kick' | 'timeout' | 'protocol' | 'io' | 'error' | 'overflow' | 'shutdown' | 'denied';

/** What `@Reason()` gives an `@OnClose` handler. */
export interface WsCloseReason {
  /** The close code sent or received; 1006 when TCP went away without one. */
  readonly code: number;
  readonly reason: string;
  /** Both close frames were exchanged (RFC 6455 §7.1.4). */
  readonly wasClean: boolean;
  readonly cause: WsCloseCause;
  /** The error behind the close, for `timeout`, `protocol`, `io`, `error` and `overflow`. */
  readonly error?: unknown;
}

/** @internal What this side decided before the engine closed: the cause, and the error behind it. */
export interface CloseMark {
  readonly cause: WsCloseCause;
  readonly error?: unknown;
}

/** @internal The mark for `cause`, with `error` only when there is one (a reason's `error` is absent, never undefined). */
export function closeMark(cause: WsCloseCause, error?: unknown): CloseMark {
  return error === undefined ? { cause } : { cause, error };
}

/**
 * @internal Why a connection ended, from the engine's account (`info`) and what this side
 * marked before closing (null: nothing, the client or the transport ended it). One
 * derivation for gateways and for `WsGateAdapter` clients.
 */
export function closeReasonOf(info: CloseInfo, mark: CloseMark | null): WsCloseReason {
  const base = { code: info.code, reason: info.reason, wasClean: info.wasClean };
  const error = mark?.error ?? info.error;
  let cause: WsCloseCause;
  if (mark !== null) cause = mark.cause;
  else if (error instanceof TimeoutError) cause = 'timeout';
  else if (error instanceof IoError) cause = 'io';
  else if (error instanceof SendQueueFullError) cause = 'overflow';
  else if (error !== undefined) cause = 'protocol';
  else cause = info.code === CloseCode.Abnormal ? 'io' : 'client';
  return Object.freeze(error === undefined ? { ...base, cause } : { ...base, cause, error });
}
