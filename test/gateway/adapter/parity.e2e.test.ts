import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { PLATFORMS } from '../support/nest-app.js';
import { WsTestClient } from '../support/ws-client.js';
import { ADAPTERS, freePort, startAdapterApp, type AdapterApp } from './support/adapter-app.js';
import { Journal } from './support/journal.js';
import { nothingWithin } from './support/silence.js';
import { APP_GATEWAYS, ChatGateway, ownPortGateways } from './support/parity-gateways.js';

// The parity table: every gateway here is plain @nestjs/websockets code, and every assertion
// runs under WsAdapter (@nestjs/platform-ws) and under WsGateAdapter. WsAdapter passing
// proves the assertions describe Nest's behaviour; WsGateAdapter passing proves the drop-in.
// Every case runs on Express and on Fastify, under both adapters: nothing is platform-gated.

async function ask(client: WsTestClient, event: string, data?: unknown): Promise<unknown> {
  client.emit(event, data);
  return client.nextJson();
}

/** A message of exactly `bytes` bytes (ASCII) routed to `size`. */
function sizedMessage(bytes: number): string {
  const base = JSON.stringify({ event: 'size', data: '' }).length;
  return JSON.stringify({ event: 'size', data: 'x'.repeat(bytes - base) });
}

function upgradeHeaders(url: string): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('upgrade', (res) => resolve(res.headers));
    socket.once('open', () => socket.close());
    socket.once('error', reject);
  });
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

