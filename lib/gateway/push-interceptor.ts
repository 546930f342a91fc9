import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { from, mergeMap, type Observable } from 'rxjs';
import { WsgError } from '../frames/errors.js';
import type { PushLink } from '../http2/push-service.js';
import { PUSH_RESOURCES_METADATA } from './metadata-keys.js';
import { WsGatePush, type RequestPusher } from './ws-gate-push.js';

/** Where the interceptor leaves the request's pusher for `@Push()`. */
export const REQUEST_PUSHER = Symbol('wsgate:request-pusher');

/**
 * Put on a route by `@Push()` and `@PushResources()`: gives the request its `RequestPusher`
 * and, for `@PushResources`, sends the PUSH_PROMISEs (or one 103) before the handler runs.
 * The route's response waits until the pushed responses are handed over, so the parent
 * stream does not end first (which would cancel them). A failing push is logged, never the
 * route's failure.
 */
@Injectable()
export class PushInterceptor implements NestInterceptor {
  constructor(private readonly push: WsGatePush) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<Record<symbol, unknown>>();
    // @Push() and @PushResources on one route put this interceptor there twice.
    if (request[REQUEST_PUSHER] !== undefined) return next.handle();
    const pusher = this.push.forRequest(request, http.getResponse());
    request[REQUEST_PUSHER] = pusher;
    const links = Reflect.getMetadata(PUSH_RESOURCES_METADATA, context.getHandler()) as readonly PushLink[] | undefined;
    if (links === undefined) return next.handle();
    const pushed = this.pushAll(pusher, links, context);
    return next.handle().pipe(mergeMap((value) => from(pushed.then(() => value))));
  }

  private pushAll(pusher: RequestPusher, links: readonly PushLink[], context: ExecutionContext): Promise<void> {
    let pending: Promise<unknown>;
    try {
      pending = pusher.resources(links);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      () => undefined,
      (error: unknown) => {
        const code = error instanceof WsgError ? error.code : 'WSG_ERR_GATEWAY_PUSH_FAILED';
        const where = `${context.getClass().name}.${context.getHandler().name}`;
        this.push.logger.error(`[WSG_ERR_GATEWAY_PUSH_FAILED] ${where}: @PushResources failed (${code})`, error instanceof Error ? error.stack : String(error));
      },
    );
  }
}
