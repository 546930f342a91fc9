import type { IncomingMessage } from 'node:http';
import { CONNECTION_OPTION_KEYS, resolveConnectionOptions, type ConnectionOptions, type ResolvedConnectionOptions } from '../../frames/connection-options.js';
import { WsgError } from '../../frames/errors.js';
import { resolveDeflateConfig, type DeflateConfig, type PerMessageDeflateOptions } from '../../frames/deflate-negotiation.js';
import { originAllowList, originListProblem, type OriginAllowList } from '../../frames/origin-check.js';
import { pickHandshakeLimits, resolveHandshakeLimits, type HandshakeLimitOptions, type ResolvedHandshakeLimits } from '../../frames/handshake-limits.js';
import { RENAMED_OPTIONS, renameDeprecatedOptions } from '../deprecated-option-names.js';
import { GatewayError } from '../errors.js';
import { GatewayLimits } from '../gateway-limits.js';
import { jsonMessageParser, type WsGateMessageParser } from './message-parser.js';

/**
 * What a client gets for a message the adapter cannot route (`onUnknownEvent`) or parse
 * (`onUndecodable`): `'ignore'` drops it as platform-ws does; `'error'` answers
 * `{ event: 'error', data: { code, message } }`; `'close'` closes (1003 unknown, 1007 undecodable).
 */
export type WsAdapterMessagePolicy = 'ignore' | 'error' | 'close';

/** What `handleDisconnect(client, reason)` gets: the close code (platform-ws), or a `WsCloseReason`. */
export type WsDisconnectReasonMode = 'code' | 'detail';

/** How clients are closed when the application closes: `terminate` (platform-ws, 1006) or a 1001 closing handshake. */
export type WsShutdownMode = 'terminate' | 'close';

