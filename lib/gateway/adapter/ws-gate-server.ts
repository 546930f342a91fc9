import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { HttpStatus, type LoggerService } from '@nestjs/common';
import { SendQueueCounters } from '../../frames/send-queue-counters.js';
import { runAcceptPipeline } from '../../frames/accept-pipeline.js';
import { AdmissionCaps } from '../../frames/admission-caps.js';
import { SERVICE_UNAVAILABLE, type HandshakeDeny } from '../../frames/handshake-decision.js';
import { UpgradeRoad } from '../../frames/upgrade-road.js';
import type { ExtendedConnectRequest } from '../../http2/extended-connect.js';
import { anyOriginWarning, screenGatewayOrigin } from '../origin-screen.js';
import type { GatewayRoad } from '../upgrade-router.js';
import type { ResolvedServerOptions, WsVerifyClientInfo } from './adapter-options.js';
import { WsGateClient, type ClientOwner } from './ws-gate-client.js';

type ServerState = 'running' | 'closing' | 'closed';

const UNAUTHORIZED: HandshakeDeny = Object.freeze({ accept: false, status: HttpStatus.UNAUTHORIZED });

function isSecure(socket: Partial<TLSSocket>): boolean {
  return socket.authorized === true || socket.encrypted === true;
}

type ConnectCallback = (client: WsGateClient, req: IncomingMessage) => void;

