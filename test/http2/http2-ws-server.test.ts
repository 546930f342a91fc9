import { once } from 'node:events';
import { get as httpsGet } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { DeflateConfig, resolveDeflateConfig } from '../../lib/frames/deflate-negotiation.js';
import { WsClient, type WsClientOptions } from '../../lib/http2/ws-client.js';
import type { WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { Http2WsServer, type Http2WsConnectionInfo, type Http2WsServerOptions } from '../../lib/http2/http2-ws-server.js';
import { expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';
import { EventQueue } from '../support/interop-event-queue.js';
import { closeSession, rawRequest, rawSession } from './support/h2-test-server.js';
import { TLS_CERT, TLS_KEY } from './support/tls-fixture.js';

interface Site {
  server: Http2WsServer;
  url: string;
  port: number;
  connections: EventQueue<{ conn: WebSocketConnection; info: Http2WsConnectionInfo }>;
}

const sites: Site[] = [];
async function startSite(options: Partial<Http2WsServerOptions> = {}): Promise<Site> {
  const server = new Http2WsServer({ key: TLS_KEY, cert: TLS_CERT, ...options });
  const connections = new EventQueue<{ conn: WebSocketConnection; info: Http2WsConnectionInfo }>();
  server.on('connection', (conn: WebSocketConnection, info: Http2WsConnectionInfo) => {
    conn.on('message', (data: string | Buffer) => {
      if (conn.isOpen) conn.send(data);
    });
    connections.push({ conn, info });
  });
  const { port } = await server.listen();
  const site = { server, url: `wss://127.0.0.1:${port}`, port, connections };
  sites.push(site);
  return site;
}
afterAll(() => Promise.all(sites.map((s) => s.server.close())));

const roads: Record<'http/1.1' | 'h2', WsClientOptions> = {
  'http/1.1': { ca: TLS_CERT },
  h2: { ca: TLS_CERT, http2: true },
};

const clients = new Set<WebSocketConnection>();
async function dial(url: string, options: WsClientOptions): Promise<WebSocketConnection> {
  const conn = await WsClient.connect(url, options);
  clients.add(conn);
  return conn;
}
afterEach(async () => {
  await Promise.all(
    [...clients].map((c) => {
      c.terminate();
      return c.closed;
    }),
  );
  clients.clear();
});

async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function httpsText(url: string): Promise<{ status: number; body: string; version: string }> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca: TLS_CERT, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, version: res.httpVersion }));
    }).on('error', reject);
  });
}

