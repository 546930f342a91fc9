import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import WebSocket from 'ws';
import { Module } from '@nestjs/common';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { OnMessage, WsGateAdapter, WsGateClient, WsGateModule, WsGateway, type WsCloseReason, type WsGateServer } from '../../../lib/gateway/index.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { PLATFORMS } from '../support/nest-app.js';
import { waitFor } from '../support/wait-for.js';
import { WsTestClient } from '../support/ws-client.js';
import { freePort, startAdapterApp, type AdapterApp } from './support/adapter-app.js';
import { Journal } from './support/journal.js';
import { expectCodeInText, expectRejectsWsgError, expectWsgError } from '../../support/expect-wsg-error.js';
import { ChatGateway } from './support/parity-gateways.js';
import { nothingWithin } from './support/silence.js';
import { Gates, IDLE_TIMEOUT, PING_INTERVAL, PONG_TIMEOUT, WSGATE_GATEWAYS } from './support/wsgate-gateways.js';

// What only WsGateAdapter does: its options (set per gateway in @WebSocketGateway, or for all
// in the adapter's), the shared upgrade router, and the client's surface beyond ws.

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

function serverOf(app: INestApplication, path: string): WsGateServer {
  const gateway = WSGATE_GATEWAYS.find((g) => (Reflect.getMetadata('websockets:gateway_options', g) as { path?: string } | undefined)?.path === path);
  return (app.get(gateway!) as { server: WsGateServer }).server;
}

function onlyClient(server: WsGateServer): WsGateClient {
  expect(server.clients.size).toBe(1);
  return [...server.clients][0]!;
}

@WebSocketGateway({ path: '/closable' })
class ClosableGateway {
  @WebSocketServer() server!: WsGateServer;
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { event: 'echo', data };
  }
}

