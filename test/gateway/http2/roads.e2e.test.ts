import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as h2connect } from 'node:http2';
import { UseGuards } from '@nestjs/common';
import WebSocket from 'ws';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { WsClient } from '../../../lib/http2/ws-client.js';
import {
  accept,
  close,
  deny,
  emit,
  OnAccept,
  OnClose,
  OnInit,
  OnMessage,
  Param,
  Payload,
  Reason,
  Req,
  State,
  WsGateway,
  type WsCloseReason,
  type WsUpgradeRequest,
} from '../../../lib/gateway/index.js';
import { killChildren, runPythonH2 } from '../../http2/support/h2-binaries.js';
import { TLS_CERT } from '../../http2/support/tls-fixture.js';
import { expectWsgError } from '../../support/expect-wsg-error.js';
import { pythonH2, requireBinary } from '../../support/interop-binaries.js';
import { H2_HOSTS, startH2App, TokenGuard, type H2App } from './support/h2-apps.js';

const closes: Array<{ road: string; room: string; reason: WsCloseReason }> = [];
const closeWaiters: Array<() => void> = [];

/** Resolves once an @OnClose ran for the road (it runs after the client has seen the close). */
async function closedOn(road: string, room?: string): Promise<WsCloseReason> {
  for (;;) {
    const found = closes.find((c) => c.road === road && (room === undefined || c.room === room));
    if (found !== undefined) return found.reason;
    await new Promise<void>((resolve) => closeWaiters.push(resolve));
  }
}

@WsGateway('/rooms/:room', { protocols: ['chat.v2', 'chat.v1'] })
class RoomGateway {
  @OnAccept()
  accept(@Req() req: WsUpgradeRequest, @Param('room') room: string) {
    if (room === 'locked') return deny(401, { headers: { 'www-authenticate': 'Bearer' }, body: 'token required' });
    return accept({ room, road: req.road, method: req.headers[':method'] ?? req.headers['upgrade'], query: req.query });
  }

  @OnInit()
  init(@State() state: unknown) {
    return emit('welcome', state);
  }

  @OnMessage('echo')
  echo(@Payload() data: unknown) {
    return data;
  }

  @OnMessage('bye')
  bye() {
    return close(4001, 'bye');
  }

  @OnClose()
  closed(@State() state: { road: string; room: string }, @Reason() reason: WsCloseReason) {
    closes.push({ road: state.road, room: state.room, reason });
    for (const wake of closeWaiters.splice(0)) wake();
  }
}

@WsGateway('/guarded')
@UseGuards(TokenGuard)
class GuardedGateway {
  @OnAccept()
  admit() {
    return true;
  }

  @OnMessage('who')
  who(@Req() req: WsUpgradeRequest) {
    return req.road;
  }
}

async function nextJson(conn: WebSocketConnection): Promise<{ event: string; data: any }> {
  return JSON.parse(await conn.receiveText()) as { event: string; data: any };
}

