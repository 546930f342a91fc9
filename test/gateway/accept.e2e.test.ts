import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { request } from 'node:http';
import {
  BadRequestException,
  Injectable,
  ParseIntPipe,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { CloseCode } from '../../lib/frames/close-codes.js';
import {
  WsGateway,
  OnAccept,
  OnInit,
  OnMessage,
  Req,
  Param,
  Query,
  Headers,
  State,
  Conn,
  accept,
  deny,
  emit,
  WsGatewayRegistry,
  LifecyclePattern,
  type WsConnection,
  type WsUpgradeRequest,
} from '../../lib/gateway/index.js';
import { expectCodeInText, expectWsgError } from '../support/expect-wsg-error.js';
import { CaptureLogger } from './support/capture-logger.js';
import { PLATFORMS, startApp, type StartedApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

/** Lets requests through with `x-token: good`; records what switchToWs() showed it. */
@Injectable()
class TokenGuard implements CanActivate {
  static seen: Array<{ type: string; pattern: unknown; clientIsConn: boolean; dataIsRequest: boolean }> = [];
  canActivate(context: ExecutionContext): boolean {
    const ws = context.switchToWs();
    const client = ws.getClient<WsConnection>();
    const data = ws.getData<WsUpgradeRequest | undefined>();
    TokenGuard.seen.push({ type: context.getType(), pattern: ws.getPattern(), clientIsConn: client.request === data, dataIsRequest: typeof data?.url === 'string' });
    return client.request.headers['x-token'] === 'good';
  }
}

@WsGateway('/decide/:mode')
class DecidingGateway {
  /** The connection of the last upgrade, to read what `conn.closed` says about a refusal. */
  static last: WsConnection | null = null;

  @OnAccept()
  decide(@Param('mode') mode: string, @Query('q') q: string | undefined, @Headers('X-Extra') extra: string | undefined, @Conn() conn: WsConnection) {
    DecidingGateway.last = conn;
    switch (mode) {
      case 'accept-state':
        return accept({ q, extra }, { headers: { 'x-welcome': 'yes' } });
      case 'true':
        return true;
      case 'void':
        return undefined;
      case 'false':
        return false;
      case 'deny-401':
        return deny(401, { headers: { 'www-authenticate': 'Bearer' }, body: 'token required' });
      case 'deny-429':
        return deny(429);
      case 'http-exception':
        throw new UnauthorizedException('bad token');
      case 'bad-request':
        throw new BadRequestException('nope');
      case 'ws-exception':
        throw new WsException('ws says no');
      case 'crash':
        throw new Error('boom');
      case 'bad-result':
        return 42;
      case 'async-deny':
        return new Promise((resolve) => setImmediate(() => resolve(deny(418))));
      case 'bad-protocol':
        return accept(undefined, { protocol: 'never-offered' });
      default:
        return deny(404);
    }
  }

  @OnInit()
  init(@State() state: unknown, @Conn() conn: WsConnection) {
    return emit('welcome', { state, protocol: conn.protocol });
  }
}

@WsGateway('/guarded')
@UseGuards(TokenGuard)
class GuardedGateway {
  @OnAccept()
  accept(@Req() req: WsUpgradeRequest) {
    return accept({ user: req.headers['x-user'] });
  }

  @OnMessage('whoami')
  whoami(@State() state: { user: string }) {
    return state.user;
  }
}

@WsGateway('/piped')
class PipedGateway {
  @OnAccept()
  accept(@Query('n', ParseIntPipe) n: number) {
    return accept({ n, type: typeof n });
  }

  @OnInit()
  init(@State() state: unknown) {
    return emit('state', state);
  }
}

@WsGateway({ path: '/origins', allowedOrigins: ['https://good.example', 'http://localhost:3000'] })
class OriginGateway {}

@WsGateway({ path: '/protocols', protocols: ['chat.v2', 'chat.v1'] })
class ProtocolGateway {
  @OnInit()
  init(@Conn() conn: WsConnection) {
    return emit('protocol', conn.protocol);
  }
}

@WsGateway('/no-accept')
class NoAcceptGateway {
  @OnMessage('ping')
  ping() {
    return 'pong';
  }
}

function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

const UPGRADE_HEADERS = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };

describe.each(PLATFORMS)('accept phase on %s', (platform) => {
  let started: StartedApp;
  const logger = new CaptureLogger();
  beforeAll(async () => {
    started = await startApp(platform, {
      providers: [TokenGuard, DecidingGateway, GuardedGateway, PipedGateway, OriginGateway, ProtocolGateway, NoAcceptGateway],
      logger,
    });
  });
  afterAll(async () => {
    await started.app.close();
  });

  describe('@OnAccept results', () => {
    it('accept(state, { headers }) completes the handshake; @State() holds the state, params/query/headers resolved', async () => {
      const client = await WsTestClient.connect(started.url('/decide/accept-state?q=hello&q=ignored'), { headers: { 'x-extra': 'xx' } });
      expect(await client.nextJson()).toEqual({ event: 'welcome', data: { state: { q: 'hello', extra: 'xx' }, protocol: '' } });
      await client.close();
    });

    it('accept(..., { headers }) puts the headers on the 101', async () => {
      const res = await rawUpgrade(started.port, '/decide/accept-state', UPGRADE_HEADERS);
      expect(res.status).toBe(101);
      expect(res.headers['x-welcome']).toBe('yes');
    });

    it.each(['true', 'void'])('returning %s accepts with no state', async (mode) => {
      const client = await WsTestClient.connect(started.url(`/decide/${mode}`));
      expect(await client.nextJson()).toEqual({ event: 'welcome', data: { protocol: '' } });
      await client.close();
    });

    it('returning false answers 403 and never 101', async () => {
      expect((await WsTestClient.refused(started.url('/decide/false'))).status).toBe(403);
    });

    it('deny(401, { headers, body }) answers exactly that HTTP response', async () => {
      const refused = await WsTestClient.refused(started.url('/decide/deny-401'));
      expect(refused.status).toBe(401);
      expect(refused.body).toBe('token required');
      expect(refused.headers['www-authenticate']).toBe('Bearer');
    });

    it('deny(429) answers 429', async () => {
      expect((await WsTestClient.refused(started.url('/decide/deny-429'))).status).toBe(429);
    });

    it('an async @OnAccept is awaited before answering', async () => {
      expect((await WsTestClient.refused(started.url('/decide/async-deny'))).status).toBe(418);
    });

    it('a thrown HttpException answers its status and message', async () => {
      const refused = await WsTestClient.refused(started.url('/decide/http-exception'));
      expect(refused).toMatchObject({ status: 401, body: 'bad token' });
      expect((await WsTestClient.refused(started.url('/decide/bad-request'))).status).toBe(400);
    });

    it('a thrown WsException answers 403', async () => {
      expect(await WsTestClient.refused(started.url('/decide/ws-exception'))).toMatchObject({ status: 403, body: 'ws says no' });
    });

    it('an unexpected error answers 500, and conn.closed reports it as the refusal\'s error', async () => {
      DecidingGateway.last = null;
      expect((await WsTestClient.refused(started.url('/decide/crash'))).status).toBe(500);
      const reason = await DecidingGateway.last!.closed;
      expect(reason).toMatchObject({ code: CloseCode.Abnormal, wasClean: false, cause: 'denied' });
      expect((reason.error as Error).message).toBe('boom');
    });

    it('a refusal by a Nest exception is a decision, not a failure: conn.closed carries no error', async () => {
      DecidingGateway.last = null;
      expect((await WsTestClient.refused(started.url('/decide/http-exception'))).status).toBe(401);
      expect(await DecidingGateway.last!.closed).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'denied' });
    });

    it('a result that is not accept/deny/boolean answers 500, logs WSG_ERR_GATEWAY_ACCEPT_RESULT and reports it on conn.closed', async () => {
      DecidingGateway.last = null;
      expect(await WsTestClient.refused(started.url('/decide/bad-result'))).toMatchObject({ status: 500, body: 'Internal Server Error' });
      expect(logger.has('error', '[WSG_ERR_GATEWAY_ACCEPT_RESULT] DecidingGateway: the accept phase failed')).toBe(true);
      // The refusal's own line: the last error logged.
      expectCodeInText(logger.lines.filter((l) => l.level === 'error').at(-1)?.message, 'WSG_ERR_GATEWAY_ACCEPT_RESULT');
      const conn = DecidingGateway.last!;
      const reason = await conn.closed;
      expect({ ...reason, error: undefined }).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'denied', error: undefined });
      expectWsgError(reason.error, 'WSG_ERR_GATEWAY_ACCEPT_RESULT');
      expect(conn.state).toBe('denied');
    });

    it('accept() with a subprotocol the client did not offer answers 500 (WSG_ERR_GATEWAY_INVALID_COMMAND), not a broken 101', async () => {
      DecidingGateway.last = null;
      expect(await WsTestClient.refused(started.url('/decide/bad-protocol'))).toMatchObject({ status: 500, body: 'Internal Server Error' });
      const conn = DecidingGateway.last!;
      const reason = await conn.closed;
      expect({ ...reason, error: undefined }).toEqual({ code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'denied', error: undefined });
      expect(expectWsgError(reason.error, 'WSG_ERR_GATEWAY_INVALID_COMMAND').message).toBe('accept(): protocol "never-offered" was not offered by the client');
      expect(conn.state).toBe('denied');
    });

    it('a gateway without @OnAccept accepts everyone', async () => {
      const client = await WsTestClient.connect(started.url('/no-accept'));
      client.emit('ping');
      expect(await client.nextJson()).toEqual({ event: 'ping', data: 'pong' });
      await client.close();
    });
  });

  describe('guards and pipes on @OnAccept', () => {
    it('a class guard that refuses answers 403 (ForbiddenException) and never 101', async () => {
      TokenGuard.seen = [];
      const refused = await WsTestClient.refused(started.url('/guarded'), { headers: { 'x-token': 'bad' } });
      expect(refused.status).toBe(403);
      expect(TokenGuard.seen).toEqual([{ type: 'ws', pattern: LifecyclePattern.Accept, clientIsConn: true, dataIsRequest: true }]);
    });

    it('a class guard that allows lets @OnAccept decide; the guard also runs on messages', async () => {
      TokenGuard.seen = [];
      const client = await WsTestClient.connect(started.url('/guarded'), { headers: { 'x-token': 'good', 'x-user': 'ada' } });
      client.emit('whoami');
      expect(await client.nextJson()).toEqual({ event: 'whoami', data: 'ada' });
      expect(TokenGuard.seen.map((s) => s.pattern)).toEqual([LifecyclePattern.Accept, 'whoami']);
      await client.close();
    });

    it('param pipes transform upgrade values (ParseIntPipe on @Query)', async () => {
      const client = await WsTestClient.connect(started.url('/piped?n=42'));
      expect(await client.nextJson()).toEqual({ event: 'state', data: { n: 42, type: 'number' } });
      await client.close();
    });

    it('a failing pipe answers 400', async () => {
      expect((await WsTestClient.refused(started.url('/piped?n=abc'))).status).toBe(400);
    });
  });

  describe('origin allow-list', () => {
    it('accepts a listed Origin (case-insensitive)', async () => {
      const client = await WsTestClient.connect(started.url('/origins'), { origin: 'https://GOOD.example' });
      await client.close();
    });

    it('answers 403 to an Origin not listed', async () => {
      const refused = await WsTestClient.refused(started.url('/origins'), { origin: 'https://evil.example' });
      expect(refused.status).toBe(403);
      expectCodeInText(refused.body, 'WSG_ERR_GATEWAY_ORIGIN');
    });

    it('lets a request without Origin (not a browser) through', async () => {
      const client = await WsTestClient.connect(started.url('/origins'));
      await client.close();
    });
  });

  describe('subprotocols', () => {
    it('picks the gateway\'s most preferred protocol the client offered', async () => {
      const client = await WsTestClient.connect(started.url('/protocols'), { protocols: ['chat.v1', 'chat.v2'] });
      expect(client.protocol).toBe('chat.v2');
      expect(await client.nextJson()).toEqual({ event: 'protocol', data: 'chat.v2' });
      await client.close();
    });

    it('answers without a protocol when none matches', async () => {
      const res = await rawUpgrade(started.port, '/protocols', { ...UPGRADE_HEADERS, 'Sec-WebSocket-Protocol': 'other' });
      expect(res.status).toBe(101);
      expect(res.headers['sec-websocket-protocol']).toBeUndefined();
    });
  });

  describe('RFC 6455 §4.2.1 request checks before any handler', () => {
    it('answers 426 with Sec-WebSocket-Version: 13 for another version', async () => {
      const res = await rawUpgrade(started.port, '/no-accept', { ...UPGRADE_HEADERS, 'Sec-WebSocket-Version': '8' });
      expect(res.status).toBe(426);
      expect(res.headers['sec-websocket-version']).toBe('13');
    });

    it('answers 400 for a malformed Sec-WebSocket-Key', async () => {
      const res = await rawUpgrade(started.port, '/no-accept', { ...UPGRADE_HEADERS, 'Sec-WebSocket-Key': 'short' });
      expect(res.status).toBe(400);
    });
  });

  it('the registry lists the accept handlers with their enhancers', () => {
    const registry = started.app.get(WsGatewayRegistry);
    const guarded = registry.routes().find((r) => r.gateway === 'GuardedGateway' && r.kind === 'accept')!;
    expect(guarded).toMatchObject({ path: '/guarded', direct: false, enhancers: { guards: 1 } });
    const deciding = registry.routes().find((r) => r.gateway === 'DecidingGateway' && r.kind === 'accept')!;
    expect(deciding.direct).toBe(true);
  });
});
