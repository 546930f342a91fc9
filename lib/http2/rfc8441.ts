import { constants as h2, type Http2Stream, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TransportAbort, WebSocketConnection } from '../frames/websocket-connection.js';

// What both ends of an RFC 8441 WebSocket share: the server intake (extended-connect.ts) and
// the client dialer (extended-connect-dialer.ts).

/** RFC 8441 §4: the `:protocol` value that asks for a WebSocket. */
export const WEBSOCKET_PROTOCOL = 'websocket';
/** RFC 8441 §4 pseudo-header; node:http2 has the constant at run time but not in its types. */
export const HTTP2_HEADER_PROTOCOL = ':protocol';

/**
 * Readies an HTTP/2 stream to carry a WebSocket and returns the abort the engine uses on it.
 * A peer's RST_STREAM plays the part of a TCP reset (RFC 8441 §5). Node keeps a
 * NO_ERROR-reset stream with unread data open until it is read to its end, and the engine
 * stops reading when receive() falls behind or after a close frame, so the stream is
 * destroyed on 'aborted'. Our own abort is RST_STREAM CANCEL.
 */
export function webSocketStreamAbort(stream: Http2Stream): TransportAbort {
  stream.once('aborted', streamOnAborted);
  return cancelStream;
}

function cancelStream(socket: Duplex): void {
  const stream = socket as unknown as Http2Stream;
  if (stream.destroyed) return;
  stream.close(h2.NGHTTP2_CANCEL);
}

function streamOnAborted(this: Http2Stream): void {
  // Node is still inside its own close handling; destroy once it has finished.
  process.nextTick(destroyStream, this);
}

function destroyStream(stream: Http2Stream): void {
  if (!stream.destroyed) stream.destroy();
}

/**
 * The extended CONNECT stream a server-side WebSocket runs on (pushes are associated with it);
 * null for one opened by an HTTP/1.1 upgrade. The engine's transport is the stream itself.
 */
export function connectStreamOf(engine: WebSocketConnection | null): ServerHttp2Stream | null {
  const transport = engine?.transport as Partial<ServerHttp2Stream> | undefined;
  return transport !== undefined && typeof transport.pushStream === 'function' ? (transport as ServerHttp2Stream) : null;
}
