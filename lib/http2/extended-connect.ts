import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import {
  constants as h2,
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Duplex } from 'node:stream';
import { CloseCode } from '../frames/close-codes.js';
import { resolveConnectionOptions, type ConnectionOptions, type ResolvedConnectionOptions } from '../frames/connection-options.js';
import { resolveDeflateConfig, type DeflateConfig, type PerMessageDeflateOption } from '../frames/deflate-negotiation.js';
import { HandshakeError } from '../frames/errors.js';
import { parseExtensionHeader, type ExtensionParams } from '../frames/extension-header.js';
import { WEBSOCKET_VERSION, negotiateDeflate, parseProtocolHeader, rejectUpgrade, serverDeflateCodec } from '../frames/handshake.js';
import { WebSocketConnection, type ConnectionOwner } from '../frames/websocket-connection.js';
import { Http2Error, Http2HandshakeError, http2ErrorCodeFor } from './errors.js';
import { HTTP2_HEADER_PROTOCOL, WEBSOCKET_PROTOCOL, webSocketStreamAbort } from './rfc8441.js';

/** What a valid extended CONNECT offers; the accept hook decides from this. */
export interface ExtendedConnectOffer {
  /** `:path` as sent, query included. */
  readonly path: string;
  /** `:path` without the query. */
  readonly pathname: string;
  readonly authority: string;
  /** Subprotocols offered, in the client's order of preference. */
  readonly protocols: readonly string[];
  /** Extensions offered, name → offers in order. */
  readonly extensions: ReadonlyMap<string, ExtensionParams[]>;
}

/** One extended CONNECT, valid per RFC 8441 and RFC 6455, waiting for the accept hook. */
export interface ExtendedConnectRequest extends ExtendedConnectOffer {
  readonly stream: ServerHttp2Stream;
  /** Request headers, pseudo-headers included. */
  readonly headers: IncomingHttpHeaders;
  /** Node's compat request when the CONNECT arrived as the server's 'connect' event, else null. */
  readonly compatRequest: Http2ServerRequest | null;
}

/** Open the WebSocket: `:status 200` with these choices. */
export interface ExtendedConnectAccept {
  accept: true;
  /** The chosen subprotocol; must be one the client offered. */
  protocol?: string;
  /** Extra response headers. */
  headers?: Readonly<Record<string, string>>;
  /** Engine limits for this connection, instead of the intake's. */
  options?: ConnectionOptions;
  /**
   * permessage-deflate for this connection, instead of the intake's. Options are validated per
   * decision; a `DeflateConfig` (`resolveDeflateConfig()`, made once) is used as is.
   */
  perMessageDeflate?: PerMessageDeflateOption;
}

/** Refuse with a real HTTP/2 response (never a 200). */
export interface ExtendedConnectDeny {
  accept: false;
  status: number;
  headers?: Readonly<Record<string, string>>;
  /** Plain-text body. @defaultValue the status text */
  body?: string;
}

export type ExtendedConnectDecision = ExtendedConnectAccept | ExtendedConnectDeny;

/** Decides per request; may be async. A thrown `HandshakeError` denies with its status and headers. */
export type ExtendedConnectAcceptHook = (request: ExtendedConnectRequest) => ExtendedConnectDecision | Promise<ExtendedConnectDecision>;

export interface ExtendedConnectOptions extends ConnectionOptions {
  /** Only this pathname is served (query ignored); others get 404. @defaultValue any path */
  path?: string;
  /** Decides each request (routing, auth, subprotocol). Conflicts with `handleProtocols`. @defaultValue accept, no subprotocol */
  accept?: ExtendedConnectAcceptHook;
  /** Shortcut when there is no accept hook: picks a subprotocol; `false` answers without one. */
  handleProtocols?: (offered: readonly string[], request: ExtendedConnectRequest) => string | false;
  /** Enables permessage-deflate (RFC 7692): `true`, options, or a `DeflateConfig` resolved earlier. @defaultValue false */
  perMessageDeflate?: PerMessageDeflateOption;
}

/** A server the intake can listen on: `http2.createServer` / `createSecureServer` with `enableConnectProtocol`. */
export type Http2AnyServer = Http2Server | Http2SecureServer;

const PLAIN_TEXT = 'text/plain; charset=utf-8';
/** A deny must not look like success: 3xx, 4xx or 5xx only. */
const MIN_DENY_STATUS = 300;
const MAX_STATUS = 599;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Checks an extended CONNECT against RFC 8441 §4–5 and RFC 6455 §4.2.1. Throws
 * `HandshakeError` whose `status` and `headers` are the response to send.
 */
