import type { Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HandshakeError } from './errors.js';
import type { HandshakeDeny } from './handshake-decision.js';

/** RFC 9110 §15.6.4: the decision (the application's) did not come in time. */
const SERVICE_UNAVAILABLE = 503;

/** The refusal of a handshake whose decision was still pending at `handshakeTimeout`. */
export function handshakeTimedOut(timeoutMs: number): HandshakeDeny {
  const message = `The opening handshake did not finish within handshakeTimeout (${timeoutMs} ms)`;
  const error = new HandshakeError('WSG_ERR_HANDSHAKE_TIMEOUT', message, SERVICE_UNAVAILABLE);
  return { accept: false, status: SERVICE_UNAVAILABLE, body: `[WSG_ERR_HANDSHAKE_TIMEOUT] ${message}`, error };
}

/**
 * Whether first request heads on `server` can be watched: node:http(s) servers only. On a
 * node:http2 server (`allowHTTP1` included) a socket's requests may be HTTP/2 streams, which
 * never settle the TCP socket: there the session is node:http2's.
 */
export function isHttp1Server(server: object): boolean {
  return typeof (server as { updateSettings?: unknown }).updateSettings !== 'function';
}

interface Waiting {
  readonly acceptedAt: number;
  readonly timer: NodeJS.Timeout;
}

/** TLS servers emit 'connection' with the TCP socket and requests with the TLS socket over it. */
function transportOf(socket: Duplex): Duplex {
  return (socket as Duplex & { _parent?: Duplex | null })._parent ?? socket;
}

/**
 * The handshake deadline on a node:http(s) server we attach to: a socket that has not brought
 * its FIRST request head within `timeoutMs` of its TCP accept is destroyed. Only that first
 * head is ours to police: from the first 'request' on, the socket is the application's (its
 * keep-alive timing is node:http's `keepAliveTimeout`), and from 'upgrade' on the handshake's.
 * node:http's own `headersTimeout` is checked only every 30 s and defaults to 60 s.
 *
 * The socket's accept time is handed to the upgrade (`settle`) so the decision shares the
 * same deadline. Not for HTTP/2 servers: a session is node:http2's (see SECURITY.md).
 * @internal
 */
export class FirstRequestDeadline {
  private readonly waiting = new Map<Duplex, Waiting>();
  private attached = false;

  private readonly onConnection = (socket: Socket): void => {
    if (this.timeoutMs === 0) return;
    const timer = setTimeout(() => this.expire(socket), this.timeoutMs);
    this.waiting.set(socket, { acceptedAt: performance.now(), timer });
    socket.once('close', () => this.settle(socket));
  };

  private readonly onRequest = (req: { readonly socket: Duplex }): void => {
    this.settle(req.socket);
  };

  /** `timeoutMs` is read at each accept; 0: sockets are not watched. */
  constructor(
    private readonly server: NetServer,
    public timeoutMs: number,
  ) {}

  /** Sockets waiting for their first request head. */
  get size(): number {
    return this.waiting.size;
  }

  attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.server.on('connection', this.onConnection);
    this.server.prependListener('request', this.onRequest);
  }

  /** Stops watching; sockets still waiting are left to node:http. */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.server.off('connection', this.onConnection);
    this.server.off('request', this.onRequest);
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
  }

  /**
   * The socket's first request head is in (an upgrade calls this itself): stops its clock and
   * returns when it was accepted (`performance.now()`), or undefined when it was not waiting.
   */
  settle(socket: Duplex): number | undefined {
    const transport = transportOf(socket);
    const entry = this.waiting.get(transport);
    if (entry === undefined) return undefined;
    clearTimeout(entry.timer);
    this.waiting.delete(transport);
    return entry.acceptedAt;
  }

  private expire(socket: Socket): void {
    this.waiting.delete(socket);
    socket.destroy();
  }
}
