import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CloseCode, type WebSocketConnection, type WsServerOptions } from '../../lib/index.js';
import { CHROMIUM, chromiumBinary, requireBinary } from '../support/interop-binaries.js';
import { startEchoServer, socketOf, wireBytes, type EchoServer } from '../support/interop-echo-server.js';
import { compressibleText, noiseBytes } from '../support/interop-payloads.js';
import { expectWsgError } from '../support/expect-wsg-error.js';

const MiB = 1024 * 1024;
const describeChromium = requireBinary(CHROMIUM, chromiumBinary);

/**
 * The page's side: one WebSocket per id, its messages queued, binary sent as ArrayBuffer built
 * with the same xorshift32 as `noiseBytes()` so both ends can check every byte.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>wsgate interop</title><script>
const peers = new Map();
function noise(size, seed) {
  const out = new Uint8Array(size);
  let x = (seed >>> 0) || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
function openPeer(id, url, protocols) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = 'arraybuffer';
    const peer = { ws, inbox: [], waiters: [], closed: null };
    peer.closed = new Promise((done) => ws.addEventListener('close', (e) => done({ code: e.code, reason: e.reason, wasClean: e.wasClean })));
    ws.addEventListener('message', (e) => {
      const w = peer.waiters.shift();
      if (w) w(e.data); else peer.inbox.push(e.data);
    });
    ws.addEventListener('open', () => resolve({ protocol: ws.protocol, extensions: ws.extensions }));
    ws.addEventListener('error', () => reject(new Error('WebSocket error before open')));
    peers.set(id, peer);
  });
}
function nextMessage(peer) {
  return peer.inbox.length > 0 ? Promise.resolve(peer.inbox.shift()) : new Promise((r) => peer.waiters.push(r));
}
async function echoText(id, text) {
  const peer = peers.get(id);
  peer.ws.send(text);
  const data = await nextMessage(peer);
  return { type: typeof data === 'string' ? 'text' : 'binary', equal: data === text };
}
async function echoNoise(id, size, seed, block) {
  const peer = peers.get(id);
  let sent = noise(size, seed);
  if (block > 0) {
    // One block repeated: back-references exactly one block away.
    const unit = noise(block, seed);
    for (let i = 0; i < size; i++) sent[i] = unit[i % block];
  }
  peer.ws.send(sent.buffer);
  const data = await nextMessage(peer);
  if (typeof data === 'string') return { type: 'text', length: data.length, equal: false };
  return { type: 'binary', length: data.byteLength, equal: equalBytes(new Uint8Array(data), sent) };
}
function sendNoise(id, size, seed) { peers.get(id).ws.send(noise(size, seed).buffer); }
function closeInfo(id) { return peers.get(id).closed; }
function closePeer(id, code, reason) { peers.get(id).ws.close(code, reason); return peers.get(id).closed; }
</script><body>wsgate interop</body>`;

interface Site {
  http: Server;
  echo: EchoServer;
  origin: string;
  wsUrl: string;
}

/** A node:http server that serves the page, with our WsServer attached through `server:`. */
async function startSite(options: Omit<WsServerOptions, 'port' | 'server' | 'host'>): Promise<Site> {
  const http = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', Connection: 'close' });
    res.end(PAGE);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const echo = await startEchoServer({ ...options, server: http });
  const { port } = http.address() as AddressInfo;
  return { http, echo, origin: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}` };
}

async function stopSite(site: Site | undefined): Promise<void> {
  if (site === undefined) return;
  await site.echo.close();
  site.http.closeAllConnections();
  await new Promise<void>((resolve) => site.http.close(() => resolve()));
}

describeChromium('Chromium (headless, playwright-core) → wsgate WsServer', () => {
  let browser: Browser;
  let page: Page;
  let plain: Site;
  let deflating: Site;
  let deflatingSmallWindow: Site;
  let nextId = 0;

  beforeAll(async () => {
    plain = await startSite({ handleProtocols: (offered) => (offered.includes('chat.v1') ? 'chat.v1' : false) });
    // The page comes from `plain`; the other sites are other origins to Chromium, so they list it.
    const allowedOrigins = [plain.origin];
    [deflating, deflatingSmallWindow] = await Promise.all([
      startSite({ perMessageDeflate: true, allowedOrigins }),
      startSite({ perMessageDeflate: { serverMaxWindowBits: 10, serverNoContextTakeover: true, clientMaxWindowBits: 10 }, allowedOrigins }),
    ]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    await page.goto(plain.origin + '/');
  }, 20_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([stopSite(plain), stopSite(deflating), stopSite(deflatingSmallWindow)]);
  });

  /** Opens a page WebSocket to `site` and returns its id, what the page saw, and our side. */
  async function openFromPage(site: Site, protocols: string[] = []): Promise<{ id: string; opened: { protocol: string; extensions: string }; conn: WebSocketConnection }> {
    const id = `p${++nextId}`;
    const path = `/ws/${id}`;
    const opened = await page.evaluate(([i, u, p]) => (globalThis as any).openPeer(i, u, p), [id, site.wsUrl + path, protocols] as const);
    return { id, opened, conn: await site.echo.connectionAt(path) };
  }

  const echoText = (id: string, text: string) =>
    page.evaluate(([i, t]) => (globalThis as any).echoText(i, t), [id, text] as const) as Promise<{ type: string; equal: boolean }>;
  const echoNoise = (id: string, size: number, seed: number, block = 0) =>
    page.evaluate(([i, n, s, b]) => (globalThis as any).echoNoise(i, n, s, b), [id, size, seed, block] as const) as Promise<{ type: string; length: number; equal: boolean }>;

  it('opens from the page its own http server served; echoes multi-byte text as text', async () => {
    const { id, opened } = await openFromPage(plain);
    expect(opened).toEqual({ protocol: '', extensions: '' });
    expect(await echoText(id, 'héllo chromium ✓ 🚀')).toEqual({ type: 'text', equal: true });
  });

  it('echoes ArrayBuffers of 64 KiB and 1 MiB byte for byte, and receives exactly the bytes the page built', async () => {
    const { id, conn } = await openFromPage(plain);
    const received: Buffer[] = [];
    conn.on('message', (data: string | Buffer, isBinary: boolean) => {
      if (isBinary) received.push(data as Buffer);
    });
    expect(await echoNoise(id, 65536, 1)).toEqual({ type: 'binary', length: 65536, equal: true });
    expect(await echoNoise(id, MiB, 2)).toEqual({ type: 'binary', length: MiB, equal: true });
    expect(received.map((b) => b.length)).toEqual([65536, MiB]);
    expect(received[0]!.equals(noiseBytes(65536, 1))).toBe(true);
    expect(received[1]!.equals(noiseBytes(MiB, 2))).toBe(true);
  });

  it('answers our ping automatically: we emit pong with our payload', async () => {
    const { conn } = await openFromPage(plain);
    const ponged = once(conn, 'pong');
    conn.ping('are you there');
    expect(((await ponged)[0] as Buffer).toString()).toBe('are you there');
  });

  it('we close 4000 "bye": the page sees code 4000, reason "bye", wasClean true', async () => {
    const { id, conn } = await openFromPage(plain);
    const seen = page.evaluate((i) => (globalThis as any).closeInfo(i), id);
    conn.close(4000, 'bye');
    expect(await seen).toEqual({ code: 4000, reason: 'bye', wasClean: true });
    expect((await conn.closed).wasClean).toBe(true);
  });

  it('the page closes 4001 with a reason: our CloseInfo has both and is clean', async () => {
    const { id, conn } = await openFromPage(plain);
    const seen = await page.evaluate(([i, c, r]) => (globalThis as any).closePeer(i, c, r), [id, 4001, 'page bye ✓'] as const);
    expect(await conn.closed).toEqual({ code: 4001, reason: 'page bye ✓', wasClean: true });
    expect(seen.code).toBe(4001);
    expect(seen.wasClean).toBe(true);
  });

  it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE when the page sends maxMessageSize + 1 B; the page sees 1009', async () => {
    const { id, conn } = await openFromPage(plain);
    await page.evaluate(([i, n]) => (globalThis as any).sendNoise(i, n, 7), [id, MiB + 1] as const);
    const seen = await page.evaluate((i) => (globalThis as any).closeInfo(i), id);
    expect(seen.code).toBe(CloseCode.MessageTooBig);
    const info = await conn.closed;
    expect(info.code).toBe(CloseCode.MessageTooBig);
    expectWsgError(info.error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
  });

  it('selects chat.v1 from ["chat.v2", "chat.v1"]; the page and our side report it', async () => {
    const { opened, conn } = await openFromPage(plain, ['chat.v2', 'chat.v1']);
    expect(opened.protocol).toBe('chat.v1');
    expect(conn.protocol).toBe('chat.v1');
  });

  it('perMessageDeflate off: declines Chromium\'s offer; frames cross uncompressed', async () => {
    const { id, opened, conn } = await openFromPage(plain);
    expect(opened.extensions).toBe('');
    expect(conn.extensions).toBe('');
    const text = compressibleText(65536);
    const wire = await wireBytes(socketOf(conn), () => echoText(id, text));
    expect(wire.written).toBe(10 + 65536);
    expect(wire.read).toBe(14 + 65536);
  });

  it('perMessageDeflate on: negotiates; both directions compress; Chromium inflates what we deflate', async () => {
    const { id, opened, conn } = await openFromPage(deflating);
    expect(opened.extensions).toMatch(/^permessage-deflate\b/);
    expect(conn.extensions).toBe(opened.extensions);
    const text = compressibleText(65536);
    let result: { equal: boolean } | undefined;
    const wire = await wireBytes(socketOf(conn), async () => {
      result = await echoText(id, text);
    });
    expect(result!.equal).toBe(true);
    expect(wire.written).toBeLessThan(65536 / 4);
    expect(wire.read).toBeLessThan(65536 / 4);
    expect(await echoText(id, 'tiny')).toEqual({ type: 'text', equal: true });
    expect(await echoNoise(id, 65536, 3)).toEqual({ type: 'binary', length: 65536, equal: true });
    expect(await echoText(id, compressibleText(MiB))).toEqual({ type: 'text', equal: true });
  });

  it('perMessageDeflate with window bits 10 both ways and server_no_context_takeover: Chromium and we each inflate with that window', async () => {
    const { id, opened } = await openFromPage(deflatingSmallWindow);
    expect(opened.extensions).toBe('permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10');
    for (let round = 0; round < 2; round++) {
      expect(await echoText(id, compressibleText(40_000))).toEqual({ type: 'text', equal: true });
      // A 4 KiB block repeated: a back-reference that far would break a 1 KiB inflate window.
      expect(await echoNoise(id, 16_384, 4, 4096)).toEqual({ type: 'binary', length: 16_384, equal: true });
    }
  });
});
