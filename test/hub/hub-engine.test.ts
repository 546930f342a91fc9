import { describe, it, expect, afterAll, afterEach, beforeAll } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { Conn, OnInit, OnMessage, Payload, WsGateModule, WsGateway, emit, type WsConnection } from '../../lib/gateway/index.js';
import { WsHub } from '../../lib/hub/index.js';
import type { HubMember } from '../../lib/hub/index.js';
import { WsServer } from '../../lib/frames/websocket-server.js';
import type { WsServerOptions } from '../../lib/frames/websocket-server.js';
import type { PreparedMessage, SendResult, WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { closeAllTestClients, connectTestClient } from '../../lib/testing/index.js';
import type { TestClient } from '../../lib/testing/index.js';

/** The hub's view of a real engine connection, recording what the hub handed it. */
class ConnectionMember implements HubMember {
  readonly prepared: PreparedMessage[] = [];
  constructor(readonly connection: WebSocketConnection) {}
  get id(): string {
    return this.connection.id;
  }
  sendPrepared(msg: PreparedMessage): SendResult {
    this.prepared.push(msg);
    return this.connection.sendPrepared(msg);
  }
  deliverInfo(type: string, data: unknown): void {
    this.connection.send(JSON.stringify({ event: type, data }));
  }
  close(code: number, reason: string): void {
    this.connection.close(code, reason);
  }
}

interface Fixture {
  hub: WsHub;
  server: WsServer;
  members: ConnectionMember[];
  clients: TestClient[];
  /** The server-side member of each client, in the same order. */
  memberOf: ConnectionMember[];
}

let fixture: Fixture | null = null;

afterEach(async () => {
  await closeAllTestClients();
  await fixture?.hub.close();
  await fixture?.server.close();
  fixture = null;
});

/**
 * A server whose every connection joins `room`, and `n` real clients connected to it. With
 * `unregisterOnClose` (the default) the fixture plays the owner that the hub's contract asks
 * for and unregisters a member once its connection is closed.
 */
async function roomOf(n: number, options: Partial<WsServerOptions> = {}, unregisterOnClose = true): Promise<Fixture> {
  const hub = new WsHub();
  const server = new WsServer({ port: 0, ...options });
  const members: ConnectionMember[] = [];
  let joined!: () => void;
  const allJoined = new Promise<void>((resolve) => (joined = resolve));
  server.on('connection', (conn: WebSocketConnection) => {
    const member = new ConnectionMember(conn);
    hub.register(member);
    hub.join(member, 'room');
    if (unregisterOnClose) void conn.closed.then(() => hub.unregister(member));
    members.push(member);
    conn.send(JSON.stringify({ event: 'hello', data: member.id }));
    if (members.length === n) joined();
  });
  const { port } = await server.listen();
  const clients = await Promise.all(Array.from({ length: n }, () => connectTestClient(port, '/')));
  await allJoined;
  const ids = await Promise.all(clients.map((c) => c.expect<string>('hello')));
  const memberOf = ids.map((id) => members.find((m) => m.id === id)!);
  fixture = { hub, server, members, clients, memberOf };
  return fixture;
}

describe('hub broadcast over real engine connections', () => {
  it('one broadcast reaches 20 clients, all written from one PreparedMessage', async () => {
    const { hub, members, clients } = await roomOf(20);
    expect(hub.count('room')).toBe(20);
    const result = hub.to('room').emit('news', { n: 1 });
    expect(result).toEqual({ delivered: 20, queued: 0, dropped: 0 });
    const received = await Promise.all(clients.map((c) => c.expect('news')));
    expect(received).toEqual(Array.from({ length: 20 }, () => ({ n: 1 })));
    expect(new Set(members.map((m) => m.prepared[0])).size).toBe(1);
  });

  it('except() keeps the sender out, by its connection id', async () => {
    const { hub, clients, memberOf } = await roomOf(3);
    hub.to('room').except(memberOf[0]!.id).emit('said', 'x');
    hub.to('room').emit('marker');
    // Had the broadcast reached the sender, 'said' would come before 'marker'.
    expect(JSON.parse((await clients[0]!.next()).data as string)).toEqual({ event: 'marker' });
    for (const other of clients.slice(1)) expect(await other.expect('said')).toBe('x');
    expect(memberOf[0]!.prepared).toHaveLength(1);
  });

  it('send() delivers info to one connection; disconnect() by alias closes it with the given code', async () => {
    const { hub, clients, memberOf } = await roomOf(2);
    hub.alias(memberOf[1]!, 'user:42');
    expect(hub.send(memberOf[1]!.id, 'typing', { who: 'ann' })).toBe(true);
    expect(await clients[1]!.expect('typing')).toEqual({ who: 'ann' });
    expect(hub.disconnect('user:42', 4001, 'kicked')).toBe(true);
    expect(hub.count('room')).toBe(1);
    expect(await clients[1]!.expectClose(4001)).toMatchObject({ code: 4001, reason: 'kicked' });
    expect(clients[0]!.isOpen).toBe(true);
  });

  it("counts a member whose queue is at maxSendQueue as dropped (policy 'error'); one below it is admitted whole and counted queued", async () => {
    const { hub } = await roomOf(4, { maxSendQueue: 1024, sendLowWaterMark: 256 });
    // Below the limit, a message larger than it is admitted whole (the queue overshoots).
    expect(hub.to('room').send('x'.repeat(2000))).toEqual({ delivered: 0, queued: 4, dropped: 0 });
    // Now over the limit on every member: the next broadcast is refused and counted.
    expect(hub.to('room').send('y'.repeat(10))).toEqual({ delivered: 0, queued: 0, dropped: 4 });
  });

  it("counts a member whose queue is at maxSendQueue as dropped under policy 'drop'", async () => {
    const { hub } = await roomOf(3, { maxSendQueue: 1024, sendLowWaterMark: 256, sendQueuePolicy: 'drop' });
    expect(hub.to('room').send(new Uint8Array(4096))).toEqual({ delivered: 0, queued: 3, dropped: 0 });
    expect(hub.to('room').send(new Uint8Array(1))).toEqual({ delivered: 0, queued: 0, dropped: 3 });
  });

  it('hub.close() closes every member with 1001', async () => {
    const { hub, clients } = await roomOf(3);
    await hub.close();
    const infos = await Promise.all(clients.map((c) => c.expectClose(1001)));
    expect(infos.every((info) => info.reason === 'server shutting down')).toBe(true);
  });
});

describe('the bare hub does not see a connection close (WsHub.register contract)', () => {
  it('counts a member whose connection closed, and that nobody unregistered, as dropped', async () => {
    const { hub, clients, memberOf } = await roomOf(3, {}, false);
    await clients[0]!.close();
    await memberOf[0]!.connection.closed;
    expect(hub.count('room')).toBe(3);
    // sendPrepared on a closed connection throws WSG_ERR_ALREADY_CLOSED: counted, not thrown.
    expect(hub.to('room').emit('e')).toEqual({ delivered: 2, queued: 0, dropped: 1 });
    hub.unregister(memberOf[0]!);
    expect(hub.count('room')).toBe(2);
  });
});

/** Gateway connections by id, as @OnInit saw them. */
const gatewayConns = new Map<string, WsConnection>();

/** Every connection joins two rooms at once; `alias` names it. Nothing here ever unregisters. */
@WsGateway('/rooms')
class RoomsGateway {
  constructor(private readonly hub: WsHub) {}

  @OnInit()
  init(@Conn() conn: WsConnection) {
    gatewayConns.set(conn.id, conn);
    conn.join('room:a');
    conn.join('room:b');
    return emit('hello', conn.id);
  }

  @OnMessage('alias')
  alias(@Conn() conn: WsConnection, @Payload() name: string) {
    this.hub.alias(conn, name);
    return name;
  }
}

/**
 * Auto-leave is the gateway's job: ConnectionRunner.onClosed() calls hub.unregister() when the
 * connection ends, however it ends, before @OnClose runs.
 * Mutation caught: `this.context.hub.unregister(this.conn)` removed from onClosed() in
 * lib/gateway/connection-runner.ts (every test below then sees 3 members, not 2).
 */
describe('auto-leave on close: a gateway connection that ends leaves every topic and alias', () => {
  let app: INestApplication;
  let hub: WsHub;

  beforeAll(async () => {
    @Module({ imports: [WsGateModule.forRoot({ host: '127.0.0.1' })], providers: [RoomsGateway] })
    class RoomsModule {}
    app = await NestFactory.create(RoomsModule, new ExpressAdapter(), { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    hub = app.get(WsHub);
  });

  afterAll(async () => {
    await closeAllTestClients();
    await app.close();
  });

  /** Three clients in room:a and room:b; the first also has alias user:ann. */
  async function threeInRooms(): Promise<{ clients: TestClient[]; first: WsConnection }> {
    const clients = await Promise.all([1, 2, 3].map(() => connectTestClient(app, '/rooms')));
    const ids = await Promise.all(clients.map((c) => c.expect<string>('hello')));
    clients[0]!.emit('alias', 'user:ann');
    expect(await clients[0]!.expect('alias')).toBe('user:ann');
    expect([hub.count('room:a'), hub.count('room:b')]).toEqual([3, 3]);
    return { clients, first: gatewayConns.get(ids[0]!)! };
  }

  /** What the hub sees once `first` is gone: two members left, and nothing reaches `first`. */
  function expectGone(first: WsConnection): void {
    expect([hub.count('room:a'), hub.count('room:b')]).toEqual([2, 2]);
    expect(hub.members('room:a')).not.toContain(first);
    expect(hub.topicsOf(first)).toEqual(new Set());
    expect(hub.to(['room:a', 'room:b']).emit('news')).toEqual({ delivered: 2, queued: 0, dropped: 0 });
    expect(hub.send('user:ann', 'typing')).toBe(false);
    expect(hub.send(first.id, 'typing')).toBe(false);
  }

  it('after a close handshake the client started', async () => {
    const { clients, first } = await threeInRooms();
    await clients[0]!.close(4000, 'bye');
    expect(await first.closed).toMatchObject({ code: 4000, reason: 'bye', cause: 'client' });
    expectGone(first);
    await Promise.all(clients.slice(1).map((c) => c.close()));
  });

  it('after the TCP connection drops without a close frame (1006)', async () => {
    const { clients, first } = await threeInRooms();
    clients[0]!.connection.terminate();
    expect(await first.closed).toMatchObject({ code: CloseCode.Abnormal, wasClean: false });
    expectGone(first);
    await Promise.all(clients.slice(1).map((c) => c.close()));
  });

  it('after the server closes it from the connection itself', async () => {
    const { clients, first } = await threeInRooms();
    first.close(4001, 'kicked');
    expect(await clients[0]!.expectClose(4001)).toMatchObject({ code: 4001, reason: 'kicked' });
    await first.closed;
    expectGone(first);
    await Promise.all(clients.slice(1).map((c) => c.close()));
  });
});