describe.each(ADAPTERS)('%s runs platform-ws gateway code', (_name, adapter) => {
  describe.each(PLATFORMS)('on %s', (platform) => {
    let started: AdapterApp;
    let journal: Journal;
    let ownPort = 0;
    let loosePort = 0;

    beforeAll(async () => {
      [ownPort, loosePort] = await Promise.all([freePort(), freePort()]);
      started = await startAdapterApp(platform, {
        adapter,
        providers: [...APP_GATEWAYS, ...ownPortGateways(ownPort, loosePort)],
      });
      journal = started.app.get(Journal);
    });

    afterAll(async () => {
      await started?.app.close();
    });

    describe('{event, data} dispatch and replies', () => {
      it('replies with what a handler returns, JSON-encoded as it is', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        expect(await ask(client, 'echo', { a: 1 })).toEqual({ event: 'echo', data: { a: 1 } });
        expect(await ask(client, 'plain')).toBe('pong');
        await client.close();
      });

      it('sends a returned WsResponse as its own event: {"event":"answer","data":42} for ask', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        client.emit('ask');
        expect((await client.next()).data).toBe('{"event":"answer","data":42}');
        await client.close();
      });

      it('replies with the value of a Promise', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        expect(await ask(client, 'async', 'later')).toEqual({ event: 'async', data: 'later' });
        await client.close();
      });

      it('replies with every value of an Observable, in order', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        client.emit('stream', 3);
        expect(await client.takeJson(3)).toEqual([0, 1, 2].map((data) => ({ event: 'stream', data })));
        await client.close();
      });

      it('sends nothing for undefined, an unknown event, or a message that is not JSON', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        client.emit('nothing');
        client.emit('no-such-event', 1);
        client.send('this is not JSON');
        expect(await ask(client, 'echo', 'after')).toEqual({ event: 'echo', data: 'after' });
        expect(client.pending).toBe(0);
        await client.close();
      });

      it('sends nothing for null: no frame within 150 ms, and the next message is answered', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        client.emit('null');
        expect(await nothingWithin(client, 150)).toBe(true);
        expect(await ask(client, 'echo', 'after null')).toEqual({ event: 'echo', data: 'after null' });
        expect(client.pending).toBe(0);
        await client.close();
      });

      it('unsubscribes an Observable result when its client leaves (its teardown runs)', async () => {
        journal.clear('forever:teardown');
        const client = await WsTestClient.connect(started.url('/chat'));
        client.emit('forever');
        expect(await client.takeJson(2)).toEqual([0, 1].map((data) => ({ event: 'forever', data })));
        expect(journal.all('forever:teardown')).toEqual([]);
        await client.close();
        expect(await journal.wait('forever:teardown', 1)).toEqual([true]);
      });

      it('lets a handler send on the @ConnectedSocket() with client.send(JSON.stringify(...))', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        expect(await ask(client, 'manual', { text: 'hi' })).toEqual({ event: 'manual', data: 'hi' });
        await client.close();
      });

      it('serves several gateways on several paths of the application server', async () => {
        const other = await WsTestClient.connect(started.url('/other'));
        const chat = await WsTestClient.connect(started.url('/chat'));
        expect(await ask(other, 'who')).toEqual({ event: 'who', data: 'other' });
        expect(await ask(chat, 'echo', 'chat')).toEqual({ event: 'echo', data: 'chat' });
        await Promise.all([other.close(), chat.close()]);
      });
    });

    describe('gateway lifecycle hooks', () => {
      it('calls afterInit(server) once with a server that has clients (a Set), on() and close()', () => {
        expect(journal.all('init')).toEqual([{ clientsIsSet: true, on: 'function', close: 'function', sameAsProperty: true }]);
      });

      it('calls handleConnection(client, req) with an open ws-like client and the upgrade request', async () => {
        journal.clear('connect');
        const client = await WsTestClient.connect(started.url('/chat?user=ada'), { protocols: ['chat.v1', 'chat.v2'] });
        const [seen] = await journal.wait('connect', 1);
        expect(seen).toEqual({ url: '/chat?user=ada', open: true, constants: [0, 1, 2, 3], send: 'function', bufferedAmount: 'number', protocol: 'chat.v1' });
        expect(client.protocol).toBe('chat.v1');
        await client.close();
      });

      it('calls handleDisconnect(client, code) with the close code when the client closes', async () => {
        journal.clear('disconnect');
        journal.clear('close-event');
        const client = await WsTestClient.connect(started.url('/chat'));
        await ask(client, 'echo', 'x');
        await client.close(4001, 'later');
        expect(await journal.wait('disconnect', 1)).toEqual([4001]);
        expect(await journal.wait('close-event', 1)).toEqual([{ code: 4001, reason: 'later' }]);
      });

      it("emits 'message' on the client with a Buffer and isBinary, as ws does", async () => {
        journal.clear('raw');
        const client = await WsTestClient.connect(started.url('/chat'));
        client.emit('echo', 'probe');
        await client.nextJson();
        expect(await journal.wait('raw', 1)).toEqual([{ isBuffer: true, text: '{"event":"echo","data":"probe"}', isBinary: false }]);
        await client.close();
      });

      it("runs server.on('headers') listeners, whose added lines reach the 101 response", async () => {
        expect((await upgradeHeaders(started.url('/chat')))['x-gateway']).toBe('chat');
      });
    });

    describe('the client a gateway sees', () => {
      it('broadcasts by iterating server.clients', async () => {
        const a = await WsTestClient.connect(started.url('/chat'));
        const b = await WsTestClient.connect(started.url('/chat'));
        a.emit('shout', 'hello all');
        expect(await a.nextJson()).toEqual({ event: 'shout', data: 'hello all' });
        expect(await b.nextJson()).toEqual({ event: 'shout', data: 'hello all' });
        await Promise.all([a.close(), b.close()]);
      });

      it('close(code, reason) closes with that code and reason, and handleDisconnect gets the code', async () => {
        journal.clear('disconnect');
        const client = await WsTestClient.connect(started.url('/chat'));
        client.emit('kick');
        expect(await client.closed).toEqual({ code: 4000, reason: 'bye' });
        expect(await journal.wait('disconnect', 1)).toEqual([4000]);
      });

      it('terminate() drops the connection without a close frame (1006)', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        client.emit('drop');
        expect((await client.closed).code).toBe(CloseCode.Abnormal);
      });

      it('ping() sends a ping, and send(Buffer) a binary message', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        const pinged = new Promise<void>((resolve) => client.socket.once('ping', () => resolve()));
        client.emit('ping-me');
        await pinged;
        client.emit('binary');
        const message = await client.next();
        expect(message.isBinary).toBe(true);
        expect([...(message.data as Buffer)]).toEqual([1, 2, 3]);
        await client.close();
      });
    });

    describe('Nest enhancers', () => {
      it('answers a guard refusal with an exception event (Forbidden resource)', async () => {
        const client = await WsTestClient.connect(started.url('/enhanced'));
        expect(await ask(client, 'secret', { token: 'no' })).toEqual({
          event: 'exception',
          data: { status: 'error', message: 'Forbidden resource', cause: { pattern: 'secret', data: { token: 'no' } } },
        });
        expect(await ask(client, 'secret', { token: 'ok' })).toEqual({ event: 'secret', data: 'granted' });
        await client.close();
      });

      it('answers a thrown WsException with an exception event', async () => {
        const client = await WsTestClient.connect(started.url('/chat'));
        expect(await ask(client, 'fail', 1)).toEqual({ event: 'exception', data: { status: 'error', message: 'nope', cause: { pattern: 'fail', data: 1 } } });
        expect(await ask(client, 'crash')).toEqual({ event: 'exception', data: { status: 'error', message: 'Internal server error', cause: { pattern: 'crash' } } });
        await client.close();
      });

      it('validates the body with ValidationPipe and its exceptionFactory', async () => {
        const client = await WsTestClient.connect(started.url('/enhanced'));
        expect(await ask(client, 'say', { text: 'ab', times: 2 })).toEqual({ event: 'said', data: 'abab' });
        expect(await ask(client, 'say', { text: 3, times: 0 })).toEqual({ event: 'exception', data: { status: 'invalid', fields: ['text', 'times'] } });
        expect(await ask(client, 'strict', { text: 3 })).toEqual({
          event: 'exception',
          data: { status: 'error', message: 'Internal server error', cause: { pattern: 'strict', data: { text: 3 } } },
        });
        await client.close();
      });

      it('runs interceptors around the handler', async () => {
        const client = await WsTestClient.connect(started.url('/enhanced'));
        expect(await ask(client, 'wrapped', 7)).toEqual({ event: 'wrapped', data: { value: 7, pattern: 'wrapped' } });
        await client.close();
      });

      it('lets an exception filter answer the client', async () => {
        const client = await WsTestClient.connect(started.url('/enhanced'));
        expect(await ask(client, 'filtered')).toEqual({ event: 'filtered', data: { error: 'custom', pattern: 'filtered' } });
        await client.close();
      });
    });

    describe('request-scoped gateways', () => {
      it('gives each client its own gateway instance for all of its messages', async () => {
        const a = await WsTestClient.connect(started.url('/scoped'));
        const b = await WsTestClient.connect(started.url('/scoped'));
        expect(await ask(a, 'count')).toEqual({ event: 'count', data: 1 });
        expect(await ask(a, 'count')).toEqual({ event: 'count', data: 2 });
        expect(await ask(b, 'count')).toEqual({ event: 'count', data: 1 });
        await Promise.all([a.close(), b.close()]);
      });
    });

    describe('gateway options', () => {
      it('maxPayload: accepts a message of exactly maxPayload bytes, closes 1009 at 1 byte more', async () => {
        const client = await WsTestClient.connect(started.url('/small'));
        client.send(sizedMessage(1024));
        expect(await client.nextJson()).toEqual({ event: 'size', data: 1024 - JSON.stringify({ event: 'size', data: '' }).length });
        client.send(sizedMessage(1025));
        expect((await client.closed).code).toBe(CloseCode.MessageTooBig);
      });

      it('perMessageDeflate: negotiates permessage-deflate where set, and only there', async () => {
        const zip = await WsTestClient.connect(started.url('/zip'));
        const chat = await WsTestClient.connect(started.url('/chat'));
        expect(zip.socket.extensions).toContain('permessage-deflate');
        expect(chat.socket.extensions).toBe('');
        const big = 'a'.repeat(20_000);
        expect(await ask(zip, 'echo', big)).toEqual({ event: 'echo', data: big });
        await Promise.all([zip.close(), chat.close()]);
      });

      it('verifyClient: a refusal is 401 (sync) or the status it gives (async); a pass connects', async () => {
        expect((await WsTestClient.refused(started.url('/verified'))).status).toBe(401);
        expect(await WsTestClient.refused(started.url('/verified-async'))).toMatchObject({ status: 403, body: 'Go away' });
        for (const path of ['/verified', '/verified-async']) {
          const client = await WsTestClient.connect(started.url(path), { headers: { 'x-token': 'ok' } });
          expect(await ask(client, 'who')).toEqual({ event: 'who', data: path.slice(1) });
          await client.close();
        }
      });

      it("handleProtocols picks the subprotocol; without it the client's first choice is taken", async () => {
        const proto = await WsTestClient.connect(started.url('/proto'), { protocols: ['chat.v1', 'chat.v2'] });
        expect(proto.protocol).toBe('chat.v2');
        await proto.close();
      });
    });

    describe('ports of their own', () => {
      it('serves two paths on one port of their own', async () => {
        for (const [path, who] of [
          ['/a', 'own-a'],
          ['/b', 'own-b'],
        ]) {
          const client = await WsTestClient.connect(`ws://127.0.0.1:${ownPort}${path}`);
          expect(await ask(client, 'who')).toEqual({ event: 'who', data: who });
          await client.close();
        }
      });

      it('serves any path on a port of its own when the gateway has no path', async () => {
        const client = await WsTestClient.connect(`ws://127.0.0.1:${loosePort}/any/path/at/all`);
        expect(await ask(client, 'who')).toEqual({ event: 'who', data: 'loose' });
        await client.close();
      });
    });
  });
});

