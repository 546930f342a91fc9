import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket, { WebSocketServer, type ClientOptions, type PerMessageDeflateOptions as WsDeflateOptions } from 'ws';
import { CloseCode, WsClient, type CloseInfo, type WebSocketConnection, type WsClientOptions } from '../../lib/index.js';
import { startEchoServer, socketOf, wireBytes, type EchoServer } from '../support/interop-echo-server.js';
import { queueEvents, type EventQueue } from '../support/interop-event-queue.js';
import { compressibleText, noiseBytes, noiseText, repeatedNoise } from '../support/interop-payloads.js';
import { expectWsgError } from '../support/expect-wsg-error.js';

const MiB = 1024 * 1024;

interface WsMessage {
  data: Buffer;
  isBinary: boolean;
}

interface WsClose {
  code: number;
  reason: string;
}

/** A ws 8 client with its inbox, close outcome and the 101 response headers it saw. */
interface WsPeer {
  ws: WebSocket;
  inbox: EventQueue<WsMessage>;
  pongs: EventQueue<Buffer>;
  closed: Promise<WsClose>;
  responseHeaders: IncomingMessage['headers'];
  /** Our TCP source port: how the server finds its side of this connection. */
  localPort: number;
}

const openPeers = new Set<WebSocket>();

function trackClose(ws: WebSocket): Promise<WsClose> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
}

/** Opens a ws client and waits for 'open'; rejects with ws's error if the handshake fails. */
async function connectWs(url: string, protocols: string[] = [], options: ClientOptions = {}): Promise<WsPeer> {
  const ws = new WebSocket(url, protocols, options);
  openPeers.add(ws);
  const closed = trackClose(ws);
  closed.then(() => openPeers.delete(ws), () => undefined);
  let responseHeaders: IncomingMessage['headers'] = {};
  let localPort = 0;
  ws.once('upgrade', (res: IncomingMessage) => {
    responseHeaders = res.headers;
    localPort = res.socket.localPort!;
  });
  const inbox = queueEvents(ws, 'message', (data: Buffer, isBinary: boolean) => ({ data, isBinary }));
  const pongs = queueEvents(ws, 'pong', (data: Buffer) => data);
  await once(ws, 'open');
  return { ws, inbox, pongs, closed, responseHeaders, localPort };
}

async function wsEcho(peer: WsPeer, data: string | Buffer): Promise<WsMessage> {
  peer.ws.send(data);
  return peer.inbox.next();
}

afterEach(async () => {
  // readyState is CLOSED only once 'close' has been emitted; any other peer is awaited to it.
  const closing = [...openPeers].filter((ws) => ws.readyState !== WebSocket.CLOSED).map((ws) => {
    const closed = once(ws, 'close');
    ws.terminate();
    return closed;
  });
  openPeers.clear();
  await Promise.all(closing);
});

