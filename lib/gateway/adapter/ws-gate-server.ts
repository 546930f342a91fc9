import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { HttpStatus, type LoggerService } from '@nestjs/common';
import {
  completeUpgrade,
  computeAcceptKey,
  guardUpgradeSocket,
  negotiateDeflate,
  rejectUpgrade,
  validateOrRefuseUpgrade,
  type UpgradeOffer,
} from '../../frames/handshake.js';
import type { ExtendedConnectRequest } from '../../http2/extended-connect.js';
import { rememberConnectStream } from '../connect-streams.js';
import type { ExtendedConnectAdmission } from '../upgrade-router.js';
import type { ResolvedServerOptions, WsVerifyClientInfo } from './adapter-options.js';
import { WsGateClient, type ClientOwner } from './ws-gate-client.js';

type ServerState = 'running' | 'closing' | 'closed';
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

  constructor(
    readonly options: ResolvedServerOptions,
    /** The path served, normalized as Nest does ('*': any path on a port of its own). */
    readonly path: string,
    private readonly httpServer: Server,
    readonly logger: LoggerService,
  ) {
    super();
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
   * `verifyClient`, subprotocol and permessage-deflate negotiation, the 101, then `cb`.
   * A refusal is a real HTTP response.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: ConnectCallback): void {
    const unguard = guardUpgradeSocket(socket);
    if (this.state !== 'running') {
      rejectUpgrade(socket, HttpStatus.SERVICE_UNAVAILABLE);
      return;
    }
    const offer = validateOrRefuseUpgrade(req, socket);
    if (offer === null) return;
    const verify = this.options.verifyClient;
    if (verify === null) {
      this.accept(offer, req, socket, head, unguard, cb);
      return;
    }
    const tls = req.socket as Partial<TLSSocket>;
    const info: WsVerifyClientInfo = { origin: req.headers.origin, secure: tls.authorized === true || tls.encrypted === true, req };
    if (verify.length >= 2) {
      let answered = false;
      (verify as (info: WsVerifyClientInfo, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => void)(
        info,
        (verified, code, message, headers) => {
          if (answered) return;
          answered = true;
          try {
            if (!verified) rejectUpgrade(socket, code || HttpStatus.UNAUTHORIZED, headers, message);
            else this.accept(offer, req, socket, head, unguard, cb);
          } catch (error) {
            this.logger.error('[WSG_ERR_GATEWAY_HANDLER] upgrade failed after verifyClient', error instanceof Error ? error.stack : String(error));
            rejectUpgrade(socket, HttpStatus.INTERNAL_SERVER_ERROR);
          }
        },
      );
      return;
    }
    if (!(verify as (info: WsVerifyClientInfo) => boolean)(info)) {
      rejectUpgrade(socket, HttpStatus.UNAUTHORIZED);
      return;
    }
    this.accept(offer, req, socket, head, unguard, cb);
  }

  private accept(offer: UpgradeOffer, req: IncomingMessage, socket: Duplex, head: Buffer, unguard: () => void, cb: ConnectCallback): void {
    // The client may have left while verifyClient decided.
    if (socket.destroyed || !socket.writable || !socket.readable) {
      socket.destroy();
      return;
    }
    if (this.state !== 'running') {
      rejectUpgrade(socket, HttpStatus.SERVICE_UNAVAILABLE);
      return;
    }
    const { options } = this;
    let protocol: string | undefined;
    if (offer.protocols.length > 0) {
      // ws picks the client's first choice unless handleProtocols says otherwise.
      const chosen = options.handleProtocols === null ? offer.protocols[0] : options.handleProtocols(new Set(offer.protocols), req);
      if (chosen) protocol = chosen;
    }
    const deflate = negotiateDeflate(offer, options.perMessageDeflate);
    let headers: Record<string, string> | undefined;
    if (this.listenerCount('headers') > 0) {
      const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${computeAcceptKey(offer.key)}`];
      if (protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
      if (deflate !== null) lines.push(`Sec-WebSocket-Extensions: ${deflate.header}`);
      const own = lines.length;
      this.emit('headers', lines, req);
      headers = addedHeaders(lines, own);
    }
    const engine = completeUpgrade(socket, head, {
      resolvedOptions: options.connection,
      key: offer.key,
      ...(protocol !== undefined ? { protocol } : {}),
      ...(headers !== undefined ? { headers } : {}),
      deflate,
    });
    unguard();
    const client = new WsGateClient(engine, this);
    this.clients.add(client);
    cb(client, req);
  }

  /**
   * The same handshake for an RFC 8441 extended CONNECT (checked by the intake):
   * `verifyClient`, subprotocol choice, then a decision the intake answers with `:status 200`
   * or the refusal; `cb` runs once the 200 is out. `req` in `verifyClient`, `handleProtocols`
   * and the `connection` event is Node's compat request for the stream (`httpVersion` '2.0').
   * The `headers` event is HTTP/1.1's 101 lines and is not emitted on this road.
   */
  async handleExtendedConnect(connect: ExtendedConnectRequest, cb: ConnectCallback): Promise<ExtendedConnectAdmission> {
    if (this.state !== 'running') return { decision: { accept: false, status: HttpStatus.SERVICE_UNAVAILABLE } };
    const req = compatRequestOf(connect);
    const verify = this.options.verifyClient;
    if (verify !== null) {
      const origin = connect.headers.origin;
      const info: WsVerifyClientInfo = { origin: typeof origin === 'string' ? origin : undefined, secure: connect.stream.session?.encrypted === true, req };
      const refusal = await new Promise<{ code: number; message: string | undefined; headers: Record<string, string> | undefined } | null>((resolve) => {
        if (verify.length >= 2) {
          (verify as (info: WsVerifyClientInfo, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => void)(
            info,
            (verified, code, message, headers) => resolve(verified ? null : { code: code || HttpStatus.UNAUTHORIZED, message, headers }),
          );
        } else {
          resolve((verify as (info: WsVerifyClientInfo) => boolean)(info) ? null : { code: HttpStatus.UNAUTHORIZED, message: undefined, headers: undefined });
        }
      });
      if (refusal !== null) {
        return {
          decision: {
            accept: false,
            status: refusal.code,
            ...(refusal.headers !== undefined ? { headers: refusal.headers } : {}),
            ...(refusal.message !== undefined ? { body: refusal.message } : {}),
          },
        };
      }
    }
    if (this.state !== 'running') return { decision: { accept: false, status: HttpStatus.SERVICE_UNAVAILABLE } };
    const { options } = this;
    let protocol: string | undefined;
    if (connect.protocols.length > 0) {
      const chosen = options.handleProtocols === null ? connect.protocols[0] : options.handleProtocols(new Set(connect.protocols), req);
      if (chosen) protocol = chosen;
    }
    return {
      decision: {
        accept: true,
        ...(protocol !== undefined ? { protocol } : {}),
        options: options.connection,
        perMessageDeflate: options.perMessageDeflate ?? false,
      },
      opened: (engine) => {
        rememberConnectStream(engine, connect.stream);
        const client = new WsGateClient(engine, this);
        this.clients.add(client);
        cb(client, req);
      },
    };
  }

  /** Called by a client once its connection is gone (ClientOwner). */
  released(client: WsGateClient): void {
    this.clients.delete(client);
    if (this.state === 'closing' && this.clients.size === 0) process.nextTick(() => this.emitClose());
  }

  private emitClose(): void {
    if (this.state !== 'closing') return;
    this.state = 'closed';
    this.emit('close');
  }
}
