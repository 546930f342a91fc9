// The HTTP/2 layer's surface, for lib/index.ts to re-export.
export { Http2ErrorCode, Http2Error, Http2HandshakeError, H2ClientErrorCode, H2HandshakeError, fromNodeHttp2Error } from './errors.js';
export { WEBSOCKET_PROTOCOL } from './rfc8441.js';
export { RstCode, MAX_RST_CODE, rstCodeName, isValidRstCode } from './rst-codes.js';
export {
  ExtendedConnectIntake,
  attachExtendedConnect,
  validateExtendedConnect,
  type ExtendedConnectAccept,
  type ExtendedConnectAcceptHook,
  type ExtendedConnectDecision,
  type ExtendedConnectDeny,
  type ExtendedConnectOffer,
  type ExtendedConnectOptions,
  type ExtendedConnectRequest,
  type Http2AnyServer,
} from './extended-connect.js';
export {
  Http2WsServer,
  type Http2WsConnectionInfo,
  type Http2WsRequestHandler,
  type Http2WsServerOptions,
  type WebSocketRoad,
} from './http2-ws-server.js';
export {
  PushService,
  PushServiceDefaults,
  type PushLink,
  type PushLoader,
  type PushOutcome,
  type PushParent,
  type PushRefusal,
  type PushRequestHeaders,
  type PushResource,
  type PushServiceOptions,
} from './push-service.js';
export { PushedResponse, type PushClosed, type PushedResponseState } from './pushed-response.js';
export { PushSendStream } from './push-send-stream.js';
export { createSelfSignedCertificate, type SelfSignedCertificate, type SelfSignedCertificateOptions } from './self-signed-certificate.js';
export { WsClient, type WsClientOptions } from './ws-client.js';
