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
  pendingConn: null as WsConnection | null,
};

@WsGateway('/main')
class MainGateway {
  @OnAccept()
  async accept(@Query('wait') wait: string | undefined, @Conn() conn: WsConnection) {
    if (wait === 'yes') {
      state.pendingConn = conn;
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

  // Mutation caught: ConnectionRunner.shutdown() returning at once for a runner still in
  // @OnAccept (app.close() resolves while the accept is held).
  it('waits for an @OnAccept still running when shutdown starts, then answers it 503 and never opens the connection', async () => {
    state.acceptStarted = false;
    state.acceptGate = gate();
    state.pendingConn = null;
    state.reasons = [];
    const started = await startApp(platform, { providers: [MainGateway] });
    const events: string[] = [];
    const refused = WsTestClient.refused(started.url('/main?wait=yes')).then((r) => {
      events.push(`refused ${r.status}`);
      return r;
    });
    await waitFor(() => state.acceptStarted, 'accept to start');
    const pending = state.pendingConn!;
    expect(pending.state).toBe('pending');

    const closing = started.app.close().then(() => events.push('app closed'));
    // Shutdown has begun: a fresh upgrade, whose @OnAccept answers at once, gets 503 ...
    expect((await WsTestClient.refused(started.url('/main'))).status).toBe(503);
    // ... and app.close() still waits for the held accept, however long it takes.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(events).toEqual([]);
    expect(pending.state).toBe('pending');

    events.push('accept released');
    state.acceptGate.open();
    expect(await refused).toMatchObject({ status: 503 });
    await closing;
    expect(events).toEqual(['accept released', 'refused 503', 'app closed']);
    // Refused before the 101: the connection never opened, so @OnClose never ran for it.
    expect(pending.state).toBe('denied');
    expect(await pending.closed).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'denied' });
    expect(state.reasons).toEqual([]);
  });
});
