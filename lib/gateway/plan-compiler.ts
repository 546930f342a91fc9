import type { Type } from '@nestjs/common';
import { MetadataScanner } from '@nestjs/core';
import type { HandlerKind, HandlerMetadata } from './decorators/handler.decorators.js';
import type { WsParamRecord } from './decorators/param.decorators.js';
import { GatewayError } from './errors.js';
import { checkForeignParams } from './foreign-param-check.js';
import type { EnhancerSummary, GatewayPlan, HandlerPlan } from './gateway-plan.js';
import { resolveGatewayOptions, type WsGatewayOptions } from './gateway-options.js';
import type { HandlerChainFactory } from './handler-chain.js';
import { GATEWAY_METADATA, HANDLER_METADATA, NEST_CUSTOM_PARAM_MARK, PARAM_ARGS_METADATA } from './metadata-keys.js';
import { WsParamType } from './param-type.js';
import { selectInvoker } from './handler-invoker.js';
import { compileArgsResolver } from './params-factory.js';

/** What the compiler needs to know about a gateway provider Nest created. */
export interface GatewaySource {
  readonly metatype: Type<unknown>;
  /** The instance Nest made (a placeholder for request-scoped providers). */
  readonly instance: object;
  readonly wrapperId: string;
  readonly moduleKey: string;
  /** False when the provider or something it injects is request (connection) scoped. */
  readonly isStatic: boolean;
}

type Method = (...args: unknown[]) => unknown;

interface ParamEntry {
  index: number;
  type: number;
  name: string | undefined;
}

/** Whether a class carries `@WsGateway` metadata. */
export function isGatewayClass(metatype: unknown): metatype is Type<unknown> {
  return typeof metatype === 'function' && Reflect.hasOwnMetadata(GATEWAY_METADATA, metatype);
}

/**
 * Turns one gateway class into a frozen `GatewayPlan`: reads every decorator once, checks
 * that handlers do not collide, and builds each handler's Nest chain when it has enhancers
 * (a singleton's now; a connection-scoped gateway's per connection, from the same plan).
 */
export class PlanCompiler {
  private readonly scanner = new MetadataScanner();

  constructor(
    private readonly chains: HandlerChainFactory,
    private readonly defaults: Omit<WsGatewayOptions, 'path' | 'port'> = {},
  ) {}

