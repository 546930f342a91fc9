import {
  connect as http2Connect,
  constants as h2,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type Settings,
} from 'node:http2';
import { HandshakeError, InvalidArgumentError, IoError, WsgError } from '../frames/errors.js';
import type { ClientRoad } from '../frames/websocket-client.js';
import type { WebSocketConnection } from '../frames/websocket-connection.js';
import { H2HandshakeError } from './errors.js';
import { HTTP2_HEADER_PROTOCOL, WEBSOCKET_PROTOCOL, webSocketStreamAbort } from './rfc8441.js';

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2) or carries as pseudo-headers; dropped from user headers. */
const HOP_BY_HOP = new Set(['connection', 'upgrade', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'host', 'sec-websocket-key']);

/**
 * The client road over HTTP/2 (RFC 8441): opens a session to the URL's origin (h2 over TLS for
 * wss:, prior-knowledge h2c for ws:), waits for the server's SETTINGS and checks
 * ENABLE_CONNECT_PROTOCOL before sending anything (§3), sends the extended CONNECT and opens
 * the connection on a 200's stream. No key, no Upgrade: the 200 is the whole answer. The
 * session is closed when the connection closes.
 */
export const dialExtendedConnect: ClientRoad = (handshake) => {
  const url = handshake.target;
  const webSocketHeaders = handshake.headers;
  const options = handshake;
  const secure = url.protocol === 'wss:';
  const requestHeaders: OutgoingHttpHeaders = {
    [h2.HTTP2_HEADER_METHOD]: h2.HTTP2_METHOD_CONNECT,
    [HTTP2_HEADER_PROTOCOL]: WEBSOCKET_PROTOCOL,
    [h2.HTTP2_HEADER_SCHEME]: secure ? 'https' : 'http',
    [h2.HTTP2_HEADER_PATH]: url.pathname + url.search,
    [h2.HTTP2_HEADER_AUTHORITY]: url.host,
  };
  for (const [name, value] of Object.entries(webSocketHeaders)) {
    const lower = name.toLowerCase();
    if (lower === 'host') requestHeaders[h2.HTTP2_HEADER_AUTHORITY] = value;
    else if (!HOP_BY_HOP.has(lower)) requestHeaders[lower] = value;
  }

  return new Promise<WebSocketConnection>((resolve, reject) => {
    let settled = false;
    let stream: ClientHttp2Stream | null = null;
    const session: ClientHttp2Session = http2Connect(`${secure ? 'https' : 'http'}://${url.host}`, {
      // A WebSocket client has no use for pushes; unread pushed streams would keep the session open.
      settings: { enablePush: false },
      ...(secure ? { rejectUnauthorized: options.rejectUnauthorized, ...(options.ca !== undefined ? { ca: options.ca } : {}) } : {}),
    });

    const fail = (error: WsgError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (stream !== null && !stream.destroyed) stream.close(h2.NGHTTP2_CANCEL);
      session.destroy();
      reject(error);
    };
    const timer = setTimeout(() => {
      fail(new HandshakeError('WSG_ERR_HANDSHAKE_TIMEOUT', `Opening handshake not finished within ${options.handshakeTimeout} ms`, 0));
    }, options.handshakeTimeout);

    // Kept for the session's life: after the handshake a session failure reaches the
    // connection as its stream's error (engine: 1006 with `cause`).
    session.on('error', (err: Error) => {
      if (!settled) {
        fail(new IoError('WSG_ERR_IO', `Connection failed: ${err.message}`, undefined, { cause: err }));
      } else if (stream !== null && !stream.destroyed) {
        stream.destroy(err);
      }
    });
    const onSessionClose = (): void => {
      fail(new H2HandshakeError('WSG_ERR_HANDSHAKE_H2_SESSION', 'The HTTP/2 session closed before the server answered the CONNECT', 0));
    };
    session.once('close', onSessionClose);

    session.once('remoteSettings', (settings: Settings) => {
      if (settled) return;
      if (settings.enableConnectProtocol !== true) {
        fail(
          new H2HandshakeError(
            'WSG_ERR_HANDSHAKE_H2_NO_CONNECT_PROTOCOL',
            `${url.host} does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3); it cannot take WebSockets over HTTP/2`,
            0,
          ),
        );
        return;
      }
      let request: ClientHttp2Stream;
      try {
        request = session.request(requestHeaders, { endStream: false });
      } catch (error) {
        fail(new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Cannot send the CONNECT: ${(error as Error).message}`, undefined, { cause: error }));
        return;
      }
      stream = request;
      let streamError: Error | undefined;
      const onEarlyError = (err: Error): void => {
        streamError = err;
      };
      request.on('error', onEarlyError);
      request.once('close', () => {
        const code = request.rstCode ?? h2.NGHTTP2_NO_ERROR;
        fail(
          new H2HandshakeError('WSG_ERR_HANDSHAKE_H2_RESET', `The server reset the CONNECT stream with code ${code} before answering`, 0, code, {
            cause: streamError,
          }),
        );
      });
      request.once('response', (headers: IncomingHttpHeaders) => {
        if (settled) return;
        const status = Number(headers[h2.HTTP2_HEADER_STATUS]);
        if (status !== h2.HTTP_STATUS_OK) {
          fail(new H2HandshakeError('WSG_ERR_HANDSHAKE_H2_STATUS', `Server answered ${status} instead of 200`, status));
          return;
        }
        let conn: WebSocketConnection;
        try {
          conn = handshake.open(request, null, headers, status, webSocketStreamAbort(request));
        } catch (error) {
          fail(error instanceof WsgError ? error : new HandshakeError('WSG_ERR_HANDSHAKE_EXTENSION', String(error), status, {}, { cause: error }));
          return;
        }
        settled = true;
        clearTimeout(timer);
        session.off('close', onSessionClose);
        // The engine listens for 'error' and 'close' now.
        request.off('error', onEarlyError);
        void conn.closed.then(() => session.close());
        resolve(conn);
      });
    });
  });
};
