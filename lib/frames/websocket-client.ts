import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { ConnectionOptions } from './connection-options.js';
import { HandshakeError, InvalidArgumentError, IoError, WsgError } from './errors.js';
import { formatExtensionHeader, parseExtensionHeader } from './extension-header.js';
import { WEBSOCKET_VERSION, computeAcceptKey, parseProtocolHeader } from './handshake.js';
import { Limits } from './limits.js';
import { PerMessageDeflate, type PerMessageDeflateOptions } from './permessage-deflate.js';
import { WebSocketConnection } from './websocket-connection.js';

export interface WsClientOptions extends ConnectionOptions {
  /** Subprotocols to offer, in order of preference. */
  protocols?: string[];
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Offer permessage-deflate. @defaultValue false */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** ms before the opening handshake is abandoned. @defaultValue 10000 */
  handshakeTimeout?: number;
  /** TLS: reject unauthorized certificates (wss:). @defaultValue true */
  rejectUnauthorized?: boolean;
}

/** The client role of the engine: same frames, masked outbound, handshake checked (§4.1). */
export class WsClient {
  /** Opens a WebSocket to `url` (ws: or wss:) and resolves with the open connection. */
  static connect(url: string, options: WsClientOptions = {}): Promise<WebSocketConnection> {
    const target = new URL(url);
    if (target.protocol !== 'ws:' && target.protocol !== 'wss:') {
      return Promise.reject(new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Unsupported URL scheme ${target.protocol}`));
    }
    const {
      protocols = [],
      headers = {},
      perMessageDeflate,
      handshakeTimeout = Limits.handshakeTimeout.default,
      rejectUnauthorized = true,
      ...connectionOptions
    } = options;
    const key = randomBytes(16).toString('base64');
    const deflate =
      perMessageDeflate === undefined || perMessageDeflate === false
        ? null
        : new PerMessageDeflate(perMessageDeflate === true ? {} : perMessageDeflate, 'client', connectionOptions.maxMessageSize ?? Limits.maxMessageSize.default);
    const requestHeaders: Record<string, string> = {
      ...headers,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': WEBSOCKET_VERSION,
    };
    if (protocols.length > 0) requestHeaders['Sec-WebSocket-Protocol'] = protocols.join(', ');
    if (deflate !== null) {
      requestHeaders['Sec-WebSocket-Extensions'] = formatExtensionHeader(new Map([[PerMessageDeflate.extensionName, [deflate.offer()]]]));
    }
    const secure = target.protocol === 'wss:';
    const request = (secure ? httpsRequest : httpRequest)({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || (secure ? 443 : 80),
      path: target.pathname + target.search,
      method: 'GET',
      headers: requestHeaders,
      agent: false,
      ...(secure ? { rejectUnauthorized } : {}),
    });

    return new Promise<WebSocketConnection>((resolve, reject) => {
      let settled = false;
      const fail = (error: WsgError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        deflate?.cleanup();
        request.destroy();
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(new HandshakeError('WSG_ERR_HANDSHAKE_TIMEOUT', `Opening handshake not finished within ${handshakeTimeout} ms`, 0));
      }, handshakeTimeout);

      request.on('error', (err) => fail(new IoError('WSG_ERR_IO', `Connection failed: ${err.message}`, undefined, { cause: err })));
      request.on('response', (res: IncomingMessage) => {
        res.resume();
        fail(new HandshakeError('WSG_ERR_HANDSHAKE_STATUS', `Server answered ${res.statusCode} instead of 101`, res.statusCode ?? 0));
      });
      request.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        if (settled) {
          socket.destroy();
          return;
        }
        try {
          const accept = res.headers['sec-websocket-accept'];
          if (accept !== computeAcceptKey(key)) {
            throw new HandshakeError('WSG_ERR_HANDSHAKE_ACCEPT', 'Invalid Sec-WebSocket-Accept header', res.statusCode ?? 101);
          }
          if (res.headers.upgrade?.toLowerCase() !== 'websocket') {
            throw new HandshakeError('WSG_ERR_HANDSHAKE_UPGRADE', 'Missing Upgrade: websocket in the response', 101);
          }
          const answered = parseProtocolHeader(res.headers['sec-websocket-protocol'] as string | undefined);
          if (answered.length > 1 || (answered.length === 1 && !protocols.includes(answered[0]!))) {
            throw new HandshakeError('WSG_ERR_HANDSHAKE_PROTOCOL', `Server chose a subprotocol that was not offered: ${answered.join(', ')}`, 101);
          }
          if (answered.length === 0 && protocols.length > 0 && res.headers['sec-websocket-protocol'] !== undefined) {
            throw new HandshakeError('WSG_ERR_HANDSHAKE_PROTOCOL', 'Server sent an empty Sec-WebSocket-Protocol', 101);
          }
          const extensionsHeader = res.headers['sec-websocket-extensions'];
          let negotiated: PerMessageDeflate | null = null;
          if (extensionsHeader !== undefined) {
            const extensions = parseExtensionHeader(extensionsHeader);
            for (const name of extensions.keys()) {
              if (name !== PerMessageDeflate.extensionName || deflate === null) {
                throw new HandshakeError('WSG_ERR_HANDSHAKE_EXTENSION', `Server negotiated an extension that was not offered: ${name}`, 101);
              }
            }
            const answer = extensions.get(PerMessageDeflate.extensionName);
            if (answer !== undefined) {
              deflate!.acceptAsClient(answer);
              negotiated = deflate;
            }
          }
          if (negotiated === null) deflate?.cleanup();
          settled = true;
          clearTimeout(timer);
          const conn = WebSocketConnection.fromPartiallyRead(socket, head, {
            ...connectionOptions,
            role: 'client',
            protocol: answered[0] ?? '',
            extensions: typeof extensionsHeader === 'string' ? extensionsHeader : '',
            deflate: negotiated,
          });
          resolve(conn);
        } catch (error) {
          socket.destroy();
          fail(error instanceof WsgError ? error : new HandshakeError('WSG_ERR_HANDSHAKE_EXTENSION', String(error), 101, {}, { cause: error }));
        }
      });
      request.end();
    });
  }
}
