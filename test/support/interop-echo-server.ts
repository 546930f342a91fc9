import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { WsServer, WsgError, type WebSocketConnection, type WsServerOptions } from '../../lib/index.js';

export type EchoServerOptions = Omit<WsServerOptions, 'port' | 'server' | 'host'> & { server?: Server };

/** What a test can pick a connection by, captured at accept time. */
interface Accepted {
  conn: WebSocketConnection;
  /** The client's TCP source port; read at accept time, since a closed socket forgets it. */
  port: number | undefined;
  url: string | undefined;
}

type Match = (accepted: Accepted) => boolean;

/** Our WsServer as an echo peer; the test claims the server side of each of its clients. */
export interface EchoServer {
  readonly server: WsServer;
  /** ws://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  /**
   * The server side of the client whose TCP source port is `port`. Tests run one after the
   * other on one server, so accept order alone would hand out a stale connection.
   */
  connectionFrom(port: number): Promise<WebSocketConnection>;
  /** The server side of the client that asked for `url` (path and query), for peers that hide their port. */
  connectionAt(url: string): Promise<WebSocketConnection>;
  close(): Promise<void>;
}

/** Echoes text as text and binary as binary; a message arriving while we close is dropped. */
function echo(conn: WebSocketConnection): void {
  conn.on('message', (data: string | Buffer, isBinary: boolean) => {
    if (!conn.isOpen) return;
    try {
      conn.send(data, { binary: isBinary });
    } catch (error) {
      // Only the race with our own close is expected here; anything else must fail the test.
      if (!(error instanceof WsgError) || error.code !== 'WSG_ERR_ALREADY_CLOSED') throw error;
    }
  });
}

export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const server = options.server === undefined ? new WsServer({ ...options, port: 0, host: '127.0.0.1' }) : new WsServer(options);
  const unclaimed: Accepted[] = [];
  const waiting: Array<{ match: Match; resolve: (conn: WebSocketConnection) => void }> = [];
  server.on('connection', (conn: WebSocketConnection, req: IncomingMessage) => {
    echo(conn);
    const entry: Accepted = { conn, port: req.socket.remotePort, url: req.url };
    const at = waiting.findIndex((w) => w.match(entry));
    if (at !== -1) {
      waiting.splice(at, 1)[0]!.resolve(conn);
      return;
    }
    unclaimed.push(entry);
    conn.once('close', () => {
      const i = unclaimed.indexOf(entry);
      if (i !== -1) unclaimed.splice(i, 1);
    });
  });
  const claim = (match: Match): Promise<WebSocketConnection> => {
    const at = unclaimed.findIndex(match);
    if (at !== -1) return Promise.resolve(unclaimed.splice(at, 1)[0]!.conn);
    return new Promise((resolve) => waiting.push({ match, resolve }));
  };
  const address = options.server === undefined ? await server.listen() : server.address();
  return {
    server,
    url: `ws://127.0.0.1:${address.port}`,
    connectionFrom: (port) => claim((a) => a.port === port),
    connectionAt: (url) => claim((a) => a.url === url),
    close: () => server.close(),
  };
}

/** The TCP socket under a connection: its byte counters show what crossed the wire. */
export function socketOf(conn: WebSocketConnection): Socket {
  return conn.transport as Socket;
}

/** Bytes read and written on `socket` while `action` runs. */
export async function wireBytes(socket: Socket, action: () => Promise<unknown>): Promise<{ read: number; written: number }> {
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  await action();
  return { read: socket.bytesRead - read, written: socket.bytesWritten - written };
}
