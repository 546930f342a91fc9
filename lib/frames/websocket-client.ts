import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from './connection-options.js';
import { DeflateCodec } from './deflate-codec.js';
import {
  PERMESSAGE_DEFLATE,
  checkDeflateResponse,
  deflateOffer,
  resolveDeflateConfig,
  type DeflateConfig,
  type PerMessageDeflateOption,
} from './deflate-negotiation.js';
import { HandshakeError, InvalidArgumentError, IoError, WsgError } from './errors.js';
import { formatExtensionHeader, parseExtensionHeader } from './extension-header.js';
import { WEBSOCKET_VERSION, computeAcceptKey } from './handshake.js';
import { parseProtocolHeader } from './protocol-header.js';
import { Limits } from './limits.js';
import { WebSocketConnection, type TransportAbort } from './websocket-connection.js';

/** The client's options on every road: the engine's limits plus what the opening handshake offers. */
export interface WebSocketClientOptions extends ConnectionOptions {
  /** Subprotocols to offer, in order of preference. */
  protocols?: string[];
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Offer permessage-deflate (options, or a `DeflateConfig` resolved once for many connections). @defaultValue false */
  perMessageDeflate?: PerMessageDeflateOption;
  /** ms before the opening handshake is abandoned. @defaultValue 10000 */
  handshakeTimeout?: number;
  /** TLS: reject unauthorized certificates (wss:). @defaultValue true */
  rejectUnauthorized?: boolean;
  /** TLS: trusted CA certificates (wss:), e.g. a test server's self-signed one. @defaultValue Node's roots */
  ca?: string | Buffer | Array<string | Buffer>;
}

/** What the server's answer agreed to, checked against what we offered (§4.1, RFC 7692 §5). */
interface AgreedHandshake {
  protocol: string;
  extensions: string;
  deflate: DeflateCodec | null;
}

/** Our offer, as the answer is checked against it: the subprotocols and the deflate config (null: none). */
interface ClientOffer {
  readonly protocols: readonly string[];
  readonly deflate: DeflateConfig | null;
  /** Inflated bytes a message may reach, for the codec. */
  readonly maxMessageSize: number;
}

function checkAnswer(headers: IncomingHttpHeaders, offer: ClientOffer, status: number): AgreedHandshake {
  const { protocols } = offer;
  const protocolHeader = headers['sec-websocket-protocol'];
  const answered = parseProtocolHeader(Array.isArray(protocolHeader) ? protocolHeader.join(',') : protocolHeader);
  if (answered.length > 1 || (answered.length === 1 && !protocols.includes(answered[0]!))) {
    throw new HandshakeError('WSG_ERR_HANDSHAKE_PROTOCOL', `Server chose a subprotocol that was not offered: ${answered.join(', ')}`, status);
  }
  if (answered.length === 0 && protocols.length > 0 && protocolHeader !== undefined) {
    throw new HandshakeError('WSG_ERR_HANDSHAKE_PROTOCOL', 'Server sent an empty Sec-WebSocket-Protocol', status);
  }
  const extensionsHeader = headers['sec-websocket-extensions'];
  let codec: DeflateCodec | null = null;
  if (extensionsHeader !== undefined) {
    const extensions = parseExtensionHeader(extensionsHeader);
    for (const name of extensions.keys()) {
      if (name !== PERMESSAGE_DEFLATE || offer.deflate === null) {
        throw new HandshakeError('WSG_ERR_HANDSHAKE_EXTENSION', `Server negotiated an extension that was not offered: ${name}`, status);
      }
    }
    const answer = extensions.get(PERMESSAGE_DEFLATE);
    if (answer !== undefined && offer.deflate !== null) {
      const agreement = checkDeflateResponse(offer.deflate, answer);
      codec = new DeflateCodec(offer.deflate, agreement, 'client', offer.maxMessageSize);
    }
  }
  return {
    protocol: answered[0] ?? '',
    extensions: extensionsHeader ?? '',
    deflate: codec,
  };
}

/**
 * A client's opening handshake in progress, handed to a road (the HTTP/1.1 upgrade here, the
 * RFC 8441 extended CONNECT in lib/http2): what to send, and how to open on the answer.
 */
