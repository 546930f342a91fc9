import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { HandshakeError } from '../../../lib/frames/errors.js';
import { H2HandshakeError } from '../../../lib/http2/errors.js';
import { WsClient } from '../../../lib/http2/ws-client.js';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { ExtendedConnectIntake, type ExtendedConnectDecision } from '../../../lib/http2/extended-connect.js';
import { expectRejectsWsgError, expectWsgError } from '../../support/expect-wsg-error.js';
import { TLS_CERT, TLS_KEY } from '../../http2/support/tls-fixture.js';

// WSG_ERR_HANDSHAKE_DENIED: the server application refused an upgrade that was valid. The one
// road that raises it is the RFC 8441 intake's accept hook, so this drives a real HTTP/2 TLS
// server and the engine's own HTTP/2 client.
interface Site {
  port: number;
  rejected: HandshakeError[];
  opened: WebSocketConnection[];
  close(): Promise<void>;
}

async function startSite(decide: (path: string) => ExtendedConnectDecision): Promise<Site> {
  const server: Http2SecureServer = createSecureServer({ key: TLS_KEY, cert: TLS_CERT, settings: { enableConnectProtocol: true } });
  const sessions = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const intake = new ExtendedConnectIntake(server, { accept: (request) => decide(request.pathname) });
  const rejected: HandshakeError[] = [];
  const opened: WebSocketConnection[] = [];
  intake.on('rejected', (error: HandshakeError) => rejected.push(error));
  intake.on('connection', (conn: WebSocketConnection) => opened.push(conn));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    rejected,
    opened,
    close: async () => {
      await intake.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}

let site: Site | undefined;
const clients: WebSocketConnection[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await site?.close();
  site = undefined;
});

describe('the server application denies an upgrade: WSG_ERR_HANDSHAKE_DENIED', () => {
  it('reports HandshakeError WSG_ERR_HANDSHAKE_DENIED with the status and headers the hook chose; the client sees that status', async () => {
    site = await startSite((path) =>
      path === '/banned' ? { accept: false, status: 403, headers: { 'x-deny-reason': 'banned' }, body: 'you are banned' } : { accept: true },
    );
    const dialing = WsClient.connect(`wss://127.0.0.1:${site.port}/banned`, { http2: true, ca: TLS_CERT, handshakeTimeout: 5_000 });
    const clientError = await expectRejectsWsgError(dialing, 'WSG_ERR_HANDSHAKE_H2_STATUS');
    expect(clientError).toBeInstanceOf(H2HandshakeError);
    expect((clientError as H2HandshakeError).status).toBe(403);

    expect(site.rejected).toHaveLength(1);
    expect(site.rejected[0]).toBeInstanceOf(HandshakeError);
    // A refused handshake has no WebSocket to close: no closeCode.
    const denied = expectWsgError(site.rejected[0], 'WSG_ERR_HANDSHAKE_DENIED') as HandshakeError;
    expect(denied.status).toBe(403);
    expect(denied.headers).toEqual({ 'x-deny-reason': 'banned' });
    expect(denied.message).toBe('you are banned');
    expect(site.opened).toEqual([]);
  });

  it('opens the connection for a path the hook accepts, and reports nothing', async () => {
    site = await startSite((path) => (path === '/banned' ? { accept: false, status: 403 } : { accept: true }));
    const client = await WsClient.connect(`wss://127.0.0.1:${site.port}/lobby`, { http2: true, ca: TLS_CERT, handshakeTimeout: 5_000 });
    clients.push(client);
    expect(client.isOpen).toBe(true);
    expect(site.rejected).toEqual([]);
  });
});
