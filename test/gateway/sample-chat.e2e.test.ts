import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { WsGatewayRegistry } from '../../lib/gateway/gateway-registry.js';
import { ChatAppModule } from '../../sample/02-chat/app.module.js';
import { ChatGateway } from '../../sample/02-chat/chat.gateway.js';
import { startSample } from '../../sample/shared/bootstrap.js';
import { PLATFORMS } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

function get(port: number, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    })
      .on('error', reject)
      .end();
  });
}

describe.each(PLATFORMS)('sample 02-chat on %s', (platform) => {
  let app: INestApplication;
  let port: number;
  const url = (room: string, token?: string) => `ws://127.0.0.1:${port}/chat/${room}${token === undefined ? '' : `?token=${token}`}`;

  async function join(room: string, token: string): Promise<WsTestClient> {
    const client = await WsTestClient.connect(url(room, token));
    expect((await client.nextJson()).event).toBe('welcome');
    return client;
  }

  beforeAll(async () => {
    app = await startSample(ChatAppModule, { port: 0, platform, logger: false });
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves the browser page', async () => {
    const page = await get(port, '/');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.body).toContain('new WebSocket(');
  });

  it('denies a missing or unknown token with 401 at the handshake', async () => {
    expect(await WsTestClient.refused(url('lobby'))).toMatchObject({ status: 401, body: 'invalid or missing token' });
    expect((await WsTestClient.refused(url('lobby', 'forged'))).headers['www-authenticate']).toBe('Bearer');
  });

  it('denies a bad room name with 400', async () => {
    expect((await WsTestClient.refused(url('no%20spaces', 'alice-token'))).status).toBe(400);
  });

  it('welcomes, announces joins, and delivers messages to everyone in the room only', async () => {
    const alice = await join('r1', 'alice-token');
    const bob = await WsTestClient.connect(url('r1', 'bob-token'));
    expect(await bob.nextJson()).toEqual({ event: 'welcome', data: { user: 'bob', room: 'r1', members: 2 } });
    expect(await alice.nextJson()).toEqual({ event: 'joined', data: { user: 'bob' } });
    const carol = await join('elsewhere', 'carol-token');

    alice.emit('say', { text: 'hello' });
    expect(await alice.nextJson()).toEqual({ event: 'said', data: { user: 'alice', text: 'hello', n: 1 } });
    expect(await bob.nextJson()).toEqual({ event: 'said', data: { user: 'alice', text: 'hello', n: 1 } });
    alice.emit('say', { text: 'again' });
    expect((await bob.nextJson()).data).toMatchObject({ n: 2 });
    await alice.nextJson();

    await bob.close();
    expect(await alice.nextJson()).toEqual({ event: 'left', data: { user: 'bob', cause: 'client' } });
    carol.emit('say', { text: 'anyone?' });
    expect((await carol.nextJson()).data).toMatchObject({ user: 'carol' });
    expect(alice.pending).toBe(0);
    await alice.close();
    await carol.close();
  });

  it('shows typing to the others in the room through @OnInfo, not to the typist', async () => {
    const alice = await join('r2', 'alice-token');
    const bob = await join('r2', 'bob-token');
    await alice.nextJson(); // bob joined
    alice.emit('typing');
    expect(await bob.nextJson()).toEqual({ event: 'typing', data: { user: 'alice' } });
    alice.emit('say', { text: 'done typing' });
    expect((await alice.nextJson()).event).toBe('said');
    await bob.close();
    await alice.close();
  });

  it('closes a member that stops reading with 1013 once 1 MiB waits for it; everyone else gets every line, and the registry counts the close', async () => {
    const registry = app.get(WsGatewayRegistry);
    const before = registry.sendQueueTotals(ChatGateway);
    const alice = await join('slow', 'alice-token');
    const bob = await join('slow', 'bob-token');
    await alice.nextJson(); // bob joined
    const carol = await join('slow', 'carol-token');
    await alice.nextJson(); // carol joined
    expect((await bob.nextJson()).event).toBe('joined');
    bob.socket.pause();
    const text = 'x'.repeat(500);
    let sent = 0;
    let aliceSaw = 0;
    // Alice talks in batches and reads her own lines back, until bob's queue crosses 1 MiB.
    while (registry.sendQueueTotals(ChatGateway).closed === before.closed && sent < 200_000) {
      for (let i = 0; i < 200; i++) alice.emit('say', { text });
      sent += 200;
      while (aliceSaw < sent) expect(await alice.nextJson()).toMatchObject({ event: 'said', data: { n: ++aliceSaw } });
    }
    expect(registry.sendQueueTotals(ChatGateway)).toEqual({ dropped: before.dropped, closed: before.closed + 1 });
    for (let i = 0; i < 200; i++) alice.emit('say', { text });
    sent += 200;
    // Bob reads again: every line that was admitted for him arrives, in order, then the 1013.
    bob.socket.resume();
    expect((await bob.closed).code).toBe(1013);
    expect(bob.pending).toBeGreaterThan(0);
    const bobLines = await bob.takeJson(bob.pending);
    bobLines.forEach((m, i) => expect(m).toMatchObject({ event: 'said', data: { n: i + 1 } }));
    // The room hears that bob left for overflow; alice and carol have every line, none lost.
    while (aliceSaw < sent) expect(await alice.nextJson()).toMatchObject({ event: 'said', data: { n: ++aliceSaw } });
    expect(await alice.nextJson()).toEqual({ event: 'left', data: { user: 'bob', cause: 'overflow' } });
    let carolSaw = 0;
    let carolLeft = 0;
    while (carolSaw < sent || carolLeft === 0) {
      const m = await carol.nextJson();
      if (m.event === 'left') carolLeft++;
      else expect(m).toMatchObject({ event: 'said', data: { user: 'alice', n: ++carolSaw } });
    }
    expect(carolSaw).toBe(sent);
    await alice.close();
    await carol.close();
  }, 60_000);

  it('validates messages: an empty text gets an exception event', async () => {
    const alice = await join('r3', 'alice-token');
    alice.emit('say', { text: '' });
    expect(await alice.nextJson()).toEqual({ event: 'exception', data: { status: 'error', message: 'text must be 1-500 characters' } });
    await alice.close();
  });

  it('keeps one ChatSession per connection: each connection counts its own messages', async () => {
    const alice = await join('r4', 'alice-token');
    const bob = await join('r4', 'bob-token');
    await alice.nextJson(); // bob joined
    const say = async (client: WsTestClient, text: string) => {
      client.emit('say', { text });
      const said = await client.nextJson<{ n: number }>();
      return said.data.n;
    };
    expect(await say(alice, 'one')).toBe(1);
    await bob.nextJson();
    expect(await say(alice, 'two')).toBe(2);
    await bob.nextJson();
    expect(await say(bob, 'mine')).toBe(1);
    await alice.nextJson();
    await alice.close();
    expect((await bob.nextJson()).event).toBe('left');
    const again = await join('r4', 'alice-token');
    await bob.nextJson(); // alice joined
    expect(await say(again, 'back')).toBe(1);
    await again.close();
    await bob.close();
  });
});
