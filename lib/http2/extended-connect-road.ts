import { STATUS_CODES } from 'node:http';
import { constants as h2, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { EngineSettings, HandshakeRoad } from '../frames/accept-pipeline.js';
import type { HandshakeAccept, HandshakeDeny } from '../frames/handshake-decision.js';
import type { OriginRequest } from '../frames/origin-check.js';
import { negotiateDeflate, serverDeflateCodec } from '../frames/handshake.js';
import { WebSocketConnection } from '../frames/websocket-connection.js';
import { Http2HandshakeError, http2ErrorCodeFor } from './errors.js';
import type { ExtendedConnectRequest } from './extended-connect.js';
import { webSocketStreamAbort } from './rfc8441.js';

const PLAIN_TEXT = 'text/plain; charset=utf-8';

/**
 * A reset before the engine took over. Node emits 'error' while it destroys the stream, and
 * the road then reads as gone; without a listener the emit would crash the process.
 */
function guardError(this: ServerHttp2Stream): void {
  this.destroy();
}

/** Until an engine takes the stream (or it is refused), a reset must not crash the process. */
export function guardConnectStream(stream: ServerHttp2Stream): void {
  stream.on('error', guardError);
}

/**
 * The RFC 8441 road's one refusal writer: a real HTTP/2 response with a plain-text body (never
 * a 200). Returns what went wrong writing it: headers HTTP/2 cannot send reset the stream
 * instead. A stream whose headers are already out (an accept hook that answered it itself)
 * is reset with INTERNAL_ERROR: without an engine nobody would ever end it.
 */
export function refuseConnectStream(stream: ServerHttp2Stream, deny: HandshakeDeny): unknown {
  if (stream.destroyed || stream.closed) return undefined;
  if (stream.headersSent) {
    stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    return undefined;
  }
  try {
    stream.respond({ ...deny.headers, [h2.HTTP2_HEADER_STATUS]: deny.status, [h2.HTTP2_HEADER_CONTENT_TYPE]: PLAIN_TEXT });
    stream.end(deny.body ?? `Denied with ${deny.status}`);
    return undefined;
  } catch (respondError) {
    const code = http2ErrorCodeFor(respondError, 'WSG_ERR_H2_RESPOND_FAILED');
    const why = deny.error instanceof Error ? deny.error.message : (deny.body ?? STATUS_CODES[deny.status] ?? '');
    const message = `Could not send the ${deny.status} refusal (${why}): ${(respondError as Error).message}`;
    stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    return new Http2HandshakeError(code, message, deny.status, {}, { cause: respondError });
  }
}

/**
 * The RFC 8441 road: one extended CONNECT, valid per RFC 8441 and RFC 6455, on its stream.
 * Its answers are `:status 200` with the engine over the stream, or `refuseConnectStream`.
 */
export class ExtendedConnectRoad implements HandshakeRoad {
  readonly road = 'h2' as const;
  /** A stream arrives with its whole request head (one HEADERS frame): the deadline bounds the decision. */
  readonly acceptedAt = performance.now();

  constructor(readonly request: ExtendedConnectRequest) {}

  get remoteAddress(): string {
    return this.request.stream.session?.socket?.remoteAddress ?? '';
  }

  get protocols(): readonly string[] {
    return this.request.protocols;
  }

  /** What the origin screen reads: `:authority` (or Host, RFC 9113 §8.3.1) and whether the session is TLS. */
  originRequest(): OriginRequest {
    const { request } = this;
    const host = request.headers.host;
    const authority = request.authority !== '' ? request.authority : typeof host === 'string' ? host : undefined;
    return { origin: request.headers.origin, authority, secure: request.stream.session?.encrypted === true };
  }

  gone(): boolean {
    const { stream } = this.request;
    return stream.destroyed || stream.closed;
  }

  open(accept: HandshakeAccept, settings: EngineSettings): WebSocketConnection {
    const { request } = this;
    const stream = request.stream;
    const protocol = accept.protocol ?? '';
    const deflate = negotiateDeflate({ key: '', protocols: [...request.protocols], extensions: new Map(request.extensions) }, settings.deflate);
    const responseHeaders: OutgoingHttpHeaders = { ...accept.headers, [h2.HTTP2_HEADER_STATUS]: h2.HTTP_STATUS_OK };
    if (protocol !== '') responseHeaders['sec-websocket-protocol'] = protocol;
    if (deflate !== null) responseHeaders['sec-websocket-extensions'] = deflate.header;
    try {
      stream.respond(responseHeaders);
    } catch (error) {
      const code = http2ErrorCodeFor(error, 'WSG_ERR_H2_RESPOND_FAILED');
      throw new Http2HandshakeError(code, `Could not answer the extended CONNECT: ${(error as Error).message}`, h2.HTTP_STATUS_INTERNAL_SERVER_ERROR, {}, { cause: error });
    }
    const engine = WebSocketConnection.fromPartiallyRead(stream, null, {
      role: 'server',
      abort: webSocketStreamAbort(stream),
      resolvedOptions: settings.options,
      protocol,
      extensions: deflate?.header ?? '',
      deflate: serverDeflateCodec(deflate, settings.options.maxMessageSize),
    });
    stream.off('error', guardError);
    return engine;
  }

  refuse(deny: HandshakeDeny): unknown {
    return refuseConnectStream(this.request.stream, deny);
  }
}
