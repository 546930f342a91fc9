import type { IncomingHttpHeaders } from 'node:http';
import type { WebSocketRoad } from '../frames/accept-pipeline.js';
import type { WsPathParams } from './path-matcher.js';
import type { GatewayRoad } from './upgrade-router.js';

/**
 * What a gateway keeps of the HTTP upgrade request: a frozen snapshot, so the
 * `IncomingMessage` or HTTP/2 stream (and its socket) is not retained for the connection's life.
 */
export interface WsUpgradeRequest {
  /** Path and query as sent (`:path` on HTTP/2). */
  readonly url: string;
  readonly path: string;
  /** Values of the gateway path's `:name` segments. */
  readonly params: WsPathParams;
  /** Query string; the first value wins when a name repeats. */
  readonly query: Readonly<Record<string, string>>;
  /** Request headers; on HTTP/2 the pseudo-headers (`:method`, `:protocol`, `:authority`…) too. */
  readonly headers: Readonly<IncomingHttpHeaders>;
  readonly origin: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Subprotocols the client offered (Sec-WebSocket-Protocol), in its order. */
  readonly protocols: readonly string[];
  /** `'http/1.1'`: a GET + 101 upgrade; `'h2'`: an RFC 8441 extended CONNECT on an HTTP/2 stream. */
  readonly road: WebSocketRoad;
}

/** The parts of either handshake request a snapshot is made of. */
export interface UpgradeRequestSource {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly road: WebSocketRoad;
}

/** The request of either road as a snapshot source. */
export function upgradeRequestSource(road: GatewayRoad): UpgradeRequestSource {
  if (road.road === 'http/1.1') {
    const { req } = road;
    return { url: req.url ?? '/', headers: req.headers, remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, road: road.road };
  }
  const { request } = road;
  const socket = request.stream.session?.socket;
  return { url: request.path, headers: request.headers, remoteAddress: socket?.remoteAddress, remotePort: socket?.remotePort, road: road.road };
}

/** Shared by every connection that has none: idle connections should cost nothing for them. */
const NO_QUERY: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_PROTOCOLS: readonly string[] = Object.freeze([]);

export function snapshotUpgradeRequest(
  source: UpgradeRequestSource,
  url: URL,
  params: WsPathParams,
  protocols: readonly string[],
): WsUpgradeRequest {
  let query: Record<string, string> = NO_QUERY;
  for (const [name, value] of url.searchParams) {
    if (query === NO_QUERY) query = {};
    if (!Object.hasOwn(query, name)) query[name] = value;
  }
  const origin = source.headers.origin;
  return Object.freeze({
    url: source.url,
    path: url.pathname,
    params,
    query: query === NO_QUERY ? NO_QUERY : Object.freeze(query),
    // Node's headers object stands alone (it does not retain the request); a copy per
    // connection cost ~0.5 KB of idle memory for nothing.
    headers: source.headers,
    origin: typeof origin === 'string' ? origin : undefined,
    remoteAddress: source.remoteAddress,
    remotePort: source.remotePort,
    protocols: protocols.length === 0 ? NO_PROTOCOLS : Object.freeze([...protocols]),
    road: source.road,
  });
}
