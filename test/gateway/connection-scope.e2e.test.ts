import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Injectable, Scope, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { WsHub } from '../../lib/hub/index.js';
import {
  WsGateway,
  OnAccept,
  OnInit,
  OnMessage,
  OnClose,
  OnInfo,
  Conn,
  InjectConnection,
  Payload,
  State,
  accept,
  emit,
  WsGatewayRegistry,
  type WsConnection,
} from '../../lib/gateway/index.js';
import { PLATFORMS, startApp, type StartedApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

/** A per-connection service: one per connection, with the connection injected. */
@Injectable({ scope: Scope.REQUEST })
class Presence {
  static created = 0;
  readonly n = ++Presence.created;
  constructor(@InjectConnection() readonly conn: WsConnection) {}
}

/** Singleton: counts how often the scoped gateways are built. */
@Injectable()
class Counter {
  gateways = 0;
}

const liveInstances = new Set<WeakRef<object>>();

@Injectable()
class ScopedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getData() !== 'forbidden';
  }
}

@WsGateway({ path: '/scoped', scope: 'connection' })
class ScopedGateway {
  readonly n: number;
  private messages = 0;

  constructor(
    @InjectConnection() private readonly conn: WsConnection,
    private readonly presence: Presence,
    private readonly hub: WsHub,
    counter: Counter,
  ) {
    this.n = ++counter.gateways;
    liveInstances.add(new WeakRef(this));
    liveInstances.add(new WeakRef(presence));
  }

  @OnAccept()
  accept() {
    // Connection-scoped: the connection is here before the 101.
    return accept({ acceptedBy: this.n, sameConn: this.presence.conn === this.conn, path: this.conn.request.path });
  }

  @OnInit()
  init(@State() state: unknown) {
    return emit('hello', { state, id: this.conn.id });
  }

  @OnMessage('who')
  who() {
    this.messages++;
    return { n: this.n, presence: this.presence.n, sameConn: this.presence.conn === this.conn, messages: this.messages, hub: this.hub instanceof WsHub, id: this.conn.id };
  }

  @OnMessage('guarded')
  @UseGuards(ScopedGuard)
  guarded(@Payload() data: string) {
    return `${data} by ${this.n}`;
  }

  @OnClose()
  closed() {
    return undefined;
  }
}

/** Declared without a scope, but it depends on a per-connection service: per connection too. */
@WsGateway('/implicit')
class ImplicitGateway {
  constructor(private readonly presence: Presence) {}

  @OnInit()
  init(@Conn() conn: WsConnection) {
    conn.join('implicit');
    return emit('hello', conn.id);
  }

  @OnMessage('who')
  who(@Conn() conn: WsConnection) {
    return { presence: this.presence.conn.id, conn: conn.id, same: this.presence.conn === conn };
  }

  /** Reached through hub.send(id, ...): answers with the id of the connection it landed on. */
  @OnInfo('whoami')
  whoami(@Conn() conn: WsConnection) {
    return emit('you-are', conn.id);
  }
}

@WsGateway('/singleton')
class SingletonGateway {
  static instances = 0;
  constructor() {
    SingletonGateway.instances++;
  }

  @OnMessage('who')
  who() {
    return SingletonGateway.instances;
  }
}

