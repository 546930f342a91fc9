import { describe, it, expect } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import {
  Body,
  Cookies,
  createParamDecorator,
  Headers as NestHeaders,
  HostParam,
  Ip,
  Module,
  Next,
  Param as NestParam,
  Query as NestQuery,
  RawBody,
  Req as NestReq,
  Request as NestRequest,
  Res,
  Response as NestResponse,
  Session,
  SignedCookies,
  UploadedFile,
  UploadedFiles,
  type ExecutionContext,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  Conn,
  OnAccept,
  OnClose,
  OnInfo,
  OnInit,
  OnMessage,
  Payload,
  Query,
  WsGateAdapter,
  WsGateModule,
  WsGateway,
  type WsConnection,
} from '../../lib/index.js';
import { expectRejectsWsgError } from '../support/expect-wsg-error.js';
import { WsTestClient } from './support/ws-client.js';

/** A gateway whose `@OnMessage('x')` handler has `@Payload()` at 0 and `param` at 1. */
function messageGatewayWith(param: ParameterDecorator): new () => object {
  @WsGateway('/foreign')
  class ForeignGateway {
    @OnMessage('x') handle(@Payload() _data: unknown, @param _value: unknown) {}
  }
  return ForeignGateway;
}

/** What app.init() rejected with, through Test.createTestingModule and the WsGate module. */
async function initError(gateway: new () => object): Promise<string> {
  const moduleRef = await Test.createTestingModule({ imports: [WsGateModule.forRoot()], providers: [gateway] }).compile();
  const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false, abortOnError: false });
  try {
    return (await expectRejectsWsgError(app.init(), 'WSG_ERR_GATEWAY_FOREIGN_PARAM')).message;
  } finally {
    await app.close();
  }
}

const prefix = 'ForeignGateway.handle(): parameter 1 has ';
const never = ', which a wsgate gateway never fills (it would be undefined on every call); ';

describe('foreign parameter decorators on wsgate handlers (WSG_ERR_GATEWAY_FOREIGN_PARAM at bootstrap)', () => {
  it.each<[string, ParameterDecorator, string]>([
    ['@Res()', Res(), "@Res()/@Response() of @nestjs/common" + never + "a WebSocket has no HTTP response: return a value to reply, or take @Conn() from 'wsgate' and call send()/emit()"],
    ['@Response()', NestResponse(), '@Res()/@Response() of @nestjs/common'],
    ['@Next()', Next(), '@Next() of @nestjs/common' + never + 'a gateway handler has no middleware chain: remove the parameter'],
    ['@Query()', NestQuery(), "@Query() of @nestjs/common" + never + "use @Query() from 'wsgate' (the upgrade URL's query string)"],
    ["@Query('token')", NestQuery('token'), "@Query() of @nestjs/common" + never + "use @Query() from 'wsgate'"],
    ["@Param('room')", NestParam('room'), "@Param() of @nestjs/common" + never + "use @Param() from 'wsgate' (the gateway path's :params)"],
    ["@Headers('x-token')", NestHeaders('x-token'), "@Headers() of @nestjs/common" + never + "use @Headers() from 'wsgate' (the upgrade request's headers)"],
    ['@Session()', Session(), '@Session() of @nestjs/common' + never + "use @Req() from 'wsgate' (the upgrade request) in @OnAccept, and keep what you need with accept(state) and @State()"],
    ['@UploadedFile()', UploadedFile(), '@UploadedFile() of @nestjs/common' + never + "a message is not a multipart upload: take its bytes with @Payload() from 'wsgate' (codec 'binary')"],
    ['@UploadedFiles()', UploadedFiles(), '@UploadedFiles() of @nestjs/common' + never + "a message is not a multipart upload"],
    ["@HostParam('account')", HostParam('account'), '@HostParam() of @nestjs/common' + never + "use @Headers('host') from 'wsgate'"],
    ['@Ip()', Ip(), '@Ip() of @nestjs/common' + never + "use @Req() from 'wsgate' and read its remoteAddress"],
    ['@RawBody()', RawBody(), '@RawBody() of @nestjs/common' + never + "use @Payload() from 'wsgate' with codec 'binary' or 'text'"],
    ["@Cookies('sid')", Cookies('sid'), '@Cookies() of @nestjs/common' + never + "use @Headers('cookie') from 'wsgate'"],
    ["@SignedCookies('sid')", SignedCookies('sid'), '@SignedCookies() of @nestjs/common' + never + "use @Headers('cookie') from 'wsgate' and verify the signature yourself"],
    ['@Ack() of @nestjs/websockets', Ack(), '@Ack() of @nestjs/websockets' + never + "a gateway replies with what the handler returns (or reply() from 'wsgate')"],
  ])('refuses %s on an @OnMessage handler: app.init() rejects and names the method, index, decorator and fix', async (_name, param, message) => {
    expect(await initError(messageGatewayWith(param))).toContain(prefix + message);
  });

  it('checks every handler kind: @OnAccept, @OnInit, @OnInfo and @OnClose', async () => {
    @WsGateway('/a')
    class OnAcceptGateway {
      @OnAccept() accept(@NestQuery('token') _token: string) {}
    }
    @WsGateway('/i')
    class OnInitGateway {
      @OnInit() init(@Conn() _conn: WsConnection, @NestHeaders() _headers: unknown) {}
    }
    @WsGateway('/n')
    class OnInfoGateway {
      @OnInfo('kick') kick(@Ip() _ip: string) {}
    }
    @WsGateway('/c')
    class OnCloseGateway {
      @OnClose() closed(@Conn() _conn: WsConnection, @Conn() _again: WsConnection, @NestParam('room') _room: string) {}
    }
    expect(await initError(OnAcceptGateway)).toMatch(/^OnAcceptGateway\.accept\(\): parameter 0 has @Query\(\) of @nestjs\/common/);
    expect(await initError(OnInitGateway)).toMatch(/^OnInitGateway\.init\(\): parameter 1 has @Headers\(\) of @nestjs\/common/);
    expect(await initError(OnInfoGateway)).toMatch(/^OnInfoGateway\.kick\(\): parameter 0 has @Ip\(\) of @nestjs\/common/);
    expect(await initError(OnCloseGateway)).toMatch(/^OnCloseGateway\.closed\(\): parameter 2 has @Param\(\) of @nestjs\/common/);
  });

  it('refuses it through NestFactory too: app.listen() rejects and nothing listens', async () => {
    @Module({ imports: [WsGateModule.forRoot()], providers: [messageGatewayWith(NestQuery('token'))] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false, abortOnError: false });
    try {
      await expectRejectsWsgError(app.listen(0, '127.0.0.1'), 'WSG_ERR_GATEWAY_FOREIGN_PARAM');
      expect(app.getHttpServer().listening).toBe(false);
    } finally {
      await app.close();
    }
  });
});

