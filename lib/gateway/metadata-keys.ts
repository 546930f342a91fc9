/**
 * Where gateway decorators keep what they were told. Decorators only write under these
 * keys; the plan compiler reads them once at bootstrap.
 */

/** Class → frozen `WsGatewayOptions`, written by `@WsGateway`. */
export const GATEWAY_METADATA = Symbol('wsgate:gateway');

/** Method function → `readonly HandlerMetadata[]`, written by `@OnAccept`, `@OnMessage`, …. */
export const HANDLER_METADATA = Symbol('wsgate:handler');

/**
 * Class + method name → parameter records. This one is a string, and Nest's own, because
 * Nest's `ExternalContextCreator` reads parameters under a string key, and sharing it lets
 * `createParamDecorator()` decorators (and Nest's `@ConnectedSocket`, `@MessageBody`) work
 * on gateway handlers. Must equal `ROUTE_ARGS_METADATA` of `@nestjs/common` (a test pins it).
 */
export const PARAM_ARGS_METADATA = '__routeArguments__';

/** Nest's `@Injectable({ scope })` key: `@WsGateway({ scope: 'connection' })` writes it. */
export const NEST_SCOPE_OPTIONS_METADATA = 'scope:options';

/** Nest's key for parameter records of custom decorators made by `createParamDecorator()`. */
export const NEST_CUSTOM_PARAM_MARK = '__customRouteArgs__';

/** Controller method function → frozen `PushLink[]`, written by `@PushResources`. */
export const PUSH_RESOURCES_METADATA = Symbol('wsgate:push-resources');
