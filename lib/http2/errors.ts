import { HandshakeError, WsgError } from '../frames/errors.js';

/** Every error code the HTTP/2 layer raises, with the one-line meaning users search for. */
export const Http2ErrorCode = {
  WSG_ERR_H2_CONNECT_METHOD: 'A CONNECT without :protocol (a tunnel request) reached the WebSocket intake; answered 405',
  WSG_ERR_H2_CONNECT_PROTOCOL: 'An extended CONNECT asked for a :protocol other than websocket (RFC 8441 §4); answered 400',
  WSG_ERR_H2_CONNECT_VERSION: 'sec-websocket-version was not 13; answered 400 with sec-websocket-version: 13',
  WSG_ERR_H2_CONNECT_PATH: ':path was not origin-form (answered 400) or not served by this intake (answered 404)',
  WSG_ERR_H2_SHUTTING_DOWN: 'An extended CONNECT arrived while the intake was closing; answered 503',
  WSG_ERR_H2_ACCEPT_FAILED: 'The accept hook threw, returned no decision, denied with a status outside 300–599, or chose a subprotocol the client did not offer; answered 500',
  WSG_ERR_H2_RESPOND_FAILED: 'Node could not send the answer to an extended CONNECT (stream gone, headers already sent); a refusal becomes RST_STREAM INTERNAL_ERROR; cause holds ERR_HTTP2_*',
  WSG_ERR_H2_PUSH_DISABLED: 'promise() was called while the client disables push (SETTINGS_ENABLE_PUSH = 0)',
  WSG_ERR_H2_PUSH_NESTED: 'promise() was called on a pushed stream; pushes cannot be nested (RFC 9113 §8.4)',
  WSG_ERR_H2_PUSH_REFUSED: 'No push could be promised: parent finished, session closing, concurrent stream limit reached or stream ids exhausted',
  WSG_ERR_H2_PUSH_RESET: 'sendResponse() or a write on a pushed stream that was reset, by us or by the client',
  WSG_ERR_H2_PUSH_RESPONDED: 'sendResponse() was called a second time on one pushed response',
  WSG_ERR_H2_STREAM_ENDED: 'write(), end() or sendTrailers() on a send stream that has already ended',
  WSG_ERR_H2_INVALID_HEADERS: 'Headers or trailers that HTTP/2 cannot carry (bad name or value, connection header, misplaced pseudo-header)',
  WSG_ERR_H2_INVALID_ARGUMENT: 'An API call got an argument it cannot use (RST code out of range, empty path)',
  WSG_ERR_H2_INVALID_OPTION: 'An HTTP/2 option is out of range, of the wrong type, or conflicts with another',
  WSG_ERR_H2_STREAM: 'An HTTP/2 stream failed; cause holds Node\'s ERR_HTTP2_STREAM_ERROR',
  WSG_ERR_H2_CERTIFICATE: 'A self-signed certificate could not be made (openssl missing or failed)',
} as const;
export type Http2ErrorCode = keyof typeof Http2ErrorCode;

/** An error raised by the HTTP/2 layer; `code` is one of `Http2ErrorCode`, `cause` Node's own error when it wraps one. */
export class Http2Error extends WsgError {
  constructor(code: Http2ErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, undefined, options);
  }
}

/**
 * An extended CONNECT that was refused: `status` and `headers` are the HTTP/2 response sent.
 * Also a `HandshakeError`, so one `instanceof` covers both roads.
 */
export class Http2HandshakeError extends HandshakeError {
  constructor(code: Http2ErrorCode, message: string, status: number, headers: Readonly<Record<string, string>> = {}, options?: ErrorOptions) {
    super(code, message, status, headers, options);
  }
}

