import { describe, it, expect, afterAll, beforeAll, beforeEach } from '@jest/globals';
import { Observable, of } from 'rxjs';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { WsClient } from '../../lib/http2/ws-client.js';
import { WsHub } from '../../lib/hub/index.js';
import {
  WsGateway,
  OnInit,
  OnMessage,
  OnInfo,
  OnClose,
  Payload,
  Conn,
  Info,
  Reason,
  accept,
  close,
  emit,
  reply,
  send,
  type WsCloseReason,
  type WsConnection,
} from '../../lib/gateway/index.js';
import { expectCodeInText, expectWsgError } from '../support/expect-wsg-error.js';
import { CaptureLogger } from './support/capture-logger.js';
import { PLATFORMS, startApp, type StartedApp } from './support/nest-app.js';
import { gate, turns, waitFor } from './support/wait-for.js';
import { WsTestClient } from './support/ws-client.js';

/** What the gateways saw, by connection id. */
const seen = {
  conns: new Map<string, WsConnection>(),
  closes: new Map<string, WsCloseReason[]>(),
  events: [] as string[],
  active: 0,
  maxActive: 0,
  teardowns: [] as string[],
  block: gate(),
  reset(): void {
    this.events = [];
    this.active = 0;
    this.maxActive = 0;
    this.teardowns = [];
    this.block = gate();
  },
};

function recordClose(conn: WsConnection, reason: WsCloseReason): void {
  const list = seen.closes.get(conn.id) ?? [];
  list.push(reason);
  seen.closes.set(conn.id, list);
}

@WsGateway('/life')
class LifeGateway {
  constructor(private readonly hub: WsHub) {}

  @OnInit()
  init(@Conn() conn: WsConnection) {
    seen.conns.set(conn.id, conn);
    return emit('hello', conn.id);
  }

  @OnMessage('echo')
  echo(@Payload() data: unknown) {
    return data;
  }

  @OnMessage('work')
  async work(@Payload() data: { n: number; turns: number }) {
    seen.active++;
    seen.maxActive = Math.max(seen.maxActive, seen.active);
    await turns(data.turns);
    seen.active--;
    return data.n;
  }

  @OnMessage('block')
  async block() {
    seen.events.push('block-start');
    await seen.block.promise;
    seen.events.push('block-end');
    return 'unblocked';
  }

  @OnMessage('note-self')
  noteSelf(@Conn() conn: WsConnection) {
    this.hub.send(conn.id, 'note', 'from-handler');
    return 'noted';
  }

  @OnMessage('promise')
  promise(@Payload() data: unknown) {
    return new Promise((resolve) => setImmediate(() => resolve({ later: data })));
  }

  @OnMessage('observable')
  observable() {
    return of(1, 2, 3);
  }

  @OnMessage('endless-observable')
  endless(@Conn() conn: WsConnection) {
    return new Observable<number>((subscriber) => {
      subscriber.next(0);
      return () => seen.teardowns.push(`observable:${conn.id}`);
    });
  }

  @OnMessage('iterable')
  async *iterable() {
    yield 'a';
    yield 'b';
    yield emit('c', 'as-event');
  }

  @OnMessage('endless-iterable')
  async *endlessIterable(@Conn() conn: WsConnection) {
    // An async generator can only be stopped at a yield, so this one keeps yielding.
    try {
      for (let n = 0; ; n++) {
        yield n === 0 ? 'first' : n;
        await turns(1);
      }
    } finally {
      seen.teardowns.push(`iterable:${conn.id}`);
    }
  }

  @OnMessage('commands')
  commands() {
    return [emit('first', 1), reply('second'), send('third-raw'), close(4000, 'done'), emit('after-close', 'dropped')];
  }

  @OnMessage('array-value')
  arrayValue() {
    return [1, 2, 3];
  }

  @OnMessage('bye')
  bye() {
    return close(4001, 'kicked by handler');
  }

  @OnMessage('misplaced')
  misplaced() {
    return accept({});
  }

