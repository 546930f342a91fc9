import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import { constants as h2, createSecureServer, type ClientHttp2Stream, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { HandshakeError, IoError } from '../../lib/frames/errors.js';
import { DENY_STATUS } from '../../lib/frames/handshake-decision.js';
import { H2HandshakeError } from '../../lib/http2/errors.js';
import { WsClient, type WsClientOptions } from '../../lib/http2/ws-client.js';
import type { WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { Http2HandshakeError } from '../../lib/http2/errors.js';
import {
  ExtendedConnectIntake,
  attachExtendedConnect,
  validateExtendedConnect,
  type ExtendedConnectDecision,
  type ExtendedConnectRequest,
} from '../../lib/http2/extended-connect.js';
import { RstCode } from '../../lib/http2/rst-codes.js';
import { expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';
import { EventQueue, queueEvents } from '../support/interop-event-queue.js';
import { closeSession, connectHeaders, rawRequest, rawSession, startH2TestServer, type H2TestServer } from './support/h2-test-server.js';
import { TLS_CERT, TLS_KEY } from './support/tls-fixture.js';

const h2Client: WsClientOptions = { http2: true, ca: TLS_CERT, handshakeTimeout: 5_000 };

/** Every client connection a test opened, so a failing test cannot leave one open. */
const opened = new Set<WebSocketConnection>();
async function dial(url: string, options: WsClientOptions = {}): Promise<WebSocketConnection> {
  const conn = await WsClient.connect(url, { ...h2Client, ...options });
  opened.add(conn);
  return conn;
}
afterEach(async () => {
  await Promise.all(
    [...opened].map((conn) => {
      conn.terminate();
      return conn.closed;
    }),
  );
  opened.clear();
});

async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The server-side HTTP/2 stream a connection runs on. */
function streamOf(conn: WebSocketConnection): ServerHttp2Stream | ClientHttp2Stream {
  return conn.transport as ServerHttp2Stream;
}

for (const road of ['stream', 'compat'] as const) {
  const label = road === 'stream' ? "the server's 'stream' event (no 'request' listener)" : "Node's compat 'connect' event (a 'request' listener exists)";

  describe(`RFC 8441 §4–5 extended CONNECT through ${label}`, () => {
    let site: H2TestServer;
    beforeAll(async () => {
      site = await startH2TestServer({
        compat: road === 'compat',
        intake: { handleProtocols: (offered) => (offered.includes('chat.v1') ? 'chat.v1' : false), perMessageDeflate: true },
      });
    });
    afterAll(() => site.close());

    it('answers :status 200 without sec-websocket-accept and the request carries the CONNECT pseudo-headers', async () => {
      const client = await dial(`${site.origin}/rooms/1?x=2`);
      const { request, conn } = await site.connections.next();
      expect(request.headers[':method']).toBe('CONNECT');
      expect(request.headers[':protocol']).toBe('websocket');
      expect(request.path).toBe('/rooms/1?x=2');
      expect(request.pathname).toBe('/rooms/1');
      expect(request.authority).toBe(`127.0.0.1:${site.port}`);
      expect(request.compatRequest === null).toBe(road === 'stream');
      expect(conn.role).toBe('server');
      expect(client.role).toBe('client');
      const sentHeaders = (streamOf(conn) as ServerHttp2Stream & { sentHeaders: Record<string, unknown> }).sentHeaders;
      expect(sentHeaders[':status']).toBe(200);
      expect(sentHeaders['sec-websocket-accept']).toBeUndefined();
    });

    it('echoes text (multi-byte) as text and binary as binary, both ways', async () => {
      const client = await dial(`${site.origin}/echo`);
      await site.connections.next();
      client.send('héllo over h2 ✓');
      expect(await client.receive()).toEqual({ data: 'héllo over h2 ✓', isBinary: false });
      const bytes = Buffer.from([0, 1, 2, 254, 255]);
      client.send(bytes);
      const back = await client.receive();
      expect(back.isBinary).toBe(true);
      expect(Buffer.compare(back.data as Buffer, bytes)).toBe(0);
    });

    it('carries 1 MiB messages both ways through HTTP/2 flow control (64 KiB initial window)', async () => {
      const client = await dial(`${site.origin}/big`);
      await site.connections.next();
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      client.send(big);
      const back = await client.receive();
      expect((back.data as Buffer).equals(big)).toBe(true);
    });

    it('server closes 4000 "bye": client CloseInfo is clean, and both streams end with END_STREAM (rstCode NO_ERROR)', async () => {
      const client = await dial(`${site.origin}/close`);
      const { conn } = await site.connections.next();
      conn.close(4000, 'bye');
      const [serverInfo, clientInfo] = await Promise.all([conn.closed, client.closed]);
      expect(clientInfo).toEqual({ code: 4000, reason: 'bye', wasClean: true });
      // The client's echo carries the code only (RFC 6455 §5.5.1).
      expect(serverInfo).toEqual({ code: 4000, reason: '', wasClean: true });
      expect(streamOf(conn).rstCode).toBe(RstCode.NoError);
      expect(streamOf(client).rstCode).toBe(RstCode.NoError);
    });

    it('client closes 1000 with a reason: the server sees code and reason, clean', async () => {
      const client = await dial(`${site.origin}/close2`);
      const { conn } = await site.connections.next();
      client.close(CloseCode.Normal, 'done ✓');
      expect(await conn.closed).toEqual({ code: CloseCode.Normal, reason: 'done ✓', wasClean: true });
      expect((await client.closed).wasClean).toBe(true);
      expect(streamOf(conn).rstCode).toBe(RstCode.NoError);
    });

    it('selects chat.v1 from ["chat.v2", "chat.v1"]: both sides report it', async () => {
      const client = await dial(`${site.origin}/proto`, { protocols: ['chat.v2', 'chat.v1'] });
      const { conn, request } = await site.connections.next();
      expect(request.protocols).toEqual(['chat.v2', 'chat.v1']);
      expect(conn.protocol).toBe('chat.v1');
      expect(client.protocol).toBe('chat.v1');
    });

    it('answers without a subprotocol when none is acceptable', async () => {
      const client = await dial(`${site.origin}/proto2`, { protocols: ['other'] });
      const { conn } = await site.connections.next();
      expect(conn.protocol).toBe('');
      expect(client.protocol).toBe('');
    });

    it('negotiates permessage-deflate (RFC 7692) and compressible text crosses deflated', async () => {
      const client = await dial(`${site.origin}/deflate`, { perMessageDeflate: true });
      const { conn } = await site.connections.next();
      expect(conn.extensions).toMatch(/^permessage-deflate/);
      expect(client.extensions).toBe(conn.extensions);
      const text = 'compress me '.repeat(10_000);
      let wire = 0;
      streamOf(conn).on('data', (chunk: Buffer) => (wire += chunk.length));
      client.send(text);
      expect(await client.receive()).toEqual({ data: text, isBinary: false });
      expect(wire).toBeLessThan(text.length / 10);
    });

    it("closes the client's session when its connection closes", async () => {
      const client = await dial(`${site.origin}/session`);
      await site.connections.next();
      const session = (streamOf(client) as ClientHttp2Stream).session!;
      const sessionClosed = once(session, 'close');
      client.close();
      await client.closed;
      await sessionClosed;
      expect(session.destroyed).toBe(true);
    });
  });
}

describe('RFC 8441 §3 SETTINGS_ENABLE_CONNECT_PROTOCOL', () => {
  let off: H2TestServer;
  beforeAll(async () => {
    off = await startH2TestServer({ enableConnectProtocol: false });
  });
  afterAll(() => off.close());

  it('WsClient waits for the SETTINGS and fails WSG_ERR_HANDSHAKE_H2_NO_CONNECT_PROTOCOL without sending a CONNECT', async () => {
    let streams = 0;
    off.server.on('stream', () => streams++);
    const error = await rejectionOf(dial(`${off.origin}/`));
    expect(error).toBeInstanceOf(H2HandshakeError);
    expect(error).toBeInstanceOf(HandshakeError);
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_H2_NO_CONNECT_PROTOCOL');
    expect(error.status).toBe(0);
    expect(streams).toBe(0);
  });

  it('a raw extended CONNECT sent anyway is reset with PROTOCOL_ERROR, and the server keeps serving', async () => {
    const session = await rawSession(off.port);
    expect(session.remoteSettings.enableConnectProtocol).toBe(false);
    const answer = await rawRequest(session, connectHeaders(off.port));
    expect(answer.status).toBeNull();
    expect(answer.rstCode).toBe(RstCode.ProtocolError);
    expect(answer.errorCode).toBe('ERR_HTTP2_STREAM_ERROR');
    await closeSession(session);
    const again = await rejectionOf(dial(`${off.origin}/`));
    expectWsgError(again, 'WSG_ERR_HANDSHAKE_H2_NO_CONNECT_PROTOCOL');
  });
});

describe('RFC 8441 §4 / RFC 6455 §4.2.1 bad extended CONNECTs get a real HTTP/2 answer, never a crash', () => {
  let site: H2TestServer;
  beforeAll(async () => {
    site = await startH2TestServer({ intake: { path: '/ws' } });
  });
  afterAll(() => site.close());

  /** Sends one raw CONNECT; the answer the client saw, and the error the intake reported. */
  async function ask(headers: Record<string, string>): Promise<{ status: number | null; body: string; headers: Record<string, unknown> | null; error: HandshakeError }> {
    const session = await rawSession(site.port);
    const answer = await rawRequest(session, headers);
    await closeSession(session);
    const { error } = await site.rejections.next();
    return { status: answer.status, body: answer.body, headers: answer.headers as Record<string, unknown> | null, error };
  }

  it('answers 400 WSG_ERR_H2_CONNECT_PROTOCOL to :protocol other than websocket', async () => {
    const answer = await ask(connectHeaders(site.port, '/ws', { ':protocol': 'webtransport' }) as Record<string, string>);
    expect(answer.status).toBe(400);
    expect(expectWsgError(answer.error, 'WSG_ERR_H2_CONNECT_PROTOCOL')).toMatchObject({ status: answer.status });
    expect(answer.body).toMatch(/webtransport/);
  });

  it('answers 400 WSG_ERR_H2_CONNECT_VERSION with sec-websocket-version: 13 when the version is missing', async () => {
    const headers = connectHeaders(site.port, '/ws') as Record<string, string>;
    delete headers['sec-websocket-version'];
    const answer = await ask(headers);
    expect(answer.status).toBe(400);
    expect(expectWsgError(answer.error, 'WSG_ERR_H2_CONNECT_VERSION')).toMatchObject({ status: answer.status });
    expect(answer.headers!['sec-websocket-version']).toBe('13');
  });

  it('answers 400 WSG_ERR_H2_CONNECT_VERSION to version 8', async () => {
    const answer = await ask(connectHeaders(site.port, '/ws', { 'sec-websocket-version': '8' }) as Record<string, string>);
    expect(answer.status).toBe(400);
    expect(expectWsgError(answer.error, 'WSG_ERR_H2_CONNECT_VERSION')).toMatchObject({ status: answer.status });
  });

  it('answers 405 WSG_ERR_H2_CONNECT_METHOD to a plain CONNECT (no :protocol)', async () => {
    const answer = await ask({ ':method': 'CONNECT', ':authority': `127.0.0.1:${site.port}` });
    expect(answer.status).toBe(405);
    expect(expectWsgError(answer.error, 'WSG_ERR_H2_CONNECT_METHOD')).toMatchObject({ status: answer.status });
  });

  it('answers 404 WSG_ERR_H2_CONNECT_PATH for a path the intake does not serve', async () => {
    const answer = await ask(connectHeaders(site.port, '/elsewhere') as Record<string, string>);
    expect(answer.status).toBe(404);
    expect(expectWsgError(answer.error, 'WSG_ERR_H2_CONNECT_PATH')).toMatchObject({ status: answer.status });
  });

  it('answers 400 WSG_ERR_HANDSHAKE_PROTOCOL to a malformed sec-websocket-protocol', async () => {
    const answer = await ask(connectHeaders(site.port, '/ws', { 'sec-websocket-protocol': 'a, a' }) as Record<string, string>);
    expect(answer.status).toBe(400);
    expect(expectWsgError(answer.error, 'WSG_ERR_HANDSHAKE_PROTOCOL')).toMatchObject({ status: answer.status });
  });

  it('answers 400 WSG_ERR_HANDSHAKE_EXTENSION to a malformed sec-websocket-extensions', async () => {
    const answer = await ask(connectHeaders(site.port, '/ws', { 'sec-websocket-extensions': 'permessage-deflate; ="x"' }) as Record<string, string>);
    expect(answer.status).toBe(400);
    expect(expectWsgError(answer.error, 'WSG_ERR_HANDSHAKE_EXTENSION')).toMatchObject({ status: answer.status });
  });

  it('validateExtendedConnect() throws Http2HandshakeError WSG_ERR_H2_CONNECT_PATH with status 400 for a :path that is not origin-form', () => {
    const error = expectThrowsWsgError(
      () => validateExtendedConnect({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': 'x', 'sec-websocket-version': '13' }),
      'WSG_ERR_H2_CONNECT_PATH',
    );
    expect(error).toBeInstanceOf(Http2HandshakeError);
    expect((error as Http2HandshakeError).status).toBe(400);
  });
});

describe('accept hook: the router decides before the 200', () => {
  let site: H2TestServer;
  let release: (() => void) | null = null;
  let slowStream: ServerHttp2Stream | null = null;
  beforeAll(async () => {
    site = await startH2TestServer({
      intake: {
        accept: async (request): Promise<ExtendedConnectDecision> => {
          switch (request.pathname) {
            case '/deny':
              return { accept: false, status: 401, headers: { 'www-authenticate': 'Bearer' }, body: 'token required' };
            case '/throw':
              throw new Error('router bug');
            case '/unoffered':
              return { accept: true, protocol: 'not.offered' };
            case '/slow':
              slowStream = request.stream;
              await new Promise<void>((resolve) => (release = resolve));
              return { accept: true };
            case '/limits':
              return { accept: true, options: { maxMessageSize: 16 } };
            case '/bad-deflate':
              return { accept: true, perMessageDeflate: { serverMaxWindowBits: 7 } };
            case '/deny302':
              return { accept: false, status: 302, headers: { location: '/elsewhere' } };
            case '/deny200':
              return { accept: false, status: 200 };
            case '/bad-deny-headers':
              return { accept: false, status: 403, headers: { connection: 'close' } };
            case '/bad-accept-headers':
              // An HTTP/1.1 habit: HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2).
              return { accept: true, headers: { upgrade: 'websocket' } };
            case '/hook-answered':
              // A hook that answers the stream itself: Node refuses the intake's 200 after it.
              request.stream.respond({ ':status': 200, 'x-answered-by': 'hook' });
              return { accept: true };
            default:
              return { accept: true, protocol: request.protocols[0] ?? '', headers: { 'x-room': request.pathname } };
          }
        },
      },
    });
  });
  afterAll(() => site.close());

  it('accepts with a subprotocol and extra headers', async () => {
    const client = await dial(`${site.origin}/room`, { protocols: ['p1'] });
    const { conn } = await site.connections.next();
    expect(client.protocol).toBe('p1');
    expect((streamOf(conn) as ServerHttp2Stream & { sentHeaders: Record<string, unknown> }).sentHeaders['x-room']).toBe('/room');
  });

  it('a deny answers its status, headers and body; the client fails WSG_ERR_HANDSHAKE_H2_STATUS with status 401', async () => {
    const error = await rejectionOf(dial(`${site.origin}/deny`));
    expect(error).toBeInstanceOf(H2HandshakeError);
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_H2_STATUS');
    expect(error.status).toBe(401);
    const { error: rejected } = await site.rejections.next();
    expectWsgError(rejected, 'WSG_ERR_HANDSHAKE_DENIED');
    expect(rejected.status).toBe(401);
    expect(rejected.headers).toEqual({ 'www-authenticate': 'Bearer' });
  });

  it('a throwing hook answers 500 WSG_ERR_H2_ACCEPT_FAILED with the error as cause', async () => {
    const error = await rejectionOf(dial(`${site.origin}/throw`));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_H2_STATUS');
    expect(error.status).toBe(500);
    const { error: rejected } = await site.rejections.next();
    expectWsgError(rejected, 'WSG_ERR_H2_ACCEPT_FAILED');
    expect(rejected.status).toBe(500);
    expect((rejected.cause as Error).message).toBe('router bug');
  });

  it('a decision with bad perMessageDeflate options answers 500 WSG_ERR_H2_ACCEPT_FAILED, the option error as cause', async () => {
    const error = await rejectionOf(dial(`${site.origin}/bad-deflate`, { perMessageDeflate: true }));
    expect(error.status).toBe(500);
    const { error: rejected } = await site.rejections.next();
    expectWsgError(rejected, 'WSG_ERR_H2_ACCEPT_FAILED');
    expectWsgError(rejected.cause, 'WSG_ERR_INVALID_OPTION');
  });

  it('a subprotocol the client did not offer answers 500 WSG_ERR_H2_ACCEPT_FAILED', async () => {
    const error = await rejectionOf(dial(`${site.origin}/unoffered`, { protocols: ['a'] }));
    expect(error.status).toBe(500);
    expectWsgError((await site.rejections.next()).error, 'WSG_ERR_H2_ACCEPT_FAILED');
  });

  it('a deny with a 3xx status is outside DENY_STATUS (400–599, as the gateway\'s deny()): answered 500 WSG_ERR_H2_ACCEPT_FAILED', async () => {
    const error = await rejectionOf(dial(`${site.origin}/deny302`));
    expect(error.status).toBe(500);
    expect(DENY_STATUS).toEqual({ min: 400, max: 599 });
    expectWsgError((await site.rejections.next()).error, 'WSG_ERR_H2_ACCEPT_FAILED');
  });

  it('a deny with a 2xx status would read as success: answered 500 WSG_ERR_H2_ACCEPT_FAILED instead', async () => {
    const error = await rejectionOf(dial(`${site.origin}/deny200`));
    expect(error.status).toBe(500);
    expectWsgError((await site.rejections.next()).error, 'WSG_ERR_H2_ACCEPT_FAILED');
  });

  it('a deny carrying a header HTTP/2 forbids is answered with RST_STREAM INTERNAL_ERROR, reported WSG_ERR_H2_INVALID_HEADERS', async () => {
    const error = await rejectionOf(dial(`${site.origin}/bad-deny-headers`));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_H2_RESET');
    expect(error.rstCode).toBe(RstCode.InternalError);
    const { error: rejected } = await site.rejections.next();
    expectWsgError(rejected, 'WSG_ERR_H2_INVALID_HEADERS');
    expect(rejected.status).toBe(403);
    expect((rejected.cause as NodeJS.ErrnoException).code).toBe('ERR_HTTP2_INVALID_CONNECTION_HEADERS');
  });

  it('an accept whose headers Node refuses is answered 500 instead of 200, reported WSG_ERR_H2_INVALID_HEADERS', async () => {
    const error = await rejectionOf(dial(`${site.origin}/bad-accept-headers`));
    expect(error.status).toBe(500);
    const { error: rejected } = await site.rejections.next();
    expectWsgError(rejected, 'WSG_ERR_H2_INVALID_HEADERS');
    expect((rejected.cause as NodeJS.ErrnoException).code).toBe('ERR_HTTP2_INVALID_CONNECTION_HEADERS');
  });

  it('a stream the hook answered itself cannot take the 200: reported WSG_ERR_H2_RESPOND_FAILED (status 500, cause ERR_HTTP2_HEADERS_SENT), no connection, the stream reset INTERNAL_ERROR', async () => {
    const session = await rawSession(site.port);
    try {
      const stream = session.request(connectHeaders(site.port, '/hook-answered'), { endStream: false });
      stream.on('error', () => undefined);
      // Listeners, not once(): the reset follows the hook's headers at once, as a stream 'error'.
      const response = new Promise<IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
      const reset = new Promise<number | undefined>((resolve) => stream.once('close', () => resolve(stream.rstCode)));
      const headers = await response;
      const { error: rejected, request } = await site.rejections.next();
      expect(expectWsgError(rejected, 'WSG_ERR_H2_RESPOND_FAILED')).toMatchObject({ status: 500 });
      expect((rejected.cause as NodeJS.ErrnoException).code).toBe('ERR_HTTP2_HEADERS_SENT');
      expect(request?.pathname).toBe('/hook-answered');
      // The client saw the hook's answer and nothing of the intake's; no engine runs on the stream.
      expect([headers[':status'], headers['x-answered-by']]).toEqual([200, 'hook']);
      expect(site.intake.clients.size).toBe(0);
      // Without an engine nobody would end the stream: the intake resets it instead of leaving it open.
      expect(await reset).toBe(RstCode.InternalError);
    } finally {
      await closeSession(session);
    }
  });

  it('per-connection options from the decision apply: maxMessageSize 16 closes 1009 at 17 bytes', async () => {
    const client = await dial(`${site.origin}/limits`);
    const { conn } = await site.connections.next();
    client.send('x'.repeat(16));
    expect(await client.receive()).toEqual({ data: 'x'.repeat(16), isBinary: false });
    client.send('x'.repeat(17));
    const info = await conn.closed;
    expect(info.code).toBe(CloseCode.MessageTooBig);
    expectWsgError(info.error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    expect((await client.closed).code).toBe(CloseCode.MessageTooBig);
  });

  it('a client that resets while an async hook runs: no 200, no connection, no crash', async () => {
    const session = await rawSession(site.port);
    const stream = session.request(connectHeaders(site.port, '/slow'), { endStream: false });
    while (release === null) await new Promise((resolve) => setImmediate(resolve));
    const serverSide = slowStream!;
    stream.close(h2.NGHTTP2_CANCEL);
    // The hook finishes only once the server has seen the reset.
    await new Promise((resolve) => serverSide.once('close', resolve));
    release!();
    release = null;
    await closeSession(session);
    // The next request is served normally, so the intake is still healthy.
    const client = await dial(`${site.origin}/after`);
    const { request } = await site.connections.next();
    expect(request.pathname).toBe('/after');
    expect(client.isOpen).toBe(true);
  });
});

describe('RFC 8441 §5 stream reset closes the WebSocket with 1006', () => {
  let site: H2TestServer;
  beforeAll(async () => {
    site = await startH2TestServer();
  });
  afterAll(() => site.close());

  it('a client that aborts its stream (END_STREAM + RST_STREAM CANCEL, no close frame): the server connection closes 1006, not clean', async () => {
    const session = await rawSession(site.port);
    const stream = session.request(connectHeaders(site.port, '/'), { endStream: false });
    await once(stream, 'response');
    const { conn } = await site.connections.next();
    stream.close(RstCode.Cancel);
    const info = await conn.closed;
    expect(info.code).toBe(CloseCode.Abnormal);
    expect(info.wasClean).toBe(false);
    await closeSession(session);
  });

  it('the server session going away closes the client connection 1006', async () => {
    const client = await dial(`${site.origin}/`);
    await site.connections.next();
    for (const s of site.sessions) s.destroy();
    const info = await client.closed;
    expect(info.code).toBe(CloseCode.Abnormal);
    expect(info.wasClean).toBe(false);
  });

  it('a reset (RST_STREAM CANCEL, what terminate() sends) closes the peer 1006 at once even while its reading is paused', async () => {
    const client = await dial(`${site.origin}/`, { maxReceiveQueue: 1 });
    const { conn } = await site.connections.next();
    // Nobody calls receive(): the client's queue fills and the engine pauses the stream.
    for (let i = 0; i < 4; i++) conn.send(Buffer.alloc(64 * 1024, i));
    while (!(client.transport as ClientHttp2Stream).isPaused()) await new Promise((resolve) => setImmediate(resolve));
    conn.terminate();
    expect(await client.closed).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false });
  });

  // Node keeps a stream reset with NO_ERROR readable until its buffered data is read, and a
  // paused engine reads nothing more: only the 'aborted' listener (websocket-connection.ts)
  // ends such a connection.
  // Mutation caught: socket.once('aborted', socketOnAborted) removed from WebSocketConnection's
  // constructor (lib/frames/websocket-connection.ts): the client never closes.
  it('a peer reset with RST_STREAM NO_ERROR while reading is paused (unread data buffered) closes the connection 1006 at once', async () => {
    const client = await dial(`${site.origin}/`, { maxReceiveQueue: 1 });
    const { conn } = await site.connections.next();
    for (let i = 0; i < 4; i++) conn.send(Buffer.alloc(64 * 1024, i));
    while (!(client.transport as ClientHttp2Stream).isPaused()) await new Promise((resolve) => setImmediate(resolve));
    const serverStream = conn.transport as ServerHttp2Stream;
    const started = performance.now();
    serverStream.close(RstCode.NoError);
    const deadline = new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 2_000).unref());
    expect(await Promise.race([client.closed, deadline])).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(serverStream.rstCode).toBe(RstCode.NoError);
    expect(await conn.closed).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false });
  });

  // Node 20's client stream reports rstCode 0 for a received RST_STREAM CANCEL, so the code is read
  // on the stream that sent it.
  it('terminate() resets the stream with RST_STREAM CANCEL, the HTTP/2 form of a TCP reset (RFC 8441 §5)', async () => {
    const client = await dial(`${site.origin}/`);
    const { conn } = await site.connections.next();
    conn.terminate();
    await client.closed;
    await conn.closed;
    expect((conn.transport as unknown as { rstCode: number }).rstCode).toBe(RstCode.Cancel);
  });

  it('terminate() on the server resets the stream; the client sees 1006', async () => {
    const client = await dial(`${site.origin}/`);
    const { conn } = await site.connections.next();
    conn.terminate();
    expect((await client.closed).code).toBe(CloseCode.Abnormal);
  });
});

