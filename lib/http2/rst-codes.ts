/**
 * HTTP/2 error codes (RFC 9113 §7), as sent in RST_STREAM and GOAWAY. Same values as
 * node:http2 `constants.NGHTTP2_*`; the names follow nghttp2 (NGHTTP2_REFUSED_STREAM →
 * RefusedStream).
 */
export const RstCode = {
  /** NGHTTP2_NO_ERROR */
  NoError: 0x0,
  /** NGHTTP2_PROTOCOL_ERROR */
  ProtocolError: 0x1,
  /** NGHTTP2_INTERNAL_ERROR */
  InternalError: 0x2,
  /** NGHTTP2_FLOW_CONTROL_ERROR */
  FlowControlError: 0x3,
  /** NGHTTP2_SETTINGS_TIMEOUT */
  SettingsTimeout: 0x4,
  /** NGHTTP2_STREAM_CLOSED */
  StreamClosed: 0x5,
  /** NGHTTP2_FRAME_SIZE_ERROR */
  FrameSizeError: 0x6,
  /** NGHTTP2_REFUSED_STREAM */
  RefusedStream: 0x7,
  /** NGHTTP2_CANCEL: what a client sends for a pushed resource it already has. */
  Cancel: 0x8,
  /** NGHTTP2_COMPRESSION_ERROR */
  CompressionError: 0x9,
  /** NGHTTP2_CONNECT_ERROR */
  ConnectError: 0xa,
  /** NGHTTP2_ENHANCE_YOUR_CALM */
  EnhanceYourCalm: 0xb,
  /** NGHTTP2_INADEQUATE_SECURITY */
  InadequateSecurity: 0xc,
  /** NGHTTP2_HTTP_1_1_REQUIRED */
  Http11Required: 0xd,
} as const;
export type RstCode = (typeof RstCode)[keyof typeof RstCode];

/** The largest value an RST_STREAM error code field can hold (32 bits). */
export const MAX_RST_CODE = 0xffff_ffff;

const names = new Map<number, string>(Object.entries(RstCode).map(([name, code]) => [code, name]));

/** `Cancel` for 8; unknown codes (legal on the wire, RFC 9113 §7) print as hex. */
export function rstCodeName(code: number): string {
  return names.get(code) ?? `0x${code.toString(16)}`;
}

/** Whether `code` fits the 32-bit error code field. */
export function isValidRstCode(code: number): boolean {
  return Number.isInteger(code) && code >= 0 && code <= MAX_RST_CODE;
}