/** Error codes of the client's HTTP/2 road (RFC 8441), beside the handshake codes both roads share. */
export const H2ClientErrorCode = {
  WSG_ERR_HANDSHAKE_H2_NO_CONNECT_PROTOCOL: "The server's SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3); no CONNECT was sent",
  WSG_ERR_HANDSHAKE_H2_STATUS: 'The server answered the extended CONNECT with a status other than 200',
  WSG_ERR_HANDSHAKE_H2_RESET: 'The server reset the CONNECT stream before answering; rstCode holds its HTTP/2 error code',
  WSG_ERR_HANDSHAKE_H2_SESSION: 'The HTTP/2 session closed (GOAWAY, or ended) before the server answered the CONNECT',
} as const;
export type H2ClientErrorCode = keyof typeof H2ClientErrorCode;

/**
 * The client's HTTP/2 opening handshake failed. A `HandshakeError`, so one `instanceof` covers
 * both roads; `status` is the `:status` received (0 when none), `rstCode` the RST_STREAM code.
 */
export class H2HandshakeError extends HandshakeError {
  constructor(
    code: H2ClientErrorCode,
    message: string,
    status: number,
    readonly rstCode: number | null = null,
    options?: ErrorOptions,
  ) {
    super(code, message, status, {}, options);
  }
}

/** Node's ERR_HTTP2_* codes that mean the same thing wherever they are raised. */
const NODE_ERROR_MAP: Readonly<Record<string, Http2ErrorCode>> = {
  ERR_HTTP2_PUSH_DISABLED: 'WSG_ERR_H2_PUSH_DISABLED',
  ERR_HTTP2_NESTED_PUSH: 'WSG_ERR_H2_PUSH_NESTED',
  ERR_HTTP2_OUT_OF_STREAMS: 'WSG_ERR_H2_PUSH_REFUSED',
  ERR_HTTP2_INVALID_HEADER_VALUE: 'WSG_ERR_H2_INVALID_HEADERS',
  ERR_HTTP2_INVALID_PSEUDOHEADER: 'WSG_ERR_H2_INVALID_HEADERS',
  ERR_HTTP2_INVALID_CONNECTION_HEADERS: 'WSG_ERR_H2_INVALID_HEADERS',
  ERR_HTTP2_HEADER_SINGLE_VALUE: 'WSG_ERR_H2_INVALID_HEADERS',
  ERR_HTTP2_STATUS_INVALID: 'WSG_ERR_H2_INVALID_HEADERS',
  ERR_HTTP2_STATUS_101: 'WSG_ERR_H2_INVALID_HEADERS',
  ERR_HTTP2_INVALID_INFO_STATUS: 'WSG_ERR_H2_INVALID_HEADERS',
  ERR_HTTP2_TRAILERS_ALREADY_SENT: 'WSG_ERR_H2_STREAM_ENDED',
  ERR_HTTP2_TRAILERS_NOT_READY: 'WSG_ERR_H2_STREAM_ENDED',
  ERR_INVALID_HTTP_TOKEN: 'WSG_ERR_H2_INVALID_HEADERS',
  ERR_INVALID_CHAR: 'WSG_ERR_H2_INVALID_HEADERS',
  ERR_HTTP2_STREAM_ERROR: 'WSG_ERR_H2_STREAM',
  ERR_HTTP2_STREAM_CANCEL: 'WSG_ERR_H2_STREAM',
};

/**
 * Wraps an error thrown or emitted by node:http2 as an `Http2Error` with `cause`. Codes with
 * one meaning everywhere map through a table; the rest take `fallback`, which names what the
 * caller was doing.
 */
export function fromNodeHttp2Error(error: unknown, fallback: Http2ErrorCode, message: string): Http2Error {
  if (error instanceof Http2Error) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new Http2Error(http2ErrorCodeFor(error, fallback), `${message}: ${detail}`, { cause: error });
}

/** Our code for one of Node's errors: from the table, else `fallback`. */
export function http2ErrorCodeFor(error: unknown, fallback: Http2ErrorCode): Http2ErrorCode {
  const nodeCode = (error as { code?: unknown } | null)?.code;
  return typeof nodeCode === 'string' ? (NODE_ERROR_MAP[nodeCode] ?? fallback) : fallback;
}
