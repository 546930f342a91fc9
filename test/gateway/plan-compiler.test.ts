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
  createParamDecorator,
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
import { DeflateConfig, resolveDeflateConfig } from '../../lib/frames/deflate-negotiation.js';
import { HandlerChainFactory } from '../../lib/gateway/handler-chain.js';
import { nestContainerOf } from '../../lib/gateway/nest-container.js';
import { isGatewayClass, PlanCompiler } from '../../lib/gateway/plan-compiler.js';
import { expectThrowsWsgError } from '../support/expect-wsg-error.js';

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

const Custom = createParamDecorator(() => 'custom');

@WsGateway('/args')
class ArgsGateway {
  @OnMessage('named') named(@Conn() _c: WsConnection, _hole: unknown, @Payload('text') _t: unknown) {}
  @OnMessage('custom') custom(@Custom() _v: unknown) {}
  @OnMessage('custom-and-payload') customAndPayload(@Custom() _v: unknown, @Payload() _p: unknown) {}
  @OnMessage('custom-piped') @UsePipes(ParseIntPipe) customPiped(@Custom() _v: unknown) {}
  @OnMessage('custom-and-payload-piped') @UsePipes(ParseIntPipe) customAndPayloadPiped(@Custom() _v: unknown, @Payload() _p: unknown) {}
  /** Not a handler: ignored by the compiler. */
  helper(): string {
    return 'helper';
  }
}

@WsGateway('/asked', { scope: 'connection' })
class AsksForConnectionScope {
  @OnMessage('g') @UseGuards(AllowGuard) guarded() {}
}

