import { connectWebSocket, upgradeOverHttp1, type WebSocketClientOptions } from '../frames/websocket-client.js';
import type { WebSocketConnection } from '../frames/websocket-connection.js';
import { dialExtendedConnect } from './extended-connect-dialer.js';

export interface WsClientOptions extends WebSocketClientOptions {
  /**
   * Open the WebSocket with an RFC 8441 extended CONNECT over an HTTP/2 session (wss: h2 via
   * ALPN, ws: prior-knowledge h2c) instead of an HTTP/1.1 upgrade. @defaultValue false
   */
  http2?: boolean;
}

/**
 * The client role of the engine on either road: same frames, masked outbound, the answer
 * checked (RFC 6455 §4.1). It lives here, above lib/frames, because it is the one place that
 * knows both roads; the engine itself runs over any Duplex.
 */
export class WsClient {
  /**
   * Opens a WebSocket to `url` (ws: or wss:) and resolves with the open connection: by an
   * HTTP/1.1 upgrade, or with `http2: true` by an RFC 8441 extended CONNECT.
   */
  static connect(url: string, options: WsClientOptions = {}): Promise<WebSocketConnection> {
    const { http2 = false, ...clientOptions } = options;
    return connectWebSocket(url, clientOptions, http2 ? dialExtendedConnect : upgradeOverHttp1);
  }
}
