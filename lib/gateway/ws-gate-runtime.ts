import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { isGatewayClass, PlanCompiler } from './plan-compiler.js';
import { UpgradeRouter, type UpgradeRoute } from './upgrade-router.js';

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
  private readonly runners = new Set<ConnectionRunner>();
  private _closing = false;
  private _chains: HandlerChainFactory | null = null;

  constructor(
    private readonly discovery: DiscoveryService,
    readonly moduleRef: ModuleRef,
    private readonly adapterHost: HttpAdapterHost,
    readonly hub: WsHub,
    private readonly registry: WsGatewayRegistry,
    @Inject(WSGATE_MODULE_OPTIONS) private readonly options: ResolvedWsGateModuleOptions,
  ) {}

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
    if (plans.length === 0) return;
    const accept = new AcceptPhase(this);
    const byPort = new Map<number | null, GatewayPlan[]>();
    for (const plan of plans) {
      const group = byPort.get(plan.options.port) ?? [];
      group.push(plan);
      byPort.set(plan.options.port, group);
    }
    for (const [port, group] of byPort) {
      const server = port === null ? this.applicationServer(group) : createOwnServer();
      const router = UpgradeRouter.of(server);
      for (const plan of group) {
        const route = planRoute(plan, accept, this.logger);
        router.add(route);
        this.mounted.push({ router, route });
      }
      this.routers.push(router);
      if (port !== null) {
        this.ownServers.push(server);
        const address = await this.listen(server, port, group);
        for (const plan of group) this.registry.setAddress(plan, address);
      }
    }
    this.registry.setPlans(plans);
    for (const router of this.routers) router.attach();
    if (this.options.logRoutes) this.logger.verbose?.(`WebSocket routes:\n${this.registry.formatRouteTable()}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this._closing = true;
    await Promise.all([...this.runners].map((runner) => runner.shutdown()));
    await this.hub.close();
  }

  async onApplicationShutdown(): Promise<void> {
    // Only our own routes: a WsGateAdapter may still be mounted on the same server.
    for (const { router, route } of this.mounted) router.remove(route);
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

  private listen(server: Server, port: number, group: readonly GatewayPlan[]): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(new GatewayError('WSG_ERR_GATEWAY_LISTEN', `${group.map((p) => p.name).join(', ')}: cannot listen on port ${port}: ${error.message}`, undefined, { cause: error }));
      };
      server.once('error', onError);
      server.listen(port, this.options.host, () => {
        server.off('error', onError);
        resolve(server.address() as AddressInfo);
      });
    });
  }
}

/** A native gateway as the shared upgrade router sees it. */
function planRoute(plan: GatewayPlan, accept: AcceptPhase, logger: Logger): UpgradeRoute {
  return Object.freeze({
    name: plan.name,
    matcher: plan.options.matcher,
    logger,
    serve: (params, url, req, socket, head) => accept.run(plan, params, url, req, socket, head),
  } satisfies UpgradeRoute);
}

/** RFC 9110 §15.5.22; missing from Nest's HttpStatus. */
const UPGRADE_REQUIRED = 426;

/** A server of its own answers plain HTTP with 426: only upgrades are served there. */
export function createOwnServer(): Server {
  return createServer((_req, res) => {
    res.writeHead(UPGRADE_REQUIRED, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'Upgrade' });
    res.end('Upgrade Required');
  });
}
