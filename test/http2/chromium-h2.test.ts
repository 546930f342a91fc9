import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { Http2WsServer, type Http2WsConnectionInfo } from '../../lib/http2/http2-ws-server.js';
import { CHROMIUM, chromiumBinary, requireBinary } from '../support/interop-binaries.js';
import { EventQueue } from '../support/interop-event-queue.js';
import { TLS_CERT, TLS_KEY } from './support/tls-fixture.js';

const describeChromium = requireBinary(CHROMIUM, chromiumBinary);

/** The page's side: one WebSocket per id, its messages queued, its close event recorded. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>wsgate h2</title><script>
const peers = new Map();
function openPeer(id, url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const peer = { ws, inbox: [], waiters: [] };
    peer.closed = new Promise((done) => ws.addEventListener('close', (e) => done({ code: e.code, reason: e.reason, wasClean: e.wasClean })));
    ws.addEventListener('message', (e) => {
      const data = typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data));
      const w = peer.waiters.shift();
      if (w) w(data); else peer.inbox.push(data);
    });
    ws.addEventListener('open', () => resolve({ protocol: ws.protocol }));
    ws.addEventListener('error', () => reject(new Error('WebSocket error before open')));
    peers.set(id, peer);
  });
}
function nextMessage(id) {
  const peer = peers.get(id);
  return peer.inbox.length > 0 ? Promise.resolve(peer.inbox.shift()) : new Promise((r) => peer.waiters.push(r));
}
function send(id, data) { peers.get(id).ws.send(Array.isArray(data) ? new Uint8Array(data) : data); }
function closeInfo(id) { return peers.get(id).closed; }
function closePeer(id, code, reason) { peers.get(id).ws.close(code, reason); return peers.get(id).closed; }
</script><body>wsgate over HTTP/2</body>`;

interface Site {
  server: Http2WsServer;
  origin: string;
  connections: EventQueue<{ conn: WebSocketConnection; info: Http2WsConnectionInfo }>;
  /** `<HTTP version> <url>` of each plain request (the page, the favicon), in order. */
  pages: string[];
}

async function startSite(enableConnectProtocol: boolean): Promise<Site> {
  const pages: string[] = [];
  const server = new Http2WsServer({
    key: TLS_KEY,
    cert: TLS_CERT,
    enableConnectProtocol,
    onRequest: (req, res) => {
      pages.push(`${req.httpVersion} ${req.url}`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    },
  });
  const connections = new EventQueue<{ conn: WebSocketConnection; info: Http2WsConnectionInfo }>();
  server.on('connection', (conn: WebSocketConnection, info: Http2WsConnectionInfo) => {
    conn.on('message', (data: string | Buffer) => {
      if (conn.isOpen) conn.send(data);
    });
    connections.push({ conn, info });
  });
  const { port } = await server.listen();
  return { server, origin: `https://127.0.0.1:${port}`, connections, pages };
}

describeChromium('headless Chromium (playwright-core) → Http2WsServer over HTTPS', () => {
  let browser: Browser;
  let h2Site: Site;
  let h1Site: Site;
  let h2Page: Page;
  let h1Page: Page;
  let nextId = 0;

  beforeAll(async () => {
    [h2Site, h1Site] = await Promise.all([startSite(true), startSite(false)]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--ignore-certificate-errors',
      ],
    });
    [h2Page, h1Page] = await Promise.all([browser.newPage(), browser.newPage()]);
    await Promise.all([h2Page.goto(h2Site.origin + '/'), h1Page.goto(h1Site.origin + '/')]);
  }, 20_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([h2Site?.server.close(), h1Site?.server.close()]);
  });

  async function open(page: Page, site: Site): Promise<{ id: string; conn: WebSocketConnection; info: Http2WsConnectionInfo }> {
    const id = `p${++nextId}`;
    const wsUrl = site.origin.replace('https:', 'wss:') + `/ws/${id}`;
    await page.evaluate(([i, u]) => (globalThis as any).openPeer(i, u), [id, wsUrl] as const);
    const { conn, info } = await site.connections.next();
    return { id, conn, info };
  }

  it('loads the page over HTTP/2 and opens its WebSocket with an extended CONNECT (the h2 road)', async () => {
    const { info, conn } = await open(h2Page, h2Site);
    expect(h2Site.pages[0]).toBe('2.0 /');
    expect(info.road).toBe('h2');
    expect(info.headers[':method']).toBe('CONNECT');
    expect(info.headers[':protocol']).toBe('websocket');
    expect(info.headers['sec-websocket-key']).toBeUndefined();
    expect(conn.isOpen).toBe(true);
  });

  it('h2 road: text and binary cross both ways', async () => {
    const { id, conn } = await open(h2Page, h2Site);
    const fromPage: Array<string | Buffer> = [];
    conn.on('message', (data: string | Buffer) => fromPage.push(data));
    const echoedText = await h2Page.evaluate((i) => {
      (globalThis as any).send(i, 'héllo from chromium ✓');
      return (globalThis as any).nextMessage(i);
    }, id);
    expect(echoedText).toBe('héllo from chromium ✓');
    const echoedBytes = await h2Page.evaluate((i) => {
      (globalThis as any).send(i, [0, 1, 2, 253, 254, 255]);
      return (globalThis as any).nextMessage(i);
    }, id);
    expect(echoedBytes).toEqual([0, 1, 2, 253, 254, 255]);
    expect(fromPage[0]).toBe('héllo from chromium ✓');
    expect([...(fromPage[1] as Buffer)]).toEqual([0, 1, 2, 253, 254, 255]);
    const pushedByServer = h2Page.evaluate((i) => (globalThis as any).nextMessage(i), id);
    conn.send('from the server');
    expect(await pushedByServer).toBe('from the server');
  });

  it('h2 road: we close 4000 "bye"; the page sees code 4000, reason and wasClean', async () => {
    const { id, conn } = await open(h2Page, h2Site);
    const seen = h2Page.evaluate((i) => (globalThis as any).closeInfo(i), id);
    conn.close(4000, 'bye');
    expect(await seen).toEqual({ code: 4000, reason: 'bye', wasClean: true });
    expect((await conn.closed).wasClean).toBe(true);
  });

  it('h2 road: the page closes 4001; our CloseInfo has the code and reason, clean', async () => {
    const { id, conn } = await open(h2Page, h2Site);
    const seen = await h2Page.evaluate(([i, c, r]) => (globalThis as any).closePeer(i, c, r), [id, 4001, 'page bye'] as const);
    expect(await conn.closed).toEqual({ code: 4001, reason: 'page bye', wasClean: true });
    expect(seen.code).toBe(4001);
  });

  it('with SETTINGS_ENABLE_CONNECT_PROTOCOL off, Chromium falls back to an HTTP/1.1 upgrade on a separate connection', async () => {
    const { id, conn, info } = await open(h1Page, h1Site);
    expect(h1Site.pages[0]).toBe('2.0 /');
    expect(info.road).toBe('http/1.1');
    expect(info.headers.upgrade).toBe('websocket');
    const echoed = await h1Page.evaluate((i) => {
      (globalThis as any).send(i, 'over http/1.1');
      return (globalThis as any).nextMessage(i);
    }, id);
    expect(echoed).toBe('over http/1.1');
    const seen = h1Page.evaluate((i) => (globalThis as any).closeInfo(i), id);
    conn.close(4002, 'h1 bye');
    expect(await seen).toEqual({ code: 4002, reason: 'h1 bye', wasClean: true });
  });
});