describe('WsGateAdapter options and surface', () => {
  let started: AdapterApp;
  let journal: Journal;
  let gates: Gates;
  let adapter: WsGateAdapter;
  const logger = new CaptureLogger();
  let ownPort = 0;
  let ownGateway: Type<{ server: WsGateServer }>;

  beforeAll(async () => {
    ownPort = await freePort();
    @WebSocketGateway(ownPort, { path: '/own', host: '127.0.0.1' })
    class OwnGateway {
      @WebSocketServer() server!: WsGateServer;
    }
    started = await startAdapterApp('express', {
      adapter: (app, options) => (adapter = new WsGateAdapter(app, options)),
      providers: [...WSGATE_GATEWAYS, ChatGateway, ClosableGateway, OwnGateway],
      logger,
    });
    journal = started.app.get(Journal);
    gates = started.app.get(Gates);
    ownGateway = OwnGateway;
  });

  afterAll(async () => {
    await started?.app.close();
  });

  beforeEach(() => gates.reset());

  describe('upgrade routing', () => {
    it('answers an upgrade to a path no gateway serves with 404 WSG_ERR_GATEWAY_NOT_FOUND', async () => {
      const refused = await WsTestClient.refused(started.url('/nowhere'));
      expect(refused.status).toBe(404);
      expectCodeInText(refused.body, 'WSG_ERR_GATEWAY_NOT_FOUND');
    });

    it('serves the application and every gateway path through one upgrade listener', () => {
      expect(started.app.getHttpServer().listenerCount('upgrade')).toBe(1);
    });

    it('answers plain HTTP on a port of its own with 426', async () => {
      expect((await httpGet(ownPort, '/own')).status).toBe(426);
    });

    it('address() gives the application server, or the port of its own', () => {
      expect((serverOf(started.app, '/racing').address() as { port: number }).port).toBe(started.port);
      expect(started.app.get(ownGateway).server.address()).toMatchObject({ address: '127.0.0.1', port: ownPort });
    });

    it('server.close(cb): new upgrades get 503, open clients stay until they leave, then cb runs', async () => {
      const server = started.app.get(ClosableGateway).server;
      const client = await WsTestClient.connect(started.url('/closable'));
      const closed = new Promise<Error | undefined>((resolve) => server.close(resolve));
      expect((await WsTestClient.refused(started.url('/closable'))).status).toBe(503);
      client.emit('echo', 'still here');
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'still here' });
      await client.close();
      expect(await closed).toBeUndefined();
    });
  });

  describe('ordered', () => {
    it('default (platform-ws): a later message is handled while an earlier handler waits', async () => {
      const client = await WsTestClient.connect(started.url('/racing'));
      client.emit('slow');
      await gates.entered.promise;
      client.emit('fast', 1);
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 1 });
      gates.release.open();
      expect(await client.nextJson()).toEqual({ event: 'slow' });
      await client.close();
    });

    it('ordered: true handles one message at a time, replies in arrival order', async () => {
      journal.clear('ordered:received');
      const client = await WsTestClient.connect(started.url('/ordered'));
      client.emit('slow');
      await gates.entered.promise;
      client.emit('fast', 1);
      await journal.wait('ordered:received', 2);
      expect(journal.all('ordered:fast')).toEqual([]);
      gates.release.open();
      expect(await client.takeJson(2)).toEqual([{ event: 'slow' }, { event: 'fast', data: 1 }]);
      await client.close();
    });

    it('ordered: true holds the next message behind an Observable result until its first value; its later values still arrive', async () => {
      journal.clear('ordered:received');
      journal.clear('ordered:fast');
      const client = await WsTestClient.connect(started.url('/ordered'));
      client.emit('ticker');
      await gates.entered.promise;
      client.emit('fast', 1);
      await journal.wait('ordered:received', 2);
      expect(await nothingWithin(client, 50)).toBe(true);
      expect(journal.all('ordered:fast')).toEqual([]);
      gates.ticks.next({ event: 'tick', data: 1 });
      expect(await client.takeJson(2)).toEqual([
        { event: 'tick', data: 1 },
        { event: 'fast', data: 1 },
      ]);
      gates.ticks.next({ event: 'tick', data: 2 });
      expect(await client.nextJson()).toEqual({ event: 'tick', data: 2 });
      gates.ticks.complete();
      await client.close();
    });

    it('ordered: true releases the next message when an Observable result ends without a value', async () => {
      journal.clear('ordered:received');
      journal.clear('ordered:fast');
      const client = await WsTestClient.connect(started.url('/ordered'));
      client.emit('ticker');
      await gates.entered.promise;
      client.emit('fast', 2);
      await journal.wait('ordered:received', 2);
      expect(journal.all('ordered:fast')).toEqual([]);
      gates.ticks.complete();
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 2 });
      await client.close();
    });
  });

  describe('limit maxMailbox', () => {
    it('keeps reading below maxMailbox waiting messages, pauses at it, resumes once they are handled', async () => {
      journal.clear('bounded:received');
      const client = await WsTestClient.connect(started.url('/bounded'));
      const serverClient = onlyClient(serverOf(started.app, '/bounded'));
      client.emit('slow');
      await gates.entered.promise;
      expect(serverClient.connection.isPaused).toBe(false);
      client.emit('fast', 1);
      await journal.wait('bounded:received', 2);
      expect(serverClient.connection.isPaused).toBe(true);
      client.emit('fast', 2);
      client.emit('fast', 3);
      gates.release.open();
      expect(await client.takeJson(4)).toEqual([{ event: 'slow' }, ...[1, 2, 3].map((data) => ({ event: 'fast', data }))]);
      expect(serverClient.connection.isPaused).toBe(false);
      await client.close();
    });
  });

  describe('onUnknownEvent', () => {
    it("'error' answers an error event with WSG_ERR_GATEWAY_UNKNOWN_EVENT and keeps the connection", async () => {
      const client = await WsTestClient.connect(started.url('/unknown-error'));
      client.emit('nope', 1);
      expect(await client.nextJson()).toEqual({ event: 'error', data: { code: 'WSG_ERR_GATEWAY_UNKNOWN_EVENT', message: 'No handler for event "nope"', event: 'nope' } });
      client.emit('fast', 2);
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 2 });
      await client.close();
    });

    it("'close' closes 1003, and the close reason carries WSG_ERR_GATEWAY_UNKNOWN_EVENT", async () => {
      journal.clear('unknownClose:disconnect');
      const client = await WsTestClient.connect(started.url('/unknown-close'));
      client.emit('nope');
      expect(await client.closed).toEqual({ code: CloseCode.UnsupportedData, reason: 'unknown event' });
      const [reason] = await journal.wait<WsCloseReason>('unknownClose:disconnect', 1);
      expect(reason).toMatchObject({ code: CloseCode.UnsupportedData, cause: 'protocol' });
      expectWsgError(reason.error, 'WSG_ERR_GATEWAY_UNKNOWN_EVENT', CloseCode.UnsupportedData);
    });
  });

  describe('onUndecodable', () => {
    it("'error' answers an error event with WSG_ERR_GATEWAY_UNDECODABLE for bad JSON and for JSON that is not an object", async () => {
      const client = await WsTestClient.connect(started.url('/undecodable-error'));
      client.send('{not json');
      expect(await client.nextJson()).toMatchObject({ event: 'error', data: { code: 'WSG_ERR_GATEWAY_UNDECODABLE' } });
      client.send('42');
      expect(await client.nextJson()).toEqual({ event: 'error', data: { code: 'WSG_ERR_GATEWAY_UNDECODABLE', message: 'The message is not an object {"event", "data"}' } });
      client.emit('fast', 3);
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 3 });
      await client.close();
    });

    it("'ignore' on one gateway drops bad JSON even where unknown events are answered", async () => {
      const client = await WsTestClient.connect(started.url('/unknown-error'));
      client.send('{not json');
      client.emit('fast', 4);
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 4 });
      await client.close();
    });

    it("'close' closes 1007, and the close reason carries WSG_ERR_GATEWAY_UNDECODABLE", async () => {
      journal.clear('undecodableClose:disconnect');
      const client = await WsTestClient.connect(started.url('/undecodable-close'));
      client.send('{not json');
      expect(await client.closed).toEqual({ code: CloseCode.InvalidPayload, reason: 'undecodable message' });
      const [reason] = await journal.wait<WsCloseReason>('undecodableClose:disconnect', 1);
      expect(reason).toMatchObject({ code: CloseCode.InvalidPayload, cause: 'protocol' });
      expectWsgError(reason.error, 'WSG_ERR_GATEWAY_UNDECODABLE', CloseCode.InvalidPayload);
    });
  });

  describe('limit maxSendQueue', () => {
    it("admits a message larger than maxSendQueue whole while the queue is below it; a send made at maxSendQueue closes 1013 (cause 'overflow', WSG_ERR_SEND_QUEUE_FULL)", async () => {
      journal.clear('queue:blob');
      journal.clear('queue:burst');
      journal.clear('queue:disconnect');
      const client = await WsTestClient.connect(started.url('/queue'));
      // 2000 B of text in a frame with a 4-byte header: 2004 B, over the 1024 B limit, sent whole.
      client.emit('blob', 2000);
      expect(((await client.next()).data as string).length).toBe(2000);
      expect(journal.all('queue:blob')).toEqual(['queued']);
      // In one turn: 1020 B (a 1024 B frame) fills the queue to exactly 1024 B; 1 B more is refused.
      client.emit('burst', [1020, 1]);
      expect(((await client.next()).data as string).length).toBe(1020);
      expect((await client.closed).code).toBe(CloseCode.TryAgainLater);
      expect(await journal.wait('queue:burst', 1)).toEqual([['queued', 'dropped']]);
      const [reason] = await journal.wait<WsCloseReason>('queue:disconnect', 1);
      expect(reason).toMatchObject({ code: CloseCode.TryAgainLater, cause: 'overflow' });
      expectWsgError(reason.error, 'WSG_ERR_SEND_QUEUE_FULL', CloseCode.TryAgainLater);
    });

    // 1020 B of text in a frame with a 4-byte header is 1024 B: two fill maxSendQueue (2048 B)
    // exactly, in one turn (nothing is written before the next tick); a 1 B text is then refused.
    it("'drop': a burst filling maxSendQueue exactly is queued; the message over it is 'dropped' and the client stays open", async () => {
      journal.clear('drop:burst');
      const client = await WsTestClient.connect(started.url('/drop'));
      const serverClient = onlyClient(serverOf(started.app, '/drop'));
      client.emit('burst', [1020, 1020, 1]);
      const received = [await client.next(), await client.next()];
      expect(received.map((m) => (m.data as string).length)).toEqual([1020, 1020]);
      expect(await journal.wait('drop:burst', 1)).toEqual([['queued', 'queued', 'dropped']]);
      client.emit('fast', 'after the drop');
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 'after the drop' });
      expect(serverClient.readyState).toBe(WsGateClient.OPEN);
      await client.close();
    });

    it("'error': send() over maxSendQueue throws WSG_ERR_SEND_QUEUE_FULL (no close code), the client stays open", async () => {
      journal.clear('queueError:burst');
      const client = await WsTestClient.connect(started.url('/queue-error'));
      const serverClient = onlyClient(serverOf(started.app, '/queue-error'));
      client.emit('burst', [1020, 1020, 1]);
      const received = [await client.next(), await client.next()];
      expect(received.map((m) => (m.data as string).length)).toEqual([1020, 1020]);
      const [outcomes] = await journal.wait<unknown[]>('queueError:burst', 1);
      expect(outcomes!.slice(0, 2)).toEqual(['queued', 'queued']);
      const error = expectWsgError(outcomes![2], 'WSG_ERR_SEND_QUEUE_FULL');
      expect(error.message).toBe('Send queue at maxSendQueue (2048 bytes): 2048 queued, 3 more refused');
      client.emit('fast', 'after the throw');
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 'after the throw' });
      expect(serverClient.readyState).toBe(WsGateClient.OPEN);
      await client.close();
    });
  });

  describe('limit maxSendQueue with a slow reader (a client that stops reading its TCP socket)', () => {
    // The kernel's buffers take what they can first; then bytes stay in our queue, and a send
    // is refused once it holds 2048 B or more (the last one admitted may overshoot).
    it.each([
      ['drop', '/drop'],
      ['error', '/queue-error'],
    ])("'%s': send() is refused once the queue holds maxSendQueue; resumed, the client gets every accepted message", async (policy, path) => {
      const name = policy === 'drop' ? 'drop' : 'queueError';
      journal.clear(`${name}:flood`);
      const client = await WsTestClient.connect(started.url(path));
      const serverClient = onlyClient(serverOf(started.app, path));
      const tcp = client.socket as unknown as { _socket: { pause(): void; resume(): void } };
      tcp._socket.pause();
      client.emit('flood', 1020);
      const [flood] = await journal.wait<{ sent: number; before: number; outcome: unknown }>(`${name}:flood`, 1, 10_000);
      expect(flood!.before).toBeGreaterThanOrEqual(2048);
      expect(flood!.before).toBeLessThan(2048 + 1024);
      if (policy === 'drop') expect(flood!.outcome).toBe('dropped');
      else expect(expectWsgError(flood!.outcome, 'WSG_ERR_SEND_QUEUE_FULL').message).toBe(
        `Send queue at maxSendQueue (2048 bytes): ${flood!.before} queued, 1024 more refused`,
      );
      expect(serverClient.readyState).toBe(WsGateClient.OPEN);
      tcp._socket.resume();
      for (let i = 0; i < flood!.sent; i++) expect(((await client.next()).data as string).length).toBe(1020);
      client.emit('fast', 'caught up');
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 'caught up' });
      await client.close();
    }, 20_000);
  });

  describe('limit idleTimeout, set on one gateway', () => {
    it(`closes 1001 'idle timeout' (WSG_ERR_IDLE_TIMEOUT, cause 'timeout') after idleTimeout without a frame: not before 0.9×, by +500 ms`, async () => {
      journal.clear('idle:disconnect');
      const bystander = await WsTestClient.connect(started.url('/detail'));
      const start = Date.now();
      const client = await WsTestClient.connect(started.url('/idle'));
      expect(await client.closed).toEqual({ code: CloseCode.GoingAway, reason: 'idle timeout' });
      const elapsed = Date.now() - start;
      expect(elapsed).toBeGreaterThanOrEqual(0.9 * IDLE_TIMEOUT);
      expect(elapsed).toBeLessThanOrEqual(IDLE_TIMEOUT + 500);
      const [reason] = await journal.wait<WsCloseReason>('idle:disconnect', 1);
      expect(reason).toMatchObject({ code: CloseCode.GoingAway, cause: 'timeout' });
      expectWsgError(reason!.error, 'WSG_ERR_IDLE_TIMEOUT', CloseCode.GoingAway);
      // Only the gateway that set it: a client of a gateway without idleTimeout, idle as long, stays.
      expect(bystander.socket.readyState).toBe(WebSocket.OPEN);
      await bystander.close();
    });

    it('restarts the timer on every frame: a message at 2/3 of it moves the close to a full idleTimeout after that', async () => {
      const client = await WsTestClient.connect(started.url('/idle'));
      const delay = Math.round((IDLE_TIMEOUT * 2) / 3);
      await new Promise((resolve) => setTimeout(resolve, delay));
      const sent = Date.now();
      client.emit('fast', 'keepalive');
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 'keepalive' });
      expect((await client.closed).code).toBe(CloseCode.GoingAway);
      const elapsed = Date.now() - sent;
      expect(elapsed).toBeGreaterThanOrEqual(0.9 * IDLE_TIMEOUT);
      expect(elapsed).toBeLessThanOrEqual(IDLE_TIMEOUT + 500);
    });
  });

  describe('heartbeat pingInterval / pongTimeout, set on one gateway', () => {
    it('pings every pingInterval (first not before 0.9×, by +300 ms; then as often); a client that answers stays open past pongTimeout', async () => {
      const start = Date.now();
      const client = await WsTestClient.connect(started.url('/heartbeat'));
      const at: number[] = [];
      await new Promise<void>((resolve) =>
        client.socket.on('ping', () => {
          if (at.push(Date.now() - start) === 3) resolve();
        }),
      );
      expect(at[0]).toBeGreaterThanOrEqual(0.9 * PING_INTERVAL);
      expect(at[0]).toBeLessThanOrEqual(PING_INTERVAL + 300);
      // Lower bounds count from `start` (before the server's timer began): a gap seen by the client
      // shrinks when one ping arrives late under load and the next on time.
      at.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(0.9 * (i + 1) * PING_INTERVAL));
      for (const gap of [at[1]! - at[0]!, at[2]! - at[1]!]) expect(gap).toBeLessThanOrEqual(PING_INTERVAL + 300);
      // The third ping comes after the first ping's pongTimeout had run out.
      expect(at[2]).toBeGreaterThan(at[0]! + PONG_TIMEOUT);
      expect(client.socket.readyState).toBe(WebSocket.OPEN);
      await client.close();
    });

    it("drops a client that does not answer (1006, WSG_ERR_PONG_TIMEOUT, cause 'timeout'): not before 0.9×(pingInterval + pongTimeout), by +500 ms", async () => {
      journal.clear('heartbeat:disconnect');
      const start = Date.now();
      const client = await WsTestClient.connect(started.url('/heartbeat'), { autoPong: false });
      expect((await client.closed).code).toBe(CloseCode.Abnormal);
      const elapsed = Date.now() - start;
      expect(elapsed).toBeGreaterThanOrEqual(0.9 * (PING_INTERVAL + PONG_TIMEOUT));
      expect(elapsed).toBeLessThanOrEqual(PING_INTERVAL + PONG_TIMEOUT + 500);
      const [reason] = await journal.wait<WsCloseReason>('heartbeat:disconnect', 1);
      expect(reason).toMatchObject({ code: CloseCode.Abnormal, cause: 'timeout' });
      expectWsgError(reason!.error, 'WSG_ERR_PONG_TIMEOUT', CloseCode.Abnormal);
    });
  });

  describe('limit maxMessageSize (maxPayload in ws terms)', () => {
    it("accepts exactly maxMessageSize bytes; 1 B more closes 1009, emits 'error' WSG_ERR_MESSAGE_TOO_LARGE on the client", async () => {
      journal.clear('tiny:disconnect');
      const client = await WsTestClient.connect(started.url('/tiny'));
      const serverClient = onlyClient(serverOf(started.app, '/tiny'));
      const errors: Array<{ code?: string }> = [];
      serverClient.on('error', (error: Error) => errors.push(error as { code?: string }));
      const base = JSON.stringify({ event: 'fast', data: '' }).length;
      client.send(JSON.stringify({ event: 'fast', data: 'x'.repeat(64 - base) }));
      expect((await client.nextJson()).event).toBe('fast');
      client.send(JSON.stringify({ event: 'fast', data: 'x'.repeat(65 - base) }));
      expect((await client.closed).code).toBe(CloseCode.MessageTooBig);
      expect(errors).toHaveLength(1);
      expectWsgError(errors[0], 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
      const [reason] = await journal.wait<WsCloseReason>('tiny:disconnect', 1);
      expect(reason).toMatchObject({ code: CloseCode.MessageTooBig, cause: 'protocol' });
      expect(logger.has('warn', 'WSG_ERR_MESSAGE_TOO_LARGE')).toBe(true);
    });
  });

  describe("disconnectReason: 'detail'", () => {
    it('gives handleDisconnect a WsCloseReason instead of the code', async () => {
      journal.clear('detail:disconnect');
      const client = await WsTestClient.connect(started.url('/detail'));
      await client.close(1000, 'done');
      expect(await journal.wait('detail:disconnect', 1)).toEqual([{ code: 1000, reason: 'done', wasClean: true, cause: 'client' }]);
    });
  });

  describe('the client beyond ws', () => {
    it("send() returns the engine's SendResult and calls back; after close it returns 'dropped' and the callback gets ws's error", async () => {
      const client = await WsTestClient.connect(started.url('/detail'));
      const serverClient = onlyClient(serverOf(started.app, '/detail'));
      expect(WsGateClient.OPEN).toBe(1);
      expect(serverClient.readyState).toBe(WsGateClient.OPEN);
      expect((serverClient._socket as Socket).remoteAddress).toBe('127.0.0.1');
      const sent = await new Promise<[string, Error | undefined]>((resolve) => {
        const result = serverClient.send('hi', (error) => resolve([result, error]));
      });
      expect(sent).toEqual(['ok', undefined]);
      expect((await client.next()).data).toBe('hi');
      await client.close();
      await waitFor(() => serverClient.readyState === WsGateClient.CLOSED, 'the server side to close');
      const late = await new Promise<[string, Error | undefined]>((resolve) => {
        const result = serverClient.send('late', (error) => resolve([result, error]));
      });
      expect(late[0]).toBe('dropped');
      expect(late[1]?.message).toBe('WebSocket is not open: readyState 3 (CLOSED)');
      // The ws client closed without a code: an empty close frame, reported as 1005.
      expect(serverClient.closeReason).toEqual({ code: CloseCode.NoStatus, reason: '', wasClean: true, cause: 'client' });
    });

    it("emits 'ping' when the client pings, and reports negotiated extensions by name", async () => {
      const client = await WsTestClient.connect(started.url('/deflate'));
      const serverClient = onlyClient(serverOf(started.app, '/deflate'));
      expect(serverClient.extensions).toBe('permessage-deflate');
      const pinged = new Promise<Buffer>((resolve) => serverClient.once('ping', resolve));
      client.socket.ping('are you there');
      expect((await pinged).toString()).toBe('are you there');
      client.emit('fast', 'z'.repeat(2000));
      expect(await client.nextJson()).toEqual({ event: 'fast', data: 'z'.repeat(2000) });
      await client.close();
    });

    it('closeClient() (a client that came before the application was ready) closes 1013', async () => {
      const client = await WsTestClient.connect(started.url('/detail'));
      adapter.closeClient(onlyClient(serverOf(started.app, '/detail')));
      expect((await client.closed).code).toBe(CloseCode.TryAgainLater);
    });
  });

  describe('ws options wsgate runs differently', () => {
    it('warns at startup about a ws option it does not honour', () => {
      expect(logger.has('warn', 'skipUTF8Validation: true is not supported')).toBe(true);
    });
  });
});

