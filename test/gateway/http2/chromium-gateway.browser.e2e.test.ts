import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Controller, Get, Header } from '@nestjs/common';
import { chromium, type Browser, type Page } from 'playwright-core';
import { close, emit, OnAccept, OnClose, OnInit, OnMessage, Param, Payload, Reason, Req, State, WsGateway, type WsCloseReason, type WsUpgradeRequest } from '../../../lib/gateway/index.js';
import { CHROMIUM, chromiumBinary, requireBinary } from '../../support/interop-binaries.js';
import { startH2App, type H2App } from './support/h2-apps.js';

const describeChromium = requireBinary(CHROMIUM, chromiumBinary);

const PAGE = `<!doctype html><meta charset="utf-8"><title>wsgate nest h2</title><script>
const peers = new Map();
function openPeer(id, url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const peer = { ws, inbox: [], waiters: [] };
    peer.closed = new Promise((done) => ws.addEventListener('close', (e) => done({ code: e.code, reason: e.reason, wasClean: e.wasClean })));
    ws.addEventListener('message', (e) => {
      const w = peer.waiters.shift();
      if (w) w(e.data); else peer.inbox.push(e.data);
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
function send(id, data) { peers.get(id).ws.send(data); }
function closeInfo(id) { return peers.get(id).closed; }
</script><body>wsgate nest over HTTP/2</body>`;

const closes = new Map<string, WsCloseReason>();
const closeWaiters = new Map<string, (reason: WsCloseReason) => void>();

function closedOn(room: string): Promise<WsCloseReason> {
  const seen = closes.get(room);
  return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => closeWaiters.set(room, resolve));
}

@Controller()
class PageController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page() {
    return PAGE;
  }
}

@WsGateway('/chat/:room')
class ChatGateway {
  @OnAccept()
  admit(@Req() req: WsUpgradeRequest) {
    return req.headers.origin !== undefined;
  }

  @OnInit()
  init(@Req() req: WsUpgradeRequest, @Param('room') room: string) {
    return emit('hello', { room, road: req.road, protocol: req.headers[':protocol'] ?? null });
  }

  @OnMessage('echo')
  echo(@Payload() data: unknown) {
    return data;
  }

  @OnMessage('bye')
  bye() {
    return close(4005, 'nest bye');
  }

  @OnClose()
  closed(@Param('room') room: string, @Reason() reason: WsCloseReason, @State() _state: unknown) {
    closes.set(room, reason);
    closeWaiters.get(room)?.(reason);
  }
}

describeChromium('headless Chromium → Nest gateway on Fastify HTTP/2 (RFC 8441)', () => {
  let browser: Browser;
  let site: H2App;
  let page: Page;

  beforeAll(async () => {
    site = await startH2App('fastify-h2', { controllers: [PageController], providers: [ChatGateway] });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--ignore-certificate-errors'],
    });
    page = await browser.newPage();
    const response = await page.goto(site.https('/'));
    expect(response?.status()).toBe(200);
  }, 20_000);

  afterAll(async () => {
    await browser?.close();
    await site?.app.close();
  });

  it('opens the gateway with an extended CONNECT: @Req() shows road h2 and :protocol websocket; messages both ways; close code 4005 both sides', async () => {
    await page.evaluate((u) => (globalThis as any).openPeer('a', u), site.wss('/chat/lobby'));
    const hello = JSON.parse(await page.evaluate(() => (globalThis as any).nextMessage('a')));
    expect(hello).toEqual({ event: 'hello', data: { room: 'lobby', road: 'h2', protocol: 'websocket' } });
    const echoed = await page.evaluate(() => {
      (globalThis as any).send('a', JSON.stringify({ event: 'echo', data: 'héllo ✓' }));
      return (globalThis as any).nextMessage('a');
    });
    expect(JSON.parse(echoed)).toEqual({ event: 'echo', data: 'héllo ✓' });
    const seen = page.evaluate(() => {
      (globalThis as any).send('a', JSON.stringify({ event: 'bye' }));
      return (globalThis as any).closeInfo('a');
    });
    expect(await seen).toEqual({ code: 4005, reason: 'nest bye', wasClean: true });
    expect(await closedOn('lobby')).toMatchObject({ code: 4005, reason: 'nest bye', cause: 'server', wasClean: true });
  });
});
