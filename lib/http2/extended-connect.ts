import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { constants as h2, type Http2SecureServer, type Http2Server, type Http2ServerRequest, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { runAcceptPipeline, type EngineSettings } from '../frames/accept-pipeline.js';
import { AdmissionCaps } from '../frames/admission-caps.js';
import { CloseCode } from '../frames/close-codes.js';
import { resolveConnectionOptions, type ConnectionOptions } from '../frames/connection-options.js';
import { resolveDeflateConfig, type PerMessageDeflateOption } from '../frames/deflate-negotiation.js';
import { HandshakeError } from '../frames/errors.js';
import { parseExtensionHeader, type ExtensionParams } from '../frames/extension-header.js';
import type { HandshakeAccept, HandshakeDecision, HandshakeDeny } from '../frames/handshake-decision.js';
import { resolveHandshakeLimits, type HandshakeLimitOptions, type ResolvedHandshakeLimits } from '../frames/handshake-limits.js';
import { WEBSOCKET_VERSION, rejectUpgrade } from '../frames/handshake.js';
import { parseProtocolHeader } from '../frames/protocol-header.js';
import type { ConnectionOwner, WebSocketConnection } from '../frames/websocket-connection.js';
import { Http2Error, Http2HandshakeError } from './errors.js';
import { ExtendedConnectRoad, guardConnectStream, refuseConnectStream } from './extended-connect-road.js';
import { HTTP2_HEADER_PROTOCOL, WEBSOCKET_PROTOCOL } from './rfc8441.js';

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

/** Open the WebSocket: `:status 200` with these choices (the decision every front door makes). */
export type ExtendedConnectAccept = HandshakeAccept;
/** Refuse with a real HTTP/2 response (never a 200). */
export type ExtendedConnectDeny = HandshakeDeny;
export type ExtendedConnectDecision = HandshakeDecision;

/** Decides per request; may be async. A thrown `HandshakeError` denies with its status and headers. */
export type ExtendedConnectAcceptHook = (request: ExtendedConnectRequest) => ExtendedConnectDecision | Promise<ExtendedConnectDecision>;

/**
 * `handshakeTimeout` counts from the CONNECT stream's arrival (its request head is complete by
 * then) to the `:status 200`; a decision still pending is answered 503. An HTTP/2 session that
 * opens no stream is node:http2's to bound (SECURITY.md).
 */
export interface ExtendedConnectOptions extends ConnectionOptions, HandshakeLimitOptions {
  /** Only this pathname is served (query ignored); others get 404. @defaultValue any path */
  path?: string;
  /** Decides each request (routing, auth, subprotocol). Conflicts with `handleProtocols`. @defaultValue accept, no subprotocol */
  accept?: ExtendedConnectAcceptHook;
  /** Shortcut when there is no accept hook: picks a subprotocol; `false` answers without one. */
  handleProtocols?: (offered: readonly string[], request: ExtendedConnectRequest) => string | false;
  /** Enables permessage-deflate (RFC 7692): `true`, options, or a `DeflateConfig` resolved earlier. @defaultValue false */
  perMessageDeflate?: PerMessageDeflateOption;
  /**
   * @internal Takes every valid extended CONNECT instead of the intake's own accept pipeline:
   * a router that decides per path answers the road itself (`runAcceptPipeline`).
   */
  serve?: (road: ExtendedConnectRoad) => void;
}

/** A server the intake can listen on: `http2.createServer` / `createSecureServer` with `enableConnectProtocol`. */
export type Http2AnyServer = Http2Server | Http2SecureServer;

const SHUTTING_DOWN = 'The server is shutting down';

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
  /** As given, so a decision's `options` override them before defaults apply. */
  private readonly givenConnectionOptions: ConnectionOptions;
  /** Resolved once here; every accepted stream opens with these unless a decision brings its own. */
  private readonly settings: EngineSettings;
  private readonly _clients = new Set<WebSocketConnection>();
  private readonly limits: ResolvedHandshakeLimits;
  private readonly caps: AdmissionCaps;
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
    const {
      path: _p, accept: _a, handleProtocols: _hp, perMessageDeflate: _d, serve: _s,
      handshakeTimeout, maxConnections, maxConnectionsPerIp, maxPendingHandshakes, maxPendingHandshakesPerIp,
      ...connectionOptions
    } = options;
    this.givenConnectionOptions = connectionOptions;
    this.limits = resolveHandshakeLimits({ handshakeTimeout, maxConnections, maxConnectionsPerIp, maxPendingHandshakes, maxPendingHandshakesPerIp });
    this.caps = new AdmissionCaps(this.limits);
    this.settings = Object.freeze({ options: resolveConnectionOptions(connectionOptions), deflate: resolveDeflateConfig(options.perMessageDeflate) });
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
   * Takes one CONNECT stream: validates, then runs the accept pipeline (capacity, the accept
   * hook, 200 and the engine, or the refusal). For routers that read 'stream' events themselves.
   */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, compatRequest: Http2ServerRequest | null = null): void {
    guardConnectStream(stream);
    let request: ExtendedConnectRequest;
    try {
      const offer = validateExtendedConnect(headers);
      if (this.options.path !== undefined && offer.pathname !== this.options.path) {
        throw new Http2HandshakeError('WSG_ERR_H2_CONNECT_PATH', `No WebSocket endpoint at ${offer.pathname}`, h2.HTTP_STATUS_NOT_FOUND);
      }
      request = { ...offer, stream, headers, compatRequest };
    } catch (error) {
      const deny = refusalFor(error);
      this.emit('rejected', refuseConnectStream(stream, deny) ?? deny.error, null);
      return;
    }
    const road = new ExtendedConnectRoad(request);
    if (this.options.serve !== undefined) {
      this.options.serve(road);
      return;
    }
    void runAcceptPipeline(road, {
      capacity: () => (this.closing ? shuttingDown() : null),
      caps: this.caps,
      handshakeTimeout: this.limits.handshakeTimeout,
      decide: () => this.decide(request),
      settings: (decision) => this.settingsFor(decision),
      failed: refusalFor,
      unoffered: (protocol) =>
        new Http2HandshakeError('WSG_ERR_H2_ACCEPT_FAILED', `The accept hook chose subprotocol ${JSON.stringify(protocol)}, which the client did not offer`, h2.HTTP_STATUS_INTERNAL_SERVER_ERROR),
      opened: (conn) => {
        this._clients.add(conn);
        conn.setOwner(this);
        this.emit('connection', conn, request);
      },
      refused: (deny, writeError) => this.emit('rejected', writeError ?? deny.error ?? deniedError(deny), request),
    });
  }

  private decide(request: ExtendedConnectRequest): ExtendedConnectDecision | Promise<ExtendedConnectDecision> {
    if (this.options.accept !== undefined) return this.options.accept(request);
    const chosen = request.protocols.length > 0 ? (this.options.handleProtocols?.(request.protocols, request) ?? false) : false;
    return chosen === false ? { accept: true } : { accept: true, protocol: chosen };
  }

  private settingsFor(decision: HandshakeAccept): EngineSettings {
    if (decision.options === undefined && decision.perMessageDeflate === undefined) return this.settings;
    return {
      options: decision.options === undefined ? this.settings.options : resolveConnectionOptions({ ...this.givenConnectionOptions, ...decision.options }),
      deflate: decision.perMessageDeflate === undefined ? this.settings.deflate : resolveDeflateConfig(decision.perMessageDeflate),
    };
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

function shuttingDown(): HandshakeDeny {
  const error = new Http2HandshakeError('WSG_ERR_H2_SHUTTING_DOWN', SHUTTING_DOWN, h2.HTTP_STATUS_SERVICE_UNAVAILABLE);
  return { accept: false, status: error.status, body: error.message, error };
}

/** A refusal the application decided: reported as WSG_ERR_HANDSHAKE_DENIED. */
function deniedError(deny: HandshakeDeny): HandshakeError {
  return new HandshakeError('WSG_ERR_HANDSHAKE_DENIED', deny.body ?? `Denied with ${deny.status}`, deny.status, deny.headers ?? {});
}

/** A failure as the refusal to send: a `HandshakeError` denies with its status and headers, anything else with 500. */
function refusalFor(error: unknown): HandshakeDeny {
  const reported = asHandshakeError(error);
  return { accept: false, status: reported.status, headers: reported.headers, body: reported.message, error: reported };
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
