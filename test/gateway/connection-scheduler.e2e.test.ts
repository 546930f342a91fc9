import { describe, it, expect, afterAll, beforeAll, beforeEach } from '@jest/globals';
import { WsHub } from '../../lib/hub/index.js';
import { WsGateway, OnInit, OnMessage, OnInfo, Payload, Conn, Info, emit, type WsConnection } from '../../lib/gateway/index.js';
import { PLATFORMS, startApp, type StartedApp } from './support/nest-app.js';
import { turns, waitFor } from './support/wait-for.js';
import { WsTestClient } from './support/ws-client.js';

const seen = {
  conns: new Map<string, WsConnection>(),
  /** What each handler saw, in the order handlers started. */
  started: [] as string[],
  active: 0,
  maxActive: 0,
};

/** Synchronous handlers take the direct path; async ones keep the connection busy so later items queue. */
@WsGateway('/order')
class OrderGateway {
  constructor(private readonly hub: WsHub) {}

  @OnInit()
  init(@Conn() conn: WsConnection) {
    seen.conns.set(conn.id, conn);
    return emit('hello', conn.id);
  }

  @OnMessage('sync')
  sync(@Payload() n: number) {
    seen.started.push(`sync:${n}`);
    return n;
  }

  @OnMessage('async')
  async later(@Payload() n: number) {
    seen.started.push(`async:${n}`);
    seen.active++;
    seen.maxActive = Math.max(seen.maxActive, seen.active);
    await turns(1 + (n % 3));
    seen.active--;
    return n;
  }

  /** Sends an info to its own connection, then replies: the info runs after this reply, before the next message. */
  @OnMessage('info-self')
  infoSelf(@Payload() n: number, @Conn() conn: WsConnection) {
    seen.started.push(`info-self:${n}`);
    this.hub.send(conn.id, 'note', n);
    return n;
  }

  @OnInfo('note')
  note(@Info() info: { data: number }) {
    seen.started.push(`note:${info.data}`);
    return emit('note', info.data);
  }
}

/** The runner's scheduler, for what only it can tell: whether a mailbox was ever made. */
function mailboxOf(conn: WsConnection): unknown {
  return (conn as unknown as { core: { mailbox: unknown } }).core.mailbox;
}

describe('direct and queued paths keep arrival order', () => {
  let started: StartedApp;

  beforeAll(async () => {
    started = await startApp(PLATFORMS[0]!, { providers: [OrderGateway] });
  });
  afterAll(async () => {
    await started.app.close();
  });
  beforeEach(() => {
    seen.started = [];
    seen.active = 0;
    seen.maxActive = 0;
  });

  async function open(): Promise<{ client: WsTestClient; conn: WsConnection }> {
    const client = await WsTestClient.connect(started.url('/order'));
    const hello = await client.nextJson<string>();
    return { client, conn: seen.conns.get(hello.data)! };
  }

  it('a message at an idle connection is handled without a mailbox', async () => {
    const { client, conn } = await open();
    for (let n = 0; n < 5; n++) {
      client.emit('sync', n);
      expect(await client.nextJson()).toEqual({ event: 'sync', data: n });
    }
    client.emit('async', 1);
    expect(await client.nextJson()).toEqual({ event: 'async', data: 1 });
    expect(mailboxOf(conn)).toBeNull();
    await client.close();
  });

  it('messages that arrive while a handler is in flight queue behind it, then run in arrival order', async () => {
    const { client } = await open();
    const sequence: Array<[string, number]> = [];
    for (let n = 0; n < 30; n++) sequence.push([n % 4 === 1 || n % 7 === 3 ? 'async' : 'sync', n]);
    for (const [event, n] of sequence) client.emit(event, n);
    expect(await client.takeJson(sequence.length)).toEqual(sequence.map(([event, data]) => ({ event, data })));
    expect(seen.started).toEqual(sequence.map(([event, n]) => `${event}:${n}`));
    expect(seen.maxActive).toBe(1);
    await client.close();
  });

  it('order holds when the connection goes idle and busy again between bursts', async () => {
    const { client } = await open();
    const expected: Array<{ event: string; data: number }> = [];
    for (let burst = 0; burst < 5; burst++) {
      const events = burst % 2 === 0 ? ['sync', 'async', 'sync', 'info-self'] : ['async', 'sync', 'sync'];
      events.forEach((event, i) => {
        const n = burst * 10 + i;
        client.emit(event, n);
        expected.push({ event, data: n });
        if (event === 'info-self') expected.push({ event: 'note', data: n });
      });
      // Wait out the burst: the connection is idle again when the next one arrives.
      const burstLength = events.length + (events.includes('info-self') ? 1 : 0);
      const got = await client.takeJson(burstLength);
      expect(got).toEqual(expected.slice(-burstLength));
    }
    expect(seen.maxActive).toBe(1);
    await client.close();
  });

  it('an info that arrives while a handler is in flight waits behind it, and a later message behind the info', async () => {
    const { client, conn } = await open();
    client.emit('async', 2);
    await waitFor(() => seen.started.includes('async:2'), 'the handler to start');
    conn.deliverInfo('note', 1);
    client.emit('sync', 3);
    expect(await client.takeJson(3)).toEqual([
      { event: 'async', data: 2 },
      { event: 'note', data: 1 },
      { event: 'sync', data: 3 },
    ]);
    expect(seen.started).toEqual(['async:2', 'note:1', 'sync:3']);
    await client.close();
  });

  it('an info sent while the connection is idle runs before a message that arrives after it', async () => {
    const { client, conn } = await open();
    conn.deliverInfo('note', 1);
    client.emit('sync', 2);
    expect(await client.takeJson(2)).toEqual([
      { event: 'note', data: 1 },
      { event: 'sync', data: 2 },
    ]);
    await client.close();
  });
});
