import { Server as NetServer, type Socket } from 'node:net';
import { rejectUpgrade } from './handshake.js';
import { asksForUpgrade, readRequestHead, toIncomingMessage, type HeadRefusal, type RequestHead, type RequestHeadLimits } from './request-head-reader.js';

const UPGRADE_REQUIRED =
  'HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n' +
  'Content-Length: 16\r\n\r\n';

/**
 * The HTTP/1.1 server of a `WsServer` that owns its port: a `net.Server` that reads each
 * request head itself (request-head-reader.ts) and emits `'upgrade'` (req, socket, head) as
 * node:http does; any other request is answered 426 and closed. node:http is not on this road
 * because an idle WebSocket pays for it for its whole life (listener wrappers and parser
 * bookkeeping on every socket it parsed: ~1.3 KB of RSS per connection, see README Benchmarks).
 *
 * Sockets are tracked only until their head is read or refused: an upgraded socket belongs to
 * its connection, and the WebSocket server tracks those. The head's deadline is the handshake
 * deadline (`handshakeTimeout`, counted from the TCP accept); the 'upgrade' listener gets the
 * accept time as a fourth argument so the decision is bounded by the same deadline.
 * @internal
 */
export class UpgradeOnlyServer extends NetServer {
  /** Sockets not yet upgraded, with when they were accepted (`performance.now()`). */
  private readonly unsettled = new Map<Socket, number>();

  constructor(private readonly limits: RequestHeadLimits = {}) {
    super();
    this.on('connection', (socket: Socket) => {
      this.unsettled.set(socket, performance.now());
      readRequestHead(socket, this, this.limits);
    });
  }

  /** @internal RequestHeadSink */
  onHead(head: RequestHead, socket: Socket, rest: Buffer): void {
    if (asksForUpgrade(head)) {
      const acceptedAt = this.unsettled.get(socket);
      this.unsettled.delete(socket);
      this.emit('upgrade', toIncomingMessage(head, socket), socket, rest, acceptedAt);
      return;
    }
    this.untrackOnClose(socket);
    socket.on('error', destroyOnError);
    socket.end(head.method === 'HEAD' ? UPGRADE_REQUIRED : UPGRADE_REQUIRED + 'Upgrade Required');
  }

  /** @internal RequestHeadSink */
  onRefused(refusal: HeadRefusal, socket: Socket): void {
    this.untrackOnClose(socket);
    rejectUpgrade(socket, refusal.status, undefined, refusal.reason);
  }

  /** @internal RequestHeadSink */
  onAbandoned(socket: Socket): void {
    this.unsettled.delete(socket);
  }

  /** Answered sockets stay tracked until gone: a peer that never reads must not hold close() up. */
  private untrackOnClose(socket: Socket): void {
    socket.once('close', () => this.unsettled.delete(socket));
  }

  /** Destroys every socket that has not become a WebSocket (mirrors `http.Server#closeAllConnections`). */
  closeAllConnections(): void {
    for (const socket of this.unsettled.keys()) socket.destroy();
    this.unsettled.clear();
  }
}

function destroyOnError(this: Socket): void {
  this.destroy();
}
