import { CONNECTION_OPTION_KEYS, resolveConnectionOptions, type ConnectionOptions, type ResolvedConnectionOptions } from '../frames/connection-options.js';
import { WsgError } from '../frames/errors.js';
import { resolveDeflateConfig, type DeflateConfig, type PerMessageDeflateOption } from '../frames/deflate-negotiation.js';
import { originAllowList, originListProblem, type OriginAllowList } from '../frames/origin-check.js';
import { HANDSHAKE_LIMIT_KEYS, pickHandshakeLimits, resolveHandshakeLimits, type HandshakeLimitOptions, type ResolvedHandshakeLimits } from '../frames/handshake-limits.js';
import { isCodecOption, resolveCodec, type WsCodec, type WsCodecOption } from './codec.js';
import { RENAMED_OPTIONS, renameDeprecatedOptions } from './deprecated-option-names.js';
import { DecoratorError, GatewayError, type GatewayErrorCode } from './errors.js';
import { GatewayLimits } from './gateway-limits.js';
import { compilePath, type PathMatcher } from './path-matcher.js';

/** `singleton`: one gateway instance for all connections; `connection`: one per connection. */
export type WsGatewayScope = 'singleton' | 'connection';

/** What a client gets for a message the gateway cannot route or decode. */
export type WsBadMessagePolicy = 'error' | 'close';

/** What a client gets when a handler fails unexpectedly (not WsException / HttpException). */
export type WsHandlerErrorPolicy = 'exception' | 'close';

/**
 * What `@WsGateway()` takes. Engine limits come from `ConnectionOptions`; the handshake deadline
 * and the caps (`HandshakeLimitOptions`) count per gateway.
 */
export interface WsGatewayOptions extends ConnectionOptions, HandshakeLimitOptions {
  /** URL path, with `:name` parameters. @defaultValue '/' */
  path?: string;
  /** Listen on a port of its own instead of the application's HTTP server (0: any free port). */
  port?: number;
  /** @defaultValue 'json' */
  codec?: WsCodecOption;
  /** @defaultValue 'singleton' (or 'connection' when the gateway depends on the connection) */
  scope?: WsGatewayScope;
  /**
   * Origins (`scheme://host[:port]`) browsers may connect from besides the host the request
   * was sent to, which is always allowed; `['*']` allows any (warned at boot). A request
   * without Origin is not a browser's and passes; `null` is refused. @defaultValue the same host only
   */
  allowedOrigins?: readonly string[];
  /** Subprotocols this gateway speaks, most preferred first; the first one the client offers is picked. @defaultValue none */
  protocols?: readonly string[];
  /** Unknown event: `'error'` sends an `error` event, `'close'` closes 1003. @defaultValue 'error' */
  onUnknownEvent?: WsBadMessagePolicy;
  /** @deprecated use `onUnknownEvent` (same values); removed in 0.2.0. */
  onUnknown?: WsBadMessagePolicy;
  /** Undecodable message: `'error'` sends an `error` event, `'close'` closes 1007 (1003 for the wrong frame type). @defaultValue 'error' */
  onUndecodable?: WsBadMessagePolicy;
  /** Unexpected handler error: `'exception'` sends an `exception` event, `'close'` closes 1011. @defaultValue 'exception' */
  onError?: WsHandlerErrorPolicy;
  /** messages: mailbox bound per connection (see `GatewayLimits.maxMailbox`). @defaultValue 1024 */
  maxMailbox?: number;
  /** Offer permessage-deflate (RFC 7692) to clients that ask for it: `true`, options, or a `DeflateConfig`. @defaultValue false */
  perMessageDeflate?: PerMessageDeflateOption;
}

/** Gateway options after defaults are merged and validated; frozen. */
export interface ResolvedGatewayOptions {
  readonly matcher: PathMatcher;
  readonly port: number | null;
  readonly codec: WsCodec;
  readonly scope: WsGatewayScope;
  /** The listed origins (normalized), besides the same host; null: any (`'*'`). */
  readonly allowedOrigins: OriginAllowList;
  readonly protocols: readonly string[];
  /** From the `onUnknownEvent` option. */
  readonly onUnknown: WsBadMessagePolicy;
  readonly onUndecodable: WsBadMessagePolicy;
  readonly onError: WsHandlerErrorPolicy;
  readonly maxMailbox: number;
  /** Resolved once at bootstrap; null: off. */
  readonly perMessageDeflate: DeflateConfig | null;
  readonly connection: ResolvedConnectionOptions;
  /** `handshakeTimeout` and the caps on pending handshakes and open connections. */
  readonly handshake: ResolvedHandshakeLimits;
}

// A gateway's codec decodes its messages, so the engine's decodeText is not a gateway option.
const CONNECTION_KEYS: ReadonlySet<string> = new Set(CONNECTION_OPTION_KEYS.filter((key) => key !== 'decodeText'));
const GATEWAY_KEYS: ReadonlySet<string> = new Set([
  'path',
  'port',
  'codec',
  'scope',
  'allowedOrigins',
  'protocols',
  'onUnknownEvent',
  'onUndecodable',
  'onError',
  'maxMailbox',
  'perMessageDeflate',
  ...HANDSHAKE_LIMIT_KEYS,
]);

type OptionErrorCode = Extract<GatewayErrorCode, 'WSG_ERR_DECORATOR_OPTION' | 'WSG_ERR_GATEWAY_INVALID_OPTION'>;

