import { createParamDecorator, UseInterceptors, type ExecutionContext } from '@nestjs/common';
import type { PushLink } from '../../http2/push-service.js';
import { DecoratorError } from '../errors.js';
import { PUSH_RESOURCES_METADATA } from '../metadata-keys.js';
import { PushInterceptor, REQUEST_PUSHER } from '../push-interceptor.js';
import type { RequestPusher } from '../ws-gate-push.js';

const pusherParam = createParamDecorator((_data: unknown, context: ExecutionContext): RequestPusher | undefined => {
  return context.switchToHttp().getRequest<Record<symbol, RequestPusher | undefined>>()[REQUEST_PUSHER];
});

function methodDescriptor(target: object, key: string | symbol | undefined, what: string): PropertyDescriptor {
  const descriptor = key === undefined ? undefined : Object.getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || typeof descriptor.value !== 'function') {
    throw new DecoratorError('WSG_ERR_DECORATOR_TARGET', `${what} goes on a controller method's parameter or on the method`);
  }
  return descriptor;
}

/**
 * Controller parameter: the `RequestPusher` for this request (`promise`, `push`, `hint`,
 * `resources`), bound to its HTTP/2 stream; on HTTP/1.1 it only hints. Needs `WsGateModule`.
 */
export function Push(): ParameterDecorator {
  const param = pusherParam();
  return (target, key, index) => {
    param(target, key, index);
    UseInterceptors(PushInterceptor)(target, key!, methodDescriptor(target, key, '@Push()'));
  };
}

function checkLink(link: unknown): link is PushLink {
  if (typeof link === 'string') return link.startsWith('/');
  if (link === null || typeof link !== 'object') return false;
  const { path, as } = link as { path?: unknown; as?: unknown };
  return typeof path === 'string' && path.startsWith('/') && (as === undefined || (typeof as === 'string' && /^[a-z]+$/.test(as)));
}

/**
 * Controller method: before the handler runs, push each path (loaded by the module's
 * `push.loader` or `push.root`) to clients that take pushes, and send one `103 Early Hints`
 * with `Link: rel=preload` for the rest — every browser, and HTTP/1.1 clients. Needs `WsGateModule`.
 */
export function PushResources(links: readonly PushLink[]): MethodDecorator {
  if (!Array.isArray(links) || links.length === 0 || !links.every(checkLink)) {
    throw new DecoratorError('WSG_ERR_DECORATOR_PUSH_PATHS', `@PushResources takes a non-empty array of origin-form paths or { path, as } links, got ${JSON.stringify(links)}`);
  }
  const frozen = Object.freeze(links.map((l) => (typeof l === 'string' ? l : Object.freeze({ ...l }))));
  return (target, key, descriptor) => {
    Reflect.defineMetadata(PUSH_RESOURCES_METADATA, frozen, descriptor.value as object);
    UseInterceptors(PushInterceptor)(target, key, descriptor);
  };
}
