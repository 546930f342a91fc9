import { WsgError } from '../frames/errors.js';
import { WsHub, resolveHubOptions, type HubOptions } from '../hub/index.js';
import { GatewayError } from './errors.js';
import { checkGatewayOptions, type WsGatewayOptions } from './gateway-options.js';

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
}

/** Module options after validation; frozen. */
export interface ResolvedWsGateModuleOptions {
  readonly defaults: Readonly<Omit<WsGatewayOptions, 'path' | 'port'>>;
  readonly hub: HubOptions | WsHub;
  readonly host: string | undefined;
  readonly logRoutes: boolean;
}

const KEYS: ReadonlySet<string> = new Set(['defaults', 'hub', 'host', 'logRoutes']);

function invalid(message: string, cause?: unknown): GatewayError {
  return new GatewayError('WSG_ERR_GATEWAY_INVALID_OPTION', message, undefined, cause === undefined ? undefined : { cause });
}

/** Validates `forRoot()` options once and freezes them. Throws `WSG_ERR_GATEWAY_INVALID_OPTION`. */
export function resolveModuleOptions(options: unknown): ResolvedWsGateModuleOptions {
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw invalid(`WsGateModule options must be an object, got ${typeof options}`);
  for (const key of Object.keys(o)) if (!KEYS.has(key)) throw invalid(`Unknown WsGateModule option "${key}"`);
  const defaults = (o.defaults ?? {}) as WsGatewayOptions;
  checkGatewayOptions(defaults, 'WSG_ERR_GATEWAY_INVALID_OPTION', false);
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
  });
}
