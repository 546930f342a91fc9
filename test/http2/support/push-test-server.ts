import { once } from 'node:events';
import {
  connect as http2Connect,
  createSecureServer,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2SecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
  type Settings,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { TLS_CERT, TLS_KEY } from './tls-fixture.js';

export type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void | Promise<void>;

export interface PushTestServer {
  server: Http2SecureServer;
  port: number;
  origin: string;
  /** Routes by :path; errors thrown by a handler are kept for the test to assert on. */
  route(path: string, handler: StreamHandler): void;
  errors: unknown[];
  close(): Promise<void>;
}

/** An HTTP/2 TLS server whose streams go to handlers registered per path. */
export async function startPushServer(): Promise<PushTestServer> {
  const server = createSecureServer({ key: TLS_KEY, cert: TLS_CERT, settings: { enableConnectProtocol: true } });
  const routes = new Map<string, StreamHandler>();
  const errors: unknown[] = [];
  const sessions = new Set<Http2Session>();
  server.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', (error) => errors.push(error));
    const handler = routes.get(String(headers[':path']));
    if (handler === undefined) {
      stream.respond({ ':status': 404 });
      stream.end();
      return;
    }
    Promise.resolve()
      .then(() => handler(stream, headers))
      .catch((error: unknown) => {
        errors.push(error);
        if (!stream.destroyed) stream.destroy();
      });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    origin: `https://127.0.0.1:${port}`,
    route: (path, handler) => routes.set(path, handler),
    errors,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      await closed;
    },
  };
}

/** What a Node client saw of one pushed stream. */
export interface SeenPush {
  requestHeaders: IncomingHttpHeaders;
  stream: ClientHttp2Stream;
  response: Promise<IncomingHttpHeaders>;
  body: Promise<string>;
  trailers: Promise<IncomingHttpHeaders | null>;
  /** RST code once the pushed stream is closed. */
  closed: Promise<number>;
}

export interface SeenExchange {
  informational: IncomingHttpHeaders[];
  response: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | null;
  pushes: SeenPush[];
}

export async function clientSession(port: number, settings: Settings = {}): Promise<ClientHttp2Session> {
  const session = http2Connect(`https://127.0.0.1:${port}`, { ca: TLS_CERT, settings });
  await once(session, 'remoteSettings');
  return session;
}

/**
 * GETs `path` and records the 1xx headers, the response, body and trailers, and every push the
 * server promised on it. `onPush` runs as soon as a PUSH_PROMISE arrives (e.g. to cancel it).
 */
export async function fetchWithPushes(session: ClientHttp2Session, path: string, onPush?: (push: SeenPush) => void): Promise<SeenExchange> {
  const pushes: SeenPush[] = [];
  const onStream = (stream: ClientHttp2Stream, requestHeaders: IncomingHttpHeaders): void => {
    stream.on('error', () => undefined);
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    const push: SeenPush = {
      requestHeaders,
      stream,
      response: new Promise((resolve) => stream.once('push', (headers: IncomingHttpHeaders) => resolve(headers))),
      trailers: new Promise((resolve) => {
        stream.once('trailers', (headers: IncomingHttpHeaders) => resolve(headers));
        stream.once('close', () => resolve(null));
      }),
      body: new Promise((resolve) => stream.once('close', () => resolve(body))),
      closed: new Promise((resolve) => stream.once('close', () => resolve(stream.rstCode ?? -1))),
    };
    pushes.push(push);
    onPush?.(push);
  };
  session.on('stream', onStream);
  try {
    const request = session.request({ ':path': path });
    request.on('error', () => undefined);
    const informational: IncomingHttpHeaders[] = [];
    request.on('headers', (headers: IncomingHttpHeaders) => informational.push(headers));
    let trailers: IncomingHttpHeaders | null = null;
    request.on('trailers', (headers: IncomingHttpHeaders) => (trailers = headers));
    const responsePromise = new Promise<IncomingHttpHeaders>((resolve) => request.once('response', resolve));
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    await new Promise((resolve) => request.once('close', resolve));
    const response = await Promise.race([responsePromise, Promise.resolve({} as IncomingHttpHeaders)]);
    return { informational, response, body, trailers, pushes };
  } finally {
    session.off('stream', onStream);
  }
}
