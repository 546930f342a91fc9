import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { request } from 'node:http';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import WebSocket from 'ws';
import { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { WsClient } from '../../../lib/http2/ws-client.js';
import type { PushLoader } from '../../../lib/http2/push-service.js';
import { RstCode } from '../../../lib/http2/rst-codes.js';
import { killChildren, run, runPythonH2 } from '../../http2/support/h2-binaries.js';
import { closeSession, connectHeaders, rawSession } from '../../http2/support/h2-test-server.js';
import { clientSession, fetchWithPushes } from '../../http2/support/push-test-server.js';
import { TLS_CERT } from '../../http2/support/tls-fixture.js';
import { expectCodeInText, expectWsgError } from '../../support/expect-wsg-error.js';
import { CURL, curlHttp2, pythonH2, requireBinary } from '../../support/interop-binaries.js';
import { startH2App, type H2App } from './support/h2-apps.js';
import { LogCapture } from './support/log-capture.js';
import { BadPushGateway, CaughtPushErrors, PagesController, PUBLIC_DIR, PushCommandGateway, PushyGateway } from './support/push-gateways.js';

const describePython = requireBinary('/usr/bin/python3 with h2', pythonH2);
const describeCurl = requireBinary('curl with HTTP2', curlHttp2);

const PROVIDERS = { controllers: [PagesController], providers: [PushyGateway, PushCommandGateway, BadPushGateway, CaughtPushErrors] };

/** Every app of this file logs here (Nest's Logger is one static per module registry). */
const log = new LogCapture();

/** The custom push.loader: records each path it is asked for and answers bytes no file has. */
const loaded: string[] = [];
const loader: PushLoader = (path) => {
  loaded.push(path);
  if (path === '/boom.css') throw new Error('loader exploded');
  return { headers: { 'content-type': 'text/x-loaded' }, body: Buffer.from(`loaded ${path} ✓`, 'utf8') };
};

let fastify: H2App;
let express: H2App;
let withLoader: H2App;
beforeAll(async () => {
  fastify = await startH2App('fastify-h2', { ...PROVIDERS, logger: log, wsgate: { push: { root: PUBLIC_DIR } } });
  express = await startH2App('express+http2-port', { ...PROVIDERS, logger: log, wsgate: { push: { root: PUBLIC_DIR } } });
  // root is given too: loader must win over it (module-options.ts: "wins over `root`").
  withLoader = await startH2App('fastify-h2', { ...PROVIDERS, logger: log, wsgate: { push: { root: PUBLIC_DIR, loader } } });
});
afterAll(async () => {
  await killChildren();
  await Promise.all([fastify.app.close(), express.app.close(), withLoader.app.close()]);
});

/**
 * An RFC 8441 WebSocket from Node's own http2 client, which takes pushes (SETTINGS_ENABLE_PUSH
 * stays 1, unlike WsClient): the engine runs as a client on the CONNECT stream, and every
 * stream pushed on the session is collected with its RST code once closed.
 */
interface SeenConnectPush {
  path: string;
  /** Once the pushed stream is closed: its :status (null if none came), body and RST code. */
  closed: Promise<{ status: number | null; body: string; rstCode: number }>;
}

async function rfc8441WithPushes(port: number, path: string): Promise<{ session: ClientHttp2Session; conn: WebSocketConnection; pushes: SeenConnectPush[] }> {
  const session = await rawSession(port);
  const pushes: SeenConnectPush[] = [];
  session.on('stream', (pushed: ClientHttp2Stream, headers: IncomingHttpHeaders) => {
    pushed.on('error', () => undefined);
    let status: number | null = null;
    let body = '';
    pushed.once('push', (response: IncomingHttpHeaders) => (status = Number(response[':status'])));
    pushed.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    pushes.push({ path: String(headers[':path']), closed: new Promise((resolve) => pushed.once('close', () => resolve({ status, body, rstCode: pushed.rstCode ?? -1 }))) });
  });
  const stream = session.request(connectHeaders(port, path), { endStream: false });
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  expect(headers[':status']).toBe(200);
  return { session, conn: WebSocketConnection.fromPartiallyRead(stream, null, { role: 'client' }), pushes };
}

/** GET over HTTP/1.1 (Express's own server): the 103s seen, the status and body. */
function http1Get(port: number, path: string): Promise<{ informational: Array<{ status: number; link: unknown }>; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const informational: Array<{ status: number; link: unknown }> = [];
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ informational, status: res.statusCode ?? 0, body }));
    });
    req.on('information', (info) => informational.push({ status: info.statusCode, link: info.headers.link }));
    req.on('error', reject);
    req.end();
  });
}

