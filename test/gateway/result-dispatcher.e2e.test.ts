import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { of } from 'rxjs';
import { WsGateway, OnInit, OnMessage, Payload, reply, emit } from '../../lib/gateway/index.js';
import { PLATFORMS, startApp, type StartedApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

/** Nest's `WsResponse` returned in every form a handler can return a value. */
@WsGateway('/ws-response')
class WsResponseGateway {
  @OnInit()
  init() {
    return { event: 'welcome', data: 'from init' };
  }

  @OnMessage('ask')
  ask() {
    return { event: 'answer', data: 42 };
  }

  @OnMessage('ask-later')
  async askLater() {
    await Promise.resolve();
    return { event: 'answer', data: 'later' };
  }

  @OnMessage('ask-observable')
  askObservable() {
    return of({ event: 'answer', data: 1 }, 2, { event: 'other', data: 3 });
  }

  @OnMessage('ask-iterable')
  async *askIterable() {
    yield { event: 'answer', data: 'a' };
    yield 'b';
    yield { event: 'other', data: 'c' };
  }

  @OnMessage('wrapped')
  wrapped() {
    return reply({ event: 'answer', data: 42 });
  }

  @OnMessage('not-a-response')
  notAResponse(): unknown[] {
    return [
      { event: 'answer', data: 1, extra: true },
      { event: 7, data: 1 },
      { event: 'answer' },
    ];
  }

  @OnMessage('one-of')
  oneOf(@Payload() data: { index: number }) {
    return this.notAResponse()[data.index];
  }

  @OnMessage('emitted')
  emitted() {
    return emit('answer', { event: 'inner', data: 0 });
  }
}

describe('a returned WsResponse { event, data } is sent as that event', () => {
  let started: StartedApp;
  let client: WsTestClient;

  beforeAll(async () => {
    started = await startApp(PLATFORMS[0]!, { providers: [WsResponseGateway] });
    client = await WsTestClient.connect(started.url('/ws-response'));
    expect(await client.nextJson()).toEqual({ event: 'welcome', data: 'from init' });
  });
  afterAll(async () => {
    await client.close();
    await started.app.close();
  });

  it('returned as it is: {"event":"answer","data":42}, not wrapped in the handled event', async () => {
    client.emit('ask');
    const message = await client.next();
    expect(message.data).toBe('{"event":"answer","data":42}');
  });

  it('from a Promise', async () => {
    client.emit('ask-later');
    expect(await client.nextJson()).toEqual({ event: 'answer', data: 'later' });
  });

  it('as each value of an Observable (plain values still reply under the handled event)', async () => {
    client.emit('ask-observable');
    expect(await client.takeJson(3)).toEqual([
      { event: 'answer', data: 1 },
      { event: 'ask-observable', data: 2 },
      { event: 'other', data: 3 },
    ]);
  });

  it('as each value of an AsyncIterable', async () => {
    client.emit('ask-iterable');
    expect(await client.takeJson(3)).toEqual([
      { event: 'answer', data: 'a' },
      { event: 'ask-iterable', data: 'b' },
      { event: 'other', data: 'c' },
    ]);
  });

  it('from @OnInit, which has no event to reply under', async () => {
    const other = await WsTestClient.connect(started.url('/ws-response'));
    expect(await other.nextJson()).toEqual({ event: 'welcome', data: 'from init' });
    await other.close();
  });

  it('reply() keeps such an object as data under the handled event', async () => {
    client.emit('wrapped');
    expect(await client.nextJson()).toEqual({ event: 'wrapped', data: { event: 'answer', data: 42 } });
  });

  it('emit() sends its data as it is, even when shaped like a WsResponse', async () => {
    client.emit('emitted');
    expect(await client.nextJson()).toEqual({ event: 'answer', data: { event: 'inner', data: 0 } });
  });

  it('an object with another key, a non-string event, or no data is a plain reply', async () => {
    for (let index = 0; index < 3; index++) client.emit('one-of', { index });
    expect(await client.takeJson(3)).toEqual([
      { event: 'one-of', data: { event: 'answer', data: 1, extra: true } },
      { event: 'one-of', data: { event: 7, data: 1 } },
      { event: 'one-of', data: { event: 'answer' } },
    ]);
  });
});
