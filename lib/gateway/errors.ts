import { WsgError } from '../frames/errors.js';
import type { CloseCode } from '../frames/close-codes.js';

/** Every error code the gateway layer raises, with the one-line meaning users search for. */
export const GatewayErrorCode = {
  WSG_ERR_DECORATOR_PATH: '@WsGateway got a path that is not a string starting with "/" with well-formed ":param" segments',
  WSG_ERR_DECORATOR_OPTION: '@WsGateway got an option that is unknown, out of range or of the wrong type',
  WSG_ERR_DECORATOR_EVENT: '@OnMessage got an event that is not a non-empty string',
  WSG_ERR_DECORATOR_INFO_TYPE: '@OnInfo got an info type that is not a non-empty string',
  WSG_ERR_DECORATOR_PARAM: 'A parameter decorator got a property or header name that is not a non-empty string',
  WSG_ERR_DECORATOR_PIPE: '@Payload got something that is neither a pipe class nor an object with transform()',
  WSG_ERR_DECORATOR_TARGET: 'A method decorator was applied to something that is not an instance method',
  WSG_ERR_GATEWAY_DUPLICATE_HANDLER: 'A gateway has two @OnAccept/@OnInit/@OnClose methods, or two handlers for one event or info type',
  WSG_ERR_GATEWAY_PARAM_CONTEXT: 'A parameter decorator was used on a handler that never has that value (@Info outside @OnInfo, @Reason outside @OnClose)',
  WSG_ERR_GATEWAY_FOREIGN_PARAM: 'A handler parameter has a decorator wsgate never fills (@Query, @Param, @Headers, @Ip… of @nestjs/common, @Ack of @nestjs/websockets); use the wsgate decorator of the same name or the one the message names',
  WSG_ERR_GATEWAY_DUPLICATE_PATH: 'Two gateways on one HTTP server were given the same path',
  WSG_ERR_GATEWAY_NO_HTTP_SERVER: 'A gateway without its own port, in an application that has no HTTP server',
  WSG_ERR_GATEWAY_LISTEN: 'The HTTP server for a gateway with its own port could not listen',
  WSG_ERR_GATEWAY_INVALID_OPTION: 'WsGateModule.forRoot()/forRootAsync(), WsGateAdapter or an @WebSocketGateway under it got an option that is unknown, out of range or of the wrong type',
  WSG_ERR_GATEWAY_INVALID_COMMAND: 'A command helper (accept, deny, reply, emit, send, close) got an argument it cannot use',
  WSG_ERR_GATEWAY_MISPLACED_COMMAND: 'accept()/deny() returned outside @OnAccept, or a message command returned from @OnAccept',
  WSG_ERR_GATEWAY_ACCEPT_RESULT: '@OnAccept returned something other than accept(), deny(), a boolean or nothing (answered 500)',
  WSG_ERR_GATEWAY_RESULT: '@OnInit or @OnClose returned a plain value, which has no event to reply with',
  WSG_ERR_GATEWAY_NOT_FOUND: 'No gateway is mounted at the upgrade request\'s path (answered 404)',
  WSG_ERR_GATEWAY_ORIGIN: 'The upgrade request\'s Origin is neither the host it was sent to nor in allowedOrigins (answered 403)',
  WSG_ERR_GATEWAY_UNKNOWN_EVENT: 'A message named an event that no @OnMessage handles, and the gateway has no catch-all',
  WSG_ERR_GATEWAY_UNKNOWN_INFO: 'An info was delivered with a type that no @OnInfo handles, and the gateway has no catch-all (logged)',
  WSG_ERR_GATEWAY_UNDECODABLE: 'The gateway\'s codec could not decode a message',
  WSG_ERR_GATEWAY_MAILBOX_FULL: 'More than maxMailbox info deliveries waited for one connection; it is closed 1013',
  WSG_ERR_GATEWAY_HANDLER: 'A handler threw or rejected with something other than WsException or HttpException',
  WSG_ERR_GATEWAY_NOT_OPEN: 'send/emit/close/join was called on a connection that is not open',
  WSG_ERR_DECORATOR_PUSH_PATHS: '@PushResources got something other than a non-empty array of origin-form paths (\'/…\') or { path, as } links',
  WSG_ERR_GATEWAY_PUSH_NOT_H2: 'promise() on a request or connection that did not come over HTTP/2; push() and the push command answer \'refused\' there instead',
  WSG_ERR_GATEWAY_PUSH_FAILED: 'A push command or @PushResources could not push (headers HTTP/2 cannot carry, the loader threw); logged, the handler still runs',
  WSG_ERR_GATEWAY_NEST_VERSION: 'The installed @nestjs/core lacks an internal wsgate relies on (ModuleRef container); versions do not match',
} as const;
export type GatewayErrorCode = keyof typeof GatewayErrorCode;

/** An error raised by the gateway layer; `code` is one of `GatewayErrorCode`. */
export class GatewayError extends WsgError {
  constructor(code: GatewayErrorCode, message: string, closeCode?: CloseCode, options?: ErrorOptions) {
    super(code, message, closeCode, options);
  }
}

/** A decorator was given arguments it cannot use; thrown when the class is defined. */
export class DecoratorError extends GatewayError {}