/** `Name: value` lines a `headers` listener appended to the 101 response. */
function addedHeaders(lines: readonly string[], from: number): Record<string, string> | undefined {
  if (lines.length <= from) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(from)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * What gateways get as the handshake request on the HTTP/2 road: Node's compat request when
 * the CONNECT came through the compat layer, else a stand-in with the same fields ws users read.
 */
function compatRequestOf(connect: ExtendedConnectRequest): IncomingMessage {
  if (connect.compatRequest !== null) return connect.compatRequest as unknown as IncomingMessage;
  const socket = connect.stream.session?.socket;
  return {
    url: connect.path,
    method: 'CONNECT',
    headers: connect.headers,
    httpVersion: '2.0',
    httpVersionMajor: 2,
    httpVersionMinor: 0,
    socket,
    connection: socket,
  } as unknown as IncomingMessage;
}

/**
 * What `WsGateAdapter.create()` returns for one gateway, and what `@WebSocketServer()` and
 * `afterInit(server)` get: the common surface of ws's `WebSocketServer` — `clients` (a Set),
 * events `connection` (client, request), `headers`, `error`, `close`; `close(cb)`,
 * `address()`, `handleUpgrade()` — with the handshake done by the wsgate engine.
 */
export class WsGateServer extends EventEmitter implements ClientOwner {
  /** Open and closing clients. */
  readonly clients = new Set<WsGateClient>();
  private state: ServerState = 'running';
  /** Drops and 1013 closes of this server's clients at `maxSendQueue`, warned rate-limited. */
  readonly sendQueue: SendQueueCounters;
  /** Caps on this gateway server's pending handshakes and open clients, over every server it is mounted on. */
  private readonly caps: AdmissionCaps;

  constructor(
    readonly options: ResolvedServerOptions,
    /** The path served, normalized as Nest does ('*': any path on a port of its own). */
    readonly path: string,
    private readonly httpServer: Server,
    readonly logger: LoggerService,
  ) {
    super();
    this.sendQueue = new SendQueueCounters(`WsGateServer ${path}`, options.connection.maxSendQueue, (line) => logger.warn(line));
    if (options.anyOrigin) logger.warn(anyOriginWarning(`WsGateAdapter gateway at ${path}`));
    this.caps = new AdmissionCaps(options.handshake);
  }

  /** The HTTP server's address: the application's, or the gateway's own port. */
  address(): AddressInfo | string | null {
    return this.httpServer.address();
  }

  /**
   * Stops accepting clients (new upgrades get 503) and calls back once every client is
   * gone, as ws does; the clients themselves are closed by the adapter (or by you).
   */
  close(cb?: (error?: Error) => void): void {
    if (this.state === 'closed') {
      if (cb !== undefined) process.nextTick(cb, new Error('The server is not running'));
      return;
    }
    if (cb !== undefined) this.once('close', cb);
    if (this.state === 'closing') return;
    this.state = 'closing';
    if (this.clients.size === 0) process.nextTick(() => this.emitClose());
  }

  /**
   * Runs the opening handshake for one upgrade request (ws's signature): RFC 6455 checks,
   * the origin screen (the same host or `allowedOrigins`; off when only `verifyClient` is
   * given), `verifyClient`, subprotocol and permessage-deflate negotiation, the 101, then
   * `cb`. A refusal is a real HTTP response.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: ConnectCallback): void {
    const road = UpgradeRoad.take(req, socket, head);
    if (road !== null) this.handle(road, cb).catch(this.onHandshakeError);
  }

  /**
   * The handshake on either road (the router's entry): the origin screen, `verifyClient`,
   * the subprotocol, then the 101 or `:status 200` and `cb`, or the refusal. On RFC 8441,
   * `req` in `verifyClient`, `handleProtocols` and the `connection` event is Node's compat
   * request for the stream (`httpVersion` '2.0'); the `headers` event is HTTP/1.1's 101
   * lines and is not emitted there.
   */
  handle(road: GatewayRoad, cb: ConnectCallback): Promise<void> {
    const req = road.road === 'http/1.1' ? road.req : compatRequestOf(road.request);
    const { options } = this;
    return runAcceptPipeline(road, {
      screen: () => screenGatewayOrigin(options.allowedOrigins, road),
      capacity: () => (this.state === 'running' ? null : SERVICE_UNAVAILABLE),
      caps: this.caps,
      handshakeTimeout: options.handshake.handshakeTimeout,
      decide: async () => {
        const refusal = await this.verify(road, req);
        if (refusal !== null) return refusal;
        // ws picks the client's first choice unless handleProtocols says otherwise.
        const chosen = road.protocols.length === 0 ? undefined : options.handleProtocols === null ? road.protocols[0] : options.handleProtocols(new Set(road.protocols), req);
        const protocol = chosen ? chosen : undefined;
        const headers = road.road === 'http/1.1' ? this.headersFromListeners(road, protocol, req) : undefined;
        return { accept: true, protocol, headers };
      },
      settings: () => ({ options: options.connection, deflate: options.perMessageDeflate }),
      failed: (error) => {
        this.onHandshakeError(error);
        return { accept: false, status: HttpStatus.INTERNAL_SERVER_ERROR, error };
      },
      opened: (engine) => {
        engine.observeSendQueue(this.sendQueue);
        const client = new WsGateClient(engine, this);
        this.clients.add(client);
        cb(client, req);
      },
    });
  }

  private readonly onHandshakeError = (error: unknown): void => {
    this.logger.error('[WSG_ERR_GATEWAY_HANDLER] upgrade failed', error instanceof Error ? error.stack : String(error));
  };

  /** `verifyClient`, sync (a boolean) or async (`done`), as a refusal or null. */
  private verify(road: GatewayRoad, req: IncomingMessage): Promise<HandshakeDeny | null> | HandshakeDeny | null {
    const verify = this.options.verifyClient;
    if (verify === null) return null;
    const origin = req.headers.origin;
    const secure = road.road === 'http/1.1' ? isSecure(req.socket as Partial<TLSSocket>) : road.request.stream.session?.encrypted === true;
    const info: WsVerifyClientInfo = { origin: typeof origin === 'string' ? origin : undefined, secure, req };
    if (verify.length < 2) return (verify as (info: WsVerifyClientInfo) => boolean)(info) ? null : UNAUTHORIZED;
    return new Promise((resolve) => {
      (verify as (info: WsVerifyClientInfo, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => void)(
        info,
        (verified, code, message, headers) => resolve(verified ? null : { accept: false, status: code || HttpStatus.UNAUTHORIZED, headers, body: message }),
      );
    });
  }

  /** What `headers` listeners append to the 101 (ws's hook: they edit the response lines). */
  private headersFromListeners(road: UpgradeRoad, protocol: string | undefined, req: IncomingMessage): Record<string, string> | undefined {
    if (this.listenerCount('headers') === 0) return undefined;
    const lines = road.responseLines(protocol, this.options.perMessageDeflate);
    const own = lines.length;
    this.emit('headers', lines, req);
    return addedHeaders(lines, own);
  }

  /** Called by a client once its connection is gone (ClientOwner). */
  released(client: WsGateClient): void {
    this.clients.delete(client);
    if (this.state === 'closing' && this.clients.size === 0) process.nextTick(() => this.emitClose());
  }

  private emitClose(): void {
    if (this.state !== 'closing') return;
    this.state = 'closed';
    this.sendQueue.flush();
    this.emit('close');
  }
}