  @OnMessage('crash')
  crash() {
    throw new Error('boom');
  }

  @OnInfo('note')
  note(@Payload() data: unknown) {
    return data;
  }

  @OnInfo('ask')
  ask(@Info() info: unknown) {
    return emit('answer', info);
  }

  @OnClose()
  closed(@Conn() conn: WsConnection, @Reason() reason: WsCloseReason) {
    seen.events.push('close');
    recordClose(conn, reason);
  }
}

@WsGateway({ path: '/strict', onError: 'close', idleTimeout: 200, maxMessageSize: 32, maxFrameSize: 1024 })
class StrictGateway {
  @OnInit()
  init(@Conn() conn: WsConnection) {
    seen.conns.set(conn.id, conn);
    return emit('hello', conn.id);
  }

  @OnMessage('crash')
  crash() {
    throw new Error('strict boom');
  }

  @OnMessage('misplaced')
  misplaced() {
    return accept({});
  }

  @OnMessage('e')
  e(@Payload() data: unknown) {
    return data;
  }

  @OnClose()
  closed(@Conn() conn: WsConnection, @Reason() reason: WsCloseReason) {
    recordClose(conn, reason);
  }
}

@WsGateway({ path: '/small', maxMailbox: 2, maxReceiveQueue: 2 })
class SmallMailboxGateway {
  @OnInit()
  init(@Conn() conn: WsConnection) {
    seen.conns.set(conn.id, conn);
    return emit('hello', conn.id);
  }

  @OnMessage('block')
  async block() {
    seen.events.push('small-block');
    await seen.block.promise;
    return 'unblocked';
  }

  @OnMessage('n')
  n(@Payload() n: number) {
    return n;
  }

  @OnInfo()
  any(@Info() info: { type: string; data: unknown }) {
    return emit('info', info);
  }

  @OnClose()
  closed(@Conn() conn: WsConnection, @Reason() reason: WsCloseReason) {
    recordClose(conn, reason);
  }
}

@WsGateway({ path: '/heartbeat', pingInterval: 40, pongTimeout: 40 })
class HeartbeatGateway {
  @OnInit()
  init(@Conn() conn: WsConnection) {
    seen.conns.set(conn.id, conn);
    return emit('hello', conn.id);
  }

  @OnClose()
  closed(@Conn() conn: WsConnection, @Reason() reason: WsCloseReason) {
    recordClose(conn, reason);
  }
}

/** @OnInit returns a plain value: there is no event to reply under (WSG_ERR_GATEWAY_RESULT). */
@WsGateway({ path: '/plain-init', onError: 'close' })
class PlainInitGateway {
  static last: WsConnection | null = null;

  @OnInit()
  init(@Conn() conn: WsConnection) {
    PlainInitGateway.last = conn;
    return 'a plain value';
  }

  @OnClose()
  closed(@Conn() conn: WsConnection, @Reason() reason: WsCloseReason) {
    recordClose(conn, reason);
  }
}

/** The same under the default onError ('exception'): the client gets an exception event and stays. */
@WsGateway('/plain-init-default')
class PlainInitDefaultGateway {
  @OnInit()
  init(@Conn() conn: WsConnection) {
    seen.conns.set(conn.id, conn);
    return 'a plain value';
  }

  @OnMessage('echo')
  echo(@Conn() conn: WsConnection) {
    return conn.id;
  }

  /** A plain value from @OnClose has nowhere to go either: it is logged. */
  @OnClose()
  closed(@Conn() conn: WsConnection, @Reason() reason: WsCloseReason) {
    recordClose(conn, reason);
    return 'too late';
  }
}

async function open(started: StartedApp, path: string): Promise<{ client: WsTestClient; conn: WsConnection }> {
  const client = await WsTestClient.connect(started.url(path));
  const hello = await client.nextJson<string>();
  expect(hello.event).toBe('hello');
  return { client, conn: seen.conns.get(hello.data)! };
}