@WsGateway('/native')
class NativeGateway {
  @OnMessage('who')
  who() {
    return 'native';
  }
}

@WebSocketGateway({ path: '/nest' })
class NestGateway {
  @SubscribeMessage('who')
  who() {
    return { event: 'who', data: 'nest' };
  }
}

@WsGateway('/same')
class NativeSameGateway {}

@WebSocketGateway({ path: '/same' })
class NestSameGateway {}

describe.each(PLATFORMS)('WsGateAdapter beside native @WsGateway gateways on %s', (platform) => {
  it('mounts both kinds in one upgrade router of the application server, and unmounts both at close', async () => {
    const started = await startAdapterApp(platform, {
      adapter: (app) => new WsGateAdapter(app),
      imports: [WsGateModule.forRoot({ logRoutes: false })],
      providers: [NativeGateway, NestGateway],
    });
    const server = started.app.getHttpServer();
    expect(server.listenerCount('upgrade')).toBe(1);
    const native = await WsTestClient.connect(started.url('/native'));
    const nest = await WsTestClient.connect(started.url('/nest'));
    native.emit('who');
    nest.emit('who');
    expect(await native.nextJson()).toEqual({ event: 'who', data: 'native' });
    expect(await nest.nextJson()).toEqual({ event: 'who', data: 'nest' });
    expect((await WsTestClient.refused(started.url('/neither'))).status).toBe(404);
    await Promise.all([native.close(), nest.close()]);
    await started.app.close();
    expect(server.listenerCount('upgrade')).toBe(0);
  });
});

