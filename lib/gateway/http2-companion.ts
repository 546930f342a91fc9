import type { Server } from 'node:http';

/**
 * The HTTP/2 port `WsGateModule.forRoot({ http2 })` runs beside an application's HTTP server:
 * `WsGateAdapter` mounts its gateways there too, so `@WebSocketGateway` code on an Express
 * app is served over RFC 8441 like native gateways. Keyed by the application's HTTP adapter:
 * Nest makes providers before the HTTP server exists, but after the adapter.
 */
const companions = new WeakMap<object, Server>();

export function setHttp2Companion(httpAdapter: object, http2Server: Server): void {
  companions.set(httpAdapter, http2Server);
}

export function deleteHttp2Companion(httpAdapter: object, http2Server: Server): void {
  if (companions.get(httpAdapter) === http2Server) companions.delete(httpAdapter);
}

export function http2CompanionOf(httpAdapter: object): Server | undefined {
  return companions.get(httpAdapter);
}
