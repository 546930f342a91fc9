import { Scope } from '@nestjs/common';
import { DecoratorError } from '../errors.js';
import { checkGatewayOptions, type WsGatewayOptions } from '../gateway-options.js';
import { GATEWAY_METADATA, NEST_SCOPE_OPTIONS_METADATA } from '../metadata-keys.js';

/**
 * Marks a class as a WebSocket gateway mounted at `path` (`/rooms/:room`). Options are
 * checked here, so a mistake fails when the class is defined; module defaults are merged in
 * at bootstrap. The class must also be listed in a module's `providers`.
 */
export function WsGateway(pathOrOptions?: string | WsGatewayOptions, options?: WsGatewayOptions): ClassDecorator {
  let merged: WsGatewayOptions;
  if (typeof pathOrOptions === 'string') {
    if (options !== undefined) checkGatewayOptions(options, 'WSG_ERR_DECORATOR_OPTION', true);
    if (options?.path !== undefined) {
      throw new DecoratorError('WSG_ERR_DECORATOR_OPTION', '@WsGateway(path, options): give the path once, not also in options');
    }
    merged = { ...options, path: pathOrOptions };
  } else if (pathOrOptions === undefined) {
    merged = { ...options };
  } else if (pathOrOptions === null || typeof pathOrOptions !== 'object' || Array.isArray(pathOrOptions)) {
    throw new DecoratorError('WSG_ERR_DECORATOR_PATH', `@WsGateway() takes a path string or an options object, got ${pathOrOptions === null ? 'null' : typeof pathOrOptions}`);
  } else {
    if (options !== undefined) throw new DecoratorError('WSG_ERR_DECORATOR_OPTION', '@WsGateway(options) takes one options object');
    merged = { ...pathOrOptions };
  }
  checkGatewayOptions(merged, 'WSG_ERR_DECORATOR_OPTION', true);
  if (merged.allowedOrigins !== undefined) merged.allowedOrigins = Object.freeze([...merged.allowedOrigins]);
  if (merged.protocols !== undefined) merged.protocols = Object.freeze([...merged.protocols]);
  const frozen = Object.freeze(merged);
  return (target) => {
    Reflect.defineMetadata(GATEWAY_METADATA, frozen, target);
    // Nest fixes a provider's scope when it registers the class, long before bootstrap,
    // so a connection-scoped gateway has to say so in Nest's own terms here.
    if (frozen.scope === 'connection') Reflect.defineMetadata(NEST_SCOPE_OPTIONS_METADATA, { scope: Scope.REQUEST }, target);
  };
}
