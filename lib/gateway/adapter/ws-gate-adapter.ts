import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, type INestApplicationContext, type WsMessageHandler } from '@nestjs/common';
import { normalizePath } from '@nestjs/common/internal';
import type { NestContainer } from '@nestjs/core';
import { AbstractWsAdapter } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import { CloseCode } from '../../frames/close-codes.js';
import { GatewayError } from '../errors.js';
import { compilePath, type PathMatcher, type WsPathParams } from '../path-matcher.js';
import type { UpgradeRoute, UpgradeRouter } from '../upgrade-router.js';
import { providerInstanceOf } from '../nest-container.js';
import { UpgradeRouters } from '../upgrade-routers.js';
import { createOwnServer } from '../ws-gate-runtime.js';
import { resolveAdapterOptions, resolveServerOptions, unhonouredOptions, type WsGateAdapterOptions } from './adapter-options.js';
import { MessageDispatcher } from './message-dispatcher.js';
import type { WsGateMessageParser } from './message-parser.js';
import type { WsGateClient } from './ws-gate-client.js';
import { WsGateServer } from './ws-gate-server.js';

/** Nest's port for "the application's own HTTP server". */
const APPLICATION_PORT = 0;

const NO_PARAMS: WsPathParams = Object.freeze({});

/** A gateway without a path on a port of its own takes every path, as a ws server without `path` does. */
const ANY_PATH: PathMatcher = Object.freeze({
  path: '*',
  shape: '*',
  paramNames: Object.freeze([]),
  isStatic: false,
  match: () => NO_PARAMS,
});

/**
 * The routers of an application that imports WsGateModule (so one `upgrade` listener serves
 * native and adapter gateways on a shared server); a router set of our own otherwise.
 */
function routersOf(appOrHttpServer: INestApplicationContext | object | undefined): UpgradeRouters {
  const app = appOrHttpServer as (Partial<INestApplicationContext> & { getHttpAdapter?: unknown }) | undefined;
  // An HTTP server (or a framework's app object) is no Nest application: it has no providers.
  if (app === undefined || typeof app.getHttpAdapter !== 'function' || typeof app.get !== 'function') return new UpgradeRouters();
  const container = (app as { container?: NestContainer }).container;
  if (container === undefined || typeof container.getModules !== 'function') return new UpgradeRouters();
  return providerInstanceOf(container, UpgradeRouters) ?? new UpgradeRouters();
}

function listeningPort(server: Server): number | null {
  const address = server.address();
  return address !== null && typeof address === 'object' ? address.port : null;
}

/**
 * Runs existing `@WebSocketGateway` / `@SubscribeMessage` code on the wsgate engine: a
 * drop-in for `WsAdapter` from `@nestjs/platform-ws`, changed in one line of `main.ts`:
 *
 * ```ts
 * app.useWebSocketAdapter(new WsGateAdapter(app));
 * ```
 *
 * Ports and paths mean what they mean to `WsAdapter`: port 0 (or the application's) shares
 * the application's HTTP server — through the same upgrade router as native `@WsGateway`
 * gateways, so one `upgrade` listener serves both and an unknown path gets a 404 — and any
 * other port is a server of the gateway's own, shared by the gateways on that port.
 * Behaviour platform-ws leaves silent or unbounded stays so by default; the options that
 * change it are in `WsGateServerOptions`.
 */
// Nest's BaseWsInstance types `on` with `Function` listeners, which EventEmitter's typing
// does not meet; the methods below state the real types.
export class WsGateAdapter extends AbstractWsAdapter {
  protected readonly logger = new Logger(WsGateAdapter.name);
  private options: Readonly<WsGateAdapterOptions>;
  private readonly servers = new Set<WsGateServer>();
  private readonly mounted: Array<{ readonly router: UpgradeRouter; readonly route: UpgradeRoute }> = [];
  private readonly ownServers = new Map<number, Server>();
  private readonly anonymousServers: Server[] = [];
  /** WsGateModule's routers when the application imports it (native gateways share them), else our own. */
  private readonly upgradeRouters: UpgradeRouters;

  constructor(appOrHttpServer?: INestApplicationContext | object, options?: WsGateAdapterOptions) {
    super(appOrHttpServer);
    this.upgradeRouters = routersOf(appOrHttpServer);
    this.options = resolveAdapterOptions(options);
    for (const warning of unhonouredOptions(options)) this.logger.warn(`WsGateAdapter: ${warning}`);
  }

  /** Replaces the message parser, as `WsAdapter.setMessageParser`; only before the gateways are created. */
  setMessageParser(parser: WsGateMessageParser): void {
    if (this.servers.size > 0) {
      throw new GatewayError('WSG_ERR_GATEWAY_INVALID_OPTION', 'setMessageParser() must be called before the application initializes its gateways');
    }
    this.options = resolveAdapterOptions({ ...this.options, messageParser: parser });
  }

