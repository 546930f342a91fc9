import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { WsHub } from '../../lib/hub/index.js';
import { WsGateway, OnInit, OnMessage, OnInfo, Conn, Payload, Info, emit, type WsConnection } from '../../lib/gateway/index.js';
import { expectThrowsWsgError } from '../support/expect-wsg-error.js';
import { PLATFORMS, startApp, type StartedApp } from './support/nest-app.js';
import { waitFor } from './support/wait-for.js';
import { WsTestClient } from './support/ws-client.js';

const conns = new Map<string, WsConnection>();
let infosHandled = 0;

@WsGateway('/hub')
class HubGateway {
  constructor(private readonly hub: WsHub) {}

  @OnInit()
  init(@Conn() conn: WsConnection) {
    conns.set(conn.id, conn);
    return emit('hello', conn.id);
  }

  @OnMessage('join')
  join(@Conn() conn: WsConnection, @Payload() topic: string) {
    conn.join(topic);
    return [...conn.topics];
  }

  @OnMessage('leave')
  leave(@Conn() conn: WsConnection, @Payload() topic: string) {
    conn.leave(topic);
    return [...conn.topics];
  }

  @OnMessage('say')
  say(@Conn() conn: WsConnection, @Payload() data: { topic: string; text: string; others?: boolean }) {
    const target = this.hub.to(data.topic);
    return (data.others === true ? target.except(conn.id) : target).emit('said', data.text);
  }

  @OnMessage('alias')
  alias(@Conn() conn: WsConnection, @Payload() name: string) {
    this.hub.alias(conn, name);
    return true;
  }

  @OnMessage('poke')
  poke(@Payload() data: { target: string; type: string; data: unknown }) {
    const before = infosHandled;
    const delivered = this.hub.send(data.target, data.type, data.data);
    // The target's @OnInfo runs later, never inside this call.
    return { delivered, ranInside: infosHandled !== before };
  }

  @OnInfo('typing')
  typing(@Info() info: { type: string; data: unknown }) {
    infosHandled++;
    return emit('typing', info.data);
  }
}

async function open(started: StartedApp): Promise<{ client: WsTestClient; id: string }> {
  const client = await WsTestClient.connect(started.url('/hub'));
  const hello = await client.nextJson<string>();
  return { client, id: hello.data };
}

describe.each(PLATFORMS)('hub from gateways on %s', (platform) => {
  let started: StartedApp;
  let hub: WsHub;
  beforeAll(async () => {
    started = await startApp(platform, { providers: [HubGateway] });
    hub = started.app.get(WsHub);
  });
  afterAll(async () => {
    await started.app.close();
  });

  it('conn.join()/leave() delegate to the hub; conn.topics lists them', async () => {
    const { client, id } = await open(started);
    client.emit('join', 'room:a');
    client.emit('join', 'room:b');
    client.emit('leave', 'room:a');
    expect((await client.takeJson(3)).map((m) => m.data)).toEqual([['room:a'], ['room:a', 'room:b'], ['room:b']]);
    expect(hub.topicsOf(conns.get(id)!)).toEqual(new Set(['room:b']));
    await client.close();
  });

  it('hub.to(topic).emit() reaches every member once, except() leaves one out, and counts', async () => {
    const a = await open(started);
    const b = await open(started);
    a.client.emit('join', 'room:x');
    b.client.emit('join', 'room:x');
    await a.client.nextJson();
    await b.client.nextJson();
    expect(hub.count('room:x')).toBe(2);
    a.client.emit('say', { topic: 'room:x', text: 'hi all' });
    expect(await a.client.nextJson()).toEqual({ event: 'said', data: 'hi all' });
    expect(await a.client.nextJson()).toEqual({ event: 'say', data: { delivered: 2, queued: 0, dropped: 0 } });
    expect(await b.client.nextJson()).toEqual({ event: 'said', data: 'hi all' });
    a.client.emit('say', { topic: 'room:x', text: 'others only', others: true });
    expect(await a.client.nextJson()).toEqual({ event: 'say', data: { delivered: 1, queued: 0, dropped: 0 } });
    expect(await b.client.nextJson()).toEqual({ event: 'said', data: 'others only' });
    await a.client.close();
    await b.client.close();
  });

  it('leaves every topic on close', async () => {
    const { client, id } = await open(started);
    client.emit('join', 'room:gone');
    await client.nextJson();
    expect(hub.count('room:gone')).toBe(1);
    await client.close();
    await conns.get(id)!.closed;
    expect(hub.count('room:gone')).toBe(0);
  });

  it('hub.send(alias, type, data) reaches @OnInfo of every connection with the alias', async () => {
    const a = await open(started);
    const b = await open(started);
    a.client.emit('alias', 'user:ada');
    b.client.emit('alias', 'user:ada');
    await a.client.nextJson();
    await b.client.nextJson();
    expect(hub.send('user:ada', 'typing', { who: 'bob' })).toBe(true);
    expect(await a.client.nextJson()).toEqual({ event: 'typing', data: { who: 'bob' } });
    expect(await b.client.nextJson()).toEqual({ event: 'typing', data: { who: 'bob' } });
    await a.client.close();
    await b.client.close();
  });

  it('one connection sends an info to another by id; it is handled after the sender\'s call returns', async () => {
    const a = await open(started);
    const b = await open(started);
    a.client.emit('poke', { target: b.id, type: 'typing', data: 'from a' });
    expect(await a.client.nextJson()).toEqual({ event: 'poke', data: { delivered: true, ranInside: false } });
    expect(await b.client.nextJson()).toEqual({ event: 'typing', data: 'from a' });
    await a.client.close();
    await b.client.close();
  });

  it('a closed connection is no longer a hub member and cannot join (WSG_ERR_GATEWAY_NOT_OPEN)', async () => {
    const { client, id } = await open(started);
    const conn = conns.get(id)!;
    await client.close();
    await conn.closed;
    expect(hub.send(id, 'typing', 1)).toBe(false);
    expect(expectThrowsWsgError(() => conn.join('late'), 'WSG_ERR_GATEWAY_NOT_OPEN').message).toBe(`Cannot join: connection ${id} is closed`);
    expectThrowsWsgError(() => conn.emit('x', 1), 'WSG_ERR_GATEWAY_NOT_OPEN');
    expectThrowsWsgError(() => conn.send('raw'), 'WSG_ERR_GATEWAY_NOT_OPEN');
    expectThrowsWsgError(() => conn.close(4000, 'late'), 'WSG_ERR_GATEWAY_NOT_OPEN');
    await waitFor(() => hub.size === 0, 'no members');
  });
});