function fail(code: OptionErrorCode, message: string, cause?: unknown): never {
  const options = cause === undefined ? undefined : { cause };
  throw code === 'WSG_ERR_DECORATOR_OPTION' ? new DecoratorError(code, message, undefined, options) : new GatewayError(code, message, undefined, options);
}

function checkOneOf(code: OptionErrorCode, name: string, value: unknown, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value as string)) {
    fail(code, `Option ${name} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${String(value)}`);
  }
}

function checkStringList(code: OptionErrorCode, name: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    fail(code, `Option ${name} must be an array of non-empty strings`);
  }
}

/**
 * A copy of gateway options under current names: a deprecated name is renamed (warned once
 * per process); both names with different values fail with `code`.
 */
export function currentGatewayOptions(options: Readonly<WsGatewayOptions>, code: OptionErrorCode): WsGatewayOptions {
  return renameDeprecatedOptions(options as Record<string, unknown>, RENAMED_OPTIONS, (message) => fail(code, message)) as WsGatewayOptions;
}

/**
 * Checks gateway options without applying defaults: key names, types, ranges, and that the
 * engine limits given do not conflict. `code` says who is asking (decorator or module).
 * Returns the permessage-deflate config it resolved to check them (null: off).
 */
export function checkGatewayOptions(options: unknown, code: OptionErrorCode, allowAddress: boolean): DeflateConfig | null {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(code, `Gateway options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const o = currentGatewayOptions(options as WsGatewayOptions, code) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!GATEWAY_KEYS.has(key) && !CONNECTION_KEYS.has(key)) fail(code, `Unknown gateway option "${key}"`);
    if (!allowAddress && (key === 'path' || key === 'port')) fail(code, `Option ${key} belongs on @WsGateway(), not in module defaults`);
  }
  if (o.path !== undefined) compilePath(o.path);
  if (o.port !== undefined && (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) {
    fail(code, `Option port must be an integer from 0 to 65535, got ${String(o.port)}`);
  }
  if (o.codec !== undefined && !isCodecOption(o.codec)) {
    fail(code, `Option codec must be 'json', 'text', 'binary' or an object with decode() and encode()`);
  }
  checkOneOf(code, 'scope', o.scope, ['singleton', 'connection']);
  checkOneOf(code, 'onUnknownEvent', o.onUnknownEvent, ['error', 'close']);
  checkOneOf(code, 'onUndecodable', o.onUndecodable, ['error', 'close']);
  checkOneOf(code, 'onError', o.onError, ['exception', 'close']);
  const origins = originListProblem(o.allowedOrigins);
  if (origins !== null) fail(code, `Option allowedOrigins ${origins}`);
  checkStringList(code, 'protocols', o.protocols);
  if (o.maxMailbox !== undefined && (typeof o.maxMailbox !== 'number' || !Number.isSafeInteger(o.maxMailbox) || o.maxMailbox < 1)) {
    fail(code, `Option maxMailbox must be a positive integer, got ${String(o.maxMailbox)}`);
  }
  let deflate: DeflateConfig | null;
  try {
    // Checked where the options are written (decorator, forRoot), so a bad one fails at load.
    deflate = resolveDeflateConfig(o.perMessageDeflate as PerMessageDeflateOption | undefined);
  } catch (error) {
    if (error instanceof WsgError) fail(code, error.message, error);
    throw error;
  }
  const connection: Record<string, unknown> = {};
  for (const key of CONNECTION_KEYS) if (o[key] !== undefined) connection[key] = o[key];
  try {
    resolveConnectionOptions(connection as ConnectionOptions);
    resolveHandshakeLimits(pickHandshakeLimits(o));
  } catch (error) {
    if (error instanceof WsgError) fail(code, error.message, error);
    throw error;
  }
  return deflate;
}

/**
 * Merges module defaults under a gateway's own options, applies defaults, validates the
 * result and freezes it. Runs once per gateway at bootstrap.
 */
export function resolveGatewayOptions(own: WsGatewayOptions, defaults: Omit<WsGatewayOptions, 'path' | 'port'> = {}): ResolvedGatewayOptions {
  // Renamed per level first, so a gateway's own deprecated name still wins over a default.
  const code = 'WSG_ERR_GATEWAY_INVALID_OPTION';
  const merged: WsGatewayOptions = { ...currentGatewayOptions(defaults, code), ...currentGatewayOptions(own, code) };
  const perMessageDeflate = checkGatewayOptions(merged, code, true);
  const connection: Record<string, unknown> = {};
  for (const key of CONNECTION_KEYS) {
    const value = (merged as Record<string, unknown>)[key];
    if (value !== undefined) connection[key] = value;
  }
  return Object.freeze({
    matcher: compilePath(merged.path ?? '/'),
    port: merged.port ?? null,
    codec: resolveCodec(merged.codec ?? 'json'),
    scope: merged.scope ?? 'singleton',
    allowedOrigins: originAllowList(merged.allowedOrigins),
    protocols: Object.freeze([...(merged.protocols ?? [])]),
    onUnknown: merged.onUnknownEvent ?? 'error',
    onUndecodable: merged.onUndecodable ?? 'error',
    onError: merged.onError ?? 'exception',
    maxMailbox: merged.maxMailbox ?? GatewayLimits.maxMailbox.default,
    perMessageDeflate,
    connection: resolveConnectionOptions(connection as ConnectionOptions),
    handshake: resolveHandshakeLimits(pickHandshakeLimits(merged as Record<string, unknown>)),
  });
}