describe('Http2WsServer: HTTP/1.1 upgrade and RFC 8441 on one TLS port', () => {
  let site: Site;
  beforeAll(async () => {
    site = await startSite({
      handleProtocols: (offered) => (offered.includes('chat.v1') ? 'chat.v1' : false),
      perMessageDeflate: true,
      onRequest: (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`page over HTTP/${req.httpVersion}`);
      },
    });
  });

  for (const road of ['http/1.1', 'h2'] as const) {
    it(`${road}: opens, reports its road, negotiates subprotocol and deflate, echoes both ways`, async () => {
      const client = await dial(`${site.url}/chat?room=1`, { ...roads[road], protocols: ['chat.v1'], perMessageDeflate: true });
      const { conn, info } = await site.connections.next();
      expect(info.road).toBe(road);
      expect(info.path).toBe('/chat?room=1');
      expect(conn.protocol).toBe('chat.v1');
      expect(client.protocol).toBe('chat.v1');
      expect(conn.extensions).toMatch(/^permessage-deflate/);
      client.send('over ' + road);
      expect(await client.receive()).toEqual({ data: 'over ' + road, isBinary: false });
      conn.close(4001, 'done');
      expect(await client.closed).toEqual({ code: 4001, reason: 'done', wasClean: true });
    });
  }

  it('lists connections of both roads in clients', async () => {
    await dial(`${site.url}/a`, roads['http/1.1']);
    await dial(`${site.url}/b`, roads.h2);
    const [a, b] = [await site.connections.next(), await site.connections.next()];
    expect(site.server.clients.has(a.conn)).toBe(true);
    expect(site.server.clients.has(b.conn)).toBe(true);
  });

  it('serves other requests through onRequest on HTTP/1.1 and HTTP/2', async () => {
    expect(await httpsText(`https://127.0.0.1:${site.port}/`)).toEqual({ status: 200, body: 'page over HTTP/1.1', version: '1.1' });
    const session = await rawSession(site.port);
    const answer = await rawRequest(session, { ':path': '/' }, true);
    await closeSession(session);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('page over HTTP/2.0');
  });

  it("answers an HTTP/1.1 CONNECT (allowHTTP1 emits 'connect' for it too) with 405", async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: site.port, ca: TLS_CERT, ALPNProtocols: ['http/1.1'] });
    await once(socket, 'secureConnect');
    socket.write(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`);
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    await once(socket, 'close');
    expect(response).toMatch(/^HTTP\/1\.1 405 /);
  });
});

describe('Http2WsServer options', () => {
  it('path: other paths get 404 on both roads', async () => {
    const site = await startSite({ path: '/ws' });
    for (const road of ['http/1.1', 'h2'] as const) {
      const error = await rejectionOf(dial(`${site.url}/other`, roads[road]));
      expect([road, error.status]).toEqual([road, 404]);
    }
    expect(expectWsgError(await rejectionOf(dial(`${site.url}/other`, roads.h2)), 'WSG_ERR_HANDSHAKE_H2_STATUS')).toMatchObject({ status: 404 });
    const ok = await dial(`${site.url}/ws?x=1`, roads.h2);
    expect(ok.isOpen).toBe(true);
  });

  it('enableConnectProtocol false: the h2 road fails WSG_ERR_HANDSHAKE_H2_NO_CONNECT_PROTOCOL, HTTP/1.1 still works', async () => {
    const site = await startSite({ enableConnectProtocol: false });
    expectWsgError(await rejectionOf(dial(`${site.url}/`, roads.h2)), 'WSG_ERR_HANDSHAKE_H2_NO_CONNECT_PROTOCOL');
    const client = await dial(`${site.url}/`, roads['http/1.1']);
    expect((await site.connections.next()).info.road).toBe('http/1.1');
    expect(client.isOpen).toBe(true);
  });

  it('default request handler: 426 on HTTP/1.1, 400 on HTTP/2', async () => {
    const site = await startSite();
    expect((await httpsText(`https://127.0.0.1:${site.port}/`)).status).toBe(426);
    const session = await rawSession(site.port);
    const answer = await rawRequest(session, { ':path': '/' }, true);
    await closeSession(session);
    expect(answer.status).toBe(400);
  });

  it('perMessageDeflate: resolved once for both roads; upgrades on either make no config and answer what it said', async () => {
    // The client's config is made before counting: the count is the server's alone.
    const offer = resolveDeflateConfig(true)!;
    const from = jest.spyOn(DeflateConfig, 'from');
    try {
      const site = await startSite({ perMessageDeflate: { serverMaxWindowBits: 11 } });
      expect(from).toHaveBeenCalledTimes(1);
      for (const road of ['http/1.1', 'h2', 'http/1.1', 'h2'] as const) {
        const client = await dial(`${site.url}/`, { ...roads[road], perMessageDeflate: offer });
        const { conn, info } = await site.connections.next();
        expect([info.road, conn.extensions, client.extensions]).toEqual([road, 'permessage-deflate; server_max_window_bits=11', 'permessage-deflate; server_max_window_bits=11']);
      }
      expect(from).toHaveBeenCalledTimes(1);
    } finally {
      from.mockRestore();
    }
  });

  it('perMessageDeflate: a bad option throws WSG_ERR_INVALID_OPTION at construction', () => {
    expectThrowsWsgError(() => new Http2WsServer({ key: TLS_KEY, cert: TLS_CERT, perMessageDeflate: { level: 10 } }), 'WSG_ERR_INVALID_OPTION');
  });

  it('throws WSG_ERR_H2_INVALID_OPTION without key and cert', () => {
    const error = expectThrowsWsgError(() => new Http2WsServer({} as Http2WsServerOptions), 'WSG_ERR_H2_INVALID_OPTION');
    expect(error.message).toMatch(/needs `key` and `cert`/);
  });

  it('close() closes connections of both roads with 1001, ends sessions and stops listening', async () => {
    const site = await startSite();
    const h1 = await dial(`${site.url}/`, roads['http/1.1']);
    const h2 = await dial(`${site.url}/`, roads.h2);
    await site.connections.next();
    await site.connections.next();
    await site.server.close();
    expect((await h1.closed).code).toBe(CloseCode.GoingAway);
    expect((await h2.closed).code).toBe(CloseCode.GoingAway);
    expect(site.server.server.listening).toBe(false);
  });
});
