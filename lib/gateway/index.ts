// The gateway layer's public surface; lib/index.ts re-exports it.
export { WsGateway } from './decorators/ws-gateway.decorator.js';
export { OnAccept, OnInit, OnMessage, OnInfo, OnClose, type HandlerKind, type HandlerMetadata } from './decorators/handler.decorators.js';
export {
  Conn,
  Payload,
  Req,
  Param,
  Query,
  Headers,
  State,
  Info,
  Reason,
  InjectConnection,
  type WsPipe,
  type WsParamRecord,
} from './decorators/param.decorators.js';
export {
  accept,
  deny,
  reply,
  emit,
  send,
  close,
  push,
  isCommand,
  type WsCommand,
  type WsAcceptCommand,
  type WsMessageCommand,
  type AcceptCommand,
  type DenyCommand,
  type ReplyCommand,
  type EmitCommand,
  type SendCommand,
  type CloseCommand,
  type PushCommand,
} from './commands.js';
export { Push, PushResources } from './decorators/push.decorators.js';
export { WsGatePush, RequestPusher, type PushResourceOutcome } from './ws-gate-push.js';
export { PushInterceptor } from './push-interceptor.js';
export { fileLoader } from './push-file-loader.js';
export { WsConnection, ReadyState, type WsConnectionState } from './ws-connection.js';
export type { WsCloseReason, WsCloseCause } from './close-reason.js';
export type { WsUpgradeRequest } from './upgrade-request.js';
export type { WsPathParams, PathMatcher } from './path-matcher.js';
export { jsonCodec, textCodec, binaryCodec, type WsCodec, type WsCustomCodec, type WsCodecOption, type WsDecoded } from './codec.js';
export {
  type WsGatewayOptions,
  type ResolvedGatewayOptions,
  type WsGatewayScope,
  type WsBadMessagePolicy,
  type WsHandlerErrorPolicy,
} from './gateway-options.js';
export { GatewayLimits } from './gateway-limits.js';
export type { GatewayPlan, HandlerPlan, EnhancerSummary } from './gateway-plan.js';
export { WsGatewayRegistry, type WsRouteInfo } from './gateway-registry.js';
export { WsGateModule, type WsGateModuleAsyncOptions } from './ws-gate.module.js';
export type { WsGateModuleOptions, ResolvedWsGateModuleOptions, WsGateHttp2Options, WsGatePushOptions } from './module-options.js';
export { WSGATE_MODULE_OPTIONS } from './module-tokens.js';
export { LifecyclePattern } from './handler-patterns.js';
export { WsParamType } from './param-type.js';
export type { WsExceptionPayload } from './exception-payload.js';
export { GatewayErrorCode, GatewayError, DecoratorError } from './errors.js';
export { WsGateAdapter } from './adapter/ws-gate-adapter.js';
export { WsGateServer } from './adapter/ws-gate-server.js';
export { WsGateClient } from './adapter/ws-gate-client.js';
export { jsonMessageParser, type WsGateMessageParser, type WsParsedMessage } from './adapter/message-parser.js';
export type {
  WsGateAdapterOptions,
  WsGateServerOptions,
  WsAdapterMessagePolicy,
  WsDisconnectReasonMode,
  WsShutdownMode,
  WsVerifyClient,
  WsVerifyClientInfo,
  WsHandleProtocols,
  WsAdapterDeflateOptions,
} from './adapter/adapter-options.js';
