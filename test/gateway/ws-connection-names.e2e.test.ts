import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { WsGateway, OnInit, OnMessage, OnClose, Conn, Payload, Reason, emit, type WsCloseReason, type WsConnection } from '../../lib/gateway/index.js';
import { expectThrowsWsgError } from '../support/expect-wsg-error.js';
import { startApp, type StartedApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

const conns = new Map<string, WsConnection>();
const reasons = new Map<string, WsCloseReason>();

@WsGateway('/names')
class NamesGateway {
  @OnInit()
  init(@Conn() conn: WsConnection) {
    conns.set(conn.id, conn);
    return emit('hello', conn.id);
  }

  @OnMessage('echo')
  echo(@Payload() data: unknown) {
    return data;
  }

  @OnClose()
  closed(@Conn() conn: WsConnection, @Reason() reason: WsCloseReason) {
    reasons.set(conn.id, reason);
  }
}

async function open(started: StartedApp): Promise<{ client: WsTestClient; conn: WsConnection }> {
  const client = await WsTestClient.connect(started.url('/names'));
  const hello = await client.nextJson<string>();
  return { client, conn: conns.get(hello.data)! };
}

describe('WsConnection: `connection` is the engine connection, `socket` its deprecated name', () => {
  let started: StartedApp;
  beforeAll(async () => {
    started = await startApp('express', { providers: [NamesGateway] });
  });
  afterAll(async () => {
    await started.app.close();
  });

  it('conn.socket (deprecated) returns the very object conn.connection returns: the engine WebSocketConnection', async () => {
    const { client, conn } = await open(started);
    expect(conn.connection).toBeInstanceOf(WebSocketConnection);
    expect(conn.socket).toBe(conn.connection);
    await client.close();
    await conn.closed;
    expect(conn.socket).toBe(conn.connection);
  });

  // Mutation caught: ConnectionRunner.close() leaving its cause marked when the engine refuses the code
  // (the mailbox then stops: 'echo' is never answered).
  it('conn.close() with a code that may not be sent throws and marks nothing: the connection stays open, a later client close is cause client', async () => {
    const { client, conn } = await open(started);
    expectThrowsWsgError(() => conn.close(1005, 'reserved'), 'WSG_ERR_INVALID_ARGUMENT');
    expect(conn.state).toBe('open');
    client.emit('echo', 'still served');
    expect(await client.nextJson()).toEqual({ event: 'echo', data: 'still served' });
    await client.close(CloseCode.Normal, 'bye');
    const reason = await conn.closed;
    expect(reason).toMatchObject({ code: CloseCode.Normal, reason: 'bye', cause: 'client' });
    expect(reasons.get(conn.id)).toBe(reason);
  });
});
