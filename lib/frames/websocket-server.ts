import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseCode } from './close-codes.js';
import { runAcceptPipeline, type EngineSettings } from './accept-pipeline.js';
import { AdmissionCaps } from './admission-caps.js';
import { resolveConnectionOptions, type ConnectionOptions } from './connection-options.js';
import { resolveDeflateConfig, type PerMessageDeflateOption } from './deflate-negotiation.js';
import { InvalidOptionError } from './errors.js';
import { SERVICE_UNAVAILABLE, type HandshakeAccept } from './handshake-decision.js';
import { rejectUpgrade } from './handshake.js';
import { SendQueueCounters, type SendQueueTotals } from './send-queue-counters.js';
import { originAllowList, originListProblem, screenOrigin, upgradeOriginRequest, type OriginAllowList } from './origin-check.js';
import { FirstRequestDeadline, isHttp1Server } from './handshake-deadline.js';
import { resolveHandshakeLimits, type HandshakeLimitOptions, type ResolvedHandshakeLimits } from './handshake-limits.js';
import { UpgradeRoad } from './upgrade-road.js';
import { UpgradeOnlyServer } from './upgrade-only-server.js';
import type { ConnectionOwner, WebSocketConnection } from './websocket-connection.js';

const ACCEPT: HandshakeAccept = Object.freeze({ accept: true });

export interface WsServerOptions extends ConnectionOptions, HandshakeLimitOptions {
  /** Listen on this port (0 = any); the server then owns its HTTP server. */
  port?: number;
  /** @defaultValue '127.0.0.1' when `port` is given */
  host?: string;
  /** Attach to an existing HTTP(S) server instead of owning one. */
  server?: Server;
  /** Only upgrades to this path are accepted (query ignored); others get 404. */
  path?: string;
  /**
   * Origins (`scheme://host[:port]`) browsers may connect from besides the host the request
   * was sent to; `['*']` allows any. A request without Origin (not a browser's) passes; others
   * get 403 `WSG_ERR_HANDSHAKE_ORIGIN` (RFC 6455 §10.2). @defaultValue the same host only
   */
  allowedOrigins?: readonly string[];
  /** Picks a subprotocol from the offered list; `false` (or none) answers without one. */
  handleProtocols?: (offered: string[], req: IncomingMessage) => string | false;
  /** Enables permessage-deflate (RFC 7692): `true`, options, or a `DeflateConfig` resolved earlier. @defaultValue false */
  perMessageDeflate?: PerMessageDeflateOption;
}

/**
 * An engine-level WebSocket server: the HTTP/1.1 handshake plus connection tracking. The
 * Nest gateway layer has its own router; this is for engine users, the CLI and benchmarks.
 */