describe('limit maxSendQueue over HTTP/2 flow control', () => {
  it('counts bytes held back by the peer\'s flow-control window: send() fails WSG_ERR_SEND_QUEUE_FULL once bufferedAmount reaches maxSendQueue', async () => {
    const maxSendQueue = 1024 * 1024;
    const site = await startH2TestServer({ echo: false, intake: { maxSendQueue, sendQueuePolicy: 'error' } });
    const client = await dial(`${site.origin}/`);
    try {
      const { conn } = await site.connections.next();
      // The client stops reading: its window (64 KiB) closes and the server's stream buffers.
      (client.transport as ClientHttp2Stream).pause();
      const chunk = Buffer.alloc(128 * 1024);
      const frameSize = chunk.length + 10;
      let error: any = null;
      for (let i = 0; i < 64 && error === null; i++) {
        try {
          conn.send(chunk);
        } catch (e) {
          error = e;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      expectWsgError(error, 'WSG_ERR_SEND_QUEUE_FULL');
      // Refused at the limit, after at most one admitted frame past it.
      expect(conn.bufferedAmount).toBeGreaterThanOrEqual(maxSendQueue);
      expect(conn.bufferedAmount).toBeLessThan(maxSendQueue + frameSize);
      expect((conn.transport as ServerHttp2Stream).writableLength).toBeGreaterThan(maxSendQueue / 2);
    } finally {
      // A client that does not read cannot finish a close handshake: drop it first.
      client.terminate();
      await site.close();
    }
  });
});

describe('client road over HTTP/2: answers it refuses', () => {
  it('fails WSG_ERR_HANDSHAKE_PROTOCOL when a 200 names a subprotocol that was not offered', async () => {
    const site = await startH2TestServer({ intake: { accept: () => ({ accept: true }) } });
    // A misbehaving server: answer before the intake does.
    site.intake.detach();
    site.server.on('stream', (stream: ServerHttp2Stream) => stream.respond({ ':status': 200, 'sec-websocket-protocol': 'evil' }));
    try {
      const error = await rejectionOf(dial(`${site.origin}/`, { protocols: ['good'] }));
      expectWsgError(error, 'WSG_ERR_HANDSHAKE_PROTOCOL');
    } finally {
      await site.close();
    }
  });

  it('fails WSG_ERR_HANDSHAKE_H2_RESET with the RST code when the server resets the CONNECT', async () => {
    const site = await startH2TestServer();
    site.intake.detach();
    site.server.on('stream', (stream: ServerHttp2Stream) => {
      // Node reports our own non-CANCEL reset as the stream's error.
      stream.on('error', () => undefined);
      stream.close(RstCode.RefusedStream);
    });
    try {
      const error = await rejectionOf(dial(`${site.origin}/`));
      expect(error).toBeInstanceOf(H2HandshakeError);
      expectWsgError(error, 'WSG_ERR_HANDSHAKE_H2_RESET');
      expect(error.rstCode).toBe(RstCode.RefusedStream);
    } finally {
      await site.close();
    }
  });

  it('fails WSG_ERR_HANDSHAKE_H2_SESSION (status 0, no rstCode) when the server hangs up before its SETTINGS, without waiting for handshakeTimeout', async () => {
    const sockets = new Set<Socket>();
    const hangUp = createNetServer((socket) => {
      sockets.add(socket);
      socket.end();
    });
    hangUp.listen(0, '127.0.0.1');
    await once(hangUp, 'listening');
    try {
      const started = performance.now();
      // ws: with http2 is prior-knowledge h2c: no TLS, the session starts on the TCP connection.
      const error = await rejectionOf(dial(`ws://127.0.0.1:${(hangUp.address() as AddressInfo).port}/`, { handshakeTimeout: 5_000 }));
      expect(error).toBeInstanceOf(H2HandshakeError);
      expectWsgError(error, 'WSG_ERR_HANDSHAKE_H2_SESSION');
      expect([error.status, error.rstCode]).toEqual([0, null]);
      expect(performance.now() - started).toBeLessThan(2_500);
      expect(sockets.size).toBe(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => hangUp.close(() => resolve()));
    }
  });

  it('fails WSG_ERR_HANDSHAKE_TIMEOUT after handshakeTimeout when the server never answers', async () => {
    const site = await startH2TestServer();
    site.intake.detach();
    site.server.on('stream', () => undefined);
    try {
      const started = performance.now();
      const error = await rejectionOf(dial(`${site.origin}/`, { handshakeTimeout: 150 }));
      const elapsed = performance.now() - started;
      expectWsgError(error, 'WSG_ERR_HANDSHAKE_TIMEOUT');
      expect(elapsed).toBeGreaterThanOrEqual(0.9 * 150);
      expect(elapsed).toBeLessThan(150 + 1_000);
    } finally {
      await site.close();
    }
  });

  it('fails WSG_ERR_IO when the TLS server does not offer h2 in ALPN', async () => {
    const https = createHttpsServer({ key: TLS_KEY, cert: TLS_CERT }, (_req, res) => res.end());
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    try {
      const error = await rejectionOf(dial(`wss://127.0.0.1:${(https.address() as AddressInfo).port}/`));
      expect(error).toBeInstanceOf(IoError);
      expectWsgError(error, 'WSG_ERR_IO');
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
    } finally {
      await new Promise<void>((resolve) => https.close(() => resolve()));
    }
  });

  it('fails WSG_ERR_IO when the certificate is not trusted', async () => {
    const site = await startH2TestServer();
    try {
      const error = await rejectionOf(WsClient.connect(`${site.origin}/`, { http2: true }));
      expectWsgError(error, 'WSG_ERR_IO');
      expect((error.cause as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      await site.close();
    }
  });
});

describe('attachExtendedConnect(): RFC 8441 on an http2 server the application already runs', () => {
  // Mutation caught: attachExtendedConnect() dropping its options (new ExtendedConnectIntake(server)):
  // the subprotocol is not chosen and /elsewhere is accepted instead of answered 404.
  it('completes a WebSocket through the compat connect event while the request handler keeps serving GETs; its options apply', async () => {
    const server = createSecureServer({ key: TLS_KEY, cert: TLS_CERT, settings: { enableConnectProtocol: true } });
    server.on('request', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`page ${req.url}`);
    });
    const opened: Http2Session[] = [];
    server.on('session', (session: Http2Session) => opened.push(session));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const intake = attachExtendedConnect(server, { path: '/ws', handleProtocols: (offered) => (offered.includes('chat') ? 'chat' : false) });
    const connections: EventQueue<{ conn: WebSocketConnection; request: ExtendedConnectRequest }> = queueEvents(intake, 'connection', (conn: WebSocketConnection, request: ExtendedConnectRequest) => ({ conn, request }));
    const rejections = queueEvents(intake, 'rejected', (error: HandshakeError) => error);
    try {
      expect(intake).toBeInstanceOf(ExtendedConnectIntake);
      const client = await dial(`wss://127.0.0.1:${port}/ws?room=1`, { protocols: ['other', 'chat'] });
      const { conn, request } = await connections.next();
      expect(request.compatRequest).not.toBeNull();
      expect(request.path).toBe('/ws?room=1');
      expect([client.protocol, conn.protocol]).toEqual(['chat', 'chat']);
      conn.on('message', (data: string | Buffer) => conn.send(data));
      client.send('über h2 ✓');
      expect(await client.receive()).toEqual({ data: 'über h2 ✓', isBinary: false });

      const session = await rawSession(port);
      const page = await rawRequest(session, { ':method': 'GET', ':path': '/index' }, true);
      expect([page.status, page.body]).toEqual([200, 'page /index']);
      const elsewhere = await rawRequest(session, connectHeaders(port, '/elsewhere'));
      expect(elsewhere.status).toBe(404);
      expect(expectWsgError(await rejections.next(), 'WSG_ERR_H2_CONNECT_PATH')).toMatchObject({ status: 404 });
      await closeSession(session);

      client.close(CloseCode.Normal);
      expect(await conn.closed).toEqual({ code: CloseCode.Normal, reason: '', wasClean: true });
      expect((await client.closed).wasClean).toBe(true);
    } finally {
      await intake.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of opened) session.destroy();
      await closed;
    }
  });
});

describe('ExtendedConnectIntake options', () => {
  it('throws WSG_ERR_H2_INVALID_OPTION when both accept and handleProtocols are given', () => {
    const error = expectThrowsWsgError(() => new ExtendedConnectIntake(null, { accept: () => ({ accept: true }), handleProtocols: () => false }), 'WSG_ERR_H2_INVALID_OPTION');
    expect(error.message).toMatch(/either `accept` or `handleProtocols`/);
  });

  it('throws WSG_ERR_H2_INVALID_OPTION for a path that is not origin-form', () => {
    const error = expectThrowsWsgError(() => new ExtendedConnectIntake(null, { path: 'ws' }), 'WSG_ERR_H2_INVALID_OPTION');
    expect(error.message).toMatch(/must start with '\/'/);
  });

  it('answers 503 WSG_ERR_H2_SHUTTING_DOWN once closing, and close() ends open connections with 1001', async () => {
    const site = await startH2TestServer();
    const client = await dial(`${site.origin}/`);
    await site.connections.next();
    const closing = site.intake.close();
    expect((await client.closed).code).toBe(CloseCode.GoingAway);
    await closing;
    // Detached now; a router that still hands it streams gets 503s.
    site.server.once('stream', (stream: ServerHttp2Stream, headers) => site.intake.handleStream(stream, headers));
    const session = await rawSession(site.port);
    const answer = await rawRequest(session, connectHeaders(site.port, '/late'));
    await closeSession(session);
    expect(answer.status).toBe(503);
    expect(expectWsgError((await site.rejections.next()).error, 'WSG_ERR_H2_SHUTTING_DOWN')).toMatchObject({ status: 503 });
    await site.close();
  });
});