@Module({
  imports: [DiscoveryModule],
  providers: [AllowGuard, PassInterceptor, FullGateway, PerConnection, DependsOnConnection, ArgsGateway, AsksForConnectionScope],
})
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

    it('records the provider it was compiled from: class, wrapper id and module key', () => {
      const wrapper = discovery.getProviders().find((w) => w.metatype === FullGateway)!;
      const plan = compile(FullGateway);
      expect(plan.metatype).toBe(FullGateway);
      expect(plan.wrapperId).toBe(wrapper.id);
      expect(plan.moduleKey).toBe(wrapper.host!.token);
      expect(plan.moduleKey).not.toBe('');
    });

    it('compiles each handler to a frozen record of its kind, pattern and method, in declaration order', () => {
      const plan = compile(FullGateway);
      expect(Object.isFrozen(plan.handlers)).toBe(true);
      expect(plan.handlers.map((h) => [h.kind, h.pattern, h.methodName])).toEqual([
        ['accept', null, 'accept'],
        ['init', null, 'init'],
        ['message', 'plain', 'plain'],
        ['message', 'with-params', 'withParams'],
        ['message', 'guarded', 'guarded'],
        ['message', 'intercepted', 'intercepted'],
        ['message', 'param-pipe', 'paramPipe'],
        ['message', 'method-pipe-no-params', 'methodPipeNoParams'],
        ['message', 'method-pipe', 'methodPipe'],
        ['message', 'filtered', 'filtered'],
        ['message', null, 'catchAll'],
        ['info', 'tick', 'tick'],
        ['info', null, 'anyInfo'],
        ['close', null, 'close'],
      ]);
      for (const handler of plan.handlers) {
        expect(Object.isFrozen(handler)).toBe(true);
        expect(handler.method).toBe((FullGateway.prototype as unknown as Record<string, unknown>)[handler.methodName]);
      }
      expect(plan.messages.get('plain')).toBe(plan.handlers[2]);
      expect(plan.infos.get('tick')).toBe(plan.handlers[11]);
    });

    it('gives Maps that read like a Map and cannot be written', () => {
      const messages = compile(FullGateway).messages;
      const plain = messages.get('plain')!;
      expect(Object.isFrozen(messages)).toBe(true);
      expect(messages.has('plain')).toBe(true);
      expect(messages.has('nope')).toBe(false);
      expect(messages.get('nope')).toBeUndefined();
      expect(messages.size).toBe(8);
      expect([...messages.keys()][0]).toBe('plain');
      expect([...messages.values()][0]).toBe(plain);
      expect([...messages.entries()][0]).toEqual(['plain', plain]);
      expect([...messages][0]).toEqual(['plain', plain]);
      const seen: unknown[] = [];
      const self = { tag: 'this' };
      messages.forEach(function (this: unknown, value, key, map) {
        seen.push([key, value === messages.get(key), map === messages, this]);
      }, self);
      expect(seen).toHaveLength(8);
      expect(seen[0]).toEqual(['plain', true, true, self]);
      for (const write of ['set', 'delete', 'clear']) expect(write in messages).toBe(false);
    });

    it('resolves a direct call\'s arguments by position from (conn, data, pattern), holes left undefined', () => {
      const named = compile(ArgsGateway).messages.get('named')!;
      const conn = { id: 'conn' } as unknown as WsConnection;
      expect(named.resolveArgs!(conn, { text: 'hi', other: 1 }, 'named')).toEqual([conn, undefined, 'hi']);
      expect(named.needsChain).toBe(false);
    });

    it('ignores methods without a handler decorator', () => {
      const plan = compile(ArgsGateway);
      expect(plan.handlers.map((h) => h.methodName)).toEqual(['named', 'custom', 'customAndPayload', 'customPiped', 'customAndPayloadPiped']);
    });

    it('routes a handler with a createParamDecorator() parameter through a chain (it needs an ExecutionContext)', () => {
      const plan = compile(ArgsGateway);
      const custom = plan.messages.get('custom')!;
      expect(custom.enhancers).toEqual({ guards: 0, interceptors: 0, pipes: 0, filters: 0, customParams: 1 });
      expect(custom.needsChain).toBe(true);
      expect(custom.chain).not.toBeNull();
      expect(custom.chain!.hasInterceptors).toBe(false);
      // Only wsgate's own parameters are resolved for a direct call; the custom one is the chain's.
      expect(custom.resolveArgs).toBeNull();
      // A custom parameter is a parameter: method pipes apply to it.
      expect(plan.messages.get('custom-piped')!.enhancers.pipes).toBe(1);
      expect(plan.messages.get('custom-and-payload-piped')!.enhancers.pipes).toBe(1);
      const mixed = plan.messages.get('custom-and-payload')!;
      expect(mixed.enhancers.customParams).toBe(1);
      expect(mixed.resolveArgs!({} as WsConnection, 'data', 'custom-and-payload')).toEqual([undefined, 'data']);
    });

    it('compiles a gateway that asks for connection scope as connection scope, though its provider is static', () => {
      const plan = compile(AsksForConnectionScope);
      expect(plan.scope).toBe('connection');
      expect(plan.instance).toBeNull();
      const guarded = plan.messages.get('g')!;
      expect(guarded.needsChain).toBe(true);
      expect(guarded.chain).toBeNull();
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
      expect(plan.messages.get('guarded')!.chain!.hasInterceptors).toBe(false);
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

    it('resolves perMessageDeflate once into the plan: a frozen DeflateConfig from the merged options, null when off', () => {
      const plan = compile(FullGateway, { perMessageDeflate: { serverMaxWindowBits: 10, threshold: 0 } });
      expect(plan.options.perMessageDeflate).toBeInstanceOf(DeflateConfig);
      expect(plan.options.perMessageDeflate).toMatchObject({ serverMaxWindowBits: 10, threshold: 0, concurrencyLimit: 10 });
      expect(Object.isFrozen(plan.options.perMessageDeflate)).toBe(true);
      expect(compile(FullGateway).options.perMessageDeflate).toBeNull();
      const shared = resolveDeflateConfig({ level: 1 })!;
      expect(compile(FullGateway, { perMessageDeflate: shared }).options.perMessageDeflate).toBe(shared);
    });

    it('throws WSG_ERR_GATEWAY_INVALID_OPTION when defaults and own options conflict', () => {
      @WsGateway('/conflict', { sendLowWaterMark: 1000 })
      class Conflict {}
      expectThrowsWsgError(
        () => new PlanCompiler(chains, { maxSendQueue: 100 }).compile({ metatype: Conflict, instance: new Conflict(), wrapperId: 'x', moduleKey: '', isStatic: true }),
        'WSG_ERR_GATEWAY_INVALID_OPTION',
      );
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
        'D: event "x" is handled by both a() and b()',
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
        'D: @OnAccept is handled by both a() and b()',
      ],
      [
        'two @OnInit',
        (() => {
          @WsGateway('/d5')
          class D {
            @OnInit() a() {}
            @OnInit() b() {}
          }
          return D;
        })(),
        'D: @OnInit is handled by both a() and b()',
      ],
      [
        'two @OnClose',
        (() => {
          @WsGateway('/d6')
          class D {
            @OnClose() a() {}
            @OnClose() b() {}
          }
          return D;
        })(),
        'D: @OnClose is handled by both a() and b()',
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
        'D: the catch-all @OnMessage() is handled by both a() and b()',
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
        'D: info "t" is handled by both a() and b()',
      ],
      [
        'two catch-all @OnInfo()',
        (() => {
          @WsGateway('/d7')
          class D {
            @OnInfo() a() {}
            @OnInfo() b() {}
          }
          return D;
        })(),
        'D: the catch-all @OnInfo() is handled by both a() and b()',
      ],
    ])('throws WSG_ERR_GATEWAY_DUPLICATE_HANDLER for %s', (_what, metatype, message) => {
      expect(expectThrowsWsgError(() => compileLoose(metatype), 'WSG_ERR_GATEWAY_DUPLICATE_HANDLER').message).toBe(message);
    });

    it('accepts one handler of each kind next to an event and an info type of the same name', () => {
      @WsGateway('/same-name')
      class SameName {
        @OnMessage('x') message() {}
        @OnInfo('x') info() {}
        @OnMessage() anyMessage() {}
        @OnInfo() anyInfo() {}
      }
      const plan = compileLoose(SameName);
      expect(plan.messages.get('x')!.methodName).toBe('message');
      expect(plan.infos.get('x')!.methodName).toBe('info');
      expect(plan.messageCatchAll!.methodName).toBe('anyMessage');
      expect(plan.infoCatchAll!.methodName).toBe('anyInfo');
      expect(plan.accept).toBeNull();
      expect(plan.init).toBeNull();
      expect(plan.close).toBeNull();
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
      expect(expectThrowsWsgError(() => compileLoose(P1), 'WSG_ERR_GATEWAY_PARAM_CONTEXT').message).toBe('P1.a(): @Info() is only given to @OnInfo handlers');
      expect(expectThrowsWsgError(() => compileLoose(P2), 'WSG_ERR_GATEWAY_PARAM_CONTEXT').message).toBe('P2.a(): @Reason() is only given to @OnClose handlers');
    });

    it('compiles { scope: \'connection\' } as connection scope even for a provider Nest reports as static', () => {
      @WsGateway('/loose-scope', { scope: 'connection' })
      class LooseScope {
        @OnMessage('x') x() {}
      }
      const plan = compileLoose(LooseScope);
      expect(plan.scope).toBe('connection');
      expect(plan.instance).toBeNull();
    });

    it('reads parameter records other Nest decorators wrote under the shared key: non-string data means the whole value, no pipes means none', () => {
      @WsGateway('/foreign')
      class Foreign {
        @OnMessage('x') x(_p: unknown) {}
      }
      // Nest's key is shared (PARAM_ARGS_METADATA is ROUTE_ARGS_METADATA): a record may come from anywhere.
      Reflect.defineMetadata('__routeArguments__', { '3:0': { index: 0, data: { not: 'a name' } } }, Foreign, 'x');
      const handler = compileLoose(Foreign).messages.get('x')!;
      expect(handler.enhancers.pipes).toBe(0);
      expect(handler.resolveArgs!({} as WsConnection, { not: 'the property' }, 'x')).toEqual([{ not: 'the property' }]);
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