  create(port: number, options: Record<string, unknown> = {}): WsGateServer {
    const { server, path, namespace, ...own } = options;
    if (namespace !== undefined && namespace !== null && namespace !== '') {
      throw new GatewayError(
        'WSG_ERR_GATEWAY_INVALID_OPTION',
        '"WsGateAdapter" does not support namespaces, as "WsAdapter" does not; use paths, or native @WsGateway gateways',
      );
    }
    if (server !== undefined && server !== null) return server as WsGateServer;
    if (path !== undefined && typeof path !== 'string') {
      throw new GatewayError('WSG_ERR_GATEWAY_INVALID_OPTION', `@WebSocketGateway path must be a string, got ${typeof path}`);
    }
    const where = `@WebSocketGateway(${port}${path === undefined ? '' : `, ${path}`})`;
    const resolved = resolveServerOptions(this.options, own, where);
    for (const warning of unhonouredOptions(own)) this.logger.warn(`${where}: ${warning}`);

    const appServer = this.httpServer as Server | undefined;
    const shared = appServer !== undefined && appServer !== null && (port === APPLICATION_PORT || port === listeningPort(appServer));
    const httpServer = shared ? appServer : this.ownServer(port, resolved.host, resolved.backlog, where);
    const matcher = path !== undefined ? compilePath(normalizePath(path)) : shared ? compilePath('/') : ANY_PATH;

    const wsServer = new WsGateServer(resolved, matcher.path, httpServer, this.logger);
    wsServer.on('error', this.onServerError);
    const route: UpgradeRoute = Object.freeze({
      name: where,
      matcher,
      handshakeTimeout: resolved.handshake.handshakeTimeout,
      logger: this.logger,
      serve: (_params: WsPathParams, _url: URL, road) => wsServer.handle(road, (client, req) => wsServer.emit('connection', client, req)),
    } satisfies UpgradeRoute);
    // On the application's server, also on WsGateModule's HTTP/2 port when it runs one.
    const companion = shared ? this.upgradeRouters.http2Companion : null;
    for (const server of companion === null ? [httpServer] : [httpServer, companion]) {
      const router = this.upgradeRouters.mount(server, route);
      router.attach();
      this.mounted.push({ router, route });
    }
    this.servers.add(wsServer);
    return wsServer;
  }

  /**
   * `handleDisconnect(client, reason)` gets what platform-ws gives, the close code, unless
   * the gateway asked for `disconnectReason: 'detail'` (a `WsCloseReason`).
   */
  override bindClientDisconnect(client: WsGateClient, callback: (reason: unknown) => void): void {
    if (client.owner.options.disconnectReason === 'detail') client.once('close', () => callback(client.closeReason));
    else client.once('close', callback);
  }

  /**
   * Binds the handlers Nest made for this client. Nest's `transform` (rxjs around every
   * result) is not used: results are taken as it would take them — a value, a Promise's
   * value, each value of an Observable — without the per-message Observables.
   */
  bindMessageHandlers(client: WsGateClient, handlers: WsMessageHandler[], _transform: (data: unknown) => Observable<unknown>): void {
    const sink = client.sink;
    if (sink instanceof MessageDispatcher) {
      sink.add(handlers);
      return;
    }
    client.sink = new MessageDispatcher(client, client.owner.options, this.logger, handlers);
  }

  /** A client that connected before the application finished starting: closed 1013, to retry. */
  closeClient(client: WsGateClient): void {
    client.close(CloseCode.TryAgainLater, 'server starting', 'server');
  }

  /**
   * Closes one gateway server when the application closes: stops accepting, ends its
   * clients (`onShutdown`: terminated as platform-ws does, or closed 1001) and resolves
   * once all are gone and their `handleDisconnect` ran.
   */
  override async close(server: WsGateServer): Promise<void> {
    if (!(server instanceof WsGateServer)) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const gracefully = server.options.onShutdown === 'close';
    for (const client of server.clients) {
      if (gracefully) client.close(CloseCode.GoingAway, 'server shutting down', 'shutdown');
      else client.terminate('shutdown');
    }
    await closed;
  }

  /** Unmounts every gateway from its router and closes the servers this adapter listened on. */
  override async dispose(): Promise<void> {
    for (const { router, route } of this.mounted) this.upgradeRouters.unmount(router, route);
    this.mounted.length = 0;
    const own = [...this.ownServers.values(), ...this.anonymousServers];
    this.ownServers.clear();
    this.anonymousServers.length = 0;
    this.servers.clear();
    await Promise.all(
      own.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server.listening) {
              resolve();
              return;
            }
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  private readonly onServerError = (error: Error): void => {
    this.logger.error(error.message, error.stack);
  };

  /** The HTTP server of a port of the gateway's own: shared by the gateways on that port, as WsAdapter does. */
  private ownServer(port: number, host: string | undefined, backlog: number | undefined, where: string): Server {
    if (port !== APPLICATION_PORT) {
      const existing = this.ownServers.get(port);
      if (existing !== undefined) return existing;
    }
    const server = createOwnServer();
    if (port === APPLICATION_PORT) this.anonymousServers.push(server);
    else this.ownServers.set(port, server);
    // create() is synchronous in Nest's contract: a failed listen cannot throw there, so it is logged.
    server.once('error', (error: Error) => {
      this.logger.error(`[WSG_ERR_GATEWAY_LISTEN] ${where}: cannot listen on port ${port}: ${error.message}`, error.stack);
    });
    server.listen({ port, ...(host !== undefined ? { host } : {}), ...(backlog !== undefined ? { backlog } : {}) }, () => {
      const address = server.address() as AddressInfo;
      this.logger.log(`${where} listening on ${address.address}:${address.port}`);
    });
    return server;
  }
}