  compile(source: GatewaySource): GatewayPlan {
    const { metatype } = source;
    const own: WsGatewayOptions = Reflect.getOwnMetadata(GATEWAY_METADATA, metatype);
    const options = resolveGatewayOptions(own, this.defaults);
    const scope = options.scope === 'connection' || !source.isStatic ? 'connection' : 'singleton';
    const name = metatype.name;

    let acceptPlan: HandlerPlan | null = null;
    let initPlan: HandlerPlan | null = null;
    let closePlan: HandlerPlan | null = null;
    let messageCatchAll: HandlerPlan | null = null;
    let infoCatchAll: HandlerPlan | null = null;
    const messages = new Map<string, HandlerPlan>();
    const infos = new Map<string, HandlerPlan>();
    const handlers: HandlerPlan[] = [];

    const duplicate = (what: string, first: HandlerPlan, second: string): never => {
      throw new GatewayError('WSG_ERR_GATEWAY_DUPLICATE_HANDLER', `${name}: ${what} is handled by both ${first.methodName}() and ${second}()`);
    };

    const prototype = metatype.prototype as Record<string, unknown>;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName] as Method;
      const records: readonly HandlerMetadata[] | undefined = Reflect.getMetadata(HANDLER_METADATA, method);
      if (records === undefined) continue;
      for (const record of records) {
        const plan = this.compileHandler(source, scope, record.kind, record.pattern, methodName, method);
        handlers.push(plan);
        switch (record.kind) {
          case 'accept':
            if (acceptPlan !== null) duplicate('@OnAccept', acceptPlan, methodName);
            acceptPlan = plan;
            break;
          case 'init':
            if (initPlan !== null) duplicate('@OnInit', initPlan, methodName);
            initPlan = plan;
            break;
          case 'close':
            if (closePlan !== null) duplicate('@OnClose', closePlan, methodName);
            closePlan = plan;
            break;
          case 'message':
            if (record.pattern === null) {
              if (messageCatchAll !== null) duplicate('the catch-all @OnMessage()', messageCatchAll, methodName);
              messageCatchAll = plan;
            } else {
              const existing = messages.get(record.pattern);
              if (existing !== undefined) duplicate(`event "${record.pattern}"`, existing, methodName);
              messages.set(record.pattern, plan);
            }
            break;
          case 'info':
            if (record.pattern === null) {
              if (infoCatchAll !== null) duplicate('the catch-all @OnInfo()', infoCatchAll, methodName);
              infoCatchAll = plan;
            } else {
              const existing = infos.get(record.pattern);
              if (existing !== undefined) duplicate(`info "${record.pattern}"`, existing, methodName);
              infos.set(record.pattern, plan);
            }
            break;
        }
      }
    }

    return Object.freeze({
      name,
      metatype,
      options,
      scope,
      instance: scope === 'singleton' ? source.instance : null,
      wrapperId: source.wrapperId,
      moduleKey: source.moduleKey,
      accept: acceptPlan,
      init: initPlan,
      close: closePlan,
      messages: freezeMap(messages),
      messageCatchAll,
      infos: freezeMap(infos),
      infoCatchAll,
      handlers: Object.freeze(handlers),
    });
  }

  private compileHandler(
    source: GatewaySource,
    scope: 'singleton' | 'connection',
    kind: HandlerKind,
    pattern: string | null,
    methodName: string,
    method: Method,
  ): HandlerPlan {
    const { metatype } = source;
    const records: Record<string, WsParamRecord> = Reflect.getMetadata(PARAM_ARGS_METADATA, metatype, methodName) ?? {};
    checkForeignParams(metatype.name, methodName, records);
    const params: ParamEntry[] = [];
    let customParams = 0;
    let paramPipes = 0;
    for (const [key, record] of Object.entries(records)) {
      paramPipes += record.pipes?.length ?? 0;
      if (key.includes(NEST_CUSTOM_PARAM_MARK)) {
        customParams++;
        continue;
      }
      const type = Number(key.split(':')[0]);
      if (type === WsParamType.Info && kind !== 'info') {
        throw new GatewayError('WSG_ERR_GATEWAY_PARAM_CONTEXT', `${metatype.name}.${methodName}(): @Info() is only given to @OnInfo handlers`);
      }
      if (type === WsParamType.Reason && kind !== 'close') {
        throw new GatewayError('WSG_ERR_GATEWAY_PARAM_CONTEXT', `${metatype.name}.${methodName}(): @Reason() is only given to @OnClose handlers`);
      }
      params.push({ index: record.index, type, name: typeof record.data === 'string' ? record.data : undefined });
    }
    const hasParams = params.length + customParams > 0;
    const enhancers: EnhancerSummary = this.chains.summarize(metatype, method, paramPipes, hasParams, customParams);
    const needsChain = enhancers.guards + enhancers.interceptors + enhancers.pipes + enhancers.filters + enhancers.customParams > 0;
    const chain =
      needsChain && scope === 'singleton'
        ? this.chains.build(source.instance, method, methodName, source.moduleKey, enhancers.interceptors > 0)
        : null;
    return Object.freeze({
      kind,
      methodName,
      pattern,
      method,
      resolveArgs: params.length === 0 ? null : compileArgsResolver(params),
      enhancers,
      needsChain,
      chain,
      invoke: selectInvoker(needsChain, scope, params.length > 0),
    });
  }
}

function freezeMap<K, V>(map: Map<K, V>): ReadonlyMap<K, V> {
  // A frozen Map can still be written through Map.prototype.set; this view cannot.
  const view: ReadonlyMap<K, V> = {
    get: (key) => map.get(key),
    has: (key) => map.has(key),
    forEach: (cb, thisArg) => map.forEach((v, k) => cb.call(thisArg, v, k, view)),
    get size() {
      return map.size;
    },
    entries: () => map.entries(),
    keys: () => map.keys(),
    values: () => map.values(),
    [Symbol.iterator]: () => map[Symbol.iterator](),
  };
  return Object.freeze(view);
}