describe.each(ADAPTERS)('%s with messageParser', (_name, adapter) => {
  describe.each(PLATFORMS)('on %s', (platform) => {
    let started: AdapterApp;
    beforeAll(async () => {
      started = await startAdapterApp(platform, {
        adapter,
        adapterOptions: {
          messageParser: (data) => {
            const text = data.toString();
            const colon = text.indexOf(':');
            return colon < 0 ? undefined : { event: text.slice(0, colon), data: text.slice(colon + 1) };
          },
        },
        providers: [Journal, ChatGateway],
      });
    });
    afterAll(async () => {
      await started?.app.close();
    });

    it('routes what the parser returns, and drops what it returns nothing for', async () => {
      const client = await WsTestClient.connect(started.url('/chat'));
      client.send('no colon here');
      client.send('echo:hello');
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'hello' });
      expect(client.pending).toBe(0);
      await client.close();
    });
  });
});

describe.each(ADAPTERS)('%s at application shutdown', (_name, adapter) => {
  it.each(PLATFORMS)('on %s: terminates every client (1006) and runs handleDisconnect before app.close() resolves; own ports are released', async (platform) => {
    const [ownPort, loosePort] = await Promise.all([freePort(), freePort()]);
    const started = await startAdapterApp(platform, { adapter, providers: [Journal, ChatGateway, ...ownPortGateways(ownPort, loosePort)] });
    const journal = started.app.get(Journal);
    const clients = await Promise.all([1, 2].map(() => WsTestClient.connect(started.url('/chat'))));
    const own = await WsTestClient.connect(`ws://127.0.0.1:${ownPort}/a`);
    await journal.wait('connect', 2);

    await started.app.close();

    expect(journal.all('disconnect')).toEqual([CloseCode.Abnormal, CloseCode.Abnormal]);
    for (const client of clients) expect((await client.closed).code).toBe(CloseCode.Abnormal);
    expect((await own.closed).code).toBe(CloseCode.Abnormal);
    expect(await refusedTcp(ownPort)).toBe('ECONNREFUSED');
    expect(await refusedTcp(loosePort)).toBe('ECONNREFUSED');
  });
});
