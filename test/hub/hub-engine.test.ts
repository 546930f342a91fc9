import { describe, it, expect, afterEach } from '@jest/globals';
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

/** A server whose every connection joins `room`, and `n` real clients connected to it. */
async function roomOf(n: number, options: Partial<WsServerOptions> = {}): Promise<Fixture> {
  const hub = new WsHub();
  const server = new WsServer({ port: 0, ...options });
  const members: ConnectionMember[] = [];
  let joined!: () => void;
  const allJoined = new Promise<void>((resolve) => (joined = resolve));
  server.on('connection', (conn: WebSocketConnection) => {
    const member = new ConnectionMember(conn);
    hub.register(member);
    hub.join(member, 'room');
    void conn.closed.then(() => hub.unregister(member));
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

  it('a connection that closes leaves its topics (auto-leave)', async () => {
    const { hub, clients, memberOf } = await roomOf(3);
    await clients[0]!.close();
    // The server unregisters in a reaction to `closed` attached before this one.
    await memberOf[0]!.connection.closed;
    expect(hub.count('room')).toBe(2);
    expect(hub.to('room').emit('e').delivered).toBe(2);
  });

  it("counts a connection over maxSendQueue as dropped (policy 'error') and one past the low-water mark as queued", async () => {
    const { hub } = await roomOf(4, { maxSendQueue: 1024, sendLowWaterMark: 256 });
    expect(hub.to('room').send('x'.repeat(2000))).toEqual({ delivered: 0, queued: 0, dropped: 4 });
    expect(hub.to('room').send('y'.repeat(600))).toEqual({ delivered: 0, queued: 4, dropped: 0 });
  });

  it("counts a connection over maxSendQueue as dropped under policy 'drop'", async () => {
    const { hub } = await roomOf(3, { maxSendQueue: 1024, sendLowWaterMark: 256, sendQueuePolicy: 'drop' });
    expect(hub.to('room').send(new Uint8Array(4096))).toEqual({ delivered: 0, queued: 0, dropped: 3 });
  });

  it('hub.close() closes every member with 1001', async () => {
    const { hub, clients } = await roomOf(3);
    await hub.close();
    const infos = await Promise.all(clients.map((c) => c.expectClose(1001)));
    expect(infos.every((info) => info.reason === 'server shutting down')).toBe(true);
  });
});
