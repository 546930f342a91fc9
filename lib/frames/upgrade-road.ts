import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EngineSettings, HandshakeRoad } from './accept-pipeline.js';
import type { HandshakeAccept, HandshakeDeny } from './handshake-decision.js';
import {
  completeUpgrade,
  guardUpgradeSocket,
  negotiateDeflate,
  rejectUpgrade,
  upgradeResponseLines,
  validateOrRefuseUpgrade,
  type NegotiatedDeflate,
  type UpgradeOffer,
} from './handshake.js';
import type { DeflateConfig } from './deflate-negotiation.js';
import type { WebSocketConnection } from './websocket-connection.js';

const INTERNAL_SERVER_ERROR = 500;

/**
 * The HTTP/1.1 road: one upgrade request (Node's `upgrade` event) after the RFC 6455 checks.
 * Its answers are the 101 (`completeUpgrade`) and the refusal (`rejectUpgrade`), nothing else.
 */
export class UpgradeRoad implements HandshakeRoad {
  readonly road = 'http/1.1' as const;
  /** Negotiated against this config, once (the `headers` preview and the 101 agree). */
  private negotiated: { readonly config: DeflateConfig | null; readonly deflate: NegotiatedDeflate | null } | null = null;

  private constructor(
    readonly req: IncomingMessage,
    readonly socket: Duplex,
    private readonly head: Buffer,
    readonly offer: UpgradeOffer,
    private readonly unguard: () => void,
    readonly acceptedAt: number,
  ) {}

  /**
   * Takes the socket of an `upgrade` event: guards it against resets while the decision is
   * pending, then validates the request. A request RFC 6455 refuses is answered here, and null
   * returned. `acceptedAt`: when the socket was accepted (`FirstRequestDeadline.settle`), for a
   * socket whose first request this is; else the handshake's clock starts now.
   */
  static take(req: IncomingMessage, socket: Duplex, head: Buffer, acceptedAt: number = performance.now()): UpgradeRoad | null {
    const unguard = guardUpgradeSocket(socket);
    const offer = validateOrRefuseUpgrade(req, socket);
    return offer === null ? null : new UpgradeRoad(req, socket, head, offer, unguard, acceptedAt);
  }

  get remoteAddress(): string {
    return this.req.socket?.remoteAddress ?? '';
  }

  get protocols(): readonly string[] {
    return this.offer.protocols;
  }

  /** A socket the client ended or reset is destroyed: there is nobody to answer. */
  gone(): boolean {
    const { socket } = this;
    if (!socket.destroyed && socket.writable && socket.readable) return false;
    socket.destroy();
    return true;
  }

  /** The 101's own lines for `protocol` under `deflate` (what `open` will write before extra headers). */
  responseLines(protocol: string | undefined, deflate: DeflateConfig | null): string[] {
    return upgradeResponseLines(this.offer.key, protocol, this.negotiate(deflate));
  }

  open(accept: HandshakeAccept, settings: EngineSettings): WebSocketConnection {
    const engine = completeUpgrade(this.socket, this.head, {
      resolvedOptions: settings.options,
      key: this.offer.key,
      ...(accept.protocol !== undefined ? { protocol: accept.protocol } : {}),
      ...(accept.headers !== undefined ? { headers: accept.headers } : {}),
      deflate: this.negotiate(settings.deflate),
    });
    this.unguard();
    return engine;
  }

  refuse(deny: HandshakeDeny): unknown {
    try {
      rejectUpgrade(this.socket, deny.status, deny.headers, deny.body);
      return undefined;
    } catch (error) {
      // Headers HTTP/1.1 cannot carry (InvalidArgumentError): refused all the same, plainly.
      rejectUpgrade(this.socket, INTERNAL_SERVER_ERROR);
      return error;
    }
  }

  private negotiate(config: DeflateConfig | null): NegotiatedDeflate | null {
    if (this.negotiated === null || this.negotiated.config !== config) this.negotiated = { config, deflate: negotiateDeflate(this.offer, config) };
    return this.negotiated.deflate;
  }
}

/**
 * RFC 9110 §15.5.22: the answer of a WebSocket-only HTTP/1.1 server to any plain request. The
 * connection closes after it (a Connection header of our own would otherwise keep it alive).
 */
export function answerUpgradeRequired(res: ServerResponse): void {
  res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket', Connection: 'Upgrade, close' });
  res.end('Upgrade Required');
}
