import { WsgError } from '../frames/errors.js';
import { WsHub, resolveHubOptions, type HubOptions } from '../hub/index.js';
import { GatewayError } from './errors.js';
import { checkGatewayOptions, currentGatewayOptions, type WsGatewayOptions } from './gateway-options.js';
import type { PushLoader } from '../http2/push-service.js';

/** A TLS port of its own speaking HTTP/2 (RFC 8441) and HTTP/1.1 upgrades, for apps whose HTTP server is HTTP/1.1 only (Express). */
export interface WsGateHttp2Options {
  /** PEM private key. */
  key: string | Buffer;
  /** PEM certificate (chain). */
  cert: string | Buffer;
  /** 0 picks a free port (see `WsGatewayRegistry.http2Address`). */
  port: number;
  /** @defaultValue the module's `host`, else all interfaces */
  host?: string;
}

/** `PushService` and `@PushResources` settings. */
export interface WsGatePushOptions {
  /** Produces a resource to push by path; wins over `root`. @defaultValue none: `@PushResources` only hints */
  loader?: PushLoader;
  /** Serve pushed paths as files under this directory (content type by extension). */
  root?: string;
  /** Pushed streams open at once per HTTP/2 session. @defaultValue 100 streams */
  maxConcurrentPushes?: number;
  /** Send `103 Early Hints` when a push is not possible. @defaultValue true */
  earlyHints?: boolean;
}

/** Options of `WsGateModule.forRoot()`. */
export interface WsGateModuleOptions {
  /** Gateway options every gateway starts from; its own `@WsGateway` options win. */
  defaults?: Omit<WsGatewayOptions, 'path' | 'port'>;
  /** The hub gateways and services inject: options for a new one, or one you built (e.g. with a Redis driver). */
  hub?: HubOptions | WsHub;
  /** Interface that gateways with their own `port` listen on. @defaultValue all interfaces */
  host?: string;
  /** Log the route table (at `verbose`) at bootstrap. @defaultValue true */
  logRoutes?: boolean;
  /** Also serve the gateways of the application's server on an HTTP/2 TLS port of their own. @defaultValue none */
  http2?: WsGateHttp2Options;
  /** Server push for controllers (`PushService`, `@Push()`, `@PushResources()`) and gateways. */
  push?: WsGatePushOptions;
}

/** Module options after validation; frozen. */
export interface ResolvedWsGateModuleOptions {
  readonly defaults: Readonly<Omit<WsGatewayOptions, 'path' | 'port'>>;
  readonly hub: HubOptions | WsHub;
  readonly host: string | undefined;
  readonly logRoutes: boolean;
  readonly http2: Readonly<WsGateHttp2Options> | null;
  readonly push: Readonly<WsGatePushOptions>;
}

const KEYS: ReadonlySet<string> = new Set(['defaults', 'hub', 'host', 'logRoutes', 'http2', 'push']);
const HTTP2_KEYS: ReadonlySet<string> = new Set(['key', 'cert', 'port', 'host']);
const PUSH_KEYS: ReadonlySet<string> = new Set(['loader', 'root', 'maxConcurrentPushes', 'earlyHints']);
const MAX_PORT = 65_535;

function isPem(value: unknown): boolean {
  return (typeof value === 'string' && value.length > 0) || (Buffer.isBuffer(value) && value.length > 0);
}

function resolveHttp2(value: unknown): Readonly<WsGateHttp2Options> | null {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('Option http2 must be an object { key, cert, port, host? }');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!HTTP2_KEYS.has(key)) throw invalid(`Unknown http2 option "${key}"`);
  if (!isPem(o.key) || !isPem(o.cert)) throw invalid('Options http2.key and http2.cert must be PEM strings or Buffers: browsers speak HTTP/2 over TLS only');
  if (!Number.isInteger(o.port) || (o.port as number) < 0 || (o.port as number) > MAX_PORT) throw invalid(`Option http2.port must be an integer from 0 to ${MAX_PORT}, got ${String(o.port)}`);
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host.length === 0)) throw invalid('Option http2.host must be a non-empty string');
  return Object.freeze({ ...(o as unknown as WsGateHttp2Options) });
}

function resolvePush(value: unknown): Readonly<WsGatePushOptions> {
  if (value === undefined) return Object.freeze({});
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('Option push must be an object');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!PUSH_KEYS.has(key)) throw invalid(`Unknown push option "${key}"`);
  if (o.loader !== undefined && typeof o.loader !== 'function') throw invalid('Option push.loader must be a function (path) => resource | null');
  if (o.root !== undefined && (typeof o.root !== 'string' || o.root.length === 0)) throw invalid('Option push.root must be a non-empty directory path');
  if (o.maxConcurrentPushes !== undefined && (!Number.isSafeInteger(o.maxConcurrentPushes) || (o.maxConcurrentPushes as number) < 0)) {
    throw invalid(`Option push.maxConcurrentPushes must be a non-negative integer, got ${String(o.maxConcurrentPushes)}`);
  }
  if (o.earlyHints !== undefined && typeof o.earlyHints !== 'boolean') throw invalid('Option push.earlyHints must be a boolean');
  return Object.freeze({ ...(o as WsGatePushOptions) });
}

function invalid(message: string, cause?: unknown): GatewayError {
  return new GatewayError('WSG_ERR_GATEWAY_INVALID_OPTION', message, undefined, cause === undefined ? undefined : { cause });
}

/** Validates `forRoot()` options once and freezes them. Throws `WSG_ERR_GATEWAY_INVALID_OPTION`. */
export function resolveModuleOptions(options: unknown): ResolvedWsGateModuleOptions {
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw invalid(`WsGateModule options must be an object, got ${typeof options}`);
  for (const key of Object.keys(o)) if (!KEYS.has(key)) throw invalid(`Unknown WsGateModule option "${key}"`);
  checkGatewayOptions(o.defaults ?? {}, 'WSG_ERR_GATEWAY_INVALID_OPTION', false);
  const defaults = currentGatewayOptions((o.defaults ?? {}) as WsGatewayOptions, 'WSG_ERR_GATEWAY_INVALID_OPTION');
  let hub = (o.hub ?? {}) as HubOptions | WsHub;
  if (!(hub instanceof WsHub)) {
    try {
      resolveHubOptions(hub);
    } catch (error) {
      if (error instanceof WsgError) throw invalid(`Option hub: ${error.message}`, error);
      throw error;
    }
    hub = Object.freeze({ ...hub });
  }
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host.length === 0)) throw invalid('Option host must be a non-empty string');
  if (o.logRoutes !== undefined && typeof o.logRoutes !== 'boolean') throw invalid('Option logRoutes must be a boolean');
  return Object.freeze({
    defaults: Object.freeze({ ...defaults }),
    hub,
    host: o.host as string | undefined,
    logRoutes: (o.logRoutes as boolean | undefined) ?? true,
    http2: resolveHttp2(o.http2),
    push: resolvePush(o.push),
  });
}
