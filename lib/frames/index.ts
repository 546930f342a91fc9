// The frame engine's surface, re-exported by lib/index.ts.
export { CloseCode, MAX_CLOSE_REASON_BYTES, isValidWireCloseCode } from './close-codes.js';
export { Opcode } from './opcodes.js';
export {
  FrameErrorCode,
  WsgError,
  ProtocolError,
  InvalidUtf8Error,
  CapacityError,
  SendQueueFullError,
  AlreadyClosedError,
  ConnectionClosedError,
  IoError,
  TimeoutError,
  InvalidArgumentError,
  InvalidOptionError,
  HandshakeError,
  type WsgErrorCode,
} from './errors.js';
export { Limits } from './limits.js';
export type { SendQueueTotals } from './send-queue-counters.js';
export {
  resolveConnectionOptions,
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  type SendQueuePolicy,
  type Role,
} from './connection-options.js';
export { encodeFrame, type EncodeFrameOptions } from './frame-encoder.js';
export { PreparedMessage, encodeOnce } from './prepared-message.js';
export {
  WebSocketConnection,
  type ConnectionState,
  type SendResult,
  type SendOptions,
  type CloseInfo,
  type ReceivedMessage,
  type ConnectionInit,
} from './websocket-connection.js';
export {
  validateUpgradeRequest,
  validateOrRefuseUpgrade,
  completeUpgrade,
  rejectUpgrade,
  negotiateDeflate,
  computeAcceptKey,
  guardUpgradeSocket,
  type UpgradeOffer,
  type AcceptUpgrade,
  type NegotiatedDeflate,
} from './handshake.js';
export { parseProtocolHeader } from './protocol-header.js';
export { DENY_STATUS, type HandshakeAccept, type HandshakeDeny, type HandshakeDecision } from './handshake-decision.js';
export { parseExtensionHeader, formatExtensionHeader, type ExtensionParams } from './extension-header.js';
export {
  DeflateConfig,
  resolveDeflateConfig,
  deflateOffer,
  acceptDeflateOffer,
  checkDeflateResponse,
  PERMESSAGE_DEFLATE,
  type PerMessageDeflateOptions,
  type PerMessageDeflateOption,
  type DeflateAgreement,
  type DeflateAcceptance,
} from './deflate-negotiation.js';
export { DeflateCodec } from './deflate-codec.js';
export { WsServer, type WsServerOptions } from './websocket-server.js';
