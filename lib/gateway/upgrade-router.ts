import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LoggerService } from '@nestjs/common';
import { HttpStatus } from '@nestjs/common';
import { rejectUpgrade } from '../frames/handshake.js';
import type { AcceptPhase } from './accept-phase.js';
import { GatewayError } from './errors.js';
import type { GatewayPlan } from './gateway-plan.js';
import { normalizePathname, type WsPathParams } from './path-matcher.js';

/** Resolves paths relative to a fixed origin: the Host header is the client's to forge. */
const URL_BASE = 'http://localhost';

/**
 * The one `upgrade` listener of one HTTP server: picks the gateway by path (static paths by
 * Map, parameterized ones in declaration order) and hands the request to the accept phase.
 * No gateway at the path: a real 404.
 */
export class UpgradeRouter {
  private readonly statics = new Map<string, GatewayPlan>();
  private readonly dynamic: GatewayPlan[] = [];
  private readonly shapes = new Map<string, GatewayPlan>();
  private attached = false;

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
    const route = this.route(url.pathname);
    if (route === null) {
      rejectUpgrade(socket, HttpStatus.NOT_FOUND, undefined, `[WSG_ERR_GATEWAY_NOT_FOUND] No WebSocket gateway at ${url.pathname}`);
      return;
    }
    this.accept.run(route.plan, route.params, url, req, socket, head).catch((error: unknown) => {
      this.logger.error(`[WSG_ERR_GATEWAY_HANDLER] ${route.plan.name}: upgrade failed`, error instanceof Error ? error.stack : String(error));
      if (!socket.destroyed) rejectUpgrade(socket, HttpStatus.INTERNAL_SERVER_ERROR);
    });
  };

  constructor(
    readonly server: Server,
    private readonly accept: AcceptPhase,
    private readonly logger: LoggerService,
  ) {}

  get plans(): readonly GatewayPlan[] {
    return [...this.shapes.values()];
  }

  /** Adds a gateway; two gateways with the same path shape on one server is a bootstrap error. */
  add(plan: GatewayPlan): void {
    const { matcher } = plan.options;
    const existing = this.shapes.get(matcher.shape);
    if (existing !== undefined) {
      throw new GatewayError('WSG_ERR_GATEWAY_DUPLICATE_PATH', `${existing.name} and ${plan.name} are both mounted at ${matcher.path} on one server`);
    }
    this.shapes.set(matcher.shape, plan);
    if (matcher.isStatic) this.statics.set(matcher.path, plan);
    else this.dynamic.push(plan);
  }

  route(pathname: string): { plan: GatewayPlan; params: WsPathParams } | null {
    const plan = this.statics.get(normalizePathname(pathname));
    if (plan !== undefined) return { plan, params: plan.options.matcher.match(pathname)! };
    for (const candidate of this.dynamic) {
      const params = candidate.options.matcher.match(pathname);
      if (params !== null) return { plan: candidate, params };
    }
    return null;
  }

  attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.server.on('upgrade', this.onUpgrade);
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.server.off('upgrade', this.onUpgrade);
  }
}
