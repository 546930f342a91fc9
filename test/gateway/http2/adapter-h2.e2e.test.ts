import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import WebSocket from 'ws';
import { WsClient } from '../../../lib/http2/ws-client.js';
import { WsGateAdapter, WsGateModule, WsGatePush, WsGatewayRegistry, type WsGateClient } from '../../../lib/gateway/index.js';
import { killChildren, runPythonH2 } from '../../http2/support/h2-binaries.js';
import { expectWsgError } from '../../support/expect-wsg-error.js';
import { pythonH2, requireBinary } from '../../support/interop-binaries.js';
import { TLS_CERT, TLS_KEY } from '../../http2/support/tls-fixture.js';

const describePython = requireBinary('/usr/bin/python3 with h2', pythonH2);

const seen: Array<{ httpVersion: string; url: string | undefined }> = [];
const disconnects: number[] = [];
const disconnectWaiters: Array<() => void> = [];

@WebSocketGateway({ path: '/legacy', verifyClient: (info: { req: IncomingMessage }) => info.req.headers['x-deny'] === undefined })
class LegacyGateway implements OnGatewayConnection {
  handleConnection(_client: WsGateClient, req: IncomingMessage) {
    seen.push({ httpVersion: req.httpVersion, url: req.url });
  }

  handleDisconnect(_client: WsGateClient, code: number) {
    disconnects.push(code);
    for (const wake of disconnectWaiters.splice(0)) wake();
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('bye')
  bye(@ConnectedSocket() client: WsGateClient) {
    client.close(4002, 'bye');
  }
}

@WebSocketGateway({ path: '/legacy-push' })
class LegacyPushGateway implements OnGatewayConnection {
  constructor(private readonly pusher: WsGatePush) {}

  handleConnection(client: WsGateClient) {
    void this.pusher.toConnection(client, '/legacy.txt', { headers: { 'content-type': 'text/plain' }, body: 'legacy' }).then((outcome) => {
      client.send(JSON.stringify({ event: 'pushed', data: outcome }));
    });
  }
}

@Module({ imports: [WsGateModule.forRoot()], providers: [LegacyGateway, LegacyPushGateway] })
class LegacyModule {}

async function disconnected(count: number): Promise<void> {
  while (disconnects.length < count) await new Promise<void>((resolve) => disconnectWaiters.push(resolve));
}

describe('WsGateAdapter (@WebSocketGateway) on a Fastify HTTP/2 app: RFC 8441 and HTTP/1.1 on one port', () => {
  let app: INestApplication;
  let port: number;
  beforeAll(async () => {
    const adapter = new FastifyAdapter({ http2: true, https: { allowHTTP1: true, key: TLS_KEY, cert: TLS_CERT } } as ConstructorParameters<typeof FastifyAdapter>[0]);
    app = await NestFactory.create(LegacyModule, adapter, { logger: false, abortOnError: false });
    app.useWebSocketAdapter(new WsGateAdapter(app));
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await killChildren();
    await app.close();
  });

  it('answers an extended CONNECT: handleConnection gets the HTTP/2 request, messages both ways, close code', async () => {
    const conn = await WsClient.connect(`wss://127.0.0.1:${port}/legacy`, { http2: true, ca: TLS_CERT });
    expect(seen.at(-1)).toEqual({ httpVersion: '2.0', url: '/legacy' });
    conn.send(JSON.stringify({ event: 'echo', data: [1, 2] }));
    expect(JSON.parse(await conn.receiveText())).toEqual({ event: 'echo', data: [1, 2] });
    conn.send(JSON.stringify({ event: 'bye' }));
    expect((await conn.closed).code).toBe(4002);
    await disconnected(1);
    expect(disconnects[0]).toBe(4002);
  });

  it('refuses by verifyClient with :status 401 on the h2 road', async () => {
    const refused = await WsClient.connect(`wss://127.0.0.1:${port}/legacy`, { http2: true, ca: TLS_CERT, headers: { 'x-deny': '1' } }).catch((e: unknown) => e);
    expect(expectWsgError(refused, 'WSG_ERR_HANDSHAKE_H2_STATUS')).toMatchObject({ status: 401 });
  });

  it('serves npm ws over HTTP/1.1 upgrade on the same port', async () => {
    const socket = new WebSocket(`wss://127.0.0.1:${port}/legacy`, { ca: TLS_CERT });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    expect(seen.at(-1)).toEqual({ httpVersion: '1.1', url: '/legacy' });
    const echoed = new Promise<string>((resolve) => socket.once('message', (d: Buffer) => resolve(d.toString('utf8'))));
    socket.send(JSON.stringify({ event: 'echo', data: 'x' }));
    expect(JSON.parse(await echoed)).toEqual({ event: 'echo', data: 'x' });
    const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
    socket.close(1000);
    expect(await closed).toBe(1000);
    await disconnected(2);
  });

  describePython('WsGatePush on an adapter client (python h2 client)', () => {
    it('pushes on the CONNECT stream of a WsGateClient', async () => {
      const report = await runPythonH2(port, { scenario: 'ws-push', path: '/legacy-push' });
      expect(report.status).toBe(200);
      expect(report.pushes).toEqual([{ path: '/legacy.txt', parent: 1, body: 'legacy', trailers: null, status: 200, rst: null, ended: true }]);
      expect(report.messages).toEqual([JSON.stringify({ event: 'pushed', data: 'pushed' })]);
    });
  });
});

describe('WsGateAdapter (@WebSocketGateway) on an Express app with WsGateModule.forRoot({ http2 }): RFC 8441 on the module port', () => {
  let app: INestApplication;
  let port: number;
  beforeAll(async () => {
    @Module({ imports: [WsGateModule.forRoot({ http2: { key: TLS_KEY, cert: TLS_CERT, port: 0, host: '127.0.0.1' } })], providers: [LegacyGateway] })
    class ExpressLegacyModule {}
    app = await NestFactory.create(ExpressLegacyModule, new ExpressAdapter(), { logger: false, abortOnError: false });
    app.useWebSocketAdapter(new WsGateAdapter(app));
    await app.listen(0, '127.0.0.1');
    port = app.get(WsGatewayRegistry).http2Address!.port;
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers an extended CONNECT on the http2 port with the same gateway; handleConnection sees HTTP/2', async () => {
    const conn = await WsClient.connect(`wss://127.0.0.1:${port}/legacy`, { http2: true, ca: TLS_CERT });
    expect(seen.at(-1)).toEqual({ httpVersion: '2.0', url: '/legacy' });
    conn.send(JSON.stringify({ event: 'echo', data: 'over h2' }));
    expect(JSON.parse(await conn.receiveText())).toEqual({ event: 'echo', data: 'over h2' });
    conn.close(1000);
    expect((await conn.closed).code).toBe(1000);
  });
});
