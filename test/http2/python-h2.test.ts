import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { PushService } from '../../lib/http2/push-service.js';
import type { PushedResponse } from '../../lib/http2/pushed-response.js';
import { RstCode } from '../../lib/http2/rst-codes.js';
import { expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';
import { PYTHON, pythonH2, requireBinary } from '../support/interop-binaries.js';
import { killChildren, runPythonH2 } from './support/h2-binaries.js';
import { startH2TestServer, type H2TestServer } from './support/h2-test-server.js';

const describePython = requireBinary(`${PYTHON} with python3-h2`, pythonH2);
const push = new PushService();

describePython('python-h2 client → RFC 8441 extended CONNECT intake', () => {
  let site: H2TestServer;
  let off: H2TestServer;
  beforeAll(async () => {
    [site, off] = await Promise.all([startH2TestServer({ intake: { path: '/ws' } }), startH2TestServer({ enableConnectProtocol: false })]);
  });
  afterAll(async () => {
    await killChildren();
    await Promise.all([site.close(), off.close()]);
  });

  it('sees SETTINGS_ENABLE_CONNECT_PROTOCOL, gets 200 without sec-websocket-accept, echoes hand-masked text and 76 800 B binary, closes cleanly', async () => {
    const [report, { conn }] = await Promise.all([runPythonH2(site.port, { scenario: 'websocket', path: '/ws', text: 'héllo from python ✓' }), site.connections.next()]);
    expect(report.alpn).toBe('h2');
    expect(report.connect_protocol).toBe(true);
    expect(report.status).toBe(200);
    expect(report.accept_header).toBe(false);
    expect(report.echo).toEqual([
      { type: 'text', data: 'héllo from python ✓' },
      { type: 'binary', length: 76_800, equal: true },
    ]);
    expect(report.close_code).toBe(CloseCode.Normal);
    expect(report.server_end_stream).toBe(true);
    expect(await conn.closed).toEqual({ code: CloseCode.Normal, reason: 'bye', wasClean: true });
  });

  it('its RST_STREAM INTERNAL_ERROR (no close frame, no END_STREAM) closes our connection 1006 with WSG_ERR_IO caused by ERR_HTTP2_STREAM_ERROR', async () => {
    const [report, { conn }] = await Promise.all([runPythonH2(site.port, { scenario: 'reset', path: '/ws', code: RstCode.InternalError }), site.connections.next()]);
    expect(report.status).toBe(200);
    const info = await conn.closed;
    expect(info.code).toBe(CloseCode.Abnormal);
    expect(info.wasClean).toBe(false);
    expectWsgError(info.error, 'WSG_ERR_IO');
    expect((info.error?.cause as NodeJS.ErrnoException).code).toBe('ERR_HTTP2_STREAM_ERROR');
    expect((conn.transport as ServerHttp2Stream).rstCode).toBe(RstCode.InternalError);
  });

  it('its RST_STREAM CANCEL closes our connection 1006 without an error (Node treats CANCEL as an abort)', async () => {
    const [report, { conn }] = await Promise.all([runPythonH2(site.port, { scenario: 'reset', path: '/ws', code: RstCode.Cancel }), site.connections.next()]);
    expect(report.status).toBe(200);
    const info = await conn.closed;
    expect(info).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false });
    expect((conn.transport as ServerHttp2Stream).rstCode).toBe(RstCode.Cancel);
  });

  it('a :protocol other than websocket is answered 400', async () => {
    const headers = [
      [':method', 'CONNECT'],
      [':protocol', 'chat'],
      [':scheme', 'https'],
      [':path', '/ws'],
      [':authority', `127.0.0.1:${site.port}`],
      ['sec-websocket-version', '13'],
    ];
    const report = await runPythonH2(site.port, { scenario: 'connect', headers });
    expect(report.status).toBe(400);
    expect(expectWsgError((await site.rejections.next()).error, 'WSG_ERR_H2_CONNECT_PROTOCOL')).toMatchObject({ status: 400 });
  });

  it('a missing sec-websocket-version is answered 400 with sec-websocket-version: 13', async () => {
    const headers = [
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', 'https'],
      [':path', '/ws'],
      [':authority', `127.0.0.1:${site.port}`],
    ];
    const report = await runPythonH2(site.port, { scenario: 'connect', headers });
    expect(report.status).toBe(400);
    expect(report.headers['sec-websocket-version']).toBe('13');
    expect(expectWsgError((await site.rejections.next()).error, 'WSG_ERR_H2_CONNECT_VERSION')).toMatchObject({ status: 400 });
  });

  it('a server without the setting: python sees it off, and an extended CONNECT sent anyway is reset PROTOCOL_ERROR', async () => {
    const headers = [
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', 'https'],
      [':path', '/'],
      [':authority', `127.0.0.1:${off.port}`],
      ['sec-websocket-version', '13'],
    ];
    const report = await runPythonH2(off.port, { scenario: 'connect', headers });
    expect(report.connect_protocol).toBe(false);
    expect(report.rst).toBe(RstCode.ProtocolError);
  });
});

