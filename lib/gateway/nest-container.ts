import type { ModuleRef, NestContainer } from '@nestjs/core';
import { GatewayError } from './errors.js';

/**
 * The application's `NestContainer`. Building guard, pipe, interceptor and filter chains the
 * way Nest's own gateways do needs it (and its ApplicationConfig for global enhancers), and
 * Nest offers it to packages only through `ModuleRef`'s protected `container`.
 */
export function nestContainerOf(moduleRef: ModuleRef): NestContainer {
  const container = (moduleRef as unknown as { container?: NestContainer }).container;
  if (container === undefined || typeof container.getModules !== 'function') {
    throw new GatewayError('WSG_ERR_GATEWAY_NEST_VERSION', 'ModuleRef has no container; this @nestjs/core is not one wsgate supports');
  }
  return container;
}

/**
 * The instance of `token` in any module of `container`, or undefined. `app.get()` cannot ask
 * this: on an application made by `NestFactory.create` a missing provider aborts the process
 * (its proxy's `abortOnError`) instead of throwing.
 */
export function providerInstanceOf<T>(container: NestContainer, token: abstract new (...args: never[]) => T): T | undefined {
  for (const module of container.getModules().values()) {
    const instance: unknown = module.providers.get(token)?.instance;
    if (instance instanceof token) return instance;
  }
  return undefined;
}