export class WsServer extends EventEmitter implements ConnectionOwner {
  /** An attached server, or (with `port`) our own: no node:http on that road (upgrade-only-server.ts). */
  private readonly httpServer: Server | UpgradeOnlyServer;
  private readonly ownsServer: boolean;
  /** Resolved once here; every upgrade opens with these (the deflate config is negotiated per offer). */
  private readonly settings: EngineSettings;
  private readonly allowedOrigins: OriginAllowList;
  private readonly _clients = new Set<WebSocketConnection>();
  private readonly sendQueue: SendQueueCounters;
  private readonly limits: ResolvedHandshakeLimits;
  private readonly caps: AdmissionCaps;
  /** The deadline of first request heads on an attached HTTP/1.1 server (our own server reads heads itself). */
  private readonly firstRequests: FirstRequestDeadline | null;
  private closing = false;
  /** `acceptedAt`: passed by our own server (upgrade-only-server.ts); node:http passes three arguments. */
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, acceptedAt?: number): void => {
    this.runUpgrade(req, socket, head, (conn) => this.emit('connection', conn, req), acceptedAt).catch(this.onUpgradeError);
  };
  /** A connection that could not open (answered 500) is the server's 'error', as a throw from the upgrade listener was. */
  private readonly onUpgradeError = (error: unknown): void => {
    this.emit('error', error);
  };

  constructor(private readonly options: WsServerOptions) {
    super();
    if ((options.port === undefined) === (options.server === undefined)) {
      throw new InvalidOptionError('WSG_ERR_INVALID_OPTION', 'WsServer needs exactly one of `port` or `server`');
    }
    const {
      port: _p, host: _h, server: _s, path: _path, handleProtocols: _hp, perMessageDeflate: _d, allowedOrigins,
      handshakeTimeout, maxConnections, maxConnectionsPerIp, maxPendingHandshakes, maxPendingHandshakesPerIp,
      ...connectionOptions
    } = options;
    const originProblem = originListProblem(allowedOrigins);
    if (originProblem !== null) throw new InvalidOptionError('WSG_ERR_INVALID_OPTION', `WsServer option allowedOrigins ${originProblem}`);
    this.allowedOrigins = originAllowList(allowedOrigins);
    // Validate once, up front; each connection re-applies the same options.
    this.settings = Object.freeze({ options: resolveConnectionOptions(connectionOptions), deflate: resolveDeflateConfig(options.perMessageDeflate) });
    this.sendQueue = new SendQueueCounters('WsServer', this.settings.options.maxSendQueue, (line) => this.warn(line));
    this.limits = resolveHandshakeLimits({ handshakeTimeout, maxConnections, maxConnectionsPerIp, maxPendingHandshakes, maxPendingHandshakesPerIp });
    this.caps = new AdmissionCaps(this.limits);
    if (options.server !== undefined) {
      this.httpServer = options.server;
      this.ownsServer = false;
      this.firstRequests = isHttp1Server(options.server) ? new FirstRequestDeadline(options.server, this.limits.handshakeTimeout) : null;
      this.firstRequests?.attach();
    } else {
      this.httpServer = new UpgradeOnlyServer({ timeoutMs: this.limits.handshakeTimeout });
      this.ownsServer = true;
      this.firstRequests = null;
    }
    this.httpServer.on('upgrade', this.onUpgrade);
  }

  /** Connections currently open or closing. */
  get clients(): ReadonlySet<WebSocketConnection> {
    return this._clients;
  }

  /**
   * Our 'warning' event when someone listens, else Node's warning channel (stderr by default,
   * `process.on('warning')` to route it): never silent.
   */
  private warn(line: string): void {
    if (this.listenerCount('warning') > 0) this.emit('warning', line);
    else process.emitWarning(line, { type: 'WsgateWarning', code: 'WSG_ERR_SEND_QUEUE_FULL' });
  }

  /** Messages dropped and connections closed 1013 at maxSendQueue, over this server's life. */
  get sendQueueTotals(): SendQueueTotals {
    return this.sendQueue.totals();
  }

  /** Starts listening (only for a server that owns its HTTP server). */
  listen(): Promise<AddressInfo> {
    if (!this.ownsServer) return Promise.resolve(this.address());
    return new Promise((resolve, reject) => {
      this.httpServer.once('error', reject);
      this.httpServer.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        this.httpServer.off('error', reject);
        resolve(this.address());
      });
    });
  }

  address(): AddressInfo {
    return this.httpServer.address() as AddressInfo;
  }

  /**
   * Runs the handshake for one upgrade request and calls back with the open connection. The
   * promise rejects, after the 500 went out, when the connection could not be opened.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, callback: (conn: WebSocketConnection) => void): Promise<void> {
    return this.runUpgrade(req, socket, head, callback, undefined);
  }

  private runUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, callback: (conn: WebSocketConnection) => void, acceptedAt: number | undefined): Promise<void> {
    const accepted = acceptedAt ?? this.firstRequests?.settle(socket);
    if (this.options.path !== undefined) {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      if ((q === -1 ? url : url.slice(0, q)) !== this.options.path) {
        rejectUpgrade(socket, 404);
        return Promise.resolve();
      }
    }
    const road = UpgradeRoad.take(req, socket, head, accepted);
    if (road === null) return Promise.resolve();
    let failure: unknown = null;
    const { handleProtocols } = this.options;
    return runAcceptPipeline(road, {
      screen: () => screenOrigin(this.allowedOrigins, upgradeOriginRequest(req), 'WSG_ERR_HANDSHAKE_ORIGIN'),
      capacity: () => (this.closing ? SERVICE_UNAVAILABLE : null),
      caps: this.caps,
      handshakeTimeout: this.limits.handshakeTimeout,
      decide: () => {
        const chosen = road.protocols.length > 0 && handleProtocols !== undefined ? handleProtocols(road.offer.protocols, req) : false;
        return chosen === false ? ACCEPT : { accept: true, protocol: chosen };
      },
      settings: () => this.settings,
      failed: (error) => {
        failure = error;
        return { accept: false, status: 500, error };
      },
      opened: (conn) => {
        this._clients.add(conn);
        conn.setOwner(this);
        conn.observeSendQueue(this.sendQueue);
        callback(conn);
      },
    }).then(() => {
      if (failure !== null) throw failure;
    });
  }

  /** A connection of ours closed (ConnectionOwner). */
  release(conn: WebSocketConnection): void {
    this._clients.delete(conn);
  }

  /** Stops accepting, closes every connection with 1001 and resolves when all are gone. */
  async close(): Promise<void> {
    this.closing = true;
    this.httpServer.off('upgrade', this.onUpgrade);
    this.firstRequests?.detach();
    const closing = [...this._clients].map((conn) => {
      if (conn.isOpen) conn.close(CloseCode.GoingAway, 'server shutting down');
      return conn.closed;
    });
    const serverClosed = this.ownsServer
      ? new Promise<void>((resolve) => {
          this.httpServer.close(() => resolve());
          this.httpServer.closeAllConnections?.();
        })
      : Promise.resolve();
    await Promise.all(closing);
    await serverClosed;
    this.sendQueue.flush();
  }
}
