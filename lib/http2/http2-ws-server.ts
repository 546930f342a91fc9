import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  constants as h2,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { resolveConnectionOptions, type ConnectionOptions } from '../frames/connection-options.js';
import { resolveDeflateConfig, type PerMessageDeflateOption } from '../frames/deflate-negotiation.js';
import type { WebSocketConnection } from '../frames/websocket-connection.js';
import type { WebSocketRoad } from '../frames/accept-pipeline.js';
import { answerUpgradeRequired } from '../frames/upgrade-road.js';
import { WsServer } from '../frames/websocket-server.js';
import { Http2Error } from './errors.js';
import { ExtendedConnectIntake, type ExtendedConnectRequest } from './extended-connect.js';

export type { WebSocketRoad } from '../frames/accept-pipeline.js';

/** Passed with 'connection': how and where the WebSocket was opened. */
export interface Http2WsConnectionInfo {
  road: WebSocketRoad;
  /** Request path, query included. */
  path: string;
  headers: IncomingHttpHeaders;
}

/** Non-WebSocket requests on either protocol (Node's compat API; `httpVersion` tells them apart). */
export type Http2WsRequestHandler = (
  req: Http2ServerRequest | IncomingMessage,
  res: Http2ServerResponse | ServerResponse,
) => void;

export interface Http2WsServerOptions extends ConnectionOptions {
  /** PEM private key for TLS. */
  key: string | Buffer;
  /** PEM certificate (chain) for TLS. */
  cert: string | Buffer;
  /** @defaultValue 0 (any free port) */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** Only this pathname takes WebSockets (query ignored); others get 404. @defaultValue any path */
  path?: string;
  /** Picks a subprotocol from the offered list (both roads); `false` answers without one. */
  handleProtocols?: (offered: readonly string[], info: { path: string; headers: IncomingHttpHeaders }) => string | false;
  /** Enables permessage-deflate (RFC 7692) on both roads: `true`, options, or a `DeflateConfig`. @defaultValue false */
  perMessageDeflate?: PerMessageDeflateOption;
  /**
   * Advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3). Off, browsers open their
   * WebSockets on a separate HTTP/1.1 connection. @defaultValue true
   */
  enableConnectProtocol?: boolean;
  /** Answers every other request. @defaultValue 426 on HTTP/1.1, 400 on HTTP/2, plain text */
  onRequest?: Http2WsRequestHandler;
}

/**
 * @internal What a WebSocket-only port answers to any other request: 400 on HTTP/2 (open it with
 * an extended CONNECT), 426 on HTTP/1.1.
 */
export function answerNonWebSocketRequest(req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | ServerResponse): void {
  if (req.httpVersionMajor >= 2) {
    res.writeHead(h2.HTTP_STATUS_BAD_REQUEST, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('WebSocket endpoint: open it with an extended CONNECT (RFC 8441)');
    return;
  }
  answerUpgradeRequired(res as ServerResponse);
}

/**
 * WebSockets on one TLS port by both roads: HTTP/1.1 upgrades (ALPN http/1.1) and RFC 8441
 * extended CONNECTs (ALPN h2), on the same engine and options. A convenience for the CLI,
 * benchmarks and tests; the Nest layer routes with its own plan.
 *
 * Events: 'connection' (conn, info: Http2WsConnectionInfo).
 */
export class Http2WsServer extends EventEmitter {
  /** The node:http2 server, for serving other requests or reading its address. */
  readonly server: Http2SecureServer;
  private readonly http1: WsServer;
  private readonly intake: ExtendedConnectIntake;
  private readonly sessions = new Set<Http2Session>();
  private readonly sockets = new Set<TLSSocket>();
  private readonly closeTimeout: number;
  private closePromise: Promise<void> | null = null;

  constructor(private readonly options: Http2WsServerOptions) {
    super();
    const {
      key,
      cert,
      port: _port,
      host: _host,
      path,
      handleProtocols,
      perMessageDeflate,
      enableConnectProtocol = true,
      onRequest = answerNonWebSocketRequest,
      ...connectionOptions
    } = options;
    if (key === undefined || cert === undefined) {
      throw new Http2Error('WSG_ERR_H2_INVALID_OPTION', 'Http2WsServer needs `key` and `cert` (PEM): browsers speak HTTP/2 over TLS only');
    }
    this.closeTimeout = resolveConnectionOptions(connectionOptions).closeTimeout;
    // Resolved once for both roads: WsServer and the intake take the config as it is.
    const deflateConfig = resolveDeflateConfig(perMessageDeflate);
    this.server = createSecureServer({ key, cert, allowHTTP1: true, settings: { enableConnectProtocol } }, onRequest);
    this.server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    this.server.on('secureConnection', (socket: TLSSocket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });

    // WsServer only needs the 'upgrade' event, which the HTTP/1.1 side of this server emits
    // with the same (req, socket, head) arguments as a node:http Server.
    this.http1 = new WsServer({
      ...connectionOptions,
      server: this.server as unknown as Server,
      ...(path !== undefined ? { path } : {}),
      ...(handleProtocols !== undefined
        ? { handleProtocols: (offered: string[], req: IncomingMessage) => handleProtocols(offered, { path: req.url ?? '/', headers: req.headers }) }
        : {}),
      ...(deflateConfig !== null ? { perMessageDeflate: deflateConfig } : {}),
    });
    this.http1.on('connection', (conn: WebSocketConnection, req: IncomingMessage) => {
      this.emit('connection', conn, { road: 'http/1.1', path: req.url ?? '/', headers: req.headers } satisfies Http2WsConnectionInfo);
    });

    this.intake = new ExtendedConnectIntake(this.server, {
      ...connectionOptions,
      ...(path !== undefined ? { path } : {}),
      ...(handleProtocols !== undefined
        ? { handleProtocols: (offered: readonly string[], req: ExtendedConnectRequest) => handleProtocols(offered, { path: req.path, headers: req.headers }) }
        : {}),
      ...(deflateConfig !== null ? { perMessageDeflate: deflateConfig } : {}),
    });
    this.intake.on('connection', (conn: WebSocketConnection, req: ExtendedConnectRequest) => {
      this.emit('connection', conn, { road: 'h2', path: req.path, headers: req.headers } satisfies Http2WsConnectionInfo);
    });
    this.intake.on('rejected', (error: unknown, req: ExtendedConnectRequest | null) => this.emit('rejected', error, req));
  }

  /** Connections open or closing, on both roads. */
  get clients(): ReadonlySet<WebSocketConnection> {
    return new Set([...this.http1.clients, ...this.intake.clients]);
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve(this.address());
      });
    });
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /**
   * Stops accepting, closes every WebSocket with 1001, then ends HTTP/2 sessions with GOAWAY
   * and drops idle HTTP/1.1 sockets; anything left after `closeTimeout` is destroyed.
   */
  close(): Promise<void> {
    this.closePromise ??= this.shutdown();
    return this.closePromise;
  }

  private async shutdown(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([this.http1.close(), this.intake.close()]);
    for (const session of this.sessions) session.close();
    for (const socket of this.sockets) if (socket.alpnProtocol !== 'h2') socket.destroy();
    const deadline = setTimeout(() => {
      for (const session of this.sessions) session.destroy();
      for (const socket of this.sockets) socket.destroy();
    }, this.closeTimeout);
    try {
      await serverClosed;
    } finally {
      clearTimeout(deadline);
    }
  }
}
