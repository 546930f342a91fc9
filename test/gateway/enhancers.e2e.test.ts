import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import {
  ArgumentsHost,
  Catch,
  ForbiddenException,
  Injectable,
  SetMetadata,
  UseFilters,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  createParamDecorator,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { BaseWsExceptionFilter, ConnectedSocket, MessageBody, WsException } from '@nestjs/websockets';
import { IsInt, IsString, Min } from 'class-validator';
import { map, of, type Observable } from 'rxjs';
import { WsGateway, OnMessage, OnAccept, Payload, Conn, WsGatewayRegistry, emit, type WsConnection } from '../../lib/gateway/index.js';
import { PLATFORMS, startApp, type StartedApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

class SayDto {
  @IsString()
  text!: string;

  @IsInt()
  @Min(1)
  times!: number;
}

const Roles = (...roles: string[]) => SetMetadata('roles', roles);

@Injectable()
class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>('roles', [context.getHandler(), context.getClass()]);
    if (roles === undefined) return true;
    const conn = context.switchToWs().getClient<WsConnection>();
    return roles.includes(String(conn.request.query.role));
  }
}

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const pattern = context.switchToWs().getPattern();
    return next.handle().pipe(map((value) => ({ wrapped: value, pattern })));
  }
}

@Catch(WsException)
class WsFilter implements ExceptionFilter {
  catch(exception: WsException, host: ArgumentsHost) {
    host.switchToWs().getClient<WsConnection>().emit('filtered', { message: exception.message, pattern: host.switchToWs().getPattern() });
  }
}

@Catch()
class NestStyleFilter extends BaseWsExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost) {
    super.catch(exception, host);
  }
}

const ConnId = createParamDecorator((_data: unknown, ctx: ExecutionContext) => ctx.switchToWs().getClient<WsConnection>().id);

@WsGateway('/enhanced')
@UseGuards(RolesGuard)
class EnhancedGateway {
  @OnMessage('admin-only')
  @Roles('admin')
  adminOnly() {
    return 'secret';
  }

  @OnMessage('wrapped')
  @UseInterceptors(WrapInterceptor)
  wrapped(@Payload() data: unknown) {
    return data;
  }

  @OnMessage('wrapped-async')
  @UseInterceptors(WrapInterceptor)
  async wrappedAsync(@Payload() data: unknown) {
    await new Promise((resolve) => setImmediate(resolve));
    return data;
  }

  @OnMessage('wrapped-stream')
  @UseInterceptors(WrapInterceptor)
  wrappedStream() {
    return of('a', 'b');
  }

  @OnMessage('say')
  say(@Payload(new ValidationPipe({ transform: true, exceptionFactory: (errors) => new WsException({ status: 'invalid', fields: errors.map((e) => e.property) }) })) dto: SayDto) {
    return { isDto: dto instanceof SayDto, line: dto.text.repeat(dto.times) };
  }

  @OnMessage('say-http')
  sayHttp(@Payload(new ValidationPipe()) dto: SayDto) {
    return dto.text;
  }

  @OnMessage('ws-string')
  wsString() {
    throw new WsException('plain message');
  }

  @OnMessage('ws-object')
  wsObject() {
    throw new WsException({ status: 'custom', code: 42 });
  }

  @OnMessage('http')
  http() {
    throw new ForbiddenException('not yours');
  }

  @OnMessage('filtered')
  @UseFilters(WsFilter)
  filtered() {
    throw new WsException('caught by filter');
  }

  @OnMessage('filtered-other')
  @UseFilters(WsFilter)
  filteredOther() {
    throw new ForbiddenException('not for that filter');
  }

  @OnMessage('nest-filter')
  @UseFilters(new NestStyleFilter())
  nestFilter() {
    throw new WsException('via BaseWsExceptionFilter');
  }

  @OnMessage('custom-param')
  customParam(@ConnId() id: string, @Conn() conn: WsConnection) {
    return id === conn.id;
  }

  @OnMessage('nest-params')
  nestParams(@MessageBody() body: unknown, @ConnectedSocket() socket: WsConnection) {
    return { body, isConn: typeof socket.emit === 'function' };
  }
}

