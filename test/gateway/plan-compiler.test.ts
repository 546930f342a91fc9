import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import {
  Injectable,
  Module,
  ParseIntPipe,
  Scope,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type INestApplicationContext,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, ModuleRef, NestFactory } from '@nestjs/core';
import {
  WsGateway,
  OnAccept,
  OnInit,
  OnMessage,
  OnInfo,
  OnClose,
  Payload,
  Conn,
  Info,
  Reason,
  InjectConnection,
  jsonCodec,
  textCodec,
  type GatewayPlan,
  type WsConnection,
  type WsGatewayOptions,
} from '../../lib/gateway/index.js';
import { HandlerChainFactory } from '../../lib/gateway/handler-chain.js';
import { nestContainerOf } from '../../lib/gateway/nest-container.js';
import { isGatewayClass, PlanCompiler } from '../../lib/gateway/plan-compiler.js';

@Injectable()
class AllowGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Injectable()
class PassInterceptor implements NestInterceptor {
  intercept(_context: unknown, next: CallHandler) {
    return next.handle();
  }
}

class NoopFilter implements ExceptionFilter {
  catch(): void {}
}

@WsGateway('/full', { codec: 'text', idleTimeout: 1000 })
class FullGateway {
  @OnAccept() accept() {}
  @OnInit() init() {}
  @OnMessage('plain') plain() {}
  @OnMessage('with-params') withParams(@Payload() _p: unknown, @Conn() _c: WsConnection) {}
  @OnMessage('guarded') @UseGuards(AllowGuard) guarded() {}
  @OnMessage('intercepted') @UseInterceptors(PassInterceptor) intercepted() {}
  @OnMessage('param-pipe') paramPipe(@Payload(ParseIntPipe) _n: number) {}
  @OnMessage('method-pipe-no-params') @UsePipes(ParseIntPipe) methodPipeNoParams() {}
  @OnMessage('method-pipe') @UsePipes(ParseIntPipe) methodPipe(@Payload() _n: number) {}
  @OnMessage('filtered') @UseFilters(NoopFilter) filtered() {}
  @OnMessage() catchAll() {}
  @OnInfo('tick') tick(@Info() _i: unknown) {}
  @OnInfo() anyInfo() {}
  @OnClose() close(@Reason() _r: unknown) {}
}

@Injectable({ scope: Scope.REQUEST })
class PerConnection {
  constructor(@InjectConnection() readonly conn: WsConnection) {}
}

@WsGateway('/scoped')
class DependsOnConnection {
  constructor(readonly per: PerConnection) {}
  @OnMessage('g') @UseGuards(AllowGuard) guarded() {}
}

@Module({ imports: [DiscoveryModule], providers: [AllowGuard, PassInterceptor, FullGateway, PerConnection, DependsOnConnection] })
class CompilerModule {}