function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describe.each(PLATFORMS)('DI of connections on %s', (platform) => {
  let started: StartedApp;
  beforeAll(async () => {
    started = await startApp(platform, { providers: [Presence, Counter, ScopedGuard, ScopedGateway, ImplicitGateway, SingletonGateway] });
  });
  afterAll(async () => {
    await started.app.close();
  });

  it("scope 'connection': one gateway instance per connection, with @InjectConnection() in it and in its request-scoped providers", async () => {
    const a = await WsTestClient.connect(started.url('/scoped'));
    const b = await WsTestClient.connect(started.url('/scoped'));
    const helloA = await a.nextJson<{ state: { acceptedBy: number; sameConn: boolean; path: string }; id: string }>();
    const helloB = await b.nextJson<{ state: { acceptedBy: number; sameConn: boolean }; id: string }>();
    expect(helloA.data.state).toMatchObject({ sameConn: true, path: '/scoped' });
    expect(helloA.data.id).not.toBe(helloB.data.id);
    a.emit('who');
    a.emit('who');
    b.emit('who');
    const [a1, a2] = await a.takeJson(2);
    const b1 = await b.nextJson<{ n: number; presence: number }>();
    expect(a1!.data).toMatchObject({ n: helloA.data.state.acceptedBy, sameConn: true, messages: 1, hub: true, id: helloA.data.id });
    expect(a2!.data).toMatchObject({ n: helloA.data.state.acceptedBy, messages: 2, id: helloA.data.id });
    expect(b1.data).toMatchObject({ n: helloB.data.state.acceptedBy, id: helloB.data.id });
    expect(b1.data.n).not.toBe(helloA.data.state.acceptedBy);
    await a.close();
    await b.close();
  });

  it('guards of a connection-scoped gateway run on the per-connection instance', async () => {
    const client = await WsTestClient.connect(started.url('/scoped'));
    const hello = await client.nextJson<{ state: { acceptedBy: number } }>();
    client.emit('guarded', 'ok');
    client.emit('guarded', 'forbidden');
    expect(await client.takeJson(2)).toEqual([
      { event: 'guarded', data: `ok by ${hello.data.state.acceptedBy}` },
      { event: 'exception', data: { status: 'error', message: 'Forbidden resource' } },
    ]);
    await client.close();
  });

  it('a gateway that depends on a per-connection provider is compiled as connection scope', async () => {
    const registry = started.app.get(WsGatewayRegistry);
    expect(registry.plan(ImplicitGateway)?.scope).toBe('connection');
    expect(registry.plan(ScopedGateway)?.scope).toBe('connection');
    expect(registry.plan(SingletonGateway)?.scope).toBe('singleton');
  });

  it('conn.id: unique per connection, the hub\'s id for it, and the same in every message of one connection', async () => {
    const hub = started.app.get(WsHub);
    const a = await WsTestClient.connect(started.url('/implicit'));
    const b = await WsTestClient.connect(started.url('/implicit'));
    const idA = (await a.nextJson<string>()).data;
    const idB = (await b.nextJson<string>()).data;
    expect(idA).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idB).not.toBe(idA);
    // The hub knows each connection by that id ...
    expect(hub.members('implicit').map((m) => m.id).sort()).toEqual([idA, idB].sort());
    // ... and an info sent to one id reaches that connection only.
    expect(hub.send(idB, 'whoami')).toBe(true);
    expect(await b.nextJson()).toEqual({ event: 'you-are', data: idB });
    expect(hub.send(idA, 'whoami')).toBe(true);
    expect(await a.nextJson()).toEqual({ event: 'you-are', data: idA });
    expect(b.pending).toBe(0);
    // Stable across messages: @Conn() and the injected per-connection provider agree every time.
    for (let i = 0; i < 3; i++) {
      a.emit('who');
      b.emit('who');
    }
    expect((await a.takeJson(3)).map((m) => m.data)).toEqual(Array.from({ length: 3 }, () => ({ presence: idA, conn: idA, same: true })));
    expect((await b.takeJson(3)).map((m) => m.data)).toEqual(Array.from({ length: 3 }, () => ({ presence: idB, conn: idB, same: true })));
    await a.close();
    await b.close();
    // Gone from the hub once closed: the id no longer reaches anyone.
    await waitForNoConnections(started.app.get(WsGatewayRegistry));
    expect(hub.send(idA, 'whoami')).toBe(false);
  });

  it('singleton gateways are built once', async () => {
    const before = SingletonGateway.instances;
    for (let i = 0; i < 3; i++) {
      const client = await WsTestClient.connect(started.url('/singleton'));
      client.emit('who');
      expect((await client.nextJson()).data).toBe(before);
      await client.close();
    }
  });

  it('releases per-connection instances on close: 2000 connect/close cycles, heap back near baseline', async () => {
    const gc = exposeGc();
    const registry = started.app.get(WsGatewayRegistry);
    const cycles = Number(process.env.WSG_MEMORY_CYCLES ?? 2000);
    const batch = 50;
    const cycle = async (): Promise<void> => {
      const client = await WsTestClient.connect(started.url('/scoped'));
      await client.nextJson();
      client.emit('who');
      await client.nextJson();
      await client.close();
    };
    // Warm up so that lazily built structures (chains, JIT) are in the baseline.
    for (let i = 0; i < batch; i++) await cycle();
    await waitForNoConnections(registry);
    gc();
    gc();
    const baseline = process.memoryUsage().heapUsed;
    liveInstances.clear();
    for (let done = 0; done < cycles; done += batch) {
      await Promise.all(Array.from({ length: batch }, cycle));
    }
    await waitForNoConnections(registry);
    gc();
    gc();
    const after = process.memoryUsage().heapUsed;
    let alive = 0;
    for (const ref of liveInstances) if (ref.deref() !== undefined) alive++;
    expect(liveInstances.size).toBe(cycles * 2);
    // Every gateway instance and every Presence was collected.
    expect(alive).toBe(0);
    // A leak of one gateway + provider + connection per cycle would be far above this.
    expect(after - baseline).toBeLessThan(4 * 1024 * 1024);
  }, 60_000);
});

async function waitForNoConnections(registry: WsGatewayRegistry): Promise<void> {
  const deadline = Date.now() + 5000;
  while (registry.connectionCount() > 0) {
    if (Date.now() > deadline) throw new Error(`${registry.connectionCount()} connections still open`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