export function validateExtendedConnect(headers: IncomingHttpHeaders): ExtendedConnectOffer {
  const method = headers[h2.HTTP2_HEADER_METHOD];
  const protocol = single(headers[HTTP2_HEADER_PROTOCOL]);
  if (method !== h2.HTTP2_METHOD_CONNECT || protocol === undefined) {
    throw new Http2HandshakeError('WSG_ERR_H2_CONNECT_METHOD', `Not an extended CONNECT (${String(method)} without :protocol)`, h2.HTTP_STATUS_METHOD_NOT_ALLOWED);
  }
  if (protocol.toLowerCase() !== WEBSOCKET_PROTOCOL) {
    throw new Http2HandshakeError('WSG_ERR_H2_CONNECT_PROTOCOL', `Unsupported :protocol ${JSON.stringify(protocol)}; this server speaks websocket`, h2.HTTP_STATUS_BAD_REQUEST);
  }
  const path = single(headers[h2.HTTP2_HEADER_PATH]);
  if (path === undefined || !path.startsWith('/')) {
    throw new Http2HandshakeError('WSG_ERR_H2_CONNECT_PATH', `:path must be origin-form, got ${JSON.stringify(path ?? null)}`, h2.HTTP_STATUS_BAD_REQUEST);
  }
  const version = single(headers['sec-websocket-version'])?.trim();
  if (version !== WEBSOCKET_VERSION) {
    // RFC 6455 §4.4 suggests 426 Upgrade Required, whose Upgrade header HTTP/2 forbids
    // (RFC 9113 §8.2.2); 400 carries the same sec-websocket-version answer.
    throw new Http2HandshakeError(
      'WSG_ERR_H2_CONNECT_VERSION',
      `Unsupported sec-websocket-version ${JSON.stringify(version ?? null)}; this server speaks 13`,
      h2.HTTP_STATUS_BAD_REQUEST,
      { 'sec-websocket-version': WEBSOCKET_VERSION },
    );
  }
  const protocols = parseProtocolHeader(single(headers['sec-websocket-protocol']));
  const extensions = parseExtensionHeader(headers['sec-websocket-extensions']);
  const query = path.indexOf('?');
  return {
    path,
    pathname: query === -1 ? path : path.slice(0, query),
    authority: single(headers[h2.HTTP2_HEADER_AUTHORITY]) ?? '',
    protocols,
    extensions,
  };
}

/**
 * Answers RFC 8441 extended CONNECTs (`:protocol: websocket`) on an HTTP/2 server and runs the
 * frame engine over each accepted stream. Listens on both roads Node offers: the server's
 * 'stream' event while no 'request' listener exists, and the compat layer's 'connect' event
 * once one does (Fastify, Nest, Express over http2), where Node would otherwise answer 405.
 *
 * Events: 'connection' (conn, request), 'rejected' (error: HandshakeError, request | null).
 */
export class ExtendedConnectIntake extends EventEmitter implements ConnectionOwner {
  private readonly connectionOptions: ResolvedConnectionOptions;
  /** As given, so a decision's `options` override them before defaults apply. */
  private readonly givenConnectionOptions: ConnectionOptions;
  /** Resolved once here; every accepted stream negotiates against it unless a decision brings its own. */
  private readonly deflateConfig: DeflateConfig | null;
  private readonly _clients = new Set<WebSocketConnection>();
  private closing = false;

