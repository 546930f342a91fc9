import type { IncomingMessage, Server } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { LoggerService } from '@nestjs/common';
import { HttpStatus } from '@nestjs/common';
import { rejectUpgrade } from '../frames/handshake.js';
import type { WebSocketConnection } from '../frames/websocket-connection.js';
import {
  ExtendedConnectIntake,
  type ExtendedConnectDecision,
  type ExtendedConnectRequest,
  type Http2AnyServer,
} from '../http2/extended-connect.js';
import { GatewayError } from './errors.js';
import { normalizePathname, type PathMatcher, type WsPathParams } from './path-matcher.js';

/** Resolves paths relative to a fixed origin: the Host header is the client's to forge. */
const URL_BASE = 'http://localhost';

/**
 * Something mounted at a path of an HTTP server: a native gateway's plan, or a server made
 * by `WsGateAdapter` for an `@WebSocketGateway`. Both kinds share one router per server.
 */
export interface UpgradeRoute {
  /** Shown in errors and logs (the gateway's class name). */
  readonly name: string;
  readonly matcher: PathMatcher;
  /** Where an upgrade that `serve` failed on is reported. */
  readonly logger: LoggerService;
  /**
   * Takes over the socket: answers with a 101 or a real HTTP refusal. A throw or rejection
   * is logged and, if the socket is still open, answered 500.
   */
  serve(params: WsPathParams, url: URL, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> | void;
  /**
   * Decides an RFC 8441 extended CONNECT (already checked against RFC 8441 / RFC 6455) on an
   * HTTP/2 server. A throw or rejection is logged and answered 500.
   */
  serveExtendedConnect(params: WsPathParams, url: URL, request: ExtendedConnectRequest): Promise<ExtendedConnectAdmission> | ExtendedConnectAdmission;
}

/** A route's answer to an extended CONNECT: the decision, and what becomes of the stream. */
export interface ExtendedConnectAdmission {
  readonly decision: ExtendedConnectDecision;
  /** The 200 went out: the engine runs over the stream. Only after an accepting decision. */
  opened?(engine: WebSocketConnection): void;
  /** An accepting decision that never became a connection: the stream went away or the 200 failed. */
  aborted?(error: unknown): void;
}

/** Servers from `node:http2` (`createSecureServer`, Fastify's `http2: true`) take extended CONNECTs. */
function isHttp2Server(server: Server): boolean {
  return typeof (server as unknown as { updateSettings?: unknown }).updateSettings === 'function';
}

function notFound(pathname: string): ExtendedConnectDecision {
  return { accept: false, status: HttpStatus.NOT_FOUND, body: `[WSG_ERR_GATEWAY_NOT_FOUND] No WebSocket gateway at ${pathname}` };
}

/** One router per HTTP server, whoever mounts on it first; dropped when its last route is removed. */
const routers = new WeakMap<Server, UpgradeRouter>();

/**
 * The one `upgrade` listener of one HTTP server: picks the route by path (static paths by
 * Map, parameterized ones in the order they were added) and hands the request over.
 * No route at the path: a real 404.
 */
export class UpgradeRouter {
  private readonly statics = new Map<string, UpgradeRoute>();
  private readonly dynamic: UpgradeRoute[] = [];
  private readonly shapes = new Map<string, UpgradeRoute>();
  private attached = false;
  /** RFC 8441 on an HTTP/2 server; null on HTTP/1.1 servers and while detached. */
  private intake: ExtendedConnectIntake | null = null;
  /** Accepted CONNECTs waiting for their 200, by stream. */
  private readonly admitted = new Map<ServerHttp2Stream, ExtendedConnectAdmission>();

  private readonly onExtendedConnect = async (request: ExtendedConnectRequest): Promise<ExtendedConnectDecision> => {
    let url: URL;
    try {
      url = new URL(request.path, URL_BASE);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      return { accept: false, status: HttpStatus.BAD_REQUEST };
    }
    const found = this.route(url.pathname);
    if (found === null) return notFound(url.pathname);
    const { route, params } = found;
    let admission: ExtendedConnectAdmission;
    try {
      admission = await route.serveExtendedConnect(params, url, request);
    } catch (error) {
      route.logger.error(`[WSG_ERR_GATEWAY_HANDLER] ${route.name}: extended CONNECT failed`, error instanceof Error ? error.stack : String(error));
      return { accept: false, status: HttpStatus.INTERNAL_SERVER_ERROR };
    }
    const stream = request.stream;
    if (admission.decision.accept) {
      if (stream.destroyed || stream.closed) {
        admission.aborted?.(null);
      } else {
        this.admitted.set(stream, admission);
        stream.once('close', () => this.settleAdmission(stream, null));
      }
    }
    return admission.decision;
  };