describe('plan compiler', () => {
  let context: INestApplicationContext;
  let chains: HandlerChainFactory;
  let discovery: DiscoveryService;

  beforeAll(async () => {
    context = await NestFactory.createApplicationContext(CompilerModule, { logger: false });
    chains = new HandlerChainFactory(nestContainerOf(context.get(ModuleRef)));
    discovery = context.get(DiscoveryService);
  });
  afterAll(async () => {
    await context.close();
  });

  function compile(metatype: Type<unknown>, defaults?: Omit<WsGatewayOptions, 'path' | 'port'>): GatewayPlan {
    const wrapper = discovery.getProviders().find((w) => w.metatype === metatype)!;
    return new PlanCompiler(chains, defaults).compile({
      metatype,
      instance: wrapper.instance as object,
      wrapperId: wrapper.id,
      moduleKey: wrapper.host!.token,
      isStatic: wrapper.isDependencyTreeStatic(),
    });
  }

  describe('the plan', () => {
    it('is frozen, with resolved options, lifecycle handlers, and Maps from event and info type to handler', () => {
      const plan = compile(FullGateway);
      expect(Object.isFrozen(plan)).toBe(true);
      expect(Object.isFrozen(plan.options)).toBe(true);
      expect(plan.name).toBe('FullGateway');
      expect(plan.scope).toBe('singleton');
      expect(plan.instance).toBeInstanceOf(FullGateway);
      expect(plan.options.matcher.path).toBe('/full');
      expect(plan.options.codec).toBe(textCodec);
      expect(plan.options.connection.idleTimeout).toBe(1000);
      expect(plan.accept?.methodName).toBe('accept');
      expect(plan.init?.methodName).toBe('init');
      expect(plan.close?.methodName).toBe('close');
      expect([...plan.messages.keys()].sort()).toEqual(['filtered', 'guarded', 'intercepted', 'method-pipe', 'method-pipe-no-params', 'param-pipe', 'plain', 'with-params']);
      expect(plan.messageCatchAll?.methodName).toBe('catchAll');
      expect([...plan.infos.keys()]).toEqual(['tick']);
      expect(plan.infoCatchAll?.methodName).toBe('anyInfo');
      expect(plan.handlers).toHaveLength(14);
      expect('set' in plan.messages).toBe(false);
    });

    it('gives a handler without enhancers a direct call: no chain, no Nest pipeline', () => {
      const plan = compile(FullGateway);
      const plain = plan.messages.get('plain')!;
      expect(plain).toMatchObject({ needsChain: false, chain: null, resolveArgs: null });
      expect(plain.enhancers).toEqual({ guards: 0, interceptors: 0, pipes: 0, filters: 0, customParams: 0 });
      const withParams = plan.messages.get('with-params')!;
      expect(withParams.chain).toBeNull();
      expect(typeof withParams.resolveArgs).toBe('function');
    });

    it('builds the chain of a singleton once, at compile time, for each kind of enhancer', () => {
      const plan = compile(FullGateway);
      for (const [event, enhancers] of [
        ['guarded', { guards: 1 }],
        ['intercepted', { interceptors: 1 }],
        ['param-pipe', { pipes: 1 }],
        ['method-pipe', { pipes: 1 }],
        ['filtered', { filters: 1 }],
      ] as const) {
        const handler = plan.messages.get(event)!;
        expect(handler.enhancers).toMatchObject(enhancers);
        expect(handler.needsChain).toBe(true);
        expect(handler.chain).not.toBeNull();
      }
      expect(plan.messages.get('intercepted')!.chain!.hasInterceptors).toBe(true);
      expect(plan.messages.get('filtered')!.chain!.catch).not.toBeNull();
      expect(plan.messages.get('guarded')!.chain!.catch).toBeNull();
    });

    it('ignores pipes on a handler without parameters (they would have nothing to transform)', () => {
      const handler = compile(FullGateway).messages.get('method-pipe-no-params')!;
      expect(handler.enhancers.pipes).toBe(0);
      expect(handler.needsChain).toBe(false);
    });

    it('compiles a gateway that depends on a connection-scoped provider as connection scope, its chains left for each connection', () => {
      const plan = compile(DependsOnConnection);
      expect(plan.scope).toBe('connection');
      expect(plan.instance).toBeNull();
      const guarded = plan.messages.get('g')!;
      expect(guarded.needsChain).toBe(true);
      expect(guarded.chain).toBeNull();
    });

    it('merges module defaults under the gateway\'s own options', () => {
      const plan = compile(FullGateway, { codec: 'json', idleTimeout: 5, maxMailbox: 7 });
      expect(plan.options.codec).toBe(textCodec);
      expect(plan.options.connection.idleTimeout).toBe(1000);
      expect(plan.options.maxMailbox).toBe(7);
      expect(compile(DependsOnConnection, { codec: 'json' }).options.codec).toBe(jsonCodec);
    });

    it('throws WSG_ERR_GATEWAY_INVALID_OPTION when defaults and own options conflict', () => {
      @WsGateway('/conflict', { sendLowWaterMark: 1000 })
      class Conflict {}
      expect(() =>
        new PlanCompiler(chains, { maxSendQueue: 100 }).compile({ metatype: Conflict, instance: new Conflict(), wrapperId: 'x', moduleKey: '', isStatic: true }),
      ).toThrow(expect.objectContaining({ code: 'WSG_ERR_GATEWAY_INVALID_OPTION' }));
    });
  });

  describe('checks', () => {
    function compileLoose(metatype: Type<unknown>): GatewayPlan {
      return new PlanCompiler(chains).compile({ metatype, instance: new (metatype as new () => object)(), wrapperId: 'x', moduleKey: '', isStatic: true });
    }

    it.each([
      [
        'two handlers for one event',
        (() => {
          @WsGateway('/d1')
          class D {
            @OnMessage('x') a() {}
            @OnMessage('x') b() {}
          }
          return D;
        })(),
      ],
      [
        'two @OnAccept',
        (() => {
          @WsGateway('/d2')
          class D {
            @OnAccept() a() {}
            @OnAccept() b() {}
          }
          return D;
        })(),
      ],
      [
        'two catch-all @OnMessage()',
        (() => {
          @WsGateway('/d3')
          class D {
            @OnMessage() a() {}
            @OnMessage() b() {}
          }
          return D;
        })(),
      ],
      [
        'two handlers for one info type',
        (() => {
          @WsGateway('/d4')
          class D {
            @OnInfo('t') a() {}
            @OnInfo('t') b() {}
          }
          return D;
        })(),
      ],
    ])('throws WSG_ERR_GATEWAY_DUPLICATE_HANDLER for %s', (_what, metatype) => {
      expect(() => compileLoose(metatype)).toThrow(expect.objectContaining({ code: 'WSG_ERR_GATEWAY_DUPLICATE_HANDLER' }));
    });

    it('throws WSG_ERR_GATEWAY_PARAM_CONTEXT for @Info() outside @OnInfo and @Reason() outside @OnClose', () => {
      @WsGateway('/p1')
      class P1 {
        @OnMessage('x') a(@Info() _i: unknown) {}
      }
      @WsGateway('/p2')
      class P2 {
        @OnInit() a(@Reason() _r: unknown) {}
      }
      expect(() => compileLoose(P1)).toThrow(expect.objectContaining({ code: 'WSG_ERR_GATEWAY_PARAM_CONTEXT' }));
      expect(() => compileLoose(P2)).toThrow(expect.objectContaining({ code: 'WSG_ERR_GATEWAY_PARAM_CONTEXT' }));
    });

    it('inherits handlers from a base class', () => {
      class Base {
        @OnMessage('base') base() {}
      }
      @WsGateway('/derived')
      class Derived extends Base {
        @OnMessage('own') own() {}
      }
      expect([...compileLoose(Derived).messages.keys()].sort()).toEqual(['base', 'own']);
    });

    it('recognizes gateway classes by their own metadata only', () => {
      @WsGateway('/base')
      class BaseGateway {}
      class NotDecorated extends BaseGateway {}
      expect(isGatewayClass(BaseGateway)).toBe(true);
      expect(isGatewayClass(NotDecorated)).toBe(false);
      expect(isGatewayClass(undefined)).toBe(false);
    });
  });
});
