import type { ServerHttp2Stream } from 'node:http2';
import type { WebSocketConnection } from '../frames/websocket-connection.js';

/**
 * The extended CONNECT stream under each RFC 8441 engine connection, for pushes associated
 * with it. Weak: the entry goes with the connection.
 */
const connectStreams = new WeakMap<WebSocketConnection, ServerHttp2Stream>();

export function rememberConnectStream(engine: WebSocketConnection, stream: ServerHttp2Stream): void {
  connectStreams.set(engine, stream);
}

/** The HTTP/2 stream the WebSocket runs on; null for an HTTP/1.1 upgrade (or before the handshake). */
export function connectStreamOf(engine: WebSocketConnection | null): ServerHttp2Stream | null {
  return engine === null ? null : (connectStreams.get(engine) ?? null);
}