export interface ClientHandshake {
  readonly target: URL;
  /** The WebSocket request headers both roads send: version, subprotocols, extensions, the caller's own. */
  readonly headers: Readonly<Record<string, string>>;
  /** ms from dialling until the server's answer. */
  readonly handshakeTimeout: number;
  readonly rejectUnauthorized: boolean;
  readonly ca: string | Buffer | Array<string | Buffer> | undefined;
  /**
   * Checks the server's answer against the offer (§4.1, RFC 7692 §5) and opens the connection
   * over `transport`; throws `HandshakeError` when the answer is not acceptable.
   */
  open(transport: Duplex, head: Buffer | null, answer: IncomingHttpHeaders, status: number, abort?: TransportAbort): WebSocketConnection;
}

/** A way to reach the server: dials, sends `handshake.headers`, and resolves with `handshake.open(…)`. */
export type ClientRoad = (handshake: ClientHandshake) => Promise<WebSocketConnection>;

/**
 * Opens a WebSocket to `url` (ws: or wss:) by `road` and resolves with the open connection.
 * The offer (subprotocols, permessage-deflate) is made once here, whatever the road.
 */
export function connectWebSocket(url: string, options: WebSocketClientOptions, road: ClientRoad): Promise<WebSocketConnection> {
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
    ca,
    ...connectionOptions
  } = options;
  // Resolved once per connect() (a DeflateConfig given by the caller is used as is); bad
  // options throw here, before anything is dialled.
  const deflate = resolveDeflateConfig(perMessageDeflate);
  const offer: ClientOffer = { protocols, deflate, maxMessageSize: connectionOptions.maxMessageSize ?? Limits.maxMessageSize.default };
  const webSocketHeaders: Record<string, string> = { ...headers, 'Sec-WebSocket-Version': WEBSOCKET_VERSION };
  if (protocols.length > 0) webSocketHeaders['Sec-WebSocket-Protocol'] = protocols.join(', ');
  if (deflate !== null) {
    webSocketHeaders['Sec-WebSocket-Extensions'] = formatExtensionHeader(new Map([[PERMESSAGE_DEFLATE, [deflateOffer(deflate)]]]));
  }
  const handshake: ClientHandshake = {
    target,
    headers: webSocketHeaders,
    handshakeTimeout,
    rejectUnauthorized,
    ca,
    open(transport, head, answer, status, abort) {
      const agreed = checkAnswer(answer, offer, status);
      return WebSocketConnection.fromPartiallyRead(transport, head, { ...connectionOptions, role: 'client', ...agreed, ...(abort !== undefined ? { abort } : {}) });
    },
  };
  return road(handshake);
}

/** The HTTP/1.1 road: a GET with Upgrade: websocket, answered 101 with the right accept key (§4.1). */
export const upgradeOverHttp1: ClientRoad = (handshake) => {
  const { target, handshakeTimeout } = handshake;
  const key = randomBytes(16).toString('base64');
  const requestHeaders: Record<string, string> = { ...handshake.headers, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key };
  const secure = target.protocol === 'wss:';
  const request = (secure ? httpsRequest : httpRequest)({
    host: target.hostname.replace(/^\[|\]$/g, ''),
    port: target.port || (secure ? 443 : 80),
    path: target.pathname + target.search,
    method: 'GET',
    headers: requestHeaders,
    agent: false,
    ...(secure ? { rejectUnauthorized: handshake.rejectUnauthorized, ...(handshake.ca !== undefined ? { ca: handshake.ca } : {}) } : {}),
  });

  return new Promise<WebSocketConnection>((resolve, reject) => {
    let settled = false;
    const fail = (error: WsgError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
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
        const conn = handshake.open(socket, head, res.headers, res.statusCode ?? 101);
        settled = true;
        clearTimeout(timer);
        resolve(conn);
      } catch (error) {
        socket.destroy();
        fail(error instanceof WsgError ? error : new HandshakeError('WSG_ERR_HANDSHAKE_EXTENSION', String(error), 101, {}, { cause: error }));
      }
    });
    request.end();
  });
};
