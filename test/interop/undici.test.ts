import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { WebSocket, type CloseEvent, type MessageEvent } from 'undici';
import { CloseCode, type WebSocketConnection } from '../../lib/index.js';
import { startEchoServer, socketOf, wireBytes, type EchoServer } from '../support/interop-echo-server.js';
import { EventQueue } from '../support/interop-event-queue.js';
import { compressibleText, noiseBytes, repeatedNoise } from '../support/interop-payloads.js';

const MiB = 1024 * 1024;

interface UndiciPeer {
  ws: WebSocket;
  inbox: EventQueue<string | ArrayBuffer>;
  closed: Promise<{ code: number; reason: string; wasClean: boolean }>;
  /** Our side of this connection. */
  conn: WebSocketConnection;
}

const openPeers = new Set<WebSocket>();
let nextPath = 0;

/**
 * undici hides its socket, so each client asks for a path of its own and the server side
 * is matched by that path.
 */
async function connectUndici(server: EchoServer, protocols: string[] = []): Promise<UndiciPeer> {
  const path = `/undici-${++nextPath}`;
  const ws = new WebSocket(server.url + path, protocols);
  ws.binaryType = 'arraybuffer';
  openPeers.add(ws);
  const inbox = new EventQueue<string | ArrayBuffer>();
  ws.addEventListener('message', (event: MessageEvent) => inbox.push(event.data as string | ArrayBuffer));
  const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) =>
    ws.addEventListener('close', (event: CloseEvent) => {
      openPeers.delete(ws);
      resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error(`undici could not open ${server.url + path}`)));
  });
  return { ws, inbox, closed, conn: await server.connectionAt(path) };
}

async function undiciEcho(peer: UndiciPeer, data: string | ArrayBuffer): Promise<string | ArrayBuffer> {
  peer.ws.send(data);
  return peer.inbox.next();
}

function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

afterEach(async () => {
  const closing = [...openPeers].map((ws) => {
    const gone = new Promise((resolve) => ws.addEventListener('close', resolve));
    ws.close();
    return gone;
  });
  await Promise.all(closing);
});