  private readonly onExtendedConnectOpen = (engine: WebSocketConnection, request: ExtendedConnectRequest): void => {
    const admission = this.admitted.get(request.stream);
    if (admission === undefined) return;
    this.admitted.delete(request.stream);
    admission.opened?.(engine);
  };

  private readonly onExtendedConnectRejected = (error: unknown, request: ExtendedConnectRequest | null): void => {
    if (request !== null) this.settleAdmission(request.stream, error);
  };

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', URL_BASE);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      // An unparsable request target is the client's error, and answered as one.
      rejectUpgrade(socket, HttpStatus.BAD_REQUEST);
      return;
    }
    const found = this.route(url.pathname);
    if (found === null) {
      rejectUpgrade(socket, HttpStatus.NOT_FOUND, undefined, `[WSG_ERR_GATEWAY_NOT_FOUND] No WebSocket gateway at ${url.pathname}`);
      return;
    }
    const { route, params } = found;
    const failed = (error: unknown): void => {
      route.logger.error(`[WSG_ERR_GATEWAY_HANDLER] ${route.name}: upgrade failed`, error instanceof Error ? error.stack : String(error));
      if (!socket.destroyed) rejectUpgrade(socket, HttpStatus.INTERNAL_SERVER_ERROR);
    };
    let pending: Promise<void> | void;
    try {
      pending = route.serve(params, url, req, socket, head);
    } catch (error) {
      failed(error);
      return;
    }
    if (pending !== undefined) pending.catch(failed);
  };

  constructor(readonly server: Server) {}

  /** The router of `server`, created on first use: native gateways and adapter servers share it. */
  static of(server: Server): UpgradeRouter {
    let router = routers.get(server);
    if (router === undefined) {
      router = new UpgradeRouter(server);
      routers.set(server, router);
    }
    return router;
  }

  get routes(): readonly UpgradeRoute[] {
    return [...this.shapes.values()];
  }

  /** Adds a route; two routes with the same path shape on one server is a bootstrap error. */
  add(route: UpgradeRoute): void {
    const { matcher } = route;
    const existing = this.shapes.get(matcher.shape);
    if (existing !== undefined) {
      throw new GatewayError('WSG_ERR_GATEWAY_DUPLICATE_PATH', `${existing.name} and ${route.name} are both mounted at ${matcher.path} on one server`);
    }
    this.shapes.set(matcher.shape, route);
    if (matcher.isStatic) this.statics.set(matcher.path, route);
    else this.dynamic.push(route);
  }

  /** Removes a route; with the last one gone the router stops listening and is forgotten. */
  remove(route: UpgradeRoute): void {
    const { matcher } = route;
    if (this.shapes.get(matcher.shape) !== route) return;
    this.shapes.delete(matcher.shape);
    if (matcher.isStatic) this.statics.delete(matcher.path);
    else this.dynamic.splice(this.dynamic.indexOf(route), 1);
    if (this.shapes.size === 0) {
      this.detach();
      if (routers.get(this.server) === this) routers.delete(this.server);
    }
  }

  route(pathname: string): { route: UpgradeRoute; params: WsPathParams } | null {
    const route = this.statics.get(normalizePathname(pathname));
    if (route !== undefined) return { route, params: route.matcher.match(pathname)! };
    for (const candidate of this.dynamic) {
      const params = candidate.matcher.match(pathname);
      if (params !== null) return { route: candidate, params };
    }
    return null;
  }

  /**
   * Starts listening. On an HTTP/2 server this also answers extended CONNECTs and turns
   * SETTINGS_ENABLE_CONNECT_PROTOCOL on for sessions that start from now (RFC 8441 §3):
   * servers made by Fastify or Nest do not advertise it themselves.
   */
  attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.server.on('upgrade', this.onUpgrade);
    if (isHttp2Server(this.server)) {
      const server = this.server as unknown as Http2AnyServer;
      server.updateSettings({ enableConnectProtocol: true });
      const intake = new ExtendedConnectIntake(server, { accept: this.onExtendedConnect });
      intake.on('connection', this.onExtendedConnectOpen);
      intake.on('rejected', this.onExtendedConnectRejected);
      this.intake = intake;
    }
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.server.off('upgrade', this.onUpgrade);
    // Open connections belong to their gateways, which close them; only intake stops.
    this.intake?.detach();
    this.intake = null;
  }

  private settleAdmission(stream: ServerHttp2Stream, error: unknown): void {
    const admission = this.admitted.get(stream);
    if (admission === undefined) return;
    this.admitted.delete(stream);
    admission.aborted?.(error);
  }
}
