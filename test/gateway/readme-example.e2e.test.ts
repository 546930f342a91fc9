import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsHub } from '../../lib/hub/index.js';
import { closeAllTestClients, connectTestClient, expectUpgradeDenied, type TestClient } from '../../lib/testing/index.js';
import { AppModule } from '../../sample/00-readme/room.gateway.js';

describe('the README gateway example', () => {
  it('is the code in sample/00-readme, word for word', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const sample = readFileSync(new URL('../../sample/00-readme/room.gateway.ts', import.meta.url), 'utf8');
    expect(readme).toContain(sample);
  });

  // Everything is observed by clients: what the server sends, close codes, another member's view.
  describe('running as written', () => {
    let app: INestApplication;
    const join = async (room: string, user: string): Promise<TestClient> => {
      const client = await connectTestClient(app, `/rooms/${room}`, { query: { token: 'secret', user } });
      // A round trip proves @OnInit ran (joined the room, took its alias) before the test goes on.
      client.emit('ping');
      expect(await client.expect('ping')).toBe('pong');
      return client;
    };
    beforeAll(async () => {
      app = await NestFactory.create(AppModule, { logger: false });
      await app.listen(0, '127.0.0.1');
    });
    afterEach(() => closeAllTestClients());
    afterAll(() => app.close());

    it('denies a bad token, or no user, with 401 before any 101', async () => {
      const denied = await expectUpgradeDenied(app, '/rooms/a', 401, { query: { token: 'nope', user: 'ada' } });
      expect(denied.body).toBe('bad token');
      await expectUpgradeDenied(app, '/rooms/a', 401, { query: { token: 'secret' } });
    });

    it('answers ping with pong and broadcasts say to the room only', async () => {
      const alice = await join('a', 'alice');
      const bob = await join('a', 'bob');
      const carol = await join('b', 'carol');
      alice.emit('say', { text: 'hi' });
      expect(await bob.expect('said')).toEqual({ text: 'hi' });
      expect(await alice.expect('said')).toEqual({ text: 'hi' });
      carol.emit('ping');
      expect((await carol.next()).data).toBe(JSON.stringify({ event: 'ping', data: 'pong' }));
    });

    it('closes 4001 on a kick info sent to the user alias; the room hears @OnClose once', async () => {
      const alice = await join('k', 'alice');
      const bob = await join('k', 'bob');
      expect(app.get(WsHub).send('user:alice', 'kick')).toBe(true);
      expect((await alice.expectClose(4001)).reason).toBe('kicked');
      expect(await bob.expect('left')).toEqual({ user: 'alice', code: 4001 });
      bob.emit('ping');
      expect(await bob.expect('ping')).toBe('pong');
      expect(bob.unconsumed).toEqual([]);
    });

    it('tells the room when a member leaves on its own, with its close code', async () => {
      const alice = await join('l', 'alice');
      const bob = await join('l', 'bob');
      await alice.close(1000);
      expect(await bob.expect('left')).toEqual({ user: 'alice', code: 1000 });
    });
  });
});
