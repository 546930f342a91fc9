import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import { WsGatewayRegistry } from '../../lib/gateway/gateway-registry.js';
import { Conn, OnInit, OnMessage, Payload, WsGateway, type WsConnection } from '../../lib/gateway/index.js';
import type { PublishResult } from '../../lib/hub/publish-result.js';
import { WsHub } from '../../lib/hub/index.js';
import { expectCodeInText } from '../support/expect-wsg-error.js';
import { startApp, type StartedApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

// A gateway connection whose send queue is full: volatile messages (conn.send/emit with
// { volatile: true }, hub.to(t).volatile) are dropped and counted; anything else closes it
// 1013 (the default sendQueuePolicy). The registry counts both per gateway and the WsGate
// logger warns at most once a second per gateway.
const LIMIT = 4096;
let outcomes: Array<string | PublishResult> = [];

@WsGateway({ path: '/sq', maxSendQueue: LIMIT, sendLowWaterMark: 1024 })
class SendQueueGateway {
  constructor(private readonly hub: WsHub) {}

  @OnInit()
  init(@Conn() conn: WsConnection) {
    conn.join('room');
  }

  /** Fills the queue past LIMIT in one tick (frames leave on the next), then sends `count` volatile messages. */
  @OnMessage('volatile')
  volatile(@Conn() conn: WsConnection, @Payload() count: number) {
    outcomes = [conn.send(Buffer.alloc(LIMIT))];
    for (let i = 0; i < count; i++) outcomes.push(conn.emit('typing', i, { volatile: true }));
    outcomes.push(this.hub.to('room').volatile.emit('typing', 'all'));
  }

  /** Fills the queue past LIMIT, then broadcasts a line that may not be lost. */
  @OnMessage('line')
  line(@Conn() conn: WsConnection) {
    outcomes = [conn.send(Buffer.alloc(LIMIT))];
    outcomes.push(this.hub.to('room').emit('said', 'line'));
  }

  @OnMessage('ping')
  ping() {
    return 'pong';
  }
}

const warnings: string[] = [];
const logger: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: (message: unknown) => warnings.push(String(message)),
};

describe('gateway send queue: volatile drops and 1013 closes, counted in the registry', () => {
  let started: StartedApp;
  let registry: WsGatewayRegistry;
  beforeAll(async () => {
    started = await startApp('express', { providers: [SendQueueGateway], logger });
    registry = started.app.get(WsGatewayRegistry);
  });
  afterAll(async () => {
    await started.app.close();
  });

  it("drops volatile sends (conn.emit and hub .volatile) at maxSendQueue, keeps the connection open and counts them; warns once at once, then once a second later with the rest", async () => {
    warnings.length = 0;
    const client = await WsTestClient.connect(started.url('/sq'));
    client.emit('volatile', 3);
    expect((await client.next()).data).toEqual(Buffer.alloc(LIMIT));
    expect(outcomes).toEqual(['queued', 'dropped', 'dropped', 'dropped', { delivered: 0, queued: 0, dropped: 1 }]);
    expect(registry.sendQueueTotals(SendQueueGateway)).toEqual({ dropped: 4, closed: 0 });
    expect(registry.sendQueueTotals()).toEqual({ dropped: 4, closed: 0 });
    client.emit('ping');
    expect(await client.nextJson()).toEqual({ event: 'ping', data: 'pong' });
    expect(warnings).toHaveLength(1);
    expectCodeInText(warnings[0], 'WSG_ERR_SEND_QUEUE_FULL');
    expect(warnings[0]).toContain('SendQueueGateway: 1 message(s) dropped');
    const start = Date.now();
    while (warnings.length < 2 && Date.now() - start < 3000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('SendQueueGateway: 3 message(s) dropped, 0 connection(s) closed 1013');
    expect(warnings[1]).toContain('totals 4 dropped, 0 closed');
    await client.close();
  });

  it('closes 1013 a member whose queue is full when a non-volatile broadcast reaches it, and counts the close', async () => {
    const before = registry.sendQueueTotals(SendQueueGateway);
    const client = await WsTestClient.connect(started.url('/sq'));
    client.emit('line');
    expect((await client.closed).code).toBe(1013);
    expect(outcomes).toEqual(['queued', { delivered: 0, queued: 0, dropped: 1 }]);
    expect(registry.sendQueueTotals(SendQueueGateway)).toEqual({ dropped: before.dropped, closed: before.closed + 1 });
    expect(registry.sendQueueTotals('NoSuchGateway')).toEqual({ dropped: 0, closed: 0 });
  });
});
