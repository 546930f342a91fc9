/**
 * Why a connection ended, from the gateway's point of view:
 * - `client`   the client started the close handshake
 * - `server`   a handler returned `close(code, reason)`
 * - `kick`     application code outside the handlers closed it: `conn.close()`, `hub.disconnect()`
 * - `timeout`  idle timeout, heartbeat (pong) timeout, or the close handshake timed out
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
