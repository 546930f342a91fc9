import { describe, it, expect } from '@jest/globals';
import { connect } from 'node:net';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { WsGateway, OnAccept, OnInit, OnClose, Conn, Reason, Query, emit, WsGatewayRegistry, type WsCloseReason, type WsConnection } from '../../lib/gateway/index.js';
import { PLATFORMS, startApp } from './support/nest-app.js';
import { gate, waitFor } from './support/wait-for.js';
import { WsTestClient } from './support/ws-client.js';

const state = {
  reasons: [] as WsCloseReason[],
  closeFinished: 0,
  acceptStarted: false,
  acceptGate: gate(),
};

@WsGateway('/main')
class MainGateway {
  @OnAccept()
  async accept(@Query('wait') wait: string | undefined) {
    if (wait === 'yes') {
      state.acceptStarted = true;
      await state.acceptGate.promise;
    }
    return true;
  }

  @OnInit()
  init(@Conn() conn: WsConnection) {
    return emit('hello', conn.id);
  }

  @OnClose()
  async closed(@Reason() reason: WsCloseReason) {
    state.reasons.push(reason);
    await new Promise((resolve) => setImmediate(resolve));
    state.closeFinished++;
  }
}

@WsGateway({ path: '/own', port: 0 })
class OwnPortGateway {
  @OnInit()
  init() {
    return emit('hello', 'own');
  }
}

function refusedTcp(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe.each(PLATFORMS)('application shutdown on %s', (platform) => {
  it('closes every connection with 1001, runs each @OnClose (cause shutdown) before app.close() resolves, and closes own servers', async () => {
    state.reasons = [];
    state.closeFinished = 0;
    const started = await startApp(platform, { providers: [MainGateway, OwnPortGateway] });
    const ownPort = started.app.get(WsGatewayRegistry).address(OwnPortGateway)!.port;
    const clients = await Promise.all([1, 2, 3].map(() => WsTestClient.connect(started.url('/main'))));
    const own = await WsTestClient.connect(`ws://127.0.0.1:${ownPort}/own`);
    for (const c of [...clients, own]) await c.nextJson();

    await started.app.close();

    expect(state.closeFinished).toBe(3);
    expect(state.reasons.map((r) => [r.code, r.cause, r.wasClean])).toEqual([
      [CloseCode.GoingAway, 'shutdown', true],
      [CloseCode.GoingAway, 'shutdown', true],
      [CloseCode.GoingAway, 'shutdown', true],
    ]);
    for (const c of [...clients, own]) expect(await c.closed).toEqual({ code: CloseCode.GoingAway, reason: 'server shutting down' });
    expect(await refusedTcp(ownPort)).toBe('ECONNREFUSED');
    expect(await refusedTcp(started.port)).toBe('ECONNREFUSED');
  });

  it('answers 503 to an upgrade still in @OnAccept when shutdown starts, and waits for it', async () => {
    state.acceptStarted = false;
    state.acceptGate = gate();
    const started = await startApp(platform, { providers: [MainGateway] });
    const refused = WsTestClient.refused(started.url('/main?wait=yes'));
    await waitFor(() => state.acceptStarted, 'accept to start');
    let closed = false;
    const closing = started.app.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    state.acceptGate.open();
    expect((await refused).status).toBe(503);
    await closing;
  });
});
