import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { request } from 'node:http';
import { Controller, Get } from '@nestjs/common';
import { WsGateway, OnMessage, Param, Conn, WsGatewayRegistry, type WsConnection } from '../../lib/gateway/index.js';
import { PLATFORMS, startApp, type StartedApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';
import { expectCodeInText } from '../support/expect-wsg-error.js';

@WsGateway('/alpha')
class AlphaGateway {
  @OnMessage('who')
  who() {
    return 'alpha';
  }
}

@WsGateway('/beta')
class BetaGateway {
  @OnMessage('who')
  who() {
    return 'beta';
  }
}

@WsGateway('/rooms/:room/users/:user')
class RoomGateway {
  @OnMessage('where')
  where(@Param('room') room: string, @Param() all: Record<string, string>, @Conn() conn: WsConnection) {
    return { room, all, path: conn.request.path };
  }
}

@WsGateway({ path: '/side', port: 0 })
class SideGateway {
  @OnMessage('who')
  who() {
    return 'side';
  }
}

@WsGateway({ path: '/side-too', port: 0 })
class SideTooGateway {
  @OnMessage('who')
  who() {
    return 'side-too';
  }
}

@Controller('http')
class PlainController {
  @Get()
  get() {
    return { ok: true };
  }
}

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

async function ask(url: string): Promise<unknown> {
  const client = await WsTestClient.connect(url);
  client.emit('who');
  const answer = (await client.nextJson()).data;
  await client.close();
  return answer;
}

describe.each(PLATFORMS)('routing on %s', (platform) => {
  let started: StartedApp;
  let registry: WsGatewayRegistry;
  beforeAll(async () => {
    started = await startApp(platform, { providers: [AlphaGateway, BetaGateway, RoomGateway, SideGateway, SideTooGateway], controllers: [PlainController] });
    registry = started.app.get(WsGatewayRegistry);
  });
  afterAll(async () => {
    await started.app.close();
  });

  describe('many gateways on the application port', () => {
    it('routes each path to its gateway', async () => {
      expect(await ask(started.url('/alpha'))).toBe('alpha');
      expect(await ask(started.url('/beta'))).toBe('beta');
      expect(await ask(started.url('/beta/'))).toBe('beta');
    });

    it('keeps serving plain HTTP on the same port', async () => {
      expect(await httpGet(started.port, '/http')).toEqual({ status: 200, body: '{"ok":true}' });
    });

    it('answers an unknown path with a real 404 (WSG_ERR_GATEWAY_NOT_FOUND), never a 101', async () => {
      const refused = await WsTestClient.refused(started.url('/nowhere'));
      expect(refused.status).toBe(404);
      expectCodeInText(refused.body, 'WSG_ERR_GATEWAY_NOT_FOUND');
    });
  });

  describe('path parameters', () => {
    it('matches /rooms/:room/users/:user and decodes the values', async () => {
      const client = await WsTestClient.connect(started.url('/rooms/caf%C3%A9/users/ada?x=1'));
      client.emit('where');
      expect((await client.nextJson()).data).toEqual({ room: 'café', all: { room: 'café', user: 'ada' }, path: '/rooms/caf%C3%A9/users/ada' });
      await client.close();
    });

    it('does not match with a segment missing or extra', async () => {
      expect((await WsTestClient.refused(started.url('/rooms/x/users'))).status).toBe(404);
      expect((await WsTestClient.refused(started.url('/rooms/x/users/y/z'))).status).toBe(404);
    });
  });

  describe('gateways with a port of their own', () => {
    it('listen on their own server, shared by gateways asking for the same port', async () => {
      const side = registry.address(SideGateway)!;
      expect(side.port).toBeGreaterThan(0);
      expect(side.port).not.toBe(started.port);
      expect(registry.address(SideTooGateway)!.port).toBe(side.port);
      expect(await ask(`ws://127.0.0.1:${side.port}/side`)).toBe('side');
      expect(await ask(`ws://127.0.0.1:${side.port}/side-too`)).toBe('side-too');
    });

    it('are not reachable on the application port, nor others there', async () => {
      const side = registry.address(SideGateway)!;
      expect((await WsTestClient.refused(started.url('/side'))).status).toBe(404);
      expect((await WsTestClient.refused(`ws://127.0.0.1:${side.port}/alpha`)).status).toBe(404);
    });

    it('answer plain HTTP there with 426', async () => {
      const side = registry.address(SideGateway)!;
      expect((await httpGet(side.port, '/side')).status).toBe(426);
    });
  });

  describe('route table', () => {
    it('lists every handler with path, port, scope, codec and a direct call when there are no enhancers', () => {
      const rows = registry.routes();
      expect(rows.find((r) => r.gateway === 'RoomGateway')).toEqual({
        gateway: 'RoomGateway',
        path: '/rooms/:room/users/:user',
        port: null,
        kind: 'message',
        pattern: 'where',
        method: 'where',
        scope: 'singleton',
        codec: 'json',
        enhancers: { guards: 0, interceptors: 0, pipes: 0, filters: 0, customParams: 0 },
        direct: true,
      });
      expect(rows.find((r) => r.gateway === 'SideGateway')?.port).toBe(0);
      expect(registry.formatRouteTable()).toContain('/alpha message who -> AlphaGateway.who() [singleton, json, direct]');
      expect(Object.isFrozen(rows)).toBe(true);
      expect(Object.isFrozen(registry.plan(AlphaGateway))).toBe(true);
    });
  });
});
