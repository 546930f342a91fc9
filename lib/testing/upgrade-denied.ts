import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as requestTls } from 'node:https';
import { TestClientError } from './errors.js';
import { resolveWebSocketUrl } from './server-address.js';
import type { TestQuery, TestTarget } from './server-address.js';

/** Options of `expectUpgradeDenied()`. */
export interface UpgradeDeniedOptions {
  /** Extra upgrade request headers. */
  headers?: Record<string, string>;
  /** Subprotocols to offer. */
  protocols?: string[];
  /** Query parameters appended to the URL. */
  query?: TestQuery;
  /** ms to wait for the response. @defaultValue 2000 */
  timeout?: number;
}

/** The HTTP response that refused an upgrade. */
export interface DeniedUpgrade {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Attempts a WebSocket upgrade to `path` and resolves with the HTTP response when the server
 * refuses it with `status`. Rejects with `WSG_ERR_TESTING_UPGRADE_ACCEPTED` if the server
 * answers 101 (that socket is destroyed at once), `WSG_ERR_TESTING_UPGRADE_STATUS` for
 * another status, `WSG_ERR_TESTING_UPGRADE_FAILED` when no response comes.
 *
 * @example
 * await expectUpgradeDenied(app, '/chat', 401);
 */
export function expectUpgradeDenied(
  target: TestTarget,
  path: string,
  status: number,
  options: UpgradeDeniedOptions = {},
): Promise<DeniedUpgrade> {
  let url: URL;
  try {
    url = new URL(resolveWebSocketUrl(target, path, options.query));
  } catch (error) {
    return Promise.reject(error);
  }
  const timeout = options.timeout ?? 2_000;
  const headers: Record<string, string> = {
    ...options.headers,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
  };
  if (options.protocols !== undefined && options.protocols.length > 0) {
    headers['Sec-WebSocket-Protocol'] = options.protocols.join(', ');
  }
  const secure = url.protocol === 'wss:';
  const req = (secure ? requestTls : request)({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (secure ? 443 : 80),
    path: url.pathname + url.search,
    method: 'GET',
    headers,
    agent: false,
  });
  return new Promise<DeniedUpgrade>((resolve, reject) => {
    let settled = false;
    const fail = (error: TestClientError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(error);
    };
    const timer = setTimeout(() => {
      fail(new TestClientError('WSG_ERR_TESTING_UPGRADE_FAILED', `No response to the upgrade of ${url.href} within ${timeout} ms`));
    }, timeout);
    timer.unref();
    req.on('error', (error) => {
      fail(new TestClientError('WSG_ERR_TESTING_UPGRADE_FAILED', `Upgrade request to ${url.href} failed: ${error.message}`, null, [], { cause: error }));
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      fail(new TestClientError('WSG_ERR_TESTING_UPGRADE_ACCEPTED', `Expected the upgrade of ${url.href} to be refused with ${status}; the server accepted it (101)`));
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => {
        fail(new TestClientError('WSG_ERR_TESTING_UPGRADE_FAILED', `Reading the refusal from ${url.href} failed: ${error.message}`, null, [], { cause: error }));
      });
      res.on('end', () => {
        if (settled) return;
        const body = Buffer.concat(chunks).toString('utf8');
        const got = res.statusCode ?? 0;
        if (got !== status) {
          fail(new TestClientError('WSG_ERR_TESTING_UPGRADE_STATUS', `Expected the upgrade of ${url.href} to be refused with ${status}, got ${got}: ${body.slice(0, 200)}`));
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve({ status: got, headers: res.headers, body });
      });
    });
    req.end();
  });
}
