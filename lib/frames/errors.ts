import { CloseCode } from './close-codes.js';

/** Every error code the frame engine raises, with the one-line meaning users search for. */
export const FrameErrorCode = {
  WSG_ERR_INVALID_OPCODE: 'A frame used a reserved opcode (RFC 6455 §5.2)',
  WSG_ERR_UNEXPECTED_RSV: 'A reserved bit was set that no negotiated extension defines (§5.2)',
  WSG_ERR_EXPECTED_MASK: 'A client frame arrived unmasked (§5.1)',
  WSG_ERR_UNEXPECTED_MASK: 'A server frame arrived masked (§5.1)',
  WSG_ERR_INVALID_LENGTH: 'A 64-bit payload length had its most significant bit set (§5.2)',
  WSG_ERR_NON_MINIMAL_LENGTH: 'A payload length used a longer form than it needs: 16 bits for < 126, 64 bits for < 65536 (§5.2)',
  WSG_ERR_CONTROL_FRAME_TOO_LONG: 'A control frame carried more than 125 bytes (§5.5)',
  WSG_ERR_FRAGMENTED_CONTROL: 'A control frame had FIN clear (§5.5)',
  WSG_ERR_UNEXPECTED_CONTINUATION: 'A continuation frame arrived with no message in progress (§5.4)',
  WSG_ERR_EXPECTED_CONTINUATION: 'A new data frame arrived while a fragmented message was in progress (§5.4)',
  WSG_ERR_INVALID_CLOSE_CODE: 'A close frame carried a code that may not be sent (§7.4)',
  WSG_ERR_INVALID_CLOSE_PAYLOAD: 'A close frame carried a 1-byte payload (§5.5.1)',
  WSG_ERR_INVALID_UTF8: 'A text message or close reason was not valid UTF-8 (§8.1)',
  WSG_ERR_INVALID_COMPRESSED_DATA: 'A compressed message could not be inflated (RFC 7692 §7.2.2)',
  WSG_ERR_DEFLATE_FAILED: 'zlib could not create a stream or compress a message (closes 1011)',
  WSG_ERR_MESSAGE_TOO_LARGE: 'A message (declared or inflated) exceeded maxMessageSize',
  WSG_ERR_FRAME_TOO_LARGE: 'A frame declared a payload over maxFrameSize',
  WSG_ERR_TOO_MANY_PENDING_PONGS: 'The peer sent pings faster than their pongs could be written (maxPendingPongs)',
  WSG_ERR_SEND_QUEUE_FULL: 'send() was called while the send queue was at or over maxSendQueue bytes',
  WSG_ERR_ALREADY_CLOSED: 'The connection is closing or closed; nothing more can be sent',
  WSG_ERR_CONNECTION_CLOSED: 'The connection closed; no more messages will arrive',
  WSG_ERR_INVALID_ARGUMENT: 'An API call got an argument it cannot use (close code, reason length, data type)',
  WSG_ERR_INVALID_OPTION: 'An engine option is out of range or conflicts with another',
  WSG_ERR_IO: 'The underlying socket failed',
  WSG_ERR_CLOSE_TIMEOUT: 'The peer did not complete the close handshake within closeTimeout',
  WSG_ERR_PONG_TIMEOUT: 'The peer did not answer a heartbeat ping within pongTimeout',
  WSG_ERR_IDLE_TIMEOUT: 'No frame arrived within idleTimeout',
  WSG_ERR_HANDSHAKE_METHOD: 'The upgrade request was not a GET (RFC 6455 §4.2.1)',
  WSG_ERR_HANDSHAKE_UPGRADE: 'The upgrade request lacked Upgrade: websocket or Connection: Upgrade',
  WSG_ERR_HANDSHAKE_KEY: 'Sec-WebSocket-Key was missing or not 16 bytes in base64',
  WSG_ERR_HANDSHAKE_VERSION: 'Sec-WebSocket-Version was not 13 (answered 426)',
  WSG_ERR_HANDSHAKE_PROTOCOL: 'Sec-WebSocket-Protocol was malformed, or the answer picked one not offered',
  WSG_ERR_HANDSHAKE_EXTENSION: 'Sec-WebSocket-Extensions was malformed or negotiated something not offered',
  WSG_ERR_HANDSHAKE_ACCEPT: 'The server answered with a wrong Sec-WebSocket-Accept',
  WSG_ERR_HANDSHAKE_STATUS: 'The server answered the upgrade with a status other than 101',
  WSG_ERR_HANDSHAKE_TIMEOUT: 'The opening handshake did not finish within handshakeTimeout',
  WSG_ERR_HANDSHAKE_DENIED: 'The server application refused the upgrade',
  WSG_ERR_HANDSHAKE_ORIGIN: "The upgrade request's Origin was neither the host it was sent to nor in WsServer's allowedOrigins (answered 403)",
  WSG_ERR_SERVER_BUSY: 'The server was at maxConnections or maxPendingHandshakes (answered 503 with Retry-After)',
  WSG_ERR_IP_LIMIT: "The client's IP address was at maxConnectionsPerIp or maxPendingHandshakesPerIp (answered 429 with Retry-After)",
} as const;
export type FrameErrorCode = keyof typeof FrameErrorCode;

/** Any wsgate error code, in every layer: `WSG_ERR_…`. */
export type WsgErrorCode = `WSG_ERR_${string}`;

/**
 * Base of every error wsgate raises. `code` is stable and searchable; `closeCode` is what
 * the engine sent (or will send) to the peer because of it, when a close follows.
 */
export class WsgError extends Error {
  constructor(
    readonly code: WsgErrorCode,
    message: string,
    readonly closeCode?: CloseCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/** The peer broke RFC 6455 framing rules; the engine closes with 1002. */
export class ProtocolError extends WsgError {}
/** A text message or close reason was not UTF-8; the engine closes with 1007. */
export class InvalidUtf8Error extends WsgError {}
/** A configured limit was crossed (message, frame, pending pongs). */
export class CapacityError extends WsgError {}
/** `send()` hit `maxSendQueue` under the `'error'` policy. */
export class SendQueueFullError extends WsgError {}
/** Sending or closing after the close handshake has begun. */
export class AlreadyClosedError extends WsgError {}
/** Receiving from a connection that has closed. */
export class ConnectionClosedError extends WsgError {}
/** The underlying transport failed; `cause` holds Node's error. */
export class IoError extends WsgError {}
/** A timer ran out: close handshake, heartbeat or idle. */
export class TimeoutError extends WsgError {}
/** A caller passed something the API cannot use. Thrown synchronously. */
export class InvalidArgumentError extends WsgError {}
/** An option was out of range or conflicted with another. Thrown at construction. */
export class InvalidOptionError extends WsgError {}
/** The opening handshake failed; `status` is the HTTP status answered (server) or received (client). */
export class HandshakeError extends WsgError {
  constructor(
    code: WsgErrorCode,
    message: string,
    readonly status: number,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(code, message, undefined, options);
  }
}
