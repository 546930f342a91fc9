import { once } from 'node:events';
import {
  connect as http2Connect,
  createSecureServer,
  type ClientHttp2Session,
  type Http2SecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type SecureServerOptions,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventQueue } from '../../support/interop-event-queue.js';
import type { HandshakeError } from '../../../lib/frames/errors.js';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { ExtendedConnectIntake, type ExtendedConnectOptions, type ExtendedConnectRequest } from '../../../lib/http2/extended-connect.js';
import { TLS_CERT, TLS_KEY } from './tls-fixture.js';

export interface H2TestServer {
  server: Http2SecureServer;
  intake: ExtendedConnectIntake;
  port: number;
  /** wss://127.0.0.1:port */
  origin: string;
  connections: EventQueue<{ conn: WebSocketConnection; request: ExtendedConnectRequest }>;
  rejections: EventQueue<{ error: HandshakeError; request: ExtendedConnectRequest | null }>;
  /** Every session the server saw, so close() can end them. */
  sessions: Set<Http2Session>;
  close(): Promise<void>;
}

export interface H2TestServerOptions {
  /** Add a 'request' listener, so CONNECTs arrive through Node's compat 'connect' event. */
  compat?: boolean;
  enableConnectProtocol?: boolean;
  intake?: ExtendedConnectOptions;
  /** Echo every message back (default true). */
  echo?: boolean;
  tls?: Partial<SecureServerOptions>;
}

/** An HTTP/2 TLS server on 127.0.0.1:0 with an intake attached (and an echo on each connection). */
export async function startH2TestServer(options: H2TestServerOptions = {}): Promise<H2TestServer> {
  const server = createSecureServer({
    key: TLS_KEY,
    cert: TLS_CERT,
    settings: { enableConnectProtocol: options.enableConnectProtocol ?? true },
    ...options.tls,
  });
  if (options.compat === true) {
    server.on('request', (_req, res) => {
      res.writeHead(404);
      res.end();
    });
  }
  const sessions = new Set<Http2Session>();
  server.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const intake = new ExtendedConnectIntake(server, options.intake);
  const connections = new EventQueue<{ conn: WebSocketConnection; request: ExtendedConnectRequest }>();
  const rejections = new EventQueue<{ error: HandshakeError; request: ExtendedConnectRequest | null }>();
  intake.on('connection', (conn: WebSocketConnection, request: ExtendedConnectRequest) => {
    if (options.echo !== false) {
      conn.on('message', (data: string | Buffer) => {
        if (conn.isOpen) conn.send(data);
      });
    }
    connections.push({ conn, request });
  });
  intake.on('rejected', (error: HandshakeError, request: ExtendedConnectRequest | null) => rejections.push({ error, request }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    intake,
    port,
    origin: `wss://127.0.0.1:${port}`,
    connections,
    rejections,
    sessions,
    close: async () => {
      await intake.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      await closed;
    },
  };
}

/** A raw node:http2 client session trusting the fixture certificate; resolves once SETTINGS arrived. */
export async function rawSession(port: number): Promise<ClientHttp2Session> {
  const session = http2Connect(`https://127.0.0.1:${port}`, { ca: TLS_CERT });
  await once(session, 'remoteSettings');
  return session;
}

export interface RawAnswer {
  status: number | null;
  headers: IncomingHttpHeaders | null;
  body: string;
  rstCode: number;
  /** Node's error on the stream, when it was reset with a code other than NO_ERROR / CANCEL. */
  errorCode: string | null;
}

/** Sends one request on `session` and waits until its stream is closed. */
export async function rawRequest(session: ClientHttp2Session, headers: OutgoingHttpHeaders, endStream = false): Promise<RawAnswer> {
  const stream = session.request(headers, { endStream });
  let status: number | null = null;
  let answerHeaders: IncomingHttpHeaders | null = null;
  let body = '';
  let errorCode: string | null = null;
  stream.on('response', (h: IncomingHttpHeaders) => {
    answerHeaders = h;
    status = Number(h[':status']);
  });
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (body += chunk));
  stream.on('error', (error: NodeJS.ErrnoException) => (errorCode = error.code ?? 'unknown'));
  stream.on('end', () => {
    if (!stream.writableEnded) stream.end();
  });
  // events.once() would reject on the stream's 'error'; a reset is an answer here.
  await new Promise((resolve) => stream.once('close', resolve));
  return { status, headers: answerHeaders, body, rstCode: stream.rstCode ?? -1, errorCode };
}

/** Headers of a well-formed extended CONNECT to `path`, overridable. */
export function connectHeaders(port: number, path = '/', extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'https',
    ':path': path,
    ':authority': `127.0.0.1:${port}`,
    'sec-websocket-version': '13',
    ...extra,
  };
}

export function closeSession(session: ClientHttp2Session): Promise<void> {
  if (session.closed || session.destroyed) return Promise.resolve();
  return new Promise((resolve) => session.close(() => resolve()));
}
