import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WsServer } from '../../lib/frames/websocket-server.js';
import { rejectUpgrade } from '../../lib/frames/handshake.js';
import { CloseCode } from '../../lib/frames/close-codes.js';
import type { WebSocketConnection } from '../../lib/frames/websocket-connection.js';

/**
 * A server speaking the json codec ({event, data}) on the bare engine, so the testing helper
 * is tested without Nest. Upgrades to /private need `authorization: Bearer ok` (else 401);
 * other paths than /chat and /private get 404.
 */
export class JsonEventServer {
  readonly http: Server = createServer();
  readonly ws = new WsServer({ server: createServer(), handleProtocols: (offered) => offered[0] ?? false });
  readonly connections: WebSocketConnection[] = [];

  constructor() {
    this.http.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/chat' && path !== '/private') {
        rejectUpgrade(socket, 404);
        return;
      }
      if (path === '/private' && req.headers.authorization !== 'Bearer ok') {
        rejectUpgrade(socket, 401, { 'WWW-Authenticate': 'Bearer' }, 'token required');
        return;
      }
      this.ws.handleUpgrade(req, socket, head, (conn) => this.#serve(conn, req));
    });
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    return this.http.address() as AddressInfo;
  }

  async close(): Promise<void> {
    await this.ws.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  #serve(conn: WebSocketConnection, req: IncomingMessage): void {
    this.connections.push(conn);
    conn.send(
      JSON.stringify({
        event: 'welcome',
        data: { url: req.url, authorization: req.headers.authorization ?? null, protocol: conn.protocol },
      }),
    );
    conn.on('message', (data: string | Buffer, isBinary: boolean) => {
      if (isBinary) {
        conn.send(data as Buffer);
        return;
      }
      let message: { event: string; data: unknown };
      try {
        message = JSON.parse(data as string) as { event: string; data: unknown };
      } catch {
        conn.send(`echo:${data as string}`); // not JSON: echoed so raw sends can be tested
        return;
      }
      const reply = (event: string, payload?: unknown): void => {
        conn.send(JSON.stringify({ event, data: payload }));
      };
      switch (message.event) {
        case 'say':
          reply('said', message.data);
          return;
        case 'burst':
          for (const event of message.data as string[]) reply(event, event);
          return;
        case 'noise':
          conn.send('not json');
          conn.send(Buffer.from([1, 2, 3]));
          reply('after-noise');
          return;
        case 'kick':
          conn.close(4001, 'kicked');
          return;
        case 'bye':
          conn.close(CloseCode.Normal, 'bye');
          return;
        default:
          return; // 'silence' and anything else: no answer
      }
    });
  }
}