describe('WsGateAdapter and a native gateway on one path', () => {
  it('fails the bootstrap with WSG_ERR_GATEWAY_DUPLICATE_PATH', async () => {
    @Module({ imports: [WsGateModule.forRoot({ logRoutes: false })], providers: [NativeSameGateway, NestSameGateway] })
    class DuplicateModule {}
    const app = await NestFactory.create(DuplicateModule, new ExpressAdapter(), { logger: false, abortOnError: false });
    app.useWebSocketAdapter(new WsGateAdapter(app));
    await expectRejectsWsgError(app.listen(0, '127.0.0.1'), 'WSG_ERR_GATEWAY_DUPLICATE_PATH');
    await app.close();
    expect(app.getHttpServer().listenerCount('upgrade')).toBe(0);
  });
});

describe("WsGateAdapter onShutdown: 'close'", () => {
  it('closes every client 1001 and runs handleDisconnect before app.close() resolves', async () => {
    const started = await startAdapterApp('express', {
      adapter: (app) => new WsGateAdapter(app, { onShutdown: 'close' }),
      providers: [Journal, ChatGateway],
    });
    const journal = started.app.get(Journal);
    const clients = await Promise.all([1, 2].map(() => WsTestClient.connect(started.url('/chat'))));
    await journal.wait('connect', 2);
    await started.app.close();
    expect(journal.all('disconnect')).toEqual([CloseCode.GoingAway, CloseCode.GoingAway]);
    for (const client of clients) expect(await client.closed).toEqual({ code: CloseCode.GoingAway, reason: 'server shutting down' });
  });
});