describe('undici 7 WebSocket → wsgate WsServer', () => {
  let echo: EchoServer;

  beforeAll(async () => {
    echo = await startEchoServer({ handleProtocols: (offered) => (offered.includes('chat.v1') ? 'chat.v1' : false) });
  });
  afterAll(() => echo.close());

  describe('messages', () => {
    it('echoes text, multi-byte UTF-8 included, as a string', async () => {
      const peer = await connectUndici(echo);
      expect(await undiciEcho(peer, 'héllo undici ✓ 🚀')).toBe('héllo undici ✓ 🚀');
    });

    it.each([0, 65536, MiB])('echoes a %i B ArrayBuffer byte for byte', async (size) => {
      const peer = await connectUndici(echo);
      const payload = noiseBytes(size, size + 3);
      const reply = await undiciEcho(peer, arrayBufferOf(payload));
      expect(reply).toBeInstanceOf(ArrayBuffer);
      expect(Buffer.from(reply as ArrayBuffer).equals(payload)).toBe(true);
    });

    it('delivers what we send first, without an echo: a text and a 64 KiB binary', async () => {
      const peer = await connectUndici(echo);
      const bytes = noiseBytes(65536, 21);
      peer.conn.send('server first');
      peer.conn.send(bytes);
      expect(await peer.inbox.next()).toBe('server first');
      expect(Buffer.from((await peer.inbox.next()) as ArrayBuffer).equals(bytes)).toBe(true);
    });
  });

  describe('ping and pong', () => {
    it('answers our ping: we emit pong with our payload', async () => {
      const peer = await connectUndici(echo);
      const ponged = once(peer.conn, 'pong');
      peer.conn.ping('from wsgate');
      expect(((await ponged)[0] as Buffer).toString()).toBe('from wsgate');
    });
  });

  describe('close', () => {
    it('undici closes 4000 with a reason: our CloseInfo has both; undici reports a clean 4000', async () => {
      const peer = await connectUndici(echo);
      peer.ws.close(4000, 'undici bye ✓');
      expect(await peer.conn.closed).toEqual({ code: 4000, reason: 'undici bye ✓', wasClean: true });
      const seen = await peer.closed;
      expect(seen.code).toBe(4000);
      expect(seen.wasClean).toBe(true);
    });

    it('we close 4001 with a reason: undici reports code, reason and wasClean', async () => {
      const peer = await connectUndici(echo);
      peer.conn.close(4001, 'server bye ✓');
      expect(await peer.closed).toEqual({ code: 4001, reason: 'server bye ✓', wasClean: true });
      expect((await peer.conn.closed).wasClean).toBe(true);
    });

    it('undici closes without a code: we report 1005', async () => {
      const peer = await connectUndici(echo);
      peer.ws.close();
      expect(await peer.conn.closed).toEqual({ code: CloseCode.NoStatus, reason: '', wasClean: true });
      expect((await peer.closed).code).toBe(CloseCode.NoStatus);
    });
  });

  describe('subprotocols', () => {
    it('selects chat.v1 from ["chat.v2", "chat.v1"]; both sides report it', async () => {
      const peer = await connectUndici(echo, ['chat.v2', 'chat.v1']);
      expect(peer.ws.protocol).toBe('chat.v1');
      expect(peer.conn.protocol).toBe('chat.v1');
    });

    it('undici fails the connection (error, then close 1006) when we accept none of its protocols', async () => {
      const path = `/undici-${++nextPath}`;
      const ws = new WebSocket(echo.url + path, ['chat.v9']);
      const events: string[] = [];
      ws.addEventListener('open', () => events.push('open'));
      ws.addEventListener('error', () => events.push('error'));
      const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
      const conn = await echo.connectionAt(path);
      expect(conn.protocol).toBe('');
      expect((await closed).code).toBe(CloseCode.Abnormal);
      expect(events).toEqual(['error']);
      // undici 7 leaves the TCP connection open after failing it; nothing more comes, so end ours.
      expect(conn.isOpen).toBe(true);
      conn.terminate();
      expect((await conn.closed).code).toBe(CloseCode.Abnormal);
    });

    it('connects with protocol "" when none is offered', async () => {
      const peer = await connectUndici(echo);
      expect(peer.ws.protocol).toBe('');
      expect(peer.conn.protocol).toBe('');
    });
  });

  describe('permessage-deflate off (our default)', () => {
    it('declines undici\'s offer: extensions is "" and our frames go out uncompressed', async () => {
      const peer = await connectUndici(echo);
      expect(peer.ws.extensions).toBe('');
      const text = compressibleText(4096);
      const wire = await wireBytes(socketOf(peer.conn), () => undiciEcho(peer, text));
      expect(wire.written).toBe(4 + 4096);
    });
  });

  describe('permessage-deflate', () => {
    const servers: EchoServer[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });

    it('negotiates; undici inflates our messages at and above the threshold', async () => {
      const server = await startEchoServer({ perMessageDeflate: true });
      servers.push(server);
      const peer = await connectUndici(server);
      expect(peer.ws.extensions).toMatch(/^permessage-deflate\b/);
      expect(peer.conn.extensions).toBe(peer.ws.extensions);
      const text = compressibleText(65536);
      let reply: string | ArrayBuffer | undefined;
      const wire = await wireBytes(socketOf(peer.conn), async () => {
        reply = await undiciEcho(peer, text);
      });
      expect(reply).toBe(text);
      expect(wire.written).toBeLessThan(65536 / 4);
      const noise = noiseBytes(65536, 31);
      expect(Buffer.from((await undiciEcho(peer, arrayBufferOf(noise))) as ArrayBuffer).equals(noise)).toBe(true);
      const big = compressibleText(MiB);
      expect(await undiciEcho(peer, big)).toBe(big);
    });

    it('sends 1023 B (1 B under the threshold) uncompressed', async () => {
      const server = await startEchoServer({ perMessageDeflate: true });
      servers.push(server);
      const peer = await connectUndici(server);
      const text = compressibleText(1023);
      const wire = await wireBytes(socketOf(peer.conn), async () => {
        expect(await undiciEcho(peer, text)).toBe(text);
      });
      expect(wire.written).toBe(4 + 1023);
    });

    it('deflates within the server_max_window_bits=10 it answers, which undici inflates with', async () => {
      const server = await startEchoServer({ perMessageDeflate: { serverMaxWindowBits: 10, serverNoContextTakeover: true, threshold: 0 } });
      servers.push(server);
      const peer = await connectUndici(server);
      expect(peer.ws.extensions).toMatch(/server_max_window_bits=10/);
      expect(peer.ws.extensions).toMatch(/server_no_context_takeover/);
      const payload = repeatedNoise(4096, 4);
      for (let round = 0; round < 2; round++) {
        const reply = await undiciEcho(peer, arrayBufferOf(payload));
        expect(Buffer.from(reply as ArrayBuffer).equals(payload)).toBe(true);
      }
      expect(await undiciEcho(peer, 'x')).toBe('x');
    });
  });
});
