import { describe, it, expect, afterEach, beforeEach } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import type { INestApplication, WebSocketAdapter } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { WsGateAdapter } from '../../lib/gateway/index.js';
import { BoardAppModule } from '../../sample/03-migrate/app.module.js';
import { startSample } from '../../sample/shared/bootstrap.js';
import { WsTestClient } from './support/ws-client.js';

// The same assertions under the adapter the app was written for and under the one it moves to:
// WsAdapter passing proves they describe the app as platform-ws runs it; WsGateAdapter passing
// proves the one-line migration in sample/03-migrate/main.ts keeps it.
const ADAPTERS: ReadonlyArray<readonly [string, (app: INestApplication) => WebSocketAdapter]> = [
  ['WsAdapter (@nestjs/platform-ws)', (app) => new WsAdapter(app)],
  ['WsGateAdapter (wsgate)', (app) => new WsGateAdapter(app)],
];

describe.each(ADAPTERS)('sample 03-migrate under %s', (_name, adapter) => {
  let app: INestApplication;
  let base: string;
  const open: WsTestClient[] = [];

  async function connect(name?: string): Promise<WsTestClient> {
    const client = await WsTestClient.connect(`${base}/board${name === undefined ? '' : `?name=${name}`}`);
    open.push(client);
    return client;
  }

  async function ask(client: WsTestClient, event: string, data?: unknown) {
    client.emit(event, data);
    return client.nextJson();
  }

  beforeEach(async () => {
    app = await startSample(BoardAppModule, { port: 0, logger: false, configure: (a) => a.useWebSocketAdapter(adapter(a)) });
    base = `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
    await app.close();
  });

  it('answers list with the WsResponse the handler returns ({event: "tasks", data})', async () => {
    const watcher = await connect();
    expect(await ask(watcher, 'list')).toEqual({ event: 'tasks', data: [] });
  });

  it('replies to the member who adds, and broadcasts over server.clients to everyone else', async () => {
    const ada = await connect('ada');
    const watcher = await connect();
    const grace = await connect('grace');
    expect(await ada.nextJson()).toEqual({ event: 'joined', data: { name: 'grace' } });
    expect(await watcher.nextJson()).toEqual({ event: 'joined', data: { name: 'grace' } });

    const added = { event: 'added', data: { id: 1, title: 'write the migration guide', by: 'ada' } };
    expect(await ask(ada, 'add', { title: 'write the migration guide' })).toEqual(added);
    expect(await grace.nextJson()).toEqual(added);
    expect(await watcher.nextJson()).toEqual(added);
    expect(await ask(watcher, 'list')).toEqual({ event: 'tasks', data: [added.data] });
    expect([ada.pending, grace.pending, watcher.pending]).toEqual([0, 0, 0]);
  });

  it('handleConnection reads the name from the upgrade request; handleDisconnect tells the others', async () => {
    const watcher = await connect();
    const ada = await connect('ada');
    expect(await watcher.nextJson()).toEqual({ event: 'joined', data: { name: 'ada' } });
    await ada.close();
    expect(await watcher.nextJson()).toEqual({ event: 'left', data: { name: 'ada' } });
  });

  it('the guard refuses a watcher\'s add with Nest\'s exception event, and nothing is added', async () => {
    const watcher = await connect();
    expect(await ask(watcher, 'add', { title: 'sneaky' })).toEqual({
      event: 'exception',
      data: { status: 'error', message: 'Forbidden resource', cause: { pattern: 'add', data: { title: 'sneaky' } } },
    });
    expect(await ask(watcher, 'list')).toEqual({ event: 'tasks', data: [] });
  });

  it('the ValidationPipe on @MessageBody refuses an empty title with the WsException\'s message', async () => {
    const ada = await connect('ada');
    expect(await ask(ada, 'add', { title: '' })).toEqual({
      event: 'exception',
      data: { status: 'error', message: 'title must be 1-200 characters', cause: { pattern: 'add', data: { title: '' } } },
    });
    expect(await ask(ada, 'list')).toEqual({ event: 'tasks', data: [] });
  });
});