describePython('gateway pushes on the RFC 8441 CONNECT stream (python h2 client)', () => {
  it.each(['fastify', 'express'] as const)('promises /ws-pushed.txt on the CONNECT stream and answers it (%s)', async (which) => {
    const site = which === 'fastify' ? fastify : express;
    const report = await runPythonH2(site.port, { scenario: 'ws-push', path: '/pushy' });
    expect(report.status).toBe(200);
    expect(report.pushes).toEqual([{ path: '/ws-pushed.txt', parent: 1, body: 'for h2', trailers: null, status: 200, rst: null, ended: true }]);
    expect(report.messages).toEqual([JSON.stringify({ event: 'pushed', data: 'pushed' })]);
    expect(report.close_code).toBe(1000);
  });

  it('sends no PUSH_PROMISE (and no 103: the CONNECT has answered) when the client disables push', async () => {
    const report = await runPythonH2(fastify.port, { scenario: 'ws-push', path: '/pushy', enable_push: false, expect: 0 });
    expect(report.status).toBe(200);
    expect(report.pushes).toEqual([]);
  });
});

describe('gateway pushes through WsGatePush.toConnection with other clients', () => {
  it('WsGatePush.toConnection answers refused for an HTTP/1.1 upgrade (npm ws) on the same TLS port', async () => {
    const socket = new WebSocket(fastify.wss('/pushy'), { ca: TLS_CERT });
    const message = await new Promise<string>((resolve, reject) => {
      socket.once('message', (d: Buffer) => resolve(d.toString('utf8')));
      socket.once('error', reject);
    });
    expect(JSON.parse(message)).toEqual({ event: 'pushed', data: 'refused' });
    const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
    socket.close(1000);
    expect(await closed).toBe(1000);
  });

  it('is refused for an h2 WsClient (it sends SETTINGS_ENABLE_PUSH=0) and the WebSocket carries on', async () => {
    const conn = await WsClient.connect(express.wss('/pushy'), { http2: true, ca: TLS_CERT });
    expect(JSON.parse(await conn.receiveText())).toEqual({ event: 'pushed', data: 'refused' });
    conn.close(1000);
    expect((await conn.closed).code).toBe(1000);
  });
});