describePython('python-h2 client ← PushService (PUSH_PROMISE, trailers, RST_STREAM CANCEL)', () => {
  let site: H2TestServer;
  let cancelled: Promise<{ code: number; error: unknown }> | null = null;
  const pushedOnWebSocket: PushedResponse[] = [];
  beforeAll(async () => {
    site = await startH2TestServer({ echo: false });
    site.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      if (headers[':method'] !== 'GET') return;
      stream.on('error', () => undefined);
      void page(stream, String(headers[':path']));
    });
    site.intake.on('connection', async (conn, request) => {
      // A push promised on the WebSocket's own CONNECT stream: the road of the gateway's push() command.
      const pushed = await push.promise(request.stream, { ':path': '/ws-asset.json' });
      pushedOnWebSocket.push(pushed);
      const send = pushed.sendResponse({ 'content-type': 'application/json' }, false);
      send.write('{"pushed":true}');
      send.sendTrailers({ 'x-sent-by': 'wsgate' });
      conn.sendText('pushed');
    });
  });
  afterAll(async () => {
    await killChildren();
    await site.close();
  });

  async function page(stream: ServerHttp2Stream, path: string): Promise<void> {
    if (path === '/page') {
      const pushed = await push.promise(stream, { ':path': '/style.css' });
      const send = pushed.sendResponse({ 'content-type': 'text/css' }, false);
      send.write('body{}');
      send.sendTrailers({ 'x-checksum': 'c0ffee' });
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'x-page': 'done' }));
      stream.end('<html>');
    } else if (path === '/cached') {
      const pushed = await push.promise(stream, { ':path': '/cached.css' });
      // Answer only after the client has refused the push, so the reset is certain to be its own.
      cancelled = pushed.reset.then((code) => ({ code, error: expectThrowsWsgError(() => pushed.sendResponse({}, true), 'WSG_ERR_H2_PUSH_RESET').message }));
      await cancelled;
      stream.respond({ ':status': 200 });
      stream.end('page');
    } else if (path === '/hinted') {
      const outcome = await push.push(stream, { path: '/app.css', as: 'style' }, { body: 'x' });
      stream.respond({ ':status': 200, 'x-outcome': outcome });
      stream.end('page');
    }
  }

  it('receives the PUSH_PROMISE, the pushed response with its trailers, and the page with its trailers', async () => {
    const report = await runPythonH2(site.port, { scenario: 'get', path: '/page' });
    expect(report.status).toBe(200);
    expect(report.body).toBe('<html>');
    expect(report.trailers).toEqual({ 'x-page': 'done' });
    expect(report.pushes).toEqual([{ path: '/style.css', parent: 1, status: 200, body: 'body{}', trailers: { 'x-checksum': 'c0ffee' }, rst: null, ended: true }]);
  });

  it('its RST_STREAM CANCEL on the pushed stream resolves `reset` with 8; sendResponse() then fails WSG_ERR_H2_PUSH_RESET', async () => {
    const report = await runPythonH2(site.port, { scenario: 'get', path: '/cached', cancel: ['/cached.css'] });
    expect(report.status).toBe(200);
    expect(report.pushes[0].cancelled).toBe(true);
    expect(await cancelled).toEqual({ code: RstCode.Cancel, error: 'sendResponse() on a pushed stream that was reset by the client (Cancel)' });
  });

  it('with SETTINGS_ENABLE_PUSH = 0 it gets 103 Early Hints with Link rel=preload, then the 200', async () => {
    const report = await runPythonH2(site.port, { scenario: 'get', path: '/hinted', enable_push: false });
    expect(report.informational).toEqual([{ ':status': '103', link: '</app.css>; rel=preload; as=style' }]);
    expect(report.status).toBe(200);
    expect(report.pushes).toEqual([]);
  });

  it("a push promised on the WebSocket's CONNECT stream reaches the client, with trailers", async () => {
    const report = await runPythonH2(site.port, { scenario: 'ws-push', path: '/ws', expect: 1 });
    expect(report.status).toBe(200);
    expect(report.messages).toEqual(['pushed']);
    expect(report.pushes).toEqual([
      { path: '/ws-asset.json', parent: 1, status: 200, body: '{"pushed":true}', trailers: { 'x-sent-by': 'wsgate' }, rst: null, ended: true },
    ]);
    expect(report.close_code).toBe(CloseCode.Normal);
    expect((await pushedOnWebSocket[0]!.closed).rstCode).toBe(RstCode.NoError);
  });
});
