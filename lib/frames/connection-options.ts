import { InvalidOptionError } from './errors.js';
import { Limits } from './limits.js';

/**
 * What happens to a non-volatile `send()` made while the send queue is at or over
 * `maxSendQueue`: `close` — the connection closes 1013 (Try Again Later) and the send returns
 * `dropped`; `drop` — the message is dropped (`dropped`, counted); `error` — `send()` throws
 * `SendQueueFullError` and the connection stays open. A volatile send is dropped under every policy.
 */
export type SendQueuePolicy = 'error' | 'drop' | 'close';

/** Which end of the connection this engine plays. Clients mask, servers do not. */
export type Role = 'server' | 'client';

/** Engine limits and behaviour. Every field is optional; defaults live in `Limits`. */
export interface ConnectionOptions {
  /** Largest message in bytes, after reassembly and inflation. @defaultValue 1 MiB */
  maxMessageSize?: number;
  /** Largest frame payload in bytes. @defaultValue maxMessageSize */
  maxFrameSize?: number;
  /**
   * Outbound bytes (our queue + socket buffer) at which `sendQueuePolicy` applies. A send made
   * below it is admitted whole, so the queue may overshoot by that one message. @defaultValue 16 MiB
   */
  maxSendQueue?: number;
  /** What a send at or over `maxSendQueue` gets (see `SendQueuePolicy`). @defaultValue 'close' */
  sendQueuePolicy?: SendQueuePolicy;
  /** `drain()` resolves when the send queue is below this many bytes. @defaultValue 64 KiB */
  sendLowWaterMark?: number;
  /** Pongs owed while the socket stays over its high-water mark (the peer does not read) before the connection closes 1008. @defaultValue 128 */
  maxPendingPongs?: number;
  /** Messages held for `receive()` before reading pauses. @defaultValue 64 */
  maxReceiveQueue?: number;
  /** Accept unmasked frames from clients (RFC 6455 forbids it). @defaultValue false */
  acceptUnmaskedFrames?: boolean;
  /** ms to wait for the close handshake to finish before destroying the socket. @defaultValue 5000 */
  closeTimeout?: number;
  /** ms between heartbeat pings; 0 disables. @defaultValue 0 */
  pingInterval?: number;
  /** ms to wait for any frame after a heartbeat ping. @defaultValue 10000 */
  pongTimeout?: number;
  /** ms without any inbound frame before closing 1001; 0 disables. @defaultValue 0 */
  idleTimeout?: number;
  /**
   * Text messages arrive as strings (`true`), or as a Buffer of their UTF-8 bytes with
   * `isBinary` false (`false`, as ws delivers them): no decode for code that wants bytes (a
   * relay, an echo, a parser over bytes). Either way the bytes were checked to be UTF-8.
   * @defaultValue true
   */
  decodeText?: boolean;
}

/** Every engine option name: layers above pick these out of their own option objects. */
export const CONNECTION_OPTION_KEYS = [
  'maxMessageSize',
  'maxFrameSize',
  'maxSendQueue',
  'sendQueuePolicy',
  'sendLowWaterMark',
  'maxPendingPongs',
  'maxReceiveQueue',
  'acceptUnmaskedFrames',
  'closeTimeout',
  'pingInterval',
  'pongTimeout',
  'idleTimeout',
  'decodeText',
] as const satisfies readonly (keyof ConnectionOptions)[];

/** Options after defaults are applied and validated; frozen. */
export type ResolvedConnectionOptions = Readonly<Required<ConnectionOptions>>;

function checkNonNegativeInt(name: string, value: unknown, allowZero = true): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidOptionError(
      'WSG_ERR_INVALID_OPTION',
      `Option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`,
    );
  }
}

/** Applies defaults, validates each option and freezes the result. Throws `InvalidOptionError`. */
export function resolveConnectionOptions(options: ConnectionOptions = {}): ResolvedConnectionOptions {
  const maxMessageSize = options.maxMessageSize ?? Limits.maxMessageSize.default;
  const resolved: Required<ConnectionOptions> = {
    maxMessageSize,
    maxFrameSize: options.maxFrameSize ?? maxMessageSize,
    maxSendQueue: options.maxSendQueue ?? Limits.maxSendQueue.default,
    sendQueuePolicy: options.sendQueuePolicy ?? 'close',
    sendLowWaterMark: options.sendLowWaterMark ?? Limits.sendLowWaterMark.default,
    maxPendingPongs: options.maxPendingPongs ?? Limits.maxPendingPongs.default,
    maxReceiveQueue: options.maxReceiveQueue ?? Limits.maxReceiveQueue.default,
    acceptUnmaskedFrames: options.acceptUnmaskedFrames ?? false,
    closeTimeout: options.closeTimeout ?? Limits.closeTimeout.default,
    pingInterval: options.pingInterval ?? Limits.pingInterval.default,
    pongTimeout: options.pongTimeout ?? Limits.pongTimeout.default,
    idleTimeout: options.idleTimeout ?? Limits.idleTimeout.default,
    decodeText: options.decodeText ?? true,
  };
  checkNonNegativeInt('maxMessageSize', resolved.maxMessageSize, false);
  checkNonNegativeInt('maxFrameSize', resolved.maxFrameSize, false);
  checkNonNegativeInt('maxSendQueue', resolved.maxSendQueue, false);
  checkNonNegativeInt('sendLowWaterMark', resolved.sendLowWaterMark);
  checkNonNegativeInt('maxPendingPongs', resolved.maxPendingPongs, false);
  checkNonNegativeInt('maxReceiveQueue', resolved.maxReceiveQueue, false);
  checkNonNegativeInt('closeTimeout', resolved.closeTimeout);
  checkNonNegativeInt('pingInterval', resolved.pingInterval);
  checkNonNegativeInt('pongTimeout', resolved.pongTimeout, false);
  checkNonNegativeInt('idleTimeout', resolved.idleTimeout);
  if (typeof resolved.decodeText !== 'boolean') {
    throw new InvalidOptionError('WSG_ERR_INVALID_OPTION', `Option decodeText must be a boolean, got ${String(resolved.decodeText)}`);
  }
  if (!['error', 'drop', 'close'].includes(resolved.sendQueuePolicy)) {
    throw new InvalidOptionError(
      'WSG_ERR_INVALID_OPTION',
      `Option sendQueuePolicy must be 'error', 'drop' or 'close', got ${String(resolved.sendQueuePolicy)}`,
    );
  }
  if (resolved.sendLowWaterMark > resolved.maxSendQueue) {
    throw new InvalidOptionError(
      'WSG_ERR_INVALID_OPTION',
      `Option sendLowWaterMark (${resolved.sendLowWaterMark}) must not exceed maxSendQueue (${resolved.maxSendQueue})`,
    );
  }
  return Object.freeze(resolved);
}
