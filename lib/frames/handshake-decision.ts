import type { ConnectionOptions } from './connection-options.js';
import type { PerMessageDeflateOption } from './deflate-negotiation.js';
import { InvalidArgumentError } from './errors.js';

/**
 * HTTP statuses a handshake may be refused with: client (4xx) and server (5xx) errors. A 1xx
 * is no answer, a 2xx reads as success on RFC 8441 (its 200 opens the WebSocket), and a 3xx
 * would send a WebSocket client elsewhere without its consent.
 */
export const DENY_STATUS = Object.freeze({ min: 400, max: 599 });

/** Open the WebSocket: a 101 (HTTP/1.1) or `:status 200` (RFC 8441) with these choices. */
export interface HandshakeAccept {
  readonly accept: true;
  /** The chosen subprotocol; must be one the client offered. */
  readonly protocol?: string;
  /** Extra response headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Engine limits for this connection, instead of the server's. */
  readonly options?: ConnectionOptions;
  /**
   * permessage-deflate for this connection, instead of the server's. Options are validated per
   * decision; a `DeflateConfig` (`resolveDeflateConfig()`, made once) is used as is.
   */
  readonly perMessageDeflate?: PerMessageDeflateOption;
}

/** Refuse with a real HTTP response (never the opening one). */
export interface HandshakeDeny {
  readonly accept: false;
  /** From `DENY_STATUS`. */
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Plain-text body. @defaultValue the road's (HTTP/1.1: the status text) */
  readonly body?: string;
  /** What failed, when the refusal answers a failure rather than a decision. */
  readonly error?: unknown;
}

/** What decides a handshake, on either road and at every front door: open or refuse. */
export type HandshakeDecision = HandshakeAccept | HandshakeDeny;

/** RFC 9110 §15.6.4: no new connection while the server shuts down. */
export const SERVICE_UNAVAILABLE: HandshakeDeny = Object.freeze({ accept: false, status: 503 });

export function isDenyStatus(status: unknown): boolean {
  return Number.isInteger(status) && (status as number) >= DENY_STATUS.min && (status as number) <= DENY_STATUS.max;
}

/** Throws `WSG_ERR_INVALID_ARGUMENT` unless `value` is a decision a road can answer. */
export function checkHandshakeDecision(value: unknown): asserts value is HandshakeDecision {
  const decision = value as HandshakeDecision | null;
  if (decision === null || typeof decision !== 'object' || typeof decision.accept !== 'boolean') {
    throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `${String(value)} is not a handshake decision`);
  }
  if (!decision.accept && !isDenyStatus(decision.status)) {
    throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Denied with status ${String(decision.status)}; use ${DENY_STATUS.min}–${DENY_STATUS.max}`);
  }
}