/** A `ws` (HTTP/1.1 upgrade over TLS) client's next JSON message. */
function wsNext(socket: WebSocket): Promise<{ event: string; data: any }> {
  return new Promise((resolve) => socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8')))));
}

/** Sends one raw HTTP/2 request and resolves with the response head and body. */
function h2Request(origin: string, headers: Record<string, string>, settings = true): Promise<{ status: number; headers: Record<string, unknown>; body: string; rst?: number }> {
  return new Promise((resolve, reject) => {
    const session = h2connect(origin, { ca: TLS_CERT });
    session.on('error', reject);
    const go = (): void => {
      const stream = session.request(headers, { endStream: false });
      let head: Record<string, unknown> = {};
      let body = '';
      stream.on('response', (h) => (head = h));
      stream.setEncoding('utf8').on('data', (c: string) => (body += c));
      stream.on('error', () => undefined);
      stream.on('close', () => {
        const rst = stream.rstCode;
        session.close();
        resolve({ status: Number(head[':status'] ?? 0), headers: head, body, ...(rst !== undefined && rst !== 0 ? { rst } : {}) });
      });
      stream.end();
    };
    if (settings) session.once('remoteSettings', go);
    else go();
  });
}

const describePython = requireBinary('/usr/bin/python3 with h2', pythonH2);

describe.each(H2_HOSTS)('RFC 8441 through Nest gateways on %s', (host) => {
  let site: H2App;
  beforeAll(async () => {
    closes.length = 0;
    site = await startH2App(host, { providers: [RoomGateway, GuardedGateway, TokenGuard] });
  });
  afterAll(async () => {
    await site.app.close();
  });

  it('advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)', async () => {
    const session = h2connect(site.https('/'), { ca: TLS_CERT });
    const settings = await new Promise<Record<string, unknown>>((resolve) => session.once('remoteSettings', (s) => resolve(s as Record<string, unknown>)));
    session.close();
    expect(settings.enableConnectProtocol).toBe(true);
  });

  it('opens a gateway by extended CONNECT: path params, subprotocol, @Req road h2, messages both ways, close code', async () => {
    const conn = await WsClient.connect(site.wss('/rooms/blue?x=1'), { http2: true, ca: TLS_CERT, protocols: ['chat.v1', 'chat.v2'] });
    expect(conn.protocol).toBe('chat.v2');
    const welcome = await nextJson(conn);
    expect(welcome).toEqual({ event: 'welcome', data: { room: 'blue', road: 'h2', method: 'CONNECT', query: { x: '1' } } });
    conn.send(JSON.stringify({ event: 'echo', data: { n: 1 } }));
    expect(await nextJson(conn)).toEqual({ event: 'echo', data: { n: 1 } });
    conn.send(JSON.stringify({ event: 'bye' }));
    const info = await conn.closed;
    expect(info.code).toBe(4001);
    expect(info.reason).toBe('bye');
    expect(await closedOn('h2')).toMatchObject({ code: 4001, cause: 'server' });
  });

  it('serves the same gateway to an HTTP/1.1 upgrade (npm ws) on the same TLS port, road http/1.1', async () => {
    const socket = new WebSocket(site.wss('/rooms/green'), ['chat.v1'], { ca: TLS_CERT });
    const welcome = wsNext(socket);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    expect(socket.protocol).toBe('chat.v1');
    expect(await welcome).toEqual({ event: 'welcome', data: { room: 'green', road: 'http/1.1', method: 'websocket', query: {} } });
    const echoed = wsNext(socket);
    socket.send(JSON.stringify({ event: 'echo', data: 'hi' }));
    expect(await echoed).toEqual({ event: 'echo', data: 'hi' });
    const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
    socket.send(JSON.stringify({ event: 'bye' }));
    expect(await closed).toBe(4001);
    expect(await closedOn('http/1.1')).toMatchObject({ code: 4001, cause: 'server' });
  });

  it('answers deny(401) from @OnAccept as :status 401 with its headers and body, never 200', async () => {
    const refused = await WsClient.connect(site.wss('/rooms/locked'), { http2: true, ca: TLS_CERT }).catch((e: unknown) => e);
    expect(expectWsgError(refused, 'WSG_ERR_HANDSHAKE_H2_STATUS')).toMatchObject({ status: 401 });
    const raw = await h2Request(site.https('/'), {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':path': '/rooms/locked',
      ':scheme': 'https',
      ':authority': `127.0.0.1:${site.port}`,
      'sec-websocket-version': '13',
    });
    expect(raw.status).toBe(401);
    expect(raw.headers['www-authenticate']).toBe('Bearer');
    expect(raw.body).toBe('token required');
  });

  it('runs guards on the h2 road: without the token 403, with it the gateway answers', async () => {
    const refused = await WsClient.connect(site.wss('/guarded'), { http2: true, ca: TLS_CERT }).catch((e: unknown) => e);
    expect(expectWsgError(refused, 'WSG_ERR_HANDSHAKE_H2_STATUS')).toMatchObject({ status: 403 });
    const conn = await WsClient.connect(site.wss('/guarded'), { http2: true, ca: TLS_CERT, headers: { 'x-token': 'ok' } });
    conn.send(JSON.stringify({ event: 'who' }));
    expect(await nextJson(conn)).toEqual({ event: 'who', data: 'h2' });
    conn.close(1000);
    expect((await conn.closed).code).toBe(1000);
  });

  it('answers 404 WSG_ERR_GATEWAY_NOT_FOUND for a path with no gateway', async () => {
    const raw = await h2Request(site.https('/'), {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':path': '/nowhere',
      ':scheme': 'https',
      ':authority': `127.0.0.1:${site.port}`,
      'sec-websocket-version': '13',
    });
    expect(raw.status).toBe(404);
    expect(raw.body).toContain('WSG_ERR_GATEWAY_NOT_FOUND');
  });

  it('answers bad extended CONNECTs with the right status and keeps serving (wrong :protocol, missing version)', async () => {
    const base = { ':method': 'CONNECT', ':path': '/rooms/a', ':scheme': 'https', ':authority': `127.0.0.1:${site.port}` };
    const wrongProtocol = await h2Request(site.https('/'), { ...base, ':protocol': 'webtransport', 'sec-websocket-version': '13' });
    expect(wrongProtocol.status).toBe(400);
    const noVersion = await h2Request(site.https('/'), { ...base, ':protocol': 'websocket' });
    expect(noVersion.status).toBe(400);
    expect(noVersion.headers['sec-websocket-version']).toBe('13');
    const conn = await WsClient.connect(site.wss('/rooms/after'), { http2: true, ca: TLS_CERT });
    expect((await nextJson(conn)).data.room).toBe('after');
    conn.close(1000);
    await conn.closed;
  });

  describePython('with a python h2 client', () => {
    afterAll(() => killChildren());

    it('runs @OnClose once (cause io, 1006) when the client resets the CONNECT stream (RST_STREAM CANCEL), and keeps serving', async () => {
      const report = await runPythonH2(site.port, { scenario: 'reset', path: '/rooms/reset-me', code: 8 });
      expect(report.status).toBe(200);
      expect(await closedOn('h2', 'reset-me')).toMatchObject({ code: 1006, cause: 'io', wasClean: false });
      const conn = await WsClient.connect(site.wss('/rooms/still-up'), { http2: true, ca: TLS_CERT });
      expect((await nextJson(conn)).data.room).toBe('still-up');
      conn.close(1000);
      await conn.closed;
    });
  });

  it('closes open RFC 8441 connections with 1001 when the application closes', async () => {
    const other = await startH2App(host, { providers: [RoomGateway] });
    const conn = await WsClient.connect(other.wss('/rooms/x'), { http2: true, ca: TLS_CERT });
    await nextJson(conn);
    await other.app.close();
    expect((await conn.closed).code).toBe(1001);
  });
});
