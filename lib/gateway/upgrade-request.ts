import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { WsPathParams } from './path-matcher.js';

/**
 * What a gateway keeps of the HTTP upgrade request: a frozen snapshot, so the
 * `IncomingMessage` (and its socket) is not retained for the connection's life.
 */
export interface WsUpgradeRequest {
  /** Path and query as sent. */
  readonly url: string;
  readonly path: string;
  /** Values of the gateway path's `:name` segments. */
  readonly params: WsPathParams;
  /** Query string; the first value wins when a name repeats. */
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<IncomingHttpHeaders>;
  readonly origin: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Subprotocols the client offered (Sec-WebSocket-Protocol), in its order. */
  readonly protocols: readonly string[];
}

export function snapshotUpgradeRequest(
  req: IncomingMessage,
  url: URL,
  params: WsPathParams,
  protocols: readonly string[],
): WsUpgradeRequest {
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) if (!Object.hasOwn(query, name)) query[name] = value;
  const origin = req.headers.origin;
  return Object.freeze({
    url: req.url ?? '/',
    path: url.pathname,
    params,
    query: Object.freeze(query),
    headers: Object.freeze({ ...req.headers }),
    origin: typeof origin === 'string' ? origin : undefined,
    remoteAddress: req.socket.remoteAddress,
    remotePort: req.socket.remotePort,
    protocols: Object.freeze([...protocols]),
  });
}
