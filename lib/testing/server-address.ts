import type { AddressInfo } from 'node:net';
import { TestClientError } from './errors.js';

/** Anything with a Node-style `address()`: an `http.Server`, a `net.Server`, a `WsServer`. */
export interface AddressSource {
  address(): AddressInfo | string | null;
}

/** A Nest `INestApplication` (or anything else) that exposes its HTTP server. */
export interface HttpServerHolder {
  getHttpServer(): unknown;
}

/**
 * Where a test client connects: a listening Nest app, a listening server, a port on
 * 127.0.0.1, or a full `ws://` / `wss://` / `http://` URL (its path is replaced by `path` unless `path` is omitted).
 */
export type TestTarget = HttpServerHolder | AddressSource | number | string;

/** Query values are repeated for arrays: `{ tag: ['a', 'b'] }` → `?tag=a&tag=b`. */
export type TestQuery = Record<string, string | number | boolean | readonly (string | number | boolean)[]>;

function isAddressSource(value: unknown): value is AddressSource {
  return typeof value === 'object' && value !== null && typeof (value as AddressSource).address === 'function';
}

function isServerHolder(value: unknown): value is HttpServerHolder {
  return typeof value === 'object' && value !== null && typeof (value as HttpServerHolder).getHttpServer === 'function';
}

function baseUrl(target: TestTarget): URL {
  if (typeof target === 'string') {
    const url = new URL(target);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    return url;
  }
  if (typeof target === 'number') {
    if (!Number.isInteger(target) || target <= 0 || target > 65535) {
      throw new TestClientError('WSG_ERR_TESTING_INVALID_ARGUMENT', `Port must be an integer in 1..65535, got ${target}`);
    }
    return new URL(`ws://127.0.0.1:${target}/`);
  }
  const server = isServerHolder(target) ? target.getHttpServer() : target;
  if (!isAddressSource(server)) {
    throw new TestClientError(
      'WSG_ERR_TESTING_INVALID_ARGUMENT',
      'Expected a Nest app, a server with address(), a port or a URL',
    );
  }
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new TestClientError(
      'WSG_ERR_TESTING_NOT_LISTENING',
      address === null
        ? 'The server is not listening: await app.listen(0) (or server.listen(0)) before connecting'
        : `The server listens on a pipe (${address}); pass a port or URL instead`,
    );
  }
  // A server bound to every interface is reached on loopback; IPv4 loopback works for a
  // dual-stack '::' too, and avoids resolving 'localhost'.
  let host = address.address;
  if (host === '::' || host === '0.0.0.0' || host === '') host = '127.0.0.1';
  else if (address.family === 'IPv6' || host.includes(':')) host = `[${host}]`;
  return new URL(`ws://${host}:${address.port}/`);
}

/** The ws:// URL for `path` (with `query`) on `target`. */
export function resolveWebSocketUrl(target: TestTarget, path?: string, query?: TestQuery): string {
  const url = baseUrl(target);
  if (path !== undefined) {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new TestClientError('WSG_ERR_TESTING_INVALID_ARGUMENT', `A path must start with '/', got ${JSON.stringify(path)}`);
    }
    const withQuery = new URL(path, url);
    url.pathname = withQuery.pathname;
    url.search = withQuery.search;
  }
  if (query !== undefined) {
    for (const [name, value] of Object.entries(query)) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) url.searchParams.append(name, String(v));
    }
  }
  return url.toString();
}
