import type { PreparedMessage, SendOptions, SendResult } from '../frames/websocket-connection.js';

/**
 * What the hub needs from a connection, and nothing more. The gateway layer wraps each
 * `WebSocketConnection` in one; tests use small in-memory objects.
 */
export interface HubMember {
  /** Unique among the members of one hub (the engine's connection id). */
  readonly id: string;
  /**
   * Writes bytes encoded once for a broadcast; `volatile` ones may be dropped at a full send
   * queue. May throw SendQueueFullError / AlreadyClosedError.
   */
  sendPrepared(msg: PreparedMessage, options?: SendOptions): SendResult;
  /** Hands an info message from the rest of the application to the connection's mailbox. */
  deliverInfo(type: string, data: unknown): void;
  /** Starts the closing handshake with this code and reason. */
  close(code: number, reason: string): void;
}
