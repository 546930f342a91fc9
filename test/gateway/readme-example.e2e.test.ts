import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsHub } from '../../lib/hub/index.js';
import { closeAllTestClients, connectTestClient, expectUpgradeDenied } from '../../lib/testing/index.js';
import { AppModule, RoomGateway } from '../../sample/00-readme/room.gateway.js';

describe('the README gateway example', () => {
  it('is the code in sample/00-readme, word for word', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const sample = readFileSync(new URL('../../sample/00-readme/room.gateway.ts', import.meta.url), 'utf8');
    expect(readme).toContain(sample);
  });

  describe('running as written', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await NestFactory.create(AppModule, { logger: false });
      await app.listen(0, '127.0.0.1');
    });
    afterEach(() => closeAllTestClients());
    afterAll(() => app.close());

    it('denies a bad token with 401 before any 101', async () => {
      const denied = await expectUpgradeDenied(app, '/rooms/a', 401, { query: { token: 'nope' } });
      expect(denied.body).toBe('bad token');
    });

    it('answers ping with pong and broadcasts say to the room only', async () => {
      const alice = await connectTestClient(app, '/rooms/a', { query: { token: 'secret' } });
      const bob = await connectTestClient(app, '/rooms/a', { query: { token: 'secret' } });
      const carol = await connectTestClient(app, '/rooms/b', { query: { token: 'secret' } });
      alice.emit('ping');
      expect(await alice.expect('ping')).toBe('pong');
      // A round trip per client proves each has joined its room (init ran) before the broadcast.
      bob.emit('ping');
      await bob.expect('ping');
      carol.emit('ping');
      await carol.expect('ping');
      alice.emit('say', { text: 'hi' });
      expect(await bob.expect('said')).toEqual({ text: 'hi' });
      expect(await alice.expect('said')).toEqual({ text: 'hi' });
      carol.emit('ping');
      expect((await carol.next()).data).toBe(JSON.stringify({ event: 'ping', data: 'pong' }));
    });

    it('closes 4001 on a kick info and runs @OnClose once', async () => {
      const client = await connectTestClient(app, '/rooms/k', { query: { token: 'secret' } });
      client.emit('ping');
      await client.expect('ping');
      const before = RoomGateway.closed.length;
      const hub = app.get(WsHub);
      const id = hub.members('room:k')[0]!.id;
      expect(hub.send(id, 'kick')).toBe(true);
      const info = await client.expectClose(4001);
      expect(info.reason).toBe('kicked');
      // @OnClose runs once the server side has closed, a few ticks after the client saw the frame.
      for (let i = 0; i < 200 && RoomGateway.closed.length === before; i++) await new Promise((r) => setImmediate(r));
      expect(RoomGateway.closed.length).toBe(before + 1);
      expect(RoomGateway.closed.at(-1)).toMatchObject({ code: 4001 });
    });
  });
});