/** Refuses any call whose pattern is 'blocked', accept included. */
@Injectable()
class GlobalBlockGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getPattern() !== 'blocked' && context.switchToWs().getClient<WsConnection>().request.query.block !== 'yes';
  }
}

@WsGateway('/global')
class GlobalGateway {
  @OnAccept()
  accept() {
    return true;
  }

  @OnMessage('blocked')
  blocked() {
    return 'never';
  }

  @OnMessage('say')
  say(@Payload() dto: SayDto) {
    return { isDto: dto instanceof SayDto };
  }

  @OnMessage('free')
  free() {
    return emit('free', 'ok');
  }
}

describe.each(PLATFORMS)('guards, interceptors, pipes and filters on %s', (platform) => {
  let started: StartedApp;
  beforeAll(async () => {
    started = await startApp(platform, { providers: [RolesGuard, WrapInterceptor, EnhancedGateway] });
  });
  afterAll(async () => {
    await started.app.close();
  });

  async function ask(query: string, event: string, data?: unknown): Promise<{ event: string; data: unknown }> {
    const client = await WsTestClient.connect(started.url(`/enhanced${query}`));
    client.emit(event, data);
    const answer = await client.nextJson();
    await client.close();
    return answer;
  }

  describe('guards (with Reflector metadata, context type ws)', () => {
    it('let a call through when canActivate() is true', async () => {
      expect(await ask('?role=admin', 'admin-only')).toEqual({ event: 'admin-only', data: 'secret' });
    });

    it('refuse with an exception event "Forbidden resource", keeping the connection', async () => {
      const client = await WsTestClient.connect(started.url('/enhanced?role=guest'));
      client.emit('admin-only');
      expect(await client.nextJson()).toEqual({ event: 'exception', data: { status: 'error', message: 'Forbidden resource' } });
      client.emit('custom-param');
      expect(await client.nextJson()).toEqual({ event: 'custom-param', data: true });
      await client.close();
    });
  });

  describe('interceptors', () => {
    it('see the value and the ws pattern', async () => {
      expect(await ask('', 'wrapped', 5)).toEqual({ event: 'wrapped', data: { wrapped: 5, pattern: 'wrapped' } });
    });

    it('wrap async results, keeping replies in arrival order', async () => {
      const client = await WsTestClient.connect(started.url('/enhanced'));
      client.emit('wrapped-async', 1);
      client.emit('custom-param');
      expect(await client.takeJson(2)).toEqual([
        { event: 'wrapped-async', data: { wrapped: 1, pattern: 'wrapped-async' } },
        { event: 'custom-param', data: true },
      ]);
      await client.close();
    });

    it('map every value of a streamed Observable', async () => {
      const client = await WsTestClient.connect(started.url('/enhanced'));
      client.emit('wrapped-stream');
      expect((await client.takeJson(2)).map((m) => m.data)).toEqual([
        { wrapped: 'a', pattern: 'wrapped-stream' },
        { wrapped: 'b', pattern: 'wrapped-stream' },
      ]);
      await client.close();
    });
  });

  describe('pipes: ValidationPipe with class-validator DTOs on @Payload', () => {
    it('passes a valid payload as a DTO instance', async () => {
      expect(await ask('', 'say', { text: 'ab', times: 2 })).toEqual({ event: 'say', data: { isDto: true, line: 'abab' } });
    });

    it('answers an invalid payload through the pipe\'s WsException', async () => {
      expect(await ask('', 'say', { text: 3, times: 0 })).toEqual({ event: 'exception', data: { status: 'invalid', fields: ['text', 'times'] } });
    });

    it('answers a BadRequestException with its validation messages', async () => {
      const answer = (await ask('', 'say-http', { text: 1, times: 1 })) as { event: string; data: { status: string; message: string[] } };
      expect(answer.event).toBe('exception');
      expect(answer.data.status).toBe('error');
      expect(answer.data.message).toEqual(['text must be a string']);
    });
  });

  describe('exceptions and filters', () => {
    it('WsException(string) → {event: exception, data: {status: error, message}}', async () => {
      expect(await ask('', 'ws-string')).toEqual({ event: 'exception', data: { status: 'error', message: 'plain message' } });
    });

    it('WsException(object) → the object as data', async () => {
      expect(await ask('', 'ws-object')).toEqual({ event: 'exception', data: { status: 'custom', code: 42 } });
    });

    it('HttpException → its message', async () => {
      expect(await ask('', 'http')).toEqual({ event: 'exception', data: { status: 'error', message: 'not yours' } });
    });

    it('@UseFilters runs a matching filter, with client and pattern from the ws host', async () => {
      expect(await ask('', 'filtered')).toEqual({ event: 'filtered', data: { message: 'caught by filter', pattern: 'filtered' } });
    });

    it('an error the filter does not catch gets the default answer', async () => {
      expect(await ask('', 'filtered-other')).toEqual({ event: 'exception', data: { status: 'error', message: 'not for that filter' } });
    });

    it("Nest's BaseWsExceptionFilter sends through the connection (readyState + send)", async () => {
      const answer = (await ask('', 'nest-filter')) as { event: string; data: { status: string; message: string } };
      expect(answer.event).toBe('exception');
      expect(answer.data).toMatchObject({ status: 'error', message: 'via BaseWsExceptionFilter' });
    });
  });

  describe('parameters', () => {
    it('createParamDecorator() decorators get the ws ExecutionContext', async () => {
      expect(await ask('', 'custom-param')).toEqual({ event: 'custom-param', data: true });
    });

    it("Nest's @MessageBody() and @ConnectedSocket() mean @Payload() and @Conn()", async () => {
      expect(await ask('', 'nest-params', { x: 1 })).toEqual({ event: 'nest-params', data: { body: { x: 1 }, isConn: true } });
    });
  });

  it('the route table marks chained routes and counts their enhancers', () => {
    const rows = started.app.get(WsGatewayRegistry).routes();
    expect(rows.find((r) => r.pattern === 'wrapped')).toMatchObject({ direct: false, enhancers: { guards: 1, interceptors: 1, pipes: 0, filters: 0 } });
    expect(rows.find((r) => r.pattern === 'say')).toMatchObject({ direct: false, enhancers: { guards: 1, pipes: 1 } });
    expect(rows.find((r) => r.pattern === 'custom-param')).toMatchObject({ enhancers: { customParams: 1 } });
  });
});