describe('ws 8 client → wsgate WsServer', () => {
  let echo: EchoServer;

  beforeAll(async () => {
    echo = await startEchoServer({
      handleProtocols: (offered) => (offered.includes('chat.v1') ? 'chat.v1' : false),
    });
  });
  afterAll(() => echo.close());

  describe('messages', () => {
    it('echoes text, multi-byte UTF-8 included, as text', async () => {
      const peer = await connectWs(echo.url);
      const text = 'héllo wsgate ✓ 🚀';
      const reply = await wsEcho(peer, text);
      expect(reply.isBinary).toBe(false);
      expect(reply.data.toString('utf8')).toBe(text);
    });

    it.each([0, 125, 126, 65535, 65536, MiB])('echoes a %i B binary message byte for byte', async (size) => {
      const peer = await connectWs(echo.url, [], { maxPayload: 2 * MiB });
      const payload = noiseBytes(size, size + 1);
      const reply = await wsEcho(peer, payload);
      expect(reply.isBinary).toBe(true);
      expect(reply.data.length).toBe(size);
      expect(reply.data.equals(payload)).toBe(true);
    });

    it('keeps order across text and binary messages sent in one burst', async () => {
      const peer = await connectWs(echo.url);
      const sent: Array<string | Buffer> = ['one', noiseBytes(300, 3), 'three', noiseBytes(70_000, 4), 'five'];
      for (const m of sent) peer.ws.send(m);
      for (const m of sent) {
        const reply = await peer.inbox.next();
        expect(reply.isBinary).toBe(typeof m !== 'string');
        expect(reply.data.equals(typeof m === 'string' ? Buffer.from(m) : m)).toBe(true);
      }
    });
    it('reassembles a text message ws sends in three fragments, a code point split across them, a ping in between', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      const pinged = once(conn, 'ping');
      const bytes = Buffer.from('a€b', 'utf8'); // € is e2 82 ac
      peer.ws.send(bytes.subarray(0, 2), { binary: false, fin: false });
      peer.ws.ping('mid-message');
      peer.ws.send(bytes.subarray(2, 3), { binary: false, fin: false });
      peer.ws.send(bytes.subarray(3), { binary: false, fin: true });
      expect(((await pinged)[0] as Buffer).toString()).toBe('mid-message');
      const reply = await peer.inbox.next();
      expect(reply.isBinary).toBe(false);
      expect(reply.data.toString('utf8')).toBe('a€b');
    });
  });

  describe('ping and pong', () => {
    it('answers a ws ping with a pong carrying the same payload, and emits ping', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      const pinged = once(conn, 'ping');
      peer.ws.ping('from ws');
      expect((await peer.pongs.next()).toString()).toBe('from ws');
      expect(((await pinged)[0] as Buffer).toString()).toBe('from ws');
    });

    it('emits pong when ws answers our ping, with our payload', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      const ponged = once(conn, 'pong');
      conn.ping(Buffer.from([1, 2, 3, 250]));
      expect([...((await ponged)[0] as Buffer)]).toEqual([1, 2, 3, 250]);
    });
  });

  describe('close', () => {
    it('ws closes 4000 with a reason: our CloseInfo has both and is clean; ws sees 4000 echoed', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      peer.ws.close(4000, 'client bye');
      const info = await conn.closed;
      expect(info).toEqual({ code: 4000, reason: 'client bye', wasClean: true });
      expect((await peer.closed).code).toBe(4000);
    });

    it('we close 4001 with a reason: ws sees both; our CloseInfo is clean', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      conn.close(4001, 'server bye ✓');
      expect(await peer.closed).toEqual({ code: 4001, reason: 'server bye ✓' });
      const info = await conn.closed;
      expect(info.code).toBe(4001);
      expect(info.wasClean).toBe(true);
    });

    it('carries a 123 B reason (the maximum) from ws to us whole', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      const reason = 'é'.repeat(61) + 'x'; // 123 bytes of UTF-8
      peer.ws.close(4123, reason);
      expect(await conn.closed).toEqual({ code: 4123, reason, wasClean: true });
    });

    it('carries a 123 B reason (the maximum) from us to ws whole', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      const reason = 'x' + '€'.repeat(40) + 'yz'; // 123 bytes of UTF-8
      conn.close(CloseCode.Normal, reason);
      expect(await peer.closed).toEqual({ code: CloseCode.Normal, reason });
    });

    it('ws closes without a status: we report 1005 and ws gets 1005 back', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      peer.ws.close();
      expect(await conn.closed).toEqual({ code: CloseCode.NoStatus, reason: '', wasClean: true });
      expect((await peer.closed).code).toBe(CloseCode.NoStatus);
    });

    it('ws terminates the TCP connection: our CloseInfo is 1006, not clean', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      peer.ws.terminate();
      const info = await conn.closed;
      expect(info.code).toBe(CloseCode.Abnormal);
      expect(info.wasClean).toBe(false);
    });

    it('WsServer.close() closes a ws client with 1001 and its reason', async () => {
      const own = await startEchoServer();
      const peer = await connectWs(own.url);
      await own.connectionFrom(peer.localPort);
      await own.close();
      expect(await peer.closed).toEqual({ code: CloseCode.GoingAway, reason: 'server shutting down' });
    });
  });

  describe('limits and errors, as ws sees them', () => {
    it('accepts exactly maxMessageSize (1 MiB) and closes 1009 WSG_ERR_MESSAGE_TOO_LARGE at 1 B over; ws sees 1009', async () => {
      const peer = await connectWs(echo.url, [], { maxPayload: 2 * MiB });
      const conn = await echo.connectionFrom(peer.localPort);
      expect((await wsEcho(peer, Buffer.alloc(MiB))).data.length).toBe(MiB);
      peer.ws.send(Buffer.alloc(MiB + 1));
      expect((await peer.closed).code).toBe(CloseCode.MessageTooBig);
      const info = await conn.closed;
      expect(info.code).toBe(CloseCode.MessageTooBig);
      expectWsgError(info.error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    });

    it('closes 1007 WSG_ERR_INVALID_UTF8 when ws sends invalid UTF-8 as text; ws sees 1007', async () => {
      const peer = await connectWs(echo.url);
      const conn = await echo.connectionFrom(peer.localPort);
      peer.ws.send(Buffer.from([0x61, 0xc3, 0x28]), { binary: false });
      expect((await peer.closed).code).toBe(CloseCode.InvalidPayload);
      const info = await conn.closed;
      expect(info.code).toBe(CloseCode.InvalidPayload);
      expectWsgError(info.error, 'WSG_ERR_INVALID_UTF8', CloseCode.InvalidPayload);
    });
  });

  describe('handshake refusals, as ws sees them', () => {
    let pathOnly: EchoServer;
    beforeAll(async () => {
      pathOnly = await startEchoServer({ path: '/only' });
    });
    afterAll(() => pathOnly.close());

    /** ws's 'unexpected-response': the HTTP status and headers we answered instead of 101. */
    async function refusal(ws: WebSocket): Promise<{ status: number; headers: IncomingMessage['headers'] }> {
      openPeers.add(ws);
      const answer = new Promise<{ status: number; headers: IncomingMessage['headers'] }>((resolve) =>
        ws.once('unexpected-response', (_req: unknown, res: IncomingMessage) => {
          resolve({ status: res.statusCode!, headers: res.headers });
          res.resume();
          ws.terminate();
        }),
      );
      // Terminating while CONNECTING is how ws gives up; it reports that as this error.
      const [error] = (await once(ws, 'error')) as [Error];
      expect(error.message).toBe('WebSocket was closed before the connection was established');
      return answer;
    }

    it('answers 404 to an upgrade on another path', async () => {
      expect((await refusal(new WebSocket(pathOnly.url + '/other'))).status).toBe(404);
      const peer = await connectWs(pathOnly.url + '/only?x=1');
      expect(peer.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('answers 426 with Sec-WebSocket-Version: 13 to ws speaking version 8', async () => {
      const answer = await refusal(new WebSocket(echo.url, { protocolVersion: 8 }));
      expect(answer.status).toBe(426);
      expect(answer.headers['sec-websocket-version']).toBe('13');
    });
  });

  describe('subprotocols', () => {
    it('selects chat.v1 from ["chat.v2", "chat.v1"]; both sides report it', async () => {
      const peer = await connectWs(echo.url, ['chat.v2', 'chat.v1']);
      const conn = await echo.connectionFrom(peer.localPort);
      expect(peer.ws.protocol).toBe('chat.v1');
      expect(peer.responseHeaders['sec-websocket-protocol']).toBe('chat.v1');
      expect(conn.protocol).toBe('chat.v1');
    });

    it('answers without Sec-WebSocket-Protocol when none is acceptable; ws then refuses the connection', async () => {
      const ws = new WebSocket(echo.url, ['chat.v9']);
      openPeers.add(ws);
      // ws destroys the socket right after 'upgrade': read the port while it is there.
      const upgrade = new Promise<{ headers: IncomingMessage['headers']; port: number }>((resolve) =>
        ws.once('upgrade', (res: IncomingMessage) => resolve({ headers: res.headers, port: res.socket.localPort! })),
      );
      const failed = new Promise<Error>((resolve) => ws.once('error', resolve));
      const { headers, port } = await upgrade;
      expect(headers['sec-websocket-protocol']).toBeUndefined();
      expect((await failed).message).toBe('Server sent no subprotocol');
      const conn = await echo.connectionFrom(port);
      expect(conn.protocol).toBe('');
      expect((await conn.closed).code).toBe(CloseCode.Abnormal);
    });
  });

  describe('permessage-deflate off (our default)', () => {
    it('declines the ws offer: no extension, frames go out uncompressed', async () => {
      const peer = await connectWs(echo.url, [], { perMessageDeflate: true });
      const conn = await echo.connectionFrom(peer.localPort);
      expect(peer.ws.extensions).toBe('');
      expect(peer.responseHeaders['sec-websocket-extensions']).toBeUndefined();
      expect(conn.extensions).toBe('');
      const text = compressibleText(4096);
      const wire = await wireBytes(socketOf(conn), () => wsEcho(peer, text));
      expect(wire.written).toBe(4 + 4096);
      expect(wire.read).toBe(8 + 4096);
    });
  });

  describe('permessage-deflate', () => {
    let deflating: EchoServer;

    beforeAll(async () => {
      deflating = await startEchoServer({ perMessageDeflate: true });
    });
    afterAll(() => deflating.close());

    async function connectDeflate(options: WsDeflateOptions | true = true): Promise<{ peer: WsPeer; conn: WebSocketConnection }> {
      const peer = await connectWs(deflating.url, [], { perMessageDeflate: options, maxPayload: 2 * MiB });
      return { peer, conn: await deflating.connectionFrom(peer.localPort) };
    }

    it('negotiates with ws defaults; both sides report the same extension header', async () => {
      const { peer, conn } = await connectDeflate();
      expect(peer.ws.extensions).toBe('permessage-deflate');
      expect(peer.responseHeaders['sec-websocket-extensions']).toBe(conn.extensions);
      expect(conn.extensions).toMatch(/^permessage-deflate\b/);
    });

    it('compresses both ways at the 1024 B threshold and above', async () => {
      const { peer, conn } = await connectDeflate();
      for (const size of [1024, 65536]) {
        const text = compressibleText(size);
        let reply: WsMessage | undefined;
        const wire = await wireBytes(socketOf(conn), async () => {
          reply = await wsEcho(peer, text);
        });
        expect(reply!.data.toString()).toBe(text);
        expect(wire.written).toBeLessThan(size / 4);
        expect(wire.read).toBeLessThan(size / 4);
      }
    });

    it('sends a 1023 B message (1 B under the threshold) uncompressed: header + payload bytes on the wire', async () => {
      const { peer, conn } = await connectDeflate();
      const text = compressibleText(1023);
      let reply: WsMessage | undefined;
      const wire = await wireBytes(socketOf(conn), async () => {
        reply = await wsEcho(peer, text);
      });
      expect(reply!.data.toString()).toBe(text);
      expect(wire.written).toBe(4 + 1023);
      // ws applies its threshold only without context takeover, so its frame is compressed.
      expect(wire.read).toBeLessThan(1023 / 4);
    });

    it('round-trips 1 MiB of text (maxMessageSize exactly, after inflation) and 64 KiB of noise', async () => {
      const { peer } = await connectDeflate();
      const text = compressibleText(MiB);
      expect((await wsEcho(peer, text)).data.toString()).toBe(text);
      const noise = noiseBytes(65536, 5);
      const reply = await wsEcho(peer, noise);
      expect(reply.isBinary).toBe(true);
      expect(reply.data.equals(noise)).toBe(true);
    });

    it('inflates a compressed message ws sends in fragments, a ping between them', async () => {
      const { peer, conn } = await connectDeflate();
      const text = compressibleText(30_000);
      const pinged = once(conn, 'ping');
      peer.ws.send(text.slice(0, 10_000), { fin: false });
      peer.ws.ping('between');
      peer.ws.send(text.slice(10_000, 20_000), { fin: false });
      peer.ws.send(text.slice(20_000), { fin: true });
      await pinged;
      expect((await peer.inbox.next()).data.toString()).toBe(text);
    });

    it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE when a ws message inflates past maxMessageSize (2 MiB of zeros, KiBs on the wire)', async () => {
      const { peer, conn } = await connectDeflate();
      let closed: WsClose | undefined;
      const wire = await wireBytes(socketOf(conn), async () => {
        peer.ws.send(Buffer.alloc(2 * MiB));
        closed = await peer.closed;
      });
      expect(wire.read).toBeLessThan(16 * 1024);
      expect(closed!.code).toBe(CloseCode.MessageTooBig);
      const info = await conn.closed;
      expect(info.code).toBe(CloseCode.MessageTooBig);
      expectWsgError(info.error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    });

    it('delivers a message sent right before close() ahead of the close frame, while it is still being compressed', async () => {
      const { peer, conn } = await connectDeflate();
      const text = compressibleText(500_000);
      conn.send(text);
      conn.close(4000, 'after the message');
      expect((await peer.inbox.next()).data.toString()).toBe(text);
      expect(await peer.closed).toEqual({ code: 4000, reason: 'after the message' });
    });

    it('keeps the compression context across messages by default: a repeated message shrinks', async () => {
      const { peer, conn } = await connectDeflate();
      const text = noiseText(4096);
      const first = await wireBytes(socketOf(conn), () => wsEcho(peer, text));
      const second = await wireBytes(socketOf(conn), () => wsEcho(peer, text));
      expect(first.written).toBeGreaterThan(2000);
      expect(second.written).toBeLessThan(first.written / 4);
      expect(second.read).toBeLessThan(first.read / 4);
    });

    it('accepts client_no_context_takeover from ws and keeps its own context', async () => {
      const { peer, conn } = await connectDeflate({ clientNoContextTakeover: true });
      expect(peer.responseHeaders['sec-websocket-extensions']).toMatch(/client_no_context_takeover/);
      const text = noiseText(4096);
      const first = await wireBytes(socketOf(conn), () => wsEcho(peer, text));
      const second = await wireBytes(socketOf(conn), () => wsEcho(peer, text));
      expect(second.read).toBe(first.read);
      expect(second.written).toBeLessThan(first.written / 4);
      expect((await wsEcho(peer, text)).data.toString()).toBe(text);
    });

    it('honours server_no_context_takeover requested by ws: each of our messages is compressed alone', async () => {
      const { peer, conn } = await connectDeflate({ serverNoContextTakeover: true });
      expect(peer.responseHeaders['sec-websocket-extensions']).toMatch(/server_no_context_takeover/);
      const text = noiseText(4096);
      const first = await wireBytes(socketOf(conn), () => wsEcho(peer, text));
      const second = await wireBytes(socketOf(conn), async () => {
        expect((await wsEcho(peer, text)).data.toString()).toBe(text);
      });
      expect(second.written).toBe(first.written);
    });

    it('a 16 KiB payload of one 4 KiB block repeated shrinks with the default 15-bit window (control)', async () => {
      const { peer, conn } = await connectDeflate();
      const payload = repeatedNoise(4096, 4);
      const wire = await wireBytes(socketOf(conn), () => wsEcho(peer, payload));
      expect(wire.written).toBeLessThan(6000);
      expect(wire.read).toBeLessThan(6000);
    });

    it.each([10, 9, 8])('honours server_max_window_bits=%i and client_max_window_bits=%i offered by ws', async (bits) => {
      const { peer, conn } = await connectDeflate({ serverMaxWindowBits: bits, clientMaxWindowBits: bits });
      expect(peer.responseHeaders['sec-websocket-extensions']).toBe(`permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`);
      // A back-reference 4 KiB away would break ws's inflater, whose window is 2^bits.
      const payload = repeatedNoise(4096, 4);
      let reply: WsMessage | undefined;
      const wire = await wireBytes(socketOf(conn), async () => {
        reply = await wsEcho(peer, payload);
      });
      expect(reply!.data.equals(payload)).toBe(true);
      expect(wire.written).toBeGreaterThan(16000);
      const text = compressibleText(50_000);
      expect((await wsEcho(peer, text)).data.toString()).toBe(text);
    });
  });
});

// ---------------------------------------------------------------------------------------

interface WsServerPeer {
  ws: WebSocket;
  req: IncomingMessage;
  closed: Promise<WsClose>;
  pongs: EventQueue<Buffer>;
  inbox: EventQueue<WsMessage>;
}

/** A ws 8 echo server; the text commands `close-4001`, `terminate` and `ping` drive its side. */
interface WsEchoServer {
  wss: WebSocketServer;
  url: string;
  /** ws's side of our connection `conn`, matched by TCP port. */
  peerOf(conn: WebSocketConnection): Promise<WsServerPeer>;
  close(): Promise<void>;
}

async function startWsEchoServer(options: { perMessageDeflate?: boolean | WsDeflateOptions; handleProtocols?: (p: Set<string>) => string | false } = {}): Promise<WsEchoServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: options.perMessageDeflate ?? false, maxPayload: 2 * MiB, ...(options.handleProtocols ? { handleProtocols: options.handleProtocols } : {}) });
  const unclaimed = new Map<number, WsServerPeer>();
  const waiting = new Map<number, (peer: WsServerPeer) => void>();
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const closed = trackClose(ws);
    const pongs = queueEvents(ws, 'pong', (data: Buffer) => data);
    const inbox = queueEvents(ws, 'message', (data: Buffer, isBinary: boolean) => ({ data, isBinary }));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const command = isBinary ? '' : data.toString();
      if (command === 'close-4001') ws.close(4001, 'policy says no');
      else if (command === 'terminate') ws.terminate();
      else if (command === 'ping') ws.ping('srv-ping');
      else ws.send(data, { binary: isBinary });
    });
    const peer = { ws, req, closed, pongs, inbox };
    const port = req.socket.remotePort!;
    const waiter = waiting.get(port);
    if (waiter !== undefined) {
      waiting.delete(port);
      waiter(peer);
      return;
    }
    unclaimed.set(port, peer);
    void closed.then(() => {
      if (unclaimed.get(port) === peer) unclaimed.delete(port);
    });
  });
  await once(wss, 'listening');
  return {
    wss,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    peerOf: (conn) => {
      const port = socketOf(conn).localPort!;
      const peer = unclaimed.get(port);
      if (peer !== undefined) {
        unclaimed.delete(port);
        return Promise.resolve(peer);
      }
      return new Promise((resolve) => waiting.set(port, resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

const openConnections = new Set<WebSocketConnection>();

async function connectOurs(url: string, options: WsClientOptions = {}): Promise<WebSocketConnection> {
  const conn = await WsClient.connect(url, options);
  openConnections.add(conn);
  void conn.closed.then(() => openConnections.delete(conn));
  return conn;
}

async function ourEcho(conn: WebSocketConnection, data: string | Buffer): Promise<{ data: string | Buffer; isBinary: boolean }> {
  conn.send(data);
  return conn.receive();
}

afterEach(async () => {
  const pending = [...openConnections].map((conn) => {
    conn.terminate();
    return conn.closed;
  });
  await Promise.all(pending);
});

describe('wsgate WsClient → ws 8 WebSocketServer', () => {
  let server: WsEchoServer;

  beforeAll(async () => {
    server = await startWsEchoServer({ handleProtocols: (p) => (p.has('chat.v1') ? 'chat.v1' : false) });
  });
  afterAll(() => server.close());

  describe('messages', () => {
    it('echoes text, multi-byte UTF-8 included, delivered as a string', async () => {
      const conn = await connectOurs(server.url);
      const text = 'héllo ws ✓ 🚀';
      expect(await ourEcho(conn, text)).toEqual({ data: text, isBinary: false });
    });

    it.each([0, 125, 126, 65535, 65536, MiB])('echoes a %i B binary message byte for byte', async (size) => {
      const conn = await connectOurs(server.url);
      const payload = noiseBytes(size, size + 2);
      const reply = await ourEcho(conn, payload);
      expect(reply.isBinary).toBe(true);
      expect((reply.data as Buffer).equals(payload)).toBe(true);
    });
  });

  describe('ping and pong', () => {
    it('ws answers our ping with the same payload; we emit pong', async () => {
      const conn = await connectOurs(server.url);
      const ponged = once(conn, 'pong');
      conn.ping('from wsgate');
      expect(((await ponged)[0] as Buffer).toString()).toBe('from wsgate');
    });

    it('we answer a ping from ws with the same payload and emit ping', async () => {
      const conn = await connectOurs(server.url);
      const peer = await server.peerOf(conn);
      const pinged = once(conn, 'ping');
      conn.send('ping');
      expect(((await pinged)[0] as Buffer).toString()).toBe('srv-ping');
      expect((await peer.pongs.next()).toString()).toBe('srv-ping');
    });
  });

  describe('frames that arrive with the 101 response', () => {
    let eager: WsEchoServer;
    beforeAll(async () => {
      eager = await startWsEchoServer();
      // ws writes these right behind its 101: they reach us in the upgrade's `head`.
      eager.wss.on('connection', (ws: WebSocket) => {
        ws.ping('early ping');
        ws.send('early message');
      });
    });
    afterAll(() => eager.close());

    it('queues a message sent right after the 101 for receive()', async () => {
      const conn = await connectOurs(eager.url);
      expect(await conn.receive()).toEqual({ data: 'early message', isBinary: false });
    });

    it('emits ping for a ping sent right after the 101, to a listener attached once connect() resolves', async () => {
      const conn = await connectOurs(eager.url);
      const pings: string[] = [];
      conn.on('ping', (payload: Buffer) => pings.push(payload.toString()));
      const peer = await eager.peerOf(conn);
      // ws got our pong, so our side has handled its ping.
      expect((await peer.pongs.next()).toString()).toBe('early ping');
      expect(pings).toEqual(['early ping']);
    });
  });

  describe('close', () => {
    it('ws closes 4001 with a reason: our CloseInfo shows both and is clean; ws sees 4001 echoed', async () => {
      const conn = await connectOurs(server.url);
      const peer = await server.peerOf(conn);
      conn.send('close-4001');
      expect(await conn.closed).toEqual({ code: 4001, reason: 'policy says no', wasClean: true });
      expect((await peer.closed).code).toBe(4001);
    });

    it('we close 4000 with a reason: ws sees both; our CloseInfo is clean', async () => {
      const conn = await connectOurs(server.url);
      const peer = await server.peerOf(conn);
      conn.close(4000, 'client bye ✓');
      expect(await peer.closed).toEqual({ code: 4000, reason: 'client bye ✓' });
      const info = await conn.closed;
      expect(info.code).toBe(4000);
      expect(info.wasClean).toBe(true);
    });

    it('we close without arguments: ws sees 1000', async () => {
      const conn = await connectOurs(server.url);
      const peer = await server.peerOf(conn);
      conn.close();
      expect(await peer.closed).toEqual({ code: CloseCode.Normal, reason: '' });
      expect((await conn.closed).wasClean).toBe(true);
    });

    it('ws terminates: our CloseInfo is 1006, not clean, and receive() rejects WSG_ERR_CONNECTION_CLOSED', async () => {
      const conn = await connectOurs(server.url);
      conn.send('terminate');
      const info: CloseInfo = await conn.closed;
      expect(info.code).toBe(CloseCode.Abnormal);
      expect(info.wasClean).toBe(false);
      await expect(conn.receive()).rejects.toMatchObject({ code: 'WSG_ERR_CONNECTION_CLOSED' });
    });
  });

  describe('limits and errors, as ws sees them', () => {
    it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE when ws sends us maxMessageSize + 1 B; ws sees 1009', async () => {
      const conn = await connectOurs(server.url);
      const peer = await server.peerOf(conn);
      conn.send(Buffer.alloc(MiB + 1)); // ws echoes it back
      expect((await peer.closed).code).toBe(CloseCode.MessageTooBig);
      const info = await conn.closed;
      expect(info.code).toBe(CloseCode.MessageTooBig);
      expectWsgError(info.error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    });
  });

  describe('handshake checks against ws servers', () => {
    const servers: WebSocketServer[] = [];
    async function listen(wss: WebSocketServer): Promise<string> {
      servers.push(wss);
      await once(wss, 'listening');
      return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    }
    afterAll(async () => {
      await Promise.all(
        servers.map(
          (wss) =>
            new Promise<void>((resolve) => {
              for (const ws of wss.clients) ws.terminate();
              wss.close(() => resolve());
            }),
        ),
      );
    });

    it('rejects WSG_ERR_HANDSHAKE_STATUS with the status when ws refuses the upgrade (401)', async () => {
      const url = await listen(new WebSocketServer({ port: 0, host: '127.0.0.1', verifyClient: (_info, cb) => cb(false, 401) }));
      await expect(WsClient.connect(url)).rejects.toMatchObject({ code: 'WSG_ERR_HANDSHAKE_STATUS', status: 401 });
    });

    it('rejects WSG_ERR_HANDSHAKE_PROTOCOL when ws answers a subprotocol we did not offer', async () => {
      const url = await listen(new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'not.offered' }));
      await expect(WsClient.connect(url, { protocols: ['chat.v1'] })).rejects.toMatchObject({ code: 'WSG_ERR_HANDSHAKE_PROTOCOL' });
    });
  });

  describe('subprotocols', () => {
    it('offers ["chat.v2", "chat.v1"]; ws picks chat.v1 and our connection reports it', async () => {
      const conn = await connectOurs(server.url, { protocols: ['chat.v2', 'chat.v1'] });
      const peer = await server.peerOf(conn);
      expect(conn.protocol).toBe('chat.v1');
      expect(peer.ws.protocol).toBe('chat.v1');
      expect(peer.req.headers['sec-websocket-protocol']).toBe('chat.v2, chat.v1');
    });

    it('connects without a subprotocol when ws accepts none of ours', async () => {
      const conn = await connectOurs(server.url, { protocols: ['chat.v9'] });
      expect(conn.protocol).toBe('');
    });
  });

  describe('permessage-deflate', () => {
    const servers: WsEchoServer[] = [];
    async function deflateServer(options: WsDeflateOptions | boolean): Promise<WsEchoServer> {
      const s = await startWsEchoServer({ perMessageDeflate: options });
      servers.push(s);
      return s;
    }
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });

    it('is not offered by default; ws with deflate on answers without the extension', async () => {
      const s = await deflateServer(true);
      const conn = await connectOurs(s.url);
      const peer = await s.peerOf(conn);
      expect(peer.req.headers['sec-websocket-extensions']).toBeUndefined();
      expect(conn.extensions).toBe('');
    });

    it('negotiates with a ws server on its defaults and compresses both ways from 1024 B', async () => {
      const s = await deflateServer(true);
      const conn = await connectOurs(s.url, { perMessageDeflate: true });
      const peer = await s.peerOf(conn);
      expect(peer.req.headers['sec-websocket-extensions']).toBe('permessage-deflate; client_max_window_bits');
      expect(conn.extensions).toMatch(/^permessage-deflate\b/);
      const text = compressibleText(65536);
      let reply: { data: string | Buffer } | undefined;
      const wire = await wireBytes(socketOf(conn), async () => {
        reply = await ourEcho(conn, text);
      });
      expect(reply!.data).toBe(text);
      expect(wire.written).toBeLessThan(65536 / 4);
      expect(wire.read).toBeLessThan(65536 / 4);
    });

    it('sends 1023 B uncompressed (1 B under our threshold); ws compresses its answer and we inflate it', async () => {
      const s = await deflateServer(true);
      const conn = await connectOurs(s.url, { perMessageDeflate: true });
      const text = compressibleText(1023);
      let reply: { data: string | Buffer } | undefined;
      const wire = await wireBytes(socketOf(conn), async () => {
        reply = await ourEcho(conn, text);
      });
      expect(reply!.data).toBe(text);
      expect(wire.written).toBe(8 + 1023);
      // ws applies its threshold only without context takeover.
      expect(wire.read).toBeLessThan(1023 / 4);
    });

    it('inflates tiny messages from a ws server whose threshold is 0', async () => {
      const s = await deflateServer({ threshold: 0 });
      const conn = await connectOurs(s.url, { perMessageDeflate: true });
      for (const text of ['', 'a', 'hé ✓']) expect((await ourEcho(conn, text)).data).toBe(text);
      const empty = await ourEcho(conn, Buffer.alloc(0));
      expect(empty.isBinary).toBe(true);
      expect((empty.data as Buffer).length).toBe(0);
    });

    it('round-trips 1 MiB of text (our maxMessageSize exactly, after inflation) and 64 KiB of noise', async () => {
      const s = await deflateServer(true);
      const conn = await connectOurs(s.url, { perMessageDeflate: true });
      const text = compressibleText(MiB);
      expect((await ourEcho(conn, text)).data).toBe(text);
      const noise = noiseBytes(65536, 9);
      expect(((await ourEcho(conn, noise)).data as Buffer).equals(noise)).toBe(true);
    });

    it('delivers a message sent right before close() ahead of the close frame, while it is still being compressed', async () => {
      const s = await deflateServer(true);
      const conn = await connectOurs(s.url, { perMessageDeflate: true });
      const peer = await s.peerOf(conn);
      const text = compressibleText(500_000);
      conn.send(text);
      conn.close(4000, 'after the message');
      expect((await peer.inbox.next()).data.toString()).toBe(text);
      expect(await peer.closed).toEqual({ code: 4000, reason: 'after the message' });
    });

    it('honours client_no_context_takeover that we offer: each of our messages is compressed alone', async () => {
      const s = await deflateServer(true);
      const conn = await connectOurs(s.url, { perMessageDeflate: { clientNoContextTakeover: true } });
      const peer = await s.peerOf(conn);
      expect(peer.req.headers['sec-websocket-extensions']).toMatch(/client_no_context_takeover/);
      expect(conn.extensions).toMatch(/client_no_context_takeover/);
      const text = noiseText(4096);
      const first = await wireBytes(socketOf(conn), () => ourEcho(conn, text));
      const second = await wireBytes(socketOf(conn), async () => {
        expect((await ourEcho(conn, text)).data).toBe(text);
      });
      expect(second.written).toBe(first.written);
      // ws keeps its own context: its second answer is a back-reference.
      expect(second.read).toBeLessThan(first.read / 4);
    });

    it('inflates a ws server that resets its context (server_no_context_takeover we offer)', async () => {
      const s = await deflateServer(true);
      const conn = await connectOurs(s.url, { perMessageDeflate: { serverNoContextTakeover: true } });
      expect(conn.extensions).toMatch(/server_no_context_takeover/);
      const text = noiseText(4096);
      const first = await wireBytes(socketOf(conn), () => ourEcho(conn, text));
      const second = await wireBytes(socketOf(conn), async () => {
        expect((await ourEcho(conn, text)).data).toBe(text);
      });
      expect(second.read).toBe(first.read);
      expect(second.written).toBeLessThan(first.written / 4);
    });

    it.each([10, 9, 8])('deflates within client_max_window_bits=%i that we offer, so ws can inflate it', async (bits) => {
      const s = await deflateServer(true);
      const conn = await connectOurs(s.url, { perMessageDeflate: { clientMaxWindowBits: bits, serverMaxWindowBits: bits } });
      const peer = await s.peerOf(conn);
      expect(peer.req.headers['sec-websocket-extensions']).toBe(`permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`);
      const payload = repeatedNoise(4096, 4);
      let reply: { data: string | Buffer } | undefined;
      const wire = await wireBytes(socketOf(conn), async () => {
        reply = await ourEcho(conn, payload);
      });
      expect((reply!.data as Buffer).equals(payload)).toBe(true);
      expect(wire.written).toBeGreaterThan(16000);
      const text = compressibleText(50_000);
      expect((await ourEcho(conn, text)).data).toBe(text);
    });

    it('deflates within a client_max_window_bits=9 that the ws server imposes', async () => {
      const s = await deflateServer({ clientMaxWindowBits: 9 });
      const conn = await connectOurs(s.url, { perMessageDeflate: true });
      expect(conn.extensions).toMatch(/client_max_window_bits=9/);
      const payload = repeatedNoise(4096, 4);
      expect(((await ourEcho(conn, payload)).data as Buffer).equals(payload)).toBe(true);
      // The same 16 KiB through a 512 B window cannot reach the repeats.
      const wire = await wireBytes(socketOf(conn), () => ourEcho(conn, payload));
      expect(wire.written).toBeGreaterThan(16000);
    });
  });
});
