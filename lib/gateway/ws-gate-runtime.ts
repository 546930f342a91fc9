import { createServer, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { WsHub } from '../hub/index.js';
import { AcceptPhase, type AcceptContext } from './accept-phase.js';
import type { ConnectionRunner } from './connection-runner.js';
import { GatewayError } from './errors.js';
import type { GatewayPlan } from './gateway-plan.js';
import { WsGatewayRegistry } from './gateway-registry.js';
import { HandlerChainFactory } from './handler-chain.js';
import type { ResolvedWsGateModuleOptions } from './module-options.js';
import { WSGATE_MODULE_OPTIONS } from './module-tokens.js';
import { nestContainerOf } from './nest-container.js';
import { anyOriginWarning } from './origin-screen.js';
import { isGatewayClass, PlanCompiler } from './plan-compiler.js';
import type { UpgradeRoute, UpgradeRouter } from './upgrade-router.js';
import { UpgradeRouters } from './upgrade-routers.js';
import { WsGatePush } from './ws-gate-push.js';
import { AdmissionCaps } from '../frames/admission-caps.js';
import { answerUpgradeRequired } from '../frames/upgrade-road.js';
import { answerNonWebSocketRequest } from '../http2/http2-ws-server.js';

/**
 * Brings gateways up and down with the application: at bootstrap it discovers `@WsGateway`
 * providers, compiles their plans and attaches one upgrade router per HTTP server (the
 * application's, and one per own port); at shutdown it closes every connection with 1001,
 * waits for their `@OnClose`, then closes its servers and the hub.
 */
@Injectable()
export class WsGateRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown, AcceptContext {
  readonly logger = new Logger('WsGate');
  private readonly routers: UpgradeRouter[] = [];
  private readonly mounted: Array<{ readonly router: UpgradeRouter; readonly route: UpgradeRoute }> = [];
  private readonly ownServers: Server[] = [];
  /** The `http2` option's server, its sessions and HTTP/1.1 sockets (closed at shutdown). */
  private http2Server: OwnHttp2Server | null = null;
  private readonly runners = new Set<ConnectionRunner>();
  /** Each gateway's caps, shared by the servers it is mounted on (the application's and the `http2` port). */
  private readonly caps = new Map<GatewayPlan, AdmissionCaps>();
  private _closing = false;
  private _chains: HandlerChainFactory | null = null;

  constructor(
    private readonly discovery: DiscoveryService,
    readonly moduleRef: ModuleRef,
    private readonly adapterHost: HttpAdapterHost,
    readonly hub: WsHub,
    readonly registry: WsGatewayRegistry,
    @Inject(WSGATE_MODULE_OPTIONS) private readonly options: ResolvedWsGateModuleOptions,
    /** Runs gateways' `push()` commands (see `WsGatePush.runCommand`). */
    readonly push: WsGatePush,
    /** The application's upgrade routers, shared with WsGateAdapter. */
    private readonly upgradeRouters: UpgradeRouters,
  ) {
    // Made now, not at bootstrap: Nest creates WsGateAdapter gateways before any lifecycle
    // hook, and they mount on this server too (see UpgradeRouters.http2Companion).
    const http2 = options.http2;
    if (http2 !== null) {
      this.http2Server = createOwnHttp2Server(http2.key, http2.cert);
      upgradeRouters.setHttp2Companion(this.http2Server.server as unknown as Server);
    }
  }

  get closing(): boolean {
    return this._closing;
  }

  get chains(): HandlerChainFactory {
    return this._chains!;
  }

  started(runner: ConnectionRunner): void {
    this.runners.add(runner);
    this.registry.countConnection(runner.plan, 1);
  }

  ended(runner: ConnectionRunner): void {
    if (this.runners.delete(runner)) this.registry.countConnection(runner.plan, -1);
  }

  async onApplicationBootstrap(): Promise<void> {
    this._chains = new HandlerChainFactory(nestContainerOf(this.moduleRef));
    const compiler = new PlanCompiler(this._chains, this.options.defaults);
    const plans: GatewayPlan[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias || !isGatewayClass(wrapper.metatype)) continue;
      plans.push(
        compiler.compile({
          metatype: wrapper.metatype,
          instance: wrapper.instance as object,
          wrapperId: wrapper.id,
          moduleKey: wrapper.host?.token ?? '',
          isStatic: wrapper.isDependencyTreeStatic(),
        }),
      );
    }
    if (plans.length === 0) {
      await this.listenHttp2([]);
      return;
    }
    const accept = new AcceptPhase(this);
    for (const plan of plans) if (plan.options.allowedOrigins === null) this.logger.warn(anyOriginWarning(plan.name));
    const byPort = new Map<number | null, GatewayPlan[]>();
    for (const plan of plans) {
      const group = byPort.get(plan.options.port) ?? [];
      group.push(plan);
      byPort.set(plan.options.port, group);
    }
    const http2 = this.options.http2;
    for (const [port, group] of byPort) {
      const servers: Server[] = [];
      if (port !== null) servers.push(createOwnServer());
      else {
        const appServer = http2 === null ? this.applicationServer(group) : this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
        if (appServer !== undefined && typeof appServer.on === 'function') servers.push(appServer);
        if (this.http2Server !== null) servers.push(this.http2Server.server as unknown as Server);
      }
      for (const server of servers) this.mount(server, group, accept);
      if (port !== null) {
        const server = servers[0]!;
        this.ownServers.push(server);
        const address = await this.listen(server, port, group);
        for (const plan of group) this.registry.setAddress(plan, address);
      }
    }
    await this.listenHttp2(plans.filter((p) => p.options.port === null));
    this.registry.setPlans(plans);
    for (const router of this.routers) router.attach();
    if (this.options.logRoutes) this.logger.verbose?.(`WebSocket routes:\n${this.registry.formatRouteTable()}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this._closing = true;
    await Promise.all([...this.runners].map((runner) => runner.shutdown()));
    await this.hub.close();
  }

  /** Starts the `http2` option's port (also when only WsGateAdapter gateways use it). */
  private async listenHttp2(group: readonly GatewayPlan[]): Promise<void> {
    const http2 = this.options.http2;
    if (this.http2Server === null || http2 === null) return;
    const address = await this.listen(this.http2Server.server as unknown as Server, http2.port, group, http2.host);
    this.registry.setHttp2Address(address);
  }

  private mount(server: Server, group: readonly GatewayPlan[], accept: AcceptPhase): void {
    for (const plan of group) {
      let caps = this.caps.get(plan);
      if (caps === undefined) {
        caps = new AdmissionCaps(plan.options.handshake);
        this.caps.set(plan, caps);
      }
      const route = planRoute(plan, accept, this.logger, caps);
      const router = this.upgradeRouters.mount(server, route);
      this.mounted.push({ router, route });
      if (!this.routers.includes(router)) this.routers.push(router);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Only our own routes: a WsGateAdapter may still be mounted on the same server.
    for (const { router, route } of this.mounted) this.upgradeRouters.unmount(router, route);
    this.mounted.length = 0;
    this.routers.length = 0;
    await Promise.all(
      this.ownServers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.ownServers.length = 0;
    const http2 = this.http2Server;
    this.http2Server = null;
    this.registry.setHttp2Address(null);
    if (http2 !== null) {
      if (this.upgradeRouters.http2Companion === (http2.server as unknown as Server)) this.upgradeRouters.setHttp2Companion(null);
      await http2.close();
    }
  }

  private applicationServer(group: readonly GatewayPlan[]): Server {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server === undefined || typeof server.on !== 'function') {
      throw new GatewayError(
        'WSG_ERR_GATEWAY_NO_HTTP_SERVER',
        `${group.map((p) => p.name).join(', ')} ha${group.length === 1 ? 's' : 've'} no port of ${group.length === 1 ? 'its' : 'their'} own and the application has no HTTP server`,
      );
    }
    return server;
  }

  private listen(server: Server, port: number, group: readonly GatewayPlan[], host = this.options.host): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new GatewayError('WSG_ERR_GATEWAY_LISTEN', `${group.map((p) => p.name).join(', ')}: cannot listen on port ${port}: ${error.message}`, undefined, { cause: error }));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve(server.address() as AddressInfo);
      });
    });
  }
}

/** A native gateway as the shared upgrade router sees it, with its caps (counted per gateway, over every server it is mounted on). */
function planRoute(plan: GatewayPlan, accept: AcceptPhase, logger: Logger, caps: AdmissionCaps): UpgradeRoute {
  return Object.freeze({
    name: plan.name,
    matcher: plan.options.matcher,
    handshakeTimeout: plan.options.handshake.handshakeTimeout,
    logger,
    serve: (params, url, road) => accept.run(plan, params, url, road, caps),
  } satisfies UpgradeRoute);
}

/** A server of its own answers plain HTTP with 426: only upgrades are served there. */
export function createOwnServer(): Server {
  return createServer((_req, res) => answerUpgradeRequired(res));
}

/** The `http2` option's server: HTTP/2 and HTTP/1.1 (ALPN) on one TLS port, only for WebSockets. */
interface OwnHttp2Server {
  readonly server: Http2SecureServer;
  close(): Promise<void>;
}

function createOwnHttp2Server(key: string | Buffer, cert: string | Buffer): OwnHttp2Server {
  const server = createSecureServer({ key, cert, allowHTTP1: true, settings: { enableConnectProtocol: true } }, answerNonWebSocketRequest);
  const sessions = new Set<Http2Session>();
  const sockets = new Set<TLSSocket>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        // The gateways' connections are closed by now: what is left is idle.
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      }),
  };
}
