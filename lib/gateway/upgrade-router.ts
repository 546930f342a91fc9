import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LoggerService } from '@nestjs/common';
import { HttpStatus } from '@nestjs/common';
import type { HandshakeDeny } from '../frames/handshake-decision.js';
import { rejectUpgrade } from '../frames/handshake.js';
import { FirstRequestDeadline, isHttp1Server } from '../frames/handshake-deadline.js';
import { UpgradeRoad } from '../frames/upgrade-road.js';
import type { ExtendedConnectRoad } from '../http2/extended-connect-road.js';
import { ExtendedConnectIntake, type Http2AnyServer } from '../http2/extended-connect.js';
import { GatewayError } from './errors.js';
import { normalizePathname, type PathMatcher, type WsPathParams } from './path-matcher.js';

/** Resolves paths relative to a fixed origin: the Host header is the client's to forge. */
const URL_BASE = 'http://localhost';

/** A handshake a gateway answers: an HTTP/1.1 upgrade or an RFC 8441 extended CONNECT, validated. */
export type GatewayRoad = UpgradeRoad | ExtendedConnectRoad;

/**
 * Something mounted at a path of an HTTP server: a native gateway's plan, or a server made
 * by `WsGateAdapter` for an `@WebSocketGateway`. Both kinds share one router per server.
 */
export interface UpgradeRoute {
  /** Shown in errors and logs (the gateway's class name). */
  readonly name: string;
  readonly matcher: PathMatcher;
  /** ms: the route's `handshakeTimeout` (0: none); the server's first request heads get the longest of its routes'. */
  readonly handshakeTimeout: number;
  /** Where a handshake that `serve` failed on is reported. */
  readonly logger: LoggerService;
  /**
   * Answers the handshake on either road: opens the WebSocket or refuses with a real HTTP
   * status. A rejection is logged and, if the client is still there, answered 500.
   */
  serve(params: WsPathParams, url: URL, road: GatewayRoad): Promise<void>;
}

const BAD_REQUEST: HandshakeDeny = Object.freeze({ accept: false, status: HttpStatus.BAD_REQUEST });
const INTERNAL: HandshakeDeny = Object.freeze({ accept: false, status: HttpStatus.INTERNAL_SERVER_ERROR });

function notFound(pathname: string): HandshakeDeny {
  return { accept: false, status: HttpStatus.NOT_FOUND, body: `[WSG_ERR_GATEWAY_NOT_FOUND] No WebSocket gateway at ${pathname}` };
}


/** A request target URL, or null when it does not parse (the client's error, answered 400). */
function parseTarget(target: string): URL | null {
  try {
    return new URL(target, URL_BASE);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return null;
  }
}

/**
 * The one `upgrade` listener of one HTTP server (and its RFC 8441 intake on HTTP/2 servers):
 * picks the route by path (static paths by Map, parameterized ones in the order they were
 * added) and hands the handshake over. No route at the path: a real 404. Made and kept by
 * `UpgradeRouters`.
 */
export class UpgradeRouter {
  private readonly statics = new Map<string, UpgradeRoute>();
  private readonly dynamic: UpgradeRoute[] = [];
  private readonly shapes = new Map<string, UpgradeRoute>();
  private attached = false;
  /** RFC 8441 on an HTTP/2 server; null on HTTP/1.1 servers and while detached. */
  private intake: ExtendedConnectIntake | null = null;
  /** The handshake deadline of sockets not yet past their first request head; null on HTTP/2 servers (node:http2's sessions). */
  private readonly firstRequests: FirstRequestDeadline | null;

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const acceptedAt = this.firstRequests?.settle(socket);
    const url = parseTarget(req.url ?? '/');
    if (url === null) {
      rejectUpgrade(socket, BAD_REQUEST.status);
      return;
    }
    const found = this.route(url.pathname);
    if (found === null) {
      const deny = notFound(url.pathname);
      rejectUpgrade(socket, deny.status, undefined, deny.body);
      return;
    }
    const road = UpgradeRoad.take(req, socket, head, acceptedAt);
    if (road !== null) this.serve(found, url, road);
  };

  private readonly onExtendedConnect = (road: ExtendedConnectRoad): void => {
    const url = parseTarget(road.request.path);
    if (url === null) {
      road.refuse(BAD_REQUEST);
      return;
    }
    const found = this.route(url.pathname);
    if (found === null) road.refuse(notFound(url.pathname));
    else this.serve(found, url, road);
  };

  constructor(readonly server: Server) {
    this.firstRequests = isHttp1Server(server) ? new FirstRequestDeadline(server, 0) : null;
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
    this.updateHeadDeadline();
  }

  /** Removes a route (`UpgradeRouters.unmount` detaches the router once it has none). */
  remove(route: UpgradeRoute): void {
    const { matcher } = route;
    if (this.shapes.get(matcher.shape) !== route) return;
    this.shapes.delete(matcher.shape);
    if (matcher.isStatic) this.statics.delete(matcher.path);
    else this.dynamic.splice(this.dynamic.indexOf(route), 1);
    this.updateHeadDeadline();
  }

  /**
   * Before its first head a socket has no path, so no route: it gets the longest
   * `handshakeTimeout` of the server's routes (none when one route turned its deadline off).
   */
  private updateHeadDeadline(): void {
    if (this.firstRequests === null) return;
    const timeouts = [...this.shapes.values()].map((route) => route.handshakeTimeout);
    this.firstRequests.timeoutMs = timeouts.includes(0) ? 0 : Math.max(0, ...timeouts);
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
    this.firstRequests?.attach();
    if (!isHttp1Server(this.server)) {
      const server = this.server as unknown as Http2AnyServer;
      server.updateSettings({ enableConnectProtocol: true });
      this.intake = new ExtendedConnectIntake(server, { serve: this.onExtendedConnect });
    }
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.server.off('upgrade', this.onUpgrade);
    this.firstRequests?.detach();
    // Open connections belong to their gateways, which close them; only intake stops.
    this.intake?.detach();
    this.intake = null;
  }

  private serve({ route, params }: { route: UpgradeRoute; params: WsPathParams }, url: URL, road: GatewayRoad): void {
    route.serve(params, url, road).catch((error: unknown) => {
      route.logger.error(`[WSG_ERR_GATEWAY_HANDLER] ${route.name}: handshake failed`, error instanceof Error ? error.stack : String(error));
      road.refuse(INTERNAL);
    });
  }
}