describe.each(PLATFORMS)('global enhancers on %s', (platform) => {
  let started: StartedApp;
  beforeAll(async () => {
    started = await startApp(platform, {
      providers: [GlobalGateway, { provide: APP_GUARD, useClass: GlobalBlockGuard }],
      configure: (app) => app.useGlobalPipes(new ValidationPipe({ transform: true })),
    });
  });
  afterAll(async () => {
    await started.app.close();
  });

  it('an APP_GUARD guards @OnAccept (403) and every message', async () => {
    expect((await WsTestClient.refused(started.url('/global?block=yes'))).status).toBe(403);
    const client = await WsTestClient.connect(started.url('/global'));
    client.emit('blocked');
    expect(await client.nextJson()).toEqual({ event: 'exception', data: { status: 'error', message: 'Forbidden resource' } });
    client.emit('free');
    expect(await client.nextJson()).toEqual({ event: 'free', data: 'ok' });
    await client.close();
  });

  it('a global ValidationPipe transforms @Payload into the DTO', async () => {
    const client = await WsTestClient.connect(started.url('/global'));
    client.emit('say', { text: 'x', times: 1 });
    expect(await client.nextJson()).toEqual({ event: 'say', data: { isDto: true } });
    client.emit('say', { text: 'x', times: 0 });
    expect((await client.nextJson()).event).toBe('exception');
    await client.close();
  });

  it('with global enhancers no route is called directly', () => {
    const rows = started.app.get(WsGatewayRegistry).routes();
    expect(rows.every((r) => !r.direct && r.enhancers.guards === 1)).toBe(true);
    expect(rows.find((r) => r.pattern === 'say')?.enhancers.pipes).toBe(1);
    expect(rows.find((r) => r.pattern === 'free')?.enhancers.pipes).toBe(0);
  });
});