  private readonly onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    if (headers[h2.HTTP2_HEADER_METHOD] !== h2.HTTP2_METHOD_CONNECT) return;
    // With a 'request' listener Node's compat layer owns every stream and emits 'connect'.
    if (this.server !== null && this.server.listenerCount('request') > 0) return;
    this.handleStream(stream, headers);
  };

  private readonly onConnect = (req: Http2ServerRequest | IncomingMessage, second: unknown): void => {
    if ('stream' in req && req.stream !== undefined) {
      this.handleStream(req.stream, req.headers, req);
      return;
    }
    // allowHTTP1: an HTTP/1.1 CONNECT arrives here too, as (req, socket, head).
    rejectUpgrade(second as Duplex, h2.HTTP_STATUS_METHOD_NOT_ALLOWED);
  };

  constructor(
    private readonly server: Http2AnyServer | null,
    private readonly options: ExtendedConnectOptions = {},
  ) {
    super();
    if (options.accept !== undefined && options.handleProtocols !== undefined) {
      throw new Http2Error('WSG_ERR_H2_INVALID_OPTION', 'Give either `accept` or `handleProtocols`, not both: the accept hook chooses the subprotocol');
    }
    if (options.path !== undefined && (typeof options.path !== 'string' || !options.path.startsWith('/'))) {
      throw new Http2Error('WSG_ERR_H2_INVALID_OPTION', `Option path must start with '/', got ${JSON.stringify(options.path)}`);
    }
    const { path: _p, accept: _a, handleProtocols: _hp, perMessageDeflate: _d, ...connectionOptions } = options;
    this.givenConnectionOptions = connectionOptions;
    this.connectionOptions = resolveConnectionOptions(connectionOptions);
    this.deflateConfig = resolveDeflateConfig(options.perMessageDeflate);
    if (server !== null) {
      server.on('stream', this.onStream);
      server.on('connect', this.onConnect);
    }
  }

  /** Connections currently open or closing. */
  get clients(): ReadonlySet<WebSocketConnection> {
    return this._clients;
  }

  /**
   * Takes one CONNECT stream: validates, asks the accept hook, answers 200 and starts the
   * engine, or answers the refusal. For routers that read 'stream' events themselves.
   */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, compatRequest: Http2ServerRequest | null = null): void {
    // Until the engine takes the stream, a reset must not crash the process.
    stream.on('error', guardError);
    if (this.closing) {
      this.deny(stream, new Http2HandshakeError('WSG_ERR_H2_SHUTTING_DOWN', 'The server is shutting down', h2.HTTP_STATUS_SERVICE_UNAVAILABLE), null);
      return;
    }
    let request: ExtendedConnectRequest;
    try {
      const offer = validateExtendedConnect(headers);
      if (this.options.path !== undefined && offer.pathname !== this.options.path) {
        throw new Http2HandshakeError('WSG_ERR_H2_CONNECT_PATH', `No WebSocket endpoint at ${offer.pathname}`, h2.HTTP_STATUS_NOT_FOUND);
      }
      request = { ...offer, stream, headers, compatRequest };
    } catch (error) {
      this.deny(stream, asHandshakeError(error), null);
      return;
    }
    let decision: ExtendedConnectDecision | Promise<ExtendedConnectDecision>;
    try {
      decision = this.decide(request);
    } catch (error) {
      this.deny(stream, asHandshakeError(error), request);
      return;
    }
    if (isThenable(decision)) {
      decision.then(
        (d) => this.complete(request, d),
        (error: unknown) => this.deny(stream, asHandshakeError(error), request),
      );
    } else {
      this.complete(request, decision);
    }
  }

  private decide(request: ExtendedConnectRequest): ExtendedConnectDecision | Promise<ExtendedConnectDecision> {
    if (this.options.accept !== undefined) return this.options.accept(request);
    const chosen = request.protocols.length > 0 ? (this.options.handleProtocols?.(request.protocols, request) ?? false) : false;
    return chosen === false ? { accept: true } : { accept: true, protocol: chosen };
  }

  private complete(request: ExtendedConnectRequest, decision: ExtendedConnectDecision): void {
    const stream = request.stream;
    // The client may have gone away while the accept hook ran.
    if (stream.destroyed || stream.closed) return;
    if (decision === null || typeof decision !== 'object' || typeof decision.accept !== 'boolean') {
      this.deny(stream, new Http2HandshakeError('WSG_ERR_H2_ACCEPT_FAILED', `The accept hook returned ${String(decision)}, not a decision`, h2.HTTP_STATUS_INTERNAL_SERVER_ERROR), request);
      return;
    }
    if (!decision.accept) {
      const status = decision.status;
      // A 1xx is no answer and a 2xx would read as the WebSocket's 200 (RFC 8441 §5).
      if (!Number.isInteger(status) || status < MIN_DENY_STATUS || status > MAX_STATUS) {
        const error = new Http2HandshakeError('WSG_ERR_H2_ACCEPT_FAILED', `The accept hook denied with status ${String(status)}; use 300–599`, h2.HTTP_STATUS_INTERNAL_SERVER_ERROR);
        this.deny(stream, error, request);
        return;
      }
      const error = new HandshakeError('WSG_ERR_HANDSHAKE_DENIED', decision.body ?? `Denied with ${status}`, status, decision.headers ?? {});
      this.deny(stream, error, request, decision.body);
      return;
    }
    if (this.closing) {
      this.deny(stream, new Http2HandshakeError('WSG_ERR_H2_SHUTTING_DOWN', 'The server is shutting down', h2.HTTP_STATUS_SERVICE_UNAVAILABLE), request);
      return;
    }
    const protocol = decision.protocol ?? '';
    if (protocol !== '' && !request.protocols.includes(protocol)) {
      const error = new Http2HandshakeError(
        'WSG_ERR_H2_ACCEPT_FAILED',
        `The accept hook chose subprotocol ${JSON.stringify(protocol)}, which the client did not offer`,
        h2.HTTP_STATUS_INTERNAL_SERVER_ERROR,
      );
      this.deny(stream, error, request);
      return;
    }
    let options: ResolvedConnectionOptions;
    let deflateConfig: DeflateConfig | null;
    try {
      options = decision.options === undefined ? this.connectionOptions : resolveConnectionOptions({ ...this.givenConnectionOptions, ...decision.options });
      deflateConfig = decision.perMessageDeflate === undefined ? this.deflateConfig : resolveDeflateConfig(decision.perMessageDeflate);
    } catch (error) {
      this.deny(stream, asHandshakeError(error), request);
      return;
    }
    const deflate = negotiateDeflate({ key: '', protocols: [...request.protocols], extensions: new Map(request.extensions) }, deflateConfig);
    const responseHeaders: OutgoingHttpHeaders = { ...decision.headers, [h2.HTTP2_HEADER_STATUS]: h2.HTTP_STATUS_OK };
    if (protocol !== '') responseHeaders['sec-websocket-protocol'] = protocol;
    if (deflate !== null) responseHeaders['sec-websocket-extensions'] = deflate.header;
    try {
      stream.respond(responseHeaders);
    } catch (error) {
      const code = http2ErrorCodeFor(error, 'WSG_ERR_H2_RESPOND_FAILED');
      const message = `Could not answer the extended CONNECT: ${(error as Error).message}`;
      this.deny(stream, new Http2HandshakeError(code, message, h2.HTTP_STATUS_INTERNAL_SERVER_ERROR, {}, { cause: error }), request);
      return;
    }
    const conn = WebSocketConnection.fromPartiallyRead(stream, null, {
      role: 'server',
      abort: webSocketStreamAbort(stream),
      resolvedOptions: options,
      protocol,
      extensions: deflate?.header ?? '',
      deflate: serverDeflateCodec(deflate, options.maxMessageSize),
    });
    stream.off('error', guardError);
    this._clients.add(conn);
    conn.setOwner(this);
    this.emit('connection', conn, request);
  }

  /** Answers a refusal with a real HTTP/2 response, then reports it. */
  private deny(stream: ServerHttp2Stream, error: HandshakeError, request: ExtendedConnectRequest | null, body?: string): void {
    let reported = error;
    if (!stream.destroyed && !stream.closed && !stream.headersSent) {
      try {
        stream.respond({ ...error.headers, [h2.HTTP2_HEADER_STATUS]: error.status, [h2.HTTP2_HEADER_CONTENT_TYPE]: PLAIN_TEXT });
        stream.end(body ?? error.message);
      } catch (respondError) {
        // The refusal carried headers HTTP/2 cannot send: refuse with a reset instead.
        const code = http2ErrorCodeFor(respondError, 'WSG_ERR_H2_RESPOND_FAILED');
        const message = `Could not send the ${error.status} refusal (${error.message}): ${(respondError as Error).message}`;
        reported = new Http2HandshakeError(code, message, error.status, {}, { cause: respondError });
        stream.close(h2.NGHTTP2_INTERNAL_ERROR);
      }
    }
    this.emit('rejected', reported, request);
  }

  /** A connection of ours closed (ConnectionOwner). */
  release(conn: WebSocketConnection): void {
    this._clients.delete(conn);
  }

  /** Stops listening on the server; connections already open stay open. */
  detach(): void {
    if (this.server === null) return;
    this.server.off('stream', this.onStream);
    this.server.off('connect', this.onConnect);
  }

  /** Stops accepting (503), closes every connection with 1001 and resolves when all are gone. */
  async close(): Promise<void> {
    this.closing = true;
    this.detach();
    await Promise.all(
      [...this._clients].map((conn) => {
        if (conn.isOpen) conn.close(CloseCode.GoingAway, 'server shutting down');
        return conn.closed;
      }),
    );
  }
}

/**
 * A reset before the engine took over. Node emits 'error' while it destroys the stream, and
 * `complete()` sees `destroyed`; without a listener the emit would crash the process.
 */
function guardError(this: ServerHttp2Stream): void {
  this.destroy();
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function asHandshakeError(error: unknown): HandshakeError {
  if (error instanceof HandshakeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new Http2HandshakeError('WSG_ERR_H2_ACCEPT_FAILED', `The accept hook failed: ${message}`, h2.HTTP_STATUS_INTERNAL_SERVER_ERROR, {}, { cause: error });
}

/** Starts answering extended CONNECTs on `server`. */
export function attachExtendedConnect(server: Http2AnyServer, options?: ExtendedConnectOptions): ExtendedConnectIntake {
  return new ExtendedConnectIntake(server, options);
}