// Mutation caught (both suites): the 'push' case of ConnectionRunner.execute()
// (lib/gateway/connection-runner.ts) no longer hands the command to WsGatePush.runCommand:
// no PUSH_PROMISE reaches the client.
describe('the push() command (Node http2 client, push enabled)', () => {
  it('sends a PUSH_PROMISE on the CONNECT stream from push(path, headers, body), answered with them', async () => {
    const { session, conn, pushes } = await rfc8441WithPushes(express.port, '/pushy-command');
    try {
      expect(JSON.parse(await conn.receiveText())).toEqual({ event: 'pushed', data: 'command' });
      // The push does not hold the mailbox: wait for its PUSH_PROMISE, not for the message.
      while (pushes.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      expect(pushes.map((p) => p.path)).toEqual(['/cmd.txt']);
      expect(await pushes[0]!.closed).toEqual({ status: 200, body: 'by command', rstCode: RstCode.NoError });
      conn.close(1000);
      expect((await conn.closed).code).toBe(1000);
    } finally {
      await closeSession(session);
    }
  });
});

describePython('the push() command (python h2 client)', () => {
  it('sends a PUSH_PROMISE on the CONNECT stream from push(path, headers, body)', async () => {
    const report = await runPythonH2(fastify.port, { scenario: 'ws-push', path: '/pushy-command' });
    expect(report.pushes).toEqual([{ path: '/cmd.txt', parent: 1, body: 'by command', trailers: null, status: 200, rst: null, ended: true }]);
    expect(report.messages).toEqual([JSON.stringify({ event: 'pushed', data: 'command' })]);
  });
});

describe('the push() command when it cannot push', () => {
  it('a push whose headers HTTP/2 cannot carry: its promise is cancelled, WSG_ERR_GATEWAY_PUSH_FAILED is logged with the cause, the commands after it run', async () => {
    const mark = log.mark;
    const { session, conn, pushes } = await rfc8441WithPushes(express.port, '/pushy-bad');
    try {
      expect(JSON.parse(await conn.receiveText())).toEqual({ event: 'after-bad-push', data: true });
      const line = await log.next('error', /push\(\/bad\.txt\)/, mark);
      expect(line).toEqual({
        level: 'error',
        message: '[WSG_ERR_GATEWAY_PUSH_FAILED] BadPushGateway: push(/bad.txt) failed (WSG_ERR_H2_INVALID_HEADERS)',
        context: 'WsGatePush',
      });
      expectCodeInText(line.message, 'WSG_ERR_GATEWAY_PUSH_FAILED');
      // The PUSH_PROMISE went out before Node refused the response headers: it is reset CANCEL.
      expect(pushes.map((p) => p.path)).toEqual(['/bad.txt']);
      expect(await pushes[0]!.closed).toEqual({ status: null, body: '', rstCode: RstCode.Cancel });
      expect(conn.isOpen).toBe(true);
      conn.close(1000);
      expect((await conn.closed).code).toBe(1000);
    } finally {
      await closeSession(session);
    }
  });

  it('logs a refused push at debug and runs the commands after it (an h2 WsClient: SETTINGS_ENABLE_PUSH = 0)', async () => {
    const mark = log.mark;
    const conn = await WsClient.connect(express.wss('/pushy-command'), { http2: true, ca: TLS_CERT });
    expect(JSON.parse(await conn.receiveText())).toEqual({ event: 'pushed', data: 'command' });
    expect(await log.next('debug', /^PushCommandGateway: push\(\/cmd\.txt\)/, mark)).toEqual({
      level: 'debug',
      message: 'PushCommandGateway: push(/cmd.txt) refused',
      context: 'WsGatePush',
    });
    conn.close(1000);
    expect((await conn.closed).code).toBe(1000);
  });

  it('is a no-op on HTTP/1.1: refused (logged at debug), and the commands after it still run', async () => {
    const mark = log.mark;
    const socket = new WebSocket(fastify.wss('/pushy-command'), { ca: TLS_CERT });
    const message = await new Promise<string>((resolve, reject) => {
      socket.once('message', (d: Buffer) => resolve(d.toString('utf8')));
      socket.once('error', reject);
    });
    expect(JSON.parse(message)).toEqual({ event: 'pushed', data: 'command' });
    const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
    socket.close(1000);
    expect(await closed).toBe(1000);
    // The push runs beside the emit: the debug line may land either side of the message.
    expect(await log.next('debug', /^PushCommandGateway: push\(\/cmd\.txt\)/, mark)).toEqual({
      level: 'debug',
      message: 'PushCommandGateway: push(/cmd.txt) refused',
      context: 'WsGatePush',
    });
  });
});

describe('push.loader: a custom loader for @PushResources (Node http2 client)', () => {
  it('is called with each pushed path, and the bytes it returns are what is pushed (it wins over push.root)', async () => {
    loaded.length = 0;
    const session = await clientSession(withLoader.port);
    try {
      const seen = await fetchWithPushes(session, '/pages/home');
      expect(seen.response[':status']).toBe(200);
      expect(seen.body).toBe('home');
      expect([...loaded].sort()).toEqual(['/app.css', '/app.js']);
      const pushed = await Promise.all(
        seen.pushes.map(async (p) => ({ path: p.requestHeaders[':path'], type: (await p.response)['content-type'], body: await p.body, rst: await p.closed })),
      );
      expect(pushed.sort((a, b) => String(a.path).localeCompare(String(b.path)))).toEqual([
        { path: '/app.css', type: 'text/x-loaded', body: 'loaded /app.css ✓', rst: RstCode.NoError },
        { path: '/app.js', type: 'text/x-loaded', body: 'loaded /app.js ✓', rst: RstCode.NoError },
      ]);
    } finally {
      await closeSession(session);
    }
  });

  it('a loader that throws: the promise is reset INTERNAL_ERROR, WSG_ERR_GATEWAY_PUSH_FAILED is logged, the route still answers', async () => {
    loaded.length = 0;
    const mark = log.mark;
    const session = await clientSession(withLoader.port);
    try {
      const seen = await fetchWithPushes(session, '/pages/boom');
      expect(seen.response[':status']).toBe(200);
      expect(seen.body).toBe('boom');
      expect(loaded).toEqual(['/boom.css']);
      expect(seen.pushes.map((p) => p.requestHeaders[':path'])).toEqual(['/boom.css']);
      expect(await seen.pushes[0]!.closed).toBe(RstCode.InternalError);
      const line = await log.next('error', /PagesController\.boom/, mark);
      expect(line).toEqual({
        level: 'error',
        message: '[WSG_ERR_GATEWAY_PUSH_FAILED] PagesController.boom: @PushResources failed (WSG_ERR_GATEWAY_PUSH_FAILED)',
        context: 'WsGatePush',
      });
    } finally {
      await closeSession(session);
    }
  });
});

describePython('@PushResources and @Push() on a Fastify HTTP/2 controller (python h2 client)', () => {
  it('pushes each @PushResources path with the file loaded from push.root, then answers the route', async () => {
    const report = await runPythonH2(fastify.port, { scenario: 'get', path: '/pages/home' });
    expect(report.status).toBe(200);
    expect(report.body).toBe('home');
    expect(report.pushes).toEqual([
      { path: '/app.css', parent: 1, body: 'body { color: teal; }\n', trailers: null, status: 200, rst: null, ended: true },
      { path: '/app.js', parent: 1, body: 'console.log("app");\n', trailers: null, status: 200, rst: null, ended: true },
    ]);
  });

  it('hints with one 103 (Link rel=preload) when the client disables push', async () => {
    const report = await runPythonH2(fastify.port, { scenario: 'get', path: '/pages/home', enable_push: false });
    expect(report.pushes).toEqual([]);
    expect(report.informational).toHaveLength(1);
    expect(report.informational[0][':status']).toBe('103');
    expect(report.status).toBe(200);
  });

  it('cancels the promise of a path the loader has no file for, and still answers the route', async () => {
    const report = await runPythonH2(fastify.port, { scenario: 'get', path: '/pages/missing' });
    expect(report.status).toBe(200);
    expect(report.body).toBe('missing');
    expect(report.pushes).toEqual([{ path: '/nope.css', parent: 1, body: '', trailers: null, status: null, rst: 8, ended: false }]);
  });

  it('gives @Push() a pusher bound to the request stream', async () => {
    const report = await runPythonH2(fastify.port, { scenario: 'get', path: '/pages/manual' });
    expect(JSON.parse(report.body as string)).toEqual({ outcome: 'pushed', canPush: true, http: '2.0' });
    expect(report.pushes).toEqual([{ path: '/manual.txt', parent: 1, body: 'manual', trailers: null, status: 200, rst: null, ended: true }]);
  });

  it('promise() gives a PushedResponse to answer by hand', async () => {
    const report = await runPythonH2(fastify.port, { scenario: 'get', path: '/pages/promise' });
    expect(report.body).toBe('pushed');
    expect(report.pushes).toEqual([{ path: '/promised.txt', parent: 1, body: 'promised', trailers: null, status: 200, rst: null, ended: true }]);
  });
});

describeCurl('curl --http2 on a @PushResources route', () => {
  it('sees 103 with both Link fields, then the 200', async () => {
    const result = await run(CURL, ['--http2', '-k', '-sv', '-o', '/dev/null', fastify.https('/pages/home')]);
    expect(result.code).toBe(0);
    const lines = result.stderr
      .split(/\r?\n/)
      .filter((line) => line.startsWith('< '))
      .map((line) => line.slice(2).trim());
    const at103 = lines.indexOf('HTTP/2 103');
    const at200 = lines.indexOf('HTTP/2 200');
    expect(at103).toBeGreaterThanOrEqual(0);
    expect(at200).toBeGreaterThan(at103);
    expect(lines.slice(at103 + 1, at200)).toEqual(['link: </app.css>; rel=preload', 'link: </app.js>; rel=preload; as=script']);
  });
});

describe('push on an HTTP/1.1 controller (Express)', () => {
  it('@PushResources sends 103 Early Hints over HTTP/1.1', async () => {
    const res = await http1Get(express.appPort, '/pages/home');
    expect(res.status).toBe(200);
    expect(res.body).toBe('home');
    expect(res.informational).toEqual([{ status: 103, link: '</app.css>; rel=preload, </app.js>; rel=preload; as=script' }]);
  });

  it('@Push() push() answers hinted (a 103) and promise() rejects WSG_ERR_GATEWAY_PUSH_NOT_H2', async () => {
    const manual = await http1Get(express.appPort, '/pages/manual');
    expect(JSON.parse(manual.body)).toEqual({ outcome: 'hinted', canPush: false, http: '1.1' });
    const caught = express.app.get(CaughtPushErrors).errors;
    caught.length = 0;
    const promised = await http1Get(express.appPort, '/pages/promise');
    expect(promised.body).toBe('WSG_ERR_GATEWAY_PUSH_NOT_H2');
    expect(caught).toHaveLength(1);
    expectWsgError(caught[0], 'WSG_ERR_GATEWAY_PUSH_NOT_H2');
  });
});