/** ws's `verifyClient`: sync (return a boolean) or async (call `done`); a refusal is an HTTP status, 401 by default. */
export type WsVerifyClient =
  | ((info: WsVerifyClientInfo) => boolean)
  | ((info: WsVerifyClientInfo, done: (verified: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => void);

export interface WsVerifyClientInfo {
  readonly origin: string | undefined;
  /** The upgrade came over TLS. */
  readonly secure: boolean;
  readonly req: IncomingMessage;
}

/** ws's `handleProtocols`: picks one of the offered subprotocols, or `false` for none. */
export type WsHandleProtocols = (protocols: Set<string>, req: IncomingMessage) => string | false;

/** permessage-deflate options, in wsgate's form or ws's (`zlibDeflateOptions.level`, `.memLevel`). */
export interface WsAdapterDeflateOptions extends PerMessageDeflateOptions {
  zlibDeflateOptions?: { level?: number; memLevel?: number } & Record<string, unknown>;
  zlibInflateOptions?: Record<string, unknown>;
}

/**
 * Options a gateway's server runs with: given to `new WsGateAdapter(app, options)` for every
 * gateway, or in `@WebSocketGateway({ ... })` for one (the gateway's own win). `WsAdapter`
 * hands the same decorator options to ws, which ignores the wsgate keys: gateway code that
 * sets them still runs on both adapters.
 */
export interface WsGateServerOptions extends ConnectionOptions, HandshakeLimitOptions {
  /** ws's name for `maxMessageSize` (bytes). @defaultValue 100 MiB, as ws */
  maxPayload?: number;
  /** ws's name for `maxPendingPongs`. */
  maxPendingAutoPongs?: number;
  /** Offer permessage-deflate (RFC 7692) to clients that ask for it. @defaultValue false, as ws */
  perMessageDeflate?: boolean | WsAdapterDeflateOptions;
  /**
   * ws's hook. When given it decides on the Origin too: the same-host default below is off
   * (an `allowedOrigins` given as well still applies first).
   */
  verifyClient?: WsVerifyClient;
  /**
   * Origins (`scheme://host[:port]`) browsers may connect from besides the host the request
   * was sent to; `['*']` allows any (warned at boot). A request without Origin passes; others
   * get 403 `WSG_ERR_GATEWAY_ORIGIN`. ws checks nothing by default. @defaultValue the same
   * host only, unless `verifyClient` is given
   */
  allowedOrigins?: readonly string[];
  handleProtocols?: WsHandleProtocols;
  /** Interface a gateway with a port of its own listens on. @defaultValue all interfaces, as ws */
  host?: string;
  /** listen() backlog of a gateway's own port. @defaultValue Node's (511) */
  backlog?: number;
  /** Handle one message of a client at a time, in arrival order (platform-ws runs them at once). @defaultValue false */
  ordered?: boolean;
  /** messages: a client's messages taken but not yet handled before reading from it pauses. @defaultValue 1024 */
  maxMailbox?: number;
  /** @defaultValue 'ignore', as platform-ws */
  onUnknownEvent?: WsAdapterMessagePolicy;
  /** @deprecated use `onUnknownEvent` (same values), the name gateways use too; removed in 0.2.0. */
  onUnknown?: WsAdapterMessagePolicy;
  /** @defaultValue 'ignore', as platform-ws */
  onUndecodable?: WsAdapterMessagePolicy;
  /** @defaultValue 'code', as platform-ws */
  disconnectReason?: WsDisconnectReasonMode;
  /** @defaultValue 'terminate', as platform-ws */
  onShutdown?: WsShutdownMode;
  /** Parses each message, as `WsAdapter`'s option (in the adapter's options: every gateway's). @defaultValue JSON.parse */
  messageParser?: WsGateMessageParser;
}

/** What `new WsGateAdapter(app, options)` takes. */
export type WsGateAdapterOptions = WsGateServerOptions;

/** One gateway server's options after merging, defaults and checks; frozen. */
export interface ResolvedServerOptions {
  readonly connection: ResolvedConnectionOptions;
  /** `handshakeTimeout` and the caps, counted per gateway server (ws has none: these are wsgate's defaults). */
  readonly handshake: ResolvedHandshakeLimits;
  /** Resolved once per gateway server; null: off. */
  readonly perMessageDeflate: DeflateConfig | null;
  readonly verifyClient: WsVerifyClient | null;
  /** The origin screen's list (null: any, `'*'` or a `verifyClient` that decides alone). */
  readonly allowedOrigins: OriginAllowList;
  /** `allowedOrigins` was `'*'` with no `verifyClient`: warned at boot. */
  readonly anyOrigin: boolean;
  readonly handleProtocols: WsHandleProtocols | null;
  readonly host: string | undefined;
  readonly backlog: number | undefined;
  readonly ordered: boolean;
  readonly maxMailbox: number;
  readonly onUnknownEvent: WsAdapterMessagePolicy;
  readonly onUndecodable: WsAdapterMessagePolicy;
  readonly disconnectReason: WsDisconnectReasonMode;
  readonly onShutdown: WsShutdownMode;
  readonly messageParser: WsGateMessageParser;
  /** The parser is the application's: its throws are bugs and get logged. */
  readonly customParser: boolean;
}

/**
 * ws's defaults where they differ from the engine's: a drop-in keeps what apps rely on. The
 * send queue is unbounded as in ws (`send()` still reports `'queued'` past
 * `sendLowWaterMark`); set `maxSendQueue` to bound it, and a client past it is closed 1013.
 */
const PARITY_DEFAULTS = Object.freeze({
  maxMessageSize: 100 * 1024 * 1024,
  maxSendQueue: Number.MAX_SAFE_INTEGER,
  sendQueuePolicy: 'close',
} satisfies ConnectionOptions);

// The adapter hands ws-style Buffers to gateway code itself, so decodeText is not an adapter option.
const CONNECTION_KEYS = CONNECTION_OPTION_KEYS.filter((key) => key !== 'decodeText');

/** ws options wsgate does not honour, with what happens instead; a gateway setting one gets a warning. */
const UNHONOURED: Readonly<Record<string, { readonly differs: (value: unknown) => boolean; readonly instead: string }>> = {
  skipUTF8Validation: { differs: (v) => v === true, instead: 'text is always checked for UTF-8 (RFC 6455 §8.1)' },
  autoPong: { differs: (v) => v === false, instead: 'pings are always answered' },
  clientTracking: { differs: (v) => v === false, instead: 'server.clients always tracks clients (shutdown needs it)' },
};

function invalid(message: string, cause?: unknown): GatewayError {
  return new GatewayError('WSG_ERR_GATEWAY_INVALID_OPTION', message, undefined, cause === undefined ? undefined : { cause });
}

function oneOf<T extends string>(where: string, name: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw invalid(`${where}: option ${name} must be ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`);
  return value as T;
}

function optionalType(where: string, name: string, value: unknown, type: 'boolean' | 'function' | 'string'): void {
  if (value !== undefined && typeof value !== type) throw invalid(`${where}: option ${name} must be a ${type}, got ${typeof value}`);
}

function optionalInteger(where: string, name: string, value: unknown, min: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)) {
    throw invalid(`${where}: option ${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
}

/** ws names → wsgate names, with a conflict check when one object gives both. */
function engineOptions(where: string, o: Record<string, unknown>): ConnectionOptions {
  const out: Record<string, unknown> = {};
  for (const key of CONNECTION_KEYS) if (o[key] !== undefined) out[key] = o[key];
  for (const [alias, name] of [
    ['maxPayload', 'maxMessageSize'],
    ['maxPendingAutoPongs', 'maxPendingPongs'],
  ] as const) {
    if (o[alias] === undefined) continue;
    if (out[name] !== undefined && out[name] !== o[alias]) {
      throw invalid(`${where}: options ${alias} (${String(o[alias])}) and ${name} (${String(out[name])}) disagree; give one`);
    }
    out[name] = o[alias];
  }
  return out as ConnectionOptions;
}

function deflateOptions(value: unknown): boolean | PerMessageDeflateOptions | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  const { zlibDeflateOptions, zlibInflateOptions: _inflate, ...own } = value as WsAdapterDeflateOptions;
  const level = own.level ?? zlibDeflateOptions?.level;
  const memLevel = own.memLevel ?? zlibDeflateOptions?.memLevel;
  return { ...own, ...(level !== undefined ? { level } : {}), ...(memLevel !== undefined ? { memLevel } : {}) };
}

/** Checks one level of options (the adapter's or one gateway's) without applying defaults. */
function checkLevel(where: string, options: unknown): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid(`${where}: options must be an object, got ${typeof options}`);
  const o = renameDeprecatedOptions(options as Record<string, unknown>, RENAMED_OPTIONS, (message) => {
    throw invalid(`${where}: ${message}`);
  });
  optionalType(where, 'messageParser', o.messageParser, 'function');
  optionalType(where, 'verifyClient', o.verifyClient, 'function');
  optionalType(where, 'handleProtocols', o.handleProtocols, 'function');
  const origins = originListProblem(o.allowedOrigins);
  if (origins !== null) throw invalid(`${where}: option allowedOrigins ${origins}`);
  optionalType(where, 'ordered', o.ordered, 'boolean');
  optionalType(where, 'host', o.host, 'string');
  optionalInteger(where, 'backlog', o.backlog, 0);
  optionalInteger(where, 'maxMailbox', o.maxMailbox, 1);
  oneOf(where, 'onUnknownEvent', o.onUnknownEvent, ['ignore', 'error', 'close']);
  oneOf(where, 'onUndecodable', o.onUndecodable, ['ignore', 'error', 'close']);
  oneOf(where, 'disconnectReason', o.disconnectReason, ['code', 'detail']);
  oneOf(where, 'onShutdown', o.onShutdown, ['terminate', 'close']);
  const deflate = o.perMessageDeflate;
  if (deflate !== undefined && typeof deflate !== 'boolean' && (deflate === null || typeof deflate !== 'object')) {
    throw invalid(`${where}: option perMessageDeflate must be a boolean or an options object`);
  }
  return o;
}

/** Validates and freezes `new WsGateAdapter(app, options)`. Throws `WSG_ERR_GATEWAY_INVALID_OPTION`. */
export function resolveAdapterOptions(options: unknown): Readonly<WsGateAdapterOptions> {
  const o = checkLevel('WsGateAdapter', options);
  // Resolve once now so that a bad limit fails at construction, not at the first gateway.
  resolveServerOptions(o, undefined, 'WsGateAdapter');
  return Object.freeze({ ...o });
}

/**
 * Merges a gateway's `@WebSocketGateway` options over the adapter's, applies ws's defaults
 * and the engine's, checks the result and freezes it. Runs once per gateway server.
 */
export function resolveServerOptions(adapter: Readonly<WsGateAdapterOptions>, gateway: unknown, where: string): ResolvedServerOptions {
  const own = checkLevel(where, gateway);
  const merged = { ...adapter, ...own } as WsGateAdapterOptions;
  let connection: ResolvedConnectionOptions;
  try {
    connection = resolveConnectionOptions({ ...PARITY_DEFAULTS, ...engineOptions('WsGateAdapter', adapter as Record<string, unknown>), ...engineOptions(where, own) });
  } catch (error) {
    if (error instanceof WsgError) throw invalid(`${where}: ${error.message}`, error);
    throw error;
  }
  let handshake: ResolvedHandshakeLimits;
  try {
    handshake = resolveHandshakeLimits(pickHandshakeLimits(merged as Record<string, unknown>) satisfies HandshakeLimitOptions);
  } catch (error) {
    if (error instanceof WsgError) throw invalid(`${where}: ${error.message}`, error);
    throw error;
  }
  let perMessageDeflate: DeflateConfig | null;
  try {
    perMessageDeflate = resolveDeflateConfig(deflateOptions(merged.perMessageDeflate));
  } catch (error) {
    if (error instanceof WsgError) throw invalid(`${where}: ${error.message}`, error);
    throw error;
  }
  const listed = merged.allowedOrigins;
  // ws leaves origins to verifyClient: an application that has one decides them there.
  const allowedOrigins = listed === undefined && merged.verifyClient !== undefined ? null : originAllowList(listed);
  return Object.freeze({
    connection,
    handshake,
    perMessageDeflate,
    verifyClient: merged.verifyClient ?? null,
    allowedOrigins,
    anyOrigin: allowedOrigins === null && merged.verifyClient === undefined,
    handleProtocols: merged.handleProtocols ?? null,
    host: merged.host,
    backlog: merged.backlog,
    ordered: merged.ordered ?? false,
    maxMailbox: merged.maxMailbox ?? GatewayLimits.maxMailbox.default,
    onUnknownEvent: merged.onUnknownEvent ?? 'ignore',
    onUndecodable: merged.onUndecodable ?? 'ignore',
    disconnectReason: merged.disconnectReason ?? 'code',
    onShutdown: merged.onShutdown ?? 'terminate',
    messageParser: merged.messageParser ?? jsonMessageParser,
    customParser: merged.messageParser !== undefined && merged.messageParser !== jsonMessageParser,
  });
}

/** The ws options a gateway set that wsgate runs differently, as warnings. */
export function unhonouredOptions(gateway: unknown): string[] {
  if (gateway === null || typeof gateway !== 'object') return [];
  const o = gateway as Record<string, unknown>;
  const out: string[] = [];
  for (const [name, rule] of Object.entries(UNHONOURED)) {
    if (o[name] !== undefined && rule.differs(o[name])) out.push(`${name}: ${String(o[name])} is not supported; ${rule.instead}`);
  }
  return out;
}
