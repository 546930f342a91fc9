import { InvalidOptionError } from './errors.js';
import { Limits } from './limits.js';

/**
 * What a server spends on handshakes before any WebSocket exists: how long one may take and
 * how many may be pending or open, in all and per client IP address. The same names on
 * `WsServer`, `attachExtendedConnect`, `@WsGateway` / `forRoot({ defaults })` and `WsGateAdapter`.
 */
export interface HandshakeLimitOptions {
  /**
   * ms from the accept (TCP connection, RFC 8441 stream) to the opening response. A socket
   * still without its first request head is destroyed; a decision still pending is answered
   * 503 `WSG_ERR_HANDSHAKE_TIMEOUT`. 0 disables it. @defaultValue 10 000 ms
   */
  handshakeTimeout?: number;
  /** Open connections; one more is answered 503 `WSG_ERR_SERVER_BUSY`. @defaultValue 100 000 */
  maxConnections?: number;
  /** Open connections from one IP address; one more is answered 429 `WSG_ERR_IP_LIMIT`. @defaultValue 4 096 */
  maxConnectionsPerIp?: number;
  /** Handshakes waiting for their decision; one more is answered 503 `WSG_ERR_SERVER_BUSY`. @defaultValue 4 096 */
  maxPendingHandshakes?: number;
  /** Handshakes from one IP address waiting for their decision; one more is answered 429 `WSG_ERR_IP_LIMIT`. @defaultValue 256 */
  maxPendingHandshakesPerIp?: number;
}

/** Every handshake limit name: layers above pick these out of their own option objects. */
export const HANDSHAKE_LIMIT_KEYS = [
  'handshakeTimeout',
  'maxConnections',
  'maxConnectionsPerIp',
  'maxPendingHandshakes',
  'maxPendingHandshakesPerIp',
] as const satisfies readonly (keyof HandshakeLimitOptions)[];

/** Handshake limits after defaults are applied and validated; frozen. */
export type ResolvedHandshakeLimits = Readonly<Required<HandshakeLimitOptions>>;

/** Picks the handshake limits out of a larger option object (the keys that are set). */
export function pickHandshakeLimits(options: Readonly<Record<string, unknown>>): HandshakeLimitOptions {
  const picked: Record<string, unknown> = {};
  for (const key of HANDSHAKE_LIMIT_KEYS) if (options[key] !== undefined) picked[key] = options[key];
  return picked as HandshakeLimitOptions;
}

/** Applies defaults, validates each limit and freezes the result. Throws `InvalidOptionError`. */
export function resolveHandshakeLimits(options: HandshakeLimitOptions = {}): ResolvedHandshakeLimits {
  const resolved: Required<HandshakeLimitOptions> = {
    handshakeTimeout: options.handshakeTimeout ?? Limits.handshakeTimeout.default,
    maxConnections: options.maxConnections ?? Limits.maxConnections.default,
    maxConnectionsPerIp: options.maxConnectionsPerIp ?? Limits.maxConnectionsPerIp.default,
    maxPendingHandshakes: options.maxPendingHandshakes ?? Limits.maxPendingHandshakes.default,
    maxPendingHandshakesPerIp: options.maxPendingHandshakesPerIp ?? Limits.maxPendingHandshakesPerIp.default,
  };
  for (const key of HANDSHAKE_LIMIT_KEYS) {
    const value = resolved[key];
    // A cap of 0 would refuse everyone; a timeout of 0 turns the deadline off.
    const min = key === 'handshakeTimeout' ? 0 : 1;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new InvalidOptionError('WSG_ERR_INVALID_OPTION', `Option ${key} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${String(value)}`);
    }
  }
  return Object.freeze(resolved);
}