/** Long enough for a second @OnClose call (a duplicate close event, a retried close) to show up. */
const SECOND_CALL_WINDOW_MS = 60;

/**
 * What @OnClose received through @Reason(), once `conn.closed` settled and a quiet window
 * passed: exactly one call, with the very reason `conn.closed` reports.
 */
async function onCloseReasonOf(conn: WsConnection): Promise<WsCloseReason> {
  const settled = await conn.closed;
  await new Promise((resolve) => setTimeout(resolve, SECOND_CALL_WINDOW_MS));
  await turns(2);
  const received = seen.closes.get(conn.id) ?? [];
  expect(received).toHaveLength(1);
  expect(received[0]).toBe(settled);
  return received[0]!;
}

/** A reason without its error, for toEqual; the error is checked with expectWsgError. */
function withoutError(reason: WsCloseReason): Omit<WsCloseReason, 'error'> {
  const { error: _error, ...rest } = reason;
  return rest;
}

describe.each(PLATFORMS)('connection lifecycle on %s', (platform) => {
  let started: StartedApp;
  let hub: WsHub;
  const logger = new CaptureLogger();
  beforeAll(async () => {
    started = await startApp(platform, { providers: [LifeGateway, StrictGateway, SmallMailboxGateway, HeartbeatGateway, PlainInitGateway, PlainInitDefaultGateway], logger });
    hub = started.app.get(WsHub);
  });
  afterAll(async () => {
    await started.app.close();
  });
  beforeEach(() => seen.reset());

  describe('one ordered mailbox per connection', () => {
    it('handles async handlers one at a time, replying in arrival order', async () => {
      const { client } = await open(started, '/life');
      const order = Array.from({ length: 20 }, (_, n) => ({ n, turns: (n * 7) % 5 }));
      for (const item of order) client.emit('work', item);
      const replies = await client.takeJson(20);
      expect(replies.map((r) => r.data)).toEqual(order.map((o) => o.n));
      expect(seen.maxActive).toBe(1);
      await client.close();
    });

    it('queues an info behind the message being handled and before later ones', async () => {
      const { client } = await open(started, '/life');
      client.emit('note-self');
      client.emit('echo', 'after');
      expect(await client.takeJson(3)).toEqual([
        { event: 'note-self', data: 'noted' },
        { event: 'note', data: 'from-handler' },
        { event: 'echo', data: 'after' },
      ]);
      await client.close();
    });

    it('delivers hub.send() infos to @OnInfo; a plain value replies under the info type', async () => {
      const { client, conn } = await open(started, '/life');
      expect(hub.send(conn.id, 'ask', { q: 1 })).toBe(true);
      expect(await client.nextJson()).toEqual({ event: 'answer', data: { type: 'ask', data: { q: 1 } } });
      await client.close();
    });

    it('logs an info nobody handles (WSG_ERR_GATEWAY_UNKNOWN_INFO) and keeps going', async () => {
      const { client, conn } = await open(started, '/life');
      conn.deliverInfo('nobody-handles-this', 1);
      client.emit('echo', 'still-here');
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'still-here' });
      expectCodeInText(logger.lines.find((l) => l.level === 'warn' && l.message.includes('nobody-handles-this'))?.message, 'WSG_ERR_GATEWAY_UNKNOWN_INFO');
      await client.close();
    });
  });

  describe('limit maxMailbox', () => {
    it('stops taking client messages while the mailbox is full: the engine pauses reading, then all are handled in order', async () => {
      const { client, conn } = await open(started, '/small');
      client.emit('block');
      for (let n = 1; n <= 8; n++) client.emit('n', n);
      await waitFor(() => conn.connection!.isPaused && conn.connection!.transport.isPaused(), 'reading to pause');
      seen.block.open();
      const replies = await client.takeJson(9);
      expect(replies.map((r) => r.data)).toEqual(['unblocked', 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(conn.connection!.isPaused).toBe(false);
      await client.close();
    });

    it('serves exactly maxMailbox pending infos, in order after the handler in flight', async () => {
      const { client, conn } = await open(started, '/small');
      client.emit('block');
      await waitFor(() => seen.events.includes('small-block'), 'block to start');
      conn.deliverInfo('i', 1);
      conn.deliverInfo('i', 2);
      seen.block.open();
      expect(await client.takeJson(3)).toEqual([
        { event: 'block', data: 'unblocked' },
        { event: 'info', data: { type: 'i', data: 1 } },
        { event: 'info', data: { type: 'i', data: 2 } },
      ]);
      expect(conn.isOpen).toBe(true);
      await client.close();
    });

    it('closes 1013 WSG_ERR_GATEWAY_MAILBOX_FULL at maxMailbox + 1 pending infos; exactly maxMailbox is served', async () => {
      const { client, conn } = await open(started, '/small');
      client.emit('block');
      await waitFor(() => seen.events.includes('small-block'), 'block to start');
      conn.deliverInfo('i', 1);
      conn.deliverInfo('i', 2);
      expect(conn.isOpen).toBe(true);
      conn.deliverInfo('i', 3);
      expect(await client.closed).toEqual({ code: CloseCode.TryAgainLater, reason: 'mailbox full' });
      seen.block.open();
      const reason = await onCloseReasonOf(conn);
      expect(withoutError(reason)).toEqual({ code: CloseCode.TryAgainLater, reason: 'mailbox full', wasClean: true, cause: 'overflow' });
      expectWsgError(reason.error, 'WSG_ERR_GATEWAY_MAILBOX_FULL', CloseCode.TryAgainLater);
    });
  });

  describe('return values are commands', () => {
    it('a plain value replies under the same event', async () => {
      const { client } = await open(started, '/life');
      client.emit('echo', { deep: [1, 'x'] });
      expect(await client.nextJson()).toEqual({ event: 'echo', data: { deep: [1, 'x'] } });
      await client.close();
    });

    it('a Promise is awaited', async () => {
      const { client } = await open(started, '/life');
      client.emit('promise', 7);
      expect(await client.nextJson()).toEqual({ event: 'promise', data: { later: 7 } });
      await client.close();
    });

    it('an Observable is streamed, one reply per value', async () => {
      const { client } = await open(started, '/life');
      client.emit('observable');
      expect((await client.takeJson(3)).map((m) => m.data)).toEqual([1, 2, 3]);
      await client.close();
    });

    it('an AsyncIterable is streamed; yielded commands are executed', async () => {
      const { client } = await open(started, '/life');
      client.emit('iterable');
      expect(await client.takeJson(3)).toEqual([
        { event: 'iterable', data: 'a' },
        { event: 'iterable', data: 'b' },
        { event: 'c', data: 'as-event' },
      ]);
      await client.close();
    });

    it('streams are unsubscribed / returned when the connection closes', async () => {
      const { client, conn } = await open(started, '/life');
      client.emit('endless-observable');
      client.emit('endless-iterable');
      const first = await client.takeJson(2);
      expect(first.map((m) => m.data).sort()).toEqual([0, 'first']);
      await client.close();
      expect(await onCloseReasonOf(conn)).toEqual({ code: CloseCode.NoStatus, reason: '', wasClean: true, cause: 'client' });
      await waitFor(() => seen.teardowns.length === 2, 'both teardowns');
      expect(seen.teardowns.sort()).toEqual([`iterable:${conn.id}`, `observable:${conn.id}`]);
    });

    it('an array of commands runs in order, and commands after close() are dropped', async () => {
      const { client, conn } = await open(started, '/life');
      client.emit('commands');
      expect(await client.nextJson()).toEqual({ event: 'first', data: 1 });
      expect(await client.nextJson()).toEqual({ event: 'commands', data: 'second' });
      expect((await client.next()).data).toBe('third-raw');
      expect(await client.closed).toEqual({ code: 4000, reason: 'done' });
      expect(client.pending).toBe(0);
      expect(await onCloseReasonOf(conn)).toEqual({ code: 4000, reason: 'done', wasClean: true, cause: 'server' });
    });

    it('an array of plain values is one reply', async () => {
      const { client } = await open(started, '/life');
      client.emit('array-value');
      expect(await client.nextJson()).toEqual({ event: 'array-value', data: [1, 2, 3] });
      await client.close();
    });

    it('accept() outside @OnAccept is a handler error (WSG_ERR_GATEWAY_MISPLACED_COMMAND)', async () => {
      const { client } = await open(started, '/life');
      client.emit('misplaced');
      expect(await client.nextJson()).toEqual({ event: 'exception', data: { status: 'error', message: 'Internal server error' } });
      expect(logger.has('error', 'WSG_ERR_GATEWAY_MISPLACED_COMMAND')).toBe(true);
      await client.close();
    });

    it("accept() outside @OnAccept, with onError: 'close': 1011, and @OnClose gets WSG_ERR_GATEWAY_HANDLER caused by WSG_ERR_GATEWAY_MISPLACED_COMMAND", async () => {
      const { client, conn } = await open(started, '/strict');
      client.emit('misplaced');
      expect(await client.closed).toEqual({ code: CloseCode.InternalError, reason: 'Internal server error' });
      const reason = await onCloseReasonOf(conn);
      expect(withoutError(reason)).toEqual({ code: CloseCode.InternalError, reason: 'Internal server error', wasClean: true, cause: 'error' });
      const handlerError = expectWsgError(reason.error, 'WSG_ERR_GATEWAY_HANDLER', CloseCode.InternalError);
      expect(expectWsgError(handlerError.cause, 'WSG_ERR_GATEWAY_MISPLACED_COMMAND').message).toBe(
        'StrictGateway.misplaced() returned accept(), which only @OnAccept may return',
      );
    });
  });

  describe('a plain value where no event can carry it (WSG_ERR_GATEWAY_RESULT)', () => {
    it("from @OnInit, with onError: 'close': the client is closed 1011 and @OnClose gets the error", async () => {
      PlainInitGateway.last = null;
      const client = await WsTestClient.connect(started.url('/plain-init'));
      expect(await client.closed).toEqual({ code: CloseCode.InternalError, reason: 'Internal server error' });
      expect(client.pending).toBe(0);
      const conn = PlainInitGateway.last!;
      const reason = await onCloseReasonOf(conn);
      expect(withoutError(reason)).toEqual({ code: CloseCode.InternalError, reason: 'Internal server error', wasClean: true, cause: 'error' });
      const handlerError = expectWsgError(reason.error, 'WSG_ERR_GATEWAY_HANDLER', CloseCode.InternalError);
      expect(expectWsgError(handlerError.cause, 'WSG_ERR_GATEWAY_RESULT').message).toBe(
        'PlainInitGateway.init() returned a plain value, which has no event to reply with; return emit(event, data)',
      );
    });

    it('from @OnInit, by default: the client gets an exception event, nothing else, and stays connected', async () => {
      const client = await WsTestClient.connect(started.url('/plain-init-default'));
      expect(await client.nextJson()).toEqual({ event: 'exception', data: { status: 'error', message: 'Internal server error' } });
      client.emit('echo');
      const { data: id } = await client.nextJson<string>();
      expect(seen.conns.get(id)!.isOpen).toBe(true);
      expect(logger.has('error', '[WSG_ERR_GATEWAY_RESULT] PlainInitDefaultGateway.init() failed')).toBe(true);
      await client.close();
      // @OnClose's own plain value has no connection left to go to: it is only logged.
      expect(await onCloseReasonOf(seen.conns.get(id)!)).toEqual({ code: CloseCode.NoStatus, reason: '', wasClean: true, cause: 'client' });
      expect(logger.has('error', '[WSG_ERR_GATEWAY_RESULT] PlainInitDefaultGateway.closed() failed')).toBe(true);
    });
  });

  describe('unexpected handler errors', () => {
    it('by default send an exception event, log, and keep the connection', async () => {
      const { client } = await open(started, '/life');
      client.emit('crash');
      expect(await client.nextJson()).toEqual({ event: 'exception', data: { status: 'error', message: 'Internal server error' } });
      client.emit('echo', 'alive');
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'alive' });
      expect(logger.has('error', 'LifeGateway.crash()')).toBe(true);
      await client.close();
    });

    it("close 1011 with onError: 'close' (cause error, WSG_ERR_GATEWAY_HANDLER)", async () => {
      const { client, conn } = await open(started, '/strict');
      client.emit('crash');
      expect(await client.closed).toEqual({ code: CloseCode.InternalError, reason: 'Internal server error' });
      const reason = await onCloseReasonOf(conn);
      expect(withoutError(reason)).toEqual({ code: CloseCode.InternalError, reason: 'Internal server error', wasClean: true, cause: 'error' });
      const error = expectWsgError(reason.error, 'WSG_ERR_GATEWAY_HANDLER', CloseCode.InternalError);
      expect((error.cause as Error).message).toBe('strict boom');
    });
  });

  // Every test here reads what @OnClose received through @Reason() after a quiet window
  // (onCloseReasonOf): exactly one call, with the cause, code and error of that path.
  // Mutation caught: ConnectionRunner.onClosed() running @OnClose twice (at once, or on a later turn).
  describe('@OnClose runs exactly once, on every path, with a typed reason', () => {
    it('client close: cause client, its code and reason, clean', async () => {
      const { client, conn } = await open(started, '/life');
      await client.close(4100, 'client says bye');
      expect(await onCloseReasonOf(conn)).toEqual({ code: 4100, reason: 'client says bye', wasClean: true, cause: 'client' });
      expect(conn.state).toBe('closed');
    });

    it('handler close(): cause server', async () => {
      const { client, conn } = await open(started, '/life');
      client.emit('bye');
      expect(await client.closed).toEqual({ code: 4001, reason: 'kicked by handler' });
      expect(await onCloseReasonOf(conn)).toEqual({ code: 4001, reason: 'kicked by handler', wasClean: true, cause: 'server' });
    });

    it('conn.close() from outside the handlers: cause kick', async () => {
      const { client, conn } = await open(started, '/life');
      conn.close(4002, 'go away');
      expect(await client.closed).toEqual({ code: 4002, reason: 'go away' });
      expect(await onCloseReasonOf(conn)).toEqual({ code: 4002, reason: 'go away', wasClean: true, cause: 'kick' });
    });

    it('hub.disconnect(): cause kick', async () => {
      const { client, conn } = await open(started, '/life');
      expect(hub.disconnect(conn.id, 4003, 'hub kick')).toBe(true);
      expect(await client.closed).toEqual({ code: 4003, reason: 'hub kick' });
      expect(await onCloseReasonOf(conn)).toEqual({ code: 4003, reason: 'hub kick', wasClean: true, cause: 'kick' });
    });

    it('idle timeout: closes 1001 not before idleTimeout (200 ms) and by it + 800 ms; cause timeout, WSG_ERR_IDLE_TIMEOUT', async () => {
      const beforeConnect = performance.now();
      const { client, conn } = await open(started, '/strict');
      const opened = performance.now();
      expect(await client.closed).toEqual({ code: CloseCode.GoingAway, reason: 'idle timeout' });
      const closedAt = performance.now();
      expect(closedAt - opened).toBeGreaterThanOrEqual(0.9 * 200);
      expect(closedAt - beforeConnect).toBeLessThan(200 + 800);
      const reason = await onCloseReasonOf(conn);
      expect(withoutError(reason)).toEqual({ code: CloseCode.GoingAway, reason: 'idle timeout', wasClean: true, cause: 'timeout' });
      expectWsgError(reason.error, 'WSG_ERR_IDLE_TIMEOUT', CloseCode.GoingAway);
    });

    // maxFrameSize is set above maxMessageSize so that the message limit is the one crossed.
    it('limit maxMessageSize: exactly at it is handled; 1 byte over closes 1009 with cause protocol', async () => {
      const { client, conn } = await open(started, '/strict');
      const atLimit = JSON.stringify({ event: 'e', data: 1 });
      const padded = atLimit.replace('"e"', '"e"' + ' '.repeat(32 - atLimit.length));
      expect(Buffer.byteLength(padded)).toBe(32);
      client.send(padded, false);
      expect(await client.nextJson()).toEqual({ event: 'e', data: 1 });
      client.send(padded + ' ', false);
      const tooBig = 'Message of at least 33 bytes exceeds maxMessageSize (32)';
      expect(await client.closed).toEqual({ code: CloseCode.MessageTooBig, reason: tooBig });
      const reason = await onCloseReasonOf(conn);
      expect(withoutError(reason)).toEqual({ code: CloseCode.MessageTooBig, reason: tooBig, wasClean: false, cause: 'protocol' });
      expectWsgError(reason.error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    });

    it('heartbeat: a client that answers pings stays; one that does not is dropped (cause timeout, WSG_ERR_PONG_TIMEOUT)', async () => {
      const { client: alive, conn: aliveConn } = await open(started, '/heartbeat');
      let pings = 0;
      const threePings = new Promise<void>((resolve) => alive.socket.on('ping', () => ++pings === 3 && resolve()));
      const beforeConnect = performance.now();
      const silent = await WsTestClient.connect(started.url('/heartbeat'), { autoPong: false });
      const silentConn = seen.conns.get((await silent.nextJson<string>()).data)!;
      expect((await silent.closed).code).toBe(CloseCode.Abnormal);
      // The first ping goes out after pingInterval (40 ms); its pong is due pongTimeout (40 ms) later.
      // Both bounds count from before the connect: the server's timer starts at its accept, which
      // comes later (a start taken after the first message would shorten the interval under load).
      const droppedAt = performance.now();
      expect(droppedAt - beforeConnect).toBeGreaterThanOrEqual(0.9 * (40 + 40));
      expect(droppedAt - beforeConnect).toBeLessThan(40 + 40 + 800);
      const reason = await onCloseReasonOf(silentConn);
      expect(withoutError(reason)).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'timeout' });
      expectWsgError(reason.error, 'WSG_ERR_PONG_TIMEOUT', CloseCode.Abnormal);
      await threePings;
      expect(aliveConn.isOpen).toBe(true);
      await alive.close();
    });

    it('transport dropped without a close frame: cause io, 1006', async () => {
      const { client, conn } = await open(started, '/life');
      client.socket.terminate();
      expect(withoutError(await onCloseReasonOf(conn))).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'io' });
    });

    it('waits for the handler in flight: callbacks never overlap', async () => {
      const { client, conn } = await open(started, '/life');
      client.emit('block');
      await waitFor(() => seen.events.includes('block-start'), 'block to start');
      client.socket.terminate();
      await waitFor(() => conn.state === 'closed', 'the transport to close');
      expect(seen.events).toEqual(['block-start']);
      seen.block.open();
      expect(withoutError(await onCloseReasonOf(conn))).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'io' });
      expect(seen.events).toEqual(['block-start', 'block-end', 'close']);
    });
  });

  describe('the engine client (WsClient) as peer', () => {
    it('echoes and closes cleanly', async () => {
      const client = await WsClient.connect(started.url('/life'));
      const hello = JSON.parse(await client.receiveText()) as { data: string };
      client.sendText(JSON.stringify({ event: 'echo', data: 'engine' }));
      expect(JSON.parse(await client.receiveText())).toEqual({ event: 'echo', data: 'engine' });
      client.close(CloseCode.Normal, 'done');
      expect((await client.closed).code).toBe(CloseCode.Normal);
      expect(await onCloseReasonOf(seen.conns.get(hello.data)!)).toEqual({ code: CloseCode.Normal, reason: 'done', wasClean: true, cause: 'client' });
    });
  });
});
