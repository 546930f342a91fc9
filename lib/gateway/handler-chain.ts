import type { Type } from '@nestjs/common';
import { ExternalContextCreator, type ContextId, type NestContainer } from '@nestjs/core';
import type { ApplicationConfig } from '@nestjs/core';
import { ExternalExceptionFilterContext } from '@nestjs/core/exceptions/external-exception-filter-context.js';
import {
  ExecutionContextHost,
  GuardsConsumer,
  GuardsContextCreator,
  InterceptorsConsumer,
  InterceptorsContextCreator,
  PipesConsumer,
  PipesContextCreator,
} from '@nestjs/core/internal';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  selectExceptionFilterMetadata,
  type ExceptionFilterMetadata,
} from '@nestjs/common/internal';
import type { EnhancerSummary } from './gateway-plan.js';
import { PARAM_ARGS_METADATA } from './metadata-keys.js';
import { wsParamsFactory } from './params-factory.js';
import type { WsConnection } from './ws-connection.js';

/**
 * The Nest pipeline of one handler on one gateway instance: guards, interceptors, pipes and
 * parameters through `ExternalContextCreator` (context type `'ws'`), exception filters
 * beside it so that a filter that handles an error ends it there.
 */
export interface HandlerChain {
  /** Rejects with whatever a guard, pipe, interceptor or the handler threw. */
  invoke(conn: WsConnection, data: unknown, pattern: string): Promise<unknown>;
  /** Runs the first matching exception filter; resolves false when none matches. Null: no filters. */
  readonly catch: ((error: unknown, conn: WsConnection, data: unknown, pattern: string) => Promise<boolean>) | null;
  /** With interceptors every result arrives as an Observable. */
  readonly hasInterceptors: boolean;
}

/**
 * Nest's creator turns an Observable result into its last value (`lastValueFrom`), which
 * would end a stream after its first reply; gateways stream, so results pass as they are.
 */
class GatewayContextCreator extends ExternalContextCreator {
  override transformToResult(resultOrDeferred: unknown): Promise<unknown> {
    return Promise.resolve(resultOrDeferred);
  }
}

type Method = (...args: unknown[]) => unknown;

function metadataLength(key: string, target: object): number {
  const value: unknown = Reflect.getMetadata(key, target);
  return Array.isArray(value) ? value.length : 0;
}

/** Builds handler chains from Nest's container; one per application. */
export class HandlerChainFactory {
  private readonly creator: GatewayContextCreator;
  private readonly filterContext: ExternalExceptionFilterContext;
  private readonly config: ApplicationConfig | undefined;

  constructor(container: NestContainer) {
    this.config = container.applicationConfig;
    this.creator = new GatewayContextCreator(
      new GuardsContextCreator(container, this.config),
      new GuardsConsumer(),
      new InterceptorsContextCreator(container, this.config),
      new InterceptorsConsumer(),
      container.getModules(),
      new PipesContextCreator(container, this.config),
      new PipesConsumer(),
      new ExternalExceptionFilterContext(container, this.config),
    );
    this.filterContext = new ExternalExceptionFilterContext(container, this.config);
  }

  /** Counts the enhancers that would apply (class, method, global); run once per handler at compile. */
  summarize(metatype: Type<unknown>, method: Method, paramPipes: number, hasParams: boolean, customParams: number): EnhancerSummary {
    const c = this.config;
    const pipes = metadataLength(PIPES_METADATA, metatype) + metadataLength(PIPES_METADATA, method) + (c?.getGlobalPipes().length ?? 0) + (c?.getGlobalRequestPipes().length ?? 0) + paramPipes;
    return Object.freeze({
      guards: metadataLength(GUARDS_METADATA, metatype) + metadataLength(GUARDS_METADATA, method) + (c?.getGlobalGuards().length ?? 0) + (c?.getGlobalRequestGuards().length ?? 0),
      interceptors:
        metadataLength(INTERCEPTORS_METADATA, metatype) +
        metadataLength(INTERCEPTORS_METADATA, method) +
        (c?.getGlobalInterceptors().length ?? 0) +
        (c?.getGlobalRequestInterceptors().length ?? 0),
      pipes: hasParams ? pipes : 0,
      filters:
        metadataLength(EXCEPTION_FILTERS_METADATA, metatype) +
        metadataLength(EXCEPTION_FILTERS_METADATA, method) +
        (c?.getGlobalFilters().length ?? 0) +
        (c?.getGlobalRequestFilters().length ?? 0),
      customParams,
    });
  }

  /** Builds the chain of one handler on one instance (once per singleton, once per connection otherwise). */
  build(instance: object, method: Method, methodName: string, moduleKey: string, hasInterceptors: boolean, contextId?: ContextId, inquirerId?: string): HandlerChain {
    const target = this.creator.create(
      instance as Record<string, unknown>,
      method,
      methodName,
      PARAM_ARGS_METADATA,
      wsParamsFactory,
      contextId,
      inquirerId,
      { guards: true, interceptors: true, filters: false },
      'ws',
    );
    const handler = this.filterContext.create(instance as Record<string, unknown>, method as never, moduleKey, contextId, inquirerId);
    const filters = (handler as unknown as { filters: ExceptionFilterMetadata[] }).filters;
    const classRef = (instance as { constructor: Type<unknown> }).constructor;
    return Object.freeze({
      invoke: (conn: WsConnection, data: unknown, pattern: string) => target(conn, data, pattern),
      catch:
        filters.length === 0
          ? null
          : async (error: unknown, conn: WsConnection, data: unknown, pattern: string): Promise<boolean> => {
              const filter = selectExceptionFilterMetadata(filters, error);
              if (filter === undefined) return false;
              const host = new ExecutionContextHost([conn, data, pattern], classRef, method as never);
              host.setType('ws');
              await filter.func(error, host);
              return true;
            },
      hasInterceptors,
    });
  }
}
