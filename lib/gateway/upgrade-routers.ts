import type { Server } from 'node:http';
import { Injectable } from '@nestjs/common';
import { UpgradeRouter, type UpgradeRoute } from './upgrade-router.js';

/**
 * The upgrade routers of one application, one per HTTP server, so native gateways and
 * `WsGateAdapter` gateways on the same server share its one `upgrade` listener. Provided by
 * `WsGateModule` (the adapter finds it through the application, or keeps one of its own).
 * It also knows the HTTP/2 port `WsGateModule.forRoot({ http2 })` runs beside the
 * application's server: adapter gateways mount there too, so `@WebSocketGateway` code on an
 * Express app is served over RFC 8441 like native gateways.
 */
@Injectable()
export class UpgradeRouters {
  private readonly routers = new Map<Server, UpgradeRouter>();
  private _http2Companion: Server | null = null;

  /** WsGateModule's HTTP/2 server; null without the `http2` option (or once it closed). */
  get http2Companion(): Server | null {
    return this._http2Companion;
  }

  /** @internal Set by the runtime when it makes (and closes) the HTTP/2 server. */
  setHttp2Companion(server: Server | null): void {
    this._http2Companion = server;
  }

  /** Adds `route` to the router of `server` (made on first use) and returns the router; it listens from `attach()`. */
  mount(server: Server, route: UpgradeRoute): UpgradeRouter {
    let router = this.routers.get(server);
    if (router === undefined) {
      router = new UpgradeRouter(server);
      this.routers.set(server, router);
    }
    router.add(route);
    return router;
  }

  /** Removes `route`; a router left without routes stops listening and is forgotten. */
  unmount(router: UpgradeRouter, route: UpgradeRoute): void {
    router.remove(route);
    if (router.routes.length > 0) return;
    router.detach();
    if (this.routers.get(router.server) === router) this.routers.delete(router.server);
  }
}
