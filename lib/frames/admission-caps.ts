import { HandshakeError } from './errors.js';
import type { HandshakeDeny } from './handshake-decision.js';
import type { ResolvedHandshakeLimits } from './handshake-limits.js';
import type { WebSocketConnection } from './websocket-connection.js';

/** RFC 9110 §15.6.4: the server as a whole is at a cap. */
const SERVICE_UNAVAILABLE = 503;
/** RFC 6585 §4: this client (IP address) is at its cap. */
const TOO_MANY_REQUESTS = 429;
/** s: `Retry-After` of a cap refusal. Handshakes finish in milliseconds and connections close all the time: a few seconds spreads retries without locking clients out. */
export const CAP_RETRY_AFTER_SECONDS = 5;
const RETRY_AFTER = Object.freeze({ 'Retry-After': String(CAP_RETRY_AFTER_SECONDS) });

/** A count in all and per IP address; an address leaves the map at zero. */
class AddressCount {
  total = 0;
  private readonly byAddress = new Map<string, number>();

  of(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  add(address: string): void {
    this.total++;
    this.byAddress.set(address, this.of(address) + 1);
  }

  remove(address: string): void {
    this.total--;
    const left = this.of(address) - 1;
    if (left > 0) this.byAddress.set(address, left);
    else this.byAddress.delete(address);
  }
}

function refusal(code: 'WSG_ERR_SERVER_BUSY' | 'WSG_ERR_IP_LIMIT', what: string): HandshakeDeny {
  const status = code === 'WSG_ERR_SERVER_BUSY' ? SERVICE_UNAVAILABLE : TOO_MANY_REQUESTS;
  const error = new HandshakeError(code, what, status, RETRY_AFTER);
  return { accept: false, status, headers: RETRY_AFTER, body: `[${code}] ${what}`, error };
}

/**
 * The caps of one front door (a WsServer, an intake, a gateway, an adapter gateway server) on
 * handshakes pending a decision and on open connections, in all (503) and per client IP
 * address (429), both with `Retry-After`. Used by the accept pipeline's capacity step.
 */
export class AdmissionCaps {
  private readonly pending = new AddressCount();
  private readonly open = new AddressCount();

  constructor(private readonly limits: ResolvedHandshakeLimits) {}

  /** Handshakes pending and connections open, for tests and metrics. */
  get counts(): { readonly pending: number; readonly open: number } {
    return { pending: this.pending.total, open: this.open.total };
  }

  /** Takes a pending slot for a handshake from `address` (give it back with `leave`), or returns the refusal. */
  enter(address: string): HandshakeDeny | null {
    const refused = this.openRefusal(address) ?? this.pendingRefusal(address);
    if (refused === null) this.pending.add(address);
    return refused;
  }

  /** The decision is in: the handshake no longer counts as pending. */
  leave(address: string): void {
    this.pending.remove(address);
  }

  /** Asked right before the opening response: the refusal when one more connection would cross a cap. */
  openRefusal(address: string): HandshakeDeny | null {
    const { maxConnections, maxConnectionsPerIp } = this.limits;
    if (this.open.total >= maxConnections) return refusal('WSG_ERR_SERVER_BUSY', `${this.open.total} connections are open (maxConnections ${maxConnections})`);
    const own = this.open.of(address);
    if (own >= maxConnectionsPerIp) return refusal('WSG_ERR_IP_LIMIT', `${own} connections are open from ${address} (maxConnectionsPerIp ${maxConnectionsPerIp})`);
    return null;
  }

  /** Counts an opened connection until it closes. */
  opened(address: string, engine: WebSocketConnection): void {
    this.open.add(address);
    void engine.closed.then(() => this.open.remove(address));
  }

  private pendingRefusal(address: string): HandshakeDeny | null {
    const { maxPendingHandshakes, maxPendingHandshakesPerIp } = this.limits;
    if (this.pending.total >= maxPendingHandshakes) {
      return refusal('WSG_ERR_SERVER_BUSY', `${this.pending.total} handshakes are pending (maxPendingHandshakes ${maxPendingHandshakes})`);
    }
    const own = this.pending.of(address);
    if (own >= maxPendingHandshakesPerIp) {
      return refusal('WSG_ERR_IP_LIMIT', `${own} handshakes are pending from ${address} (maxPendingHandshakesPerIp ${maxPendingHandshakesPerIp})`);
    }
    return null;
  }
}