const Tag = createParamDecorator((data: string, ctx: ExecutionContext) => `${data}:${ctx.switchToWs().getPattern()}`);

@WsGateway('/owned')
class OwnedGateway {
  @OnMessage('custom') custom(@Tag('t') tag: string) {
    return tag;
  }
  @OnMessage('nest-ws') nestWs(@MessageBody('n') n: number, @ConnectedSocket() conn: WsConnection) {
    return { n, sameConn: conn.request.path === '/owned' };
  }
  // Same key, number and record as @MessageBody() / @ConnectedSocket(): indistinguishable, and
  // filled with the payload and the connection.
  @OnMessage('nest-common') nestCommon(@Body('n') n: number, @NestReq() req: WsConnection, @NestRequest() request: WsConnection) {
    return { n, path: req.request.path, same: req === request };
  }
  @OnMessage('wsgate') own(@Query('q') q: string) {
    return q;
  }
}

describe('parameter decorators a wsgate handler fills keep working', () => {
  it('boots with createParamDecorator(), @MessageBody/@ConnectedSocket, @Body/@Req/@Request of @nestjs/common, and wsgate decorators', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [WsGateModule.forRoot({ host: '127.0.0.1' })], providers: [OwnedGateway] }).compile();
    const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    const client = await WsTestClient.connect(`ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/owned?q=yes`);
    try {
      client.emit('custom');
      client.emit('nest-ws', { n: 1 });
      client.emit('nest-common', { n: 2 });
      client.emit('wsgate');
      expect(await client.takeJson(4)).toEqual([
        { event: 'custom', data: 't:custom' },
        { event: 'nest-ws', data: { n: 1, sameConn: true } },
        { event: 'nest-common', data: { n: 2, path: '/owned', same: true } },
        { event: 'wsgate', data: 'yes' },
      ]);
    } finally {
      await client.close();
      await app.close();
    }
  });
});

@WebSocketGateway({ path: '/nest' })
class NestGateway {
  @SubscribeMessage('q') q(@NestQuery('x') x: unknown, @MessageBody() body: unknown) {
    return { event: 'q', data: { x: x ?? null, body } };
  }
}

describe('WsGateAdapter leaves @SubscribeMessage handlers to @nestjs/websockets', () => {
  it('boots a @WebSocketGateway whose handler has @Query() of @nestjs/common, as WsAdapter does (Nest resolves its own parameters)', async () => {
    const moduleRef = await Test.createTestingModule({ providers: [NestGateway] }).compile();
    const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    app.useWebSocketAdapter(new WsGateAdapter(app));
    await app.listen(0, '127.0.0.1');
    const client = await WsTestClient.connect(`ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/nest`);
    try {
      client.emit('q', 'hi');
      expect(await client.nextJson()).toEqual({ event: 'q', data: { x: null, body: 'hi' } });
    } finally {
      await client.close();
      await app.close();
    }
  });
});
