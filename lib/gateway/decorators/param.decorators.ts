import type { PipeTransform, Type } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { DecoratorError } from '../errors.js';
import { PARAM_ARGS_METADATA } from '../metadata-keys.js';
import { WsParamType } from '../param-type.js';

/** A pipe class (instantiated by Nest) or a pipe instance. */
export type WsPipe = Type<PipeTransform> | PipeTransform;

/** One parameter record, in the shape Nest's context creators read. */
export interface WsParamRecord {
  readonly index: number;
  readonly data: string | undefined;
  readonly pipes: readonly WsPipe[];
}

function isPipe(value: unknown): value is WsPipe {
  return typeof value === 'function' || (typeof value === 'object' && value !== null && typeof (value as PipeTransform).transform === 'function');
}

function paramDecorator(decorator: string, type: WsParamType, data: string | undefined, pipes: readonly WsPipe[]): ParameterDecorator {
  return (target, key, index) => {
    if (key === undefined) {
      throw new DecoratorError('WSG_ERR_DECORATOR_TARGET', `${decorator} goes on a handler parameter, not on a constructor parameter`);
    }
    const host = (target as object).constructor;
    const existing: Record<string, WsParamRecord> = Reflect.getMetadata(PARAM_ARGS_METADATA, host, key) ?? {};
    const record: WsParamRecord = { index, data, pipes: [...pipes] };
    Reflect.defineMetadata(PARAM_ARGS_METADATA, { ...existing, [`${type}:${index}`]: record }, host, key);
  };
}

function checkPipes(decorator: string, pipes: readonly unknown[]): WsPipe[] {
  for (const pipe of pipes) {
    if (!isPipe(pipe)) throw new DecoratorError('WSG_ERR_DECORATOR_PIPE', `${decorator} pipes must be pipe classes or objects with transform()`);
  }
  return pipes as WsPipe[];
}

function checkName(decorator: string, name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || name.length === 0) {
    throw new DecoratorError('WSG_ERR_DECORATOR_PARAM', `${decorator} takes a non-empty name or nothing, got ${typeof name === 'string' ? '""' : typeof name}`);
  }
  return name;
}

/** The `WsConnection` the call is for. */
export function Conn(): ParameterDecorator {
  return paramDecorator('@Conn()', WsParamType.Conn, undefined, []);
}

/**
 * The message data (in `@OnInfo`, the info data; in `@OnClose`, the close reason), or one
 * property of it, through the given pipes.
 */
export function Payload(propertyOrPipe?: string | WsPipe, ...pipes: WsPipe[]): ParameterDecorator {
  const property = typeof propertyOrPipe === 'string' || propertyOrPipe === undefined ? propertyOrPipe : undefined;
  const all = property === undefined && propertyOrPipe !== undefined ? [propertyOrPipe, ...pipes] : pipes;
  checkName('@Payload()', property);
  return paramDecorator('@Payload()', WsParamType.Payload, property, checkPipes('@Payload()', all));
}

/** The upgrade request snapshot (`WsUpgradeRequest`). */
export function Req(): ParameterDecorator {
  return paramDecorator('@Req()', WsParamType.Req, undefined, []);
}

/** A path parameter of the gateway path, or all of them, through the given pipes. */
export function Param(name?: string, ...pipes: WsPipe[]): ParameterDecorator {
  return paramDecorator('@Param()', WsParamType.Param, checkName('@Param()', name), checkPipes('@Param()', pipes));
}

/** A query string value of the upgrade URL, or all of them, through the given pipes. */
export function Query(name?: string, ...pipes: WsPipe[]): ParameterDecorator {
  return paramDecorator('@Query()', WsParamType.Query, checkName('@Query()', name), checkPipes('@Query()', pipes));
}

/** An upgrade request header (name case-insensitive), or all of them, through the given pipes. */
export function Headers(name?: string, ...pipes: WsPipe[]): ParameterDecorator {
  return paramDecorator('@Headers()', WsParamType.Headers, checkName('@Headers()', name)?.toLowerCase(), checkPipes('@Headers()', pipes));
}

/** The per-connection state given to `accept(state)` (`conn.data`). */
export function State(): ParameterDecorator {
  return paramDecorator('@State()', WsParamType.State, undefined, []);
}

/** In `@OnInfo`: the info as `{ type, data }`. */
export function Info(): ParameterDecorator {
  return paramDecorator('@Info()', WsParamType.Info, undefined, []);
}

/** In `@OnClose`: why the connection ended (`WsCloseReason`). */
export function Reason(): ParameterDecorator {
  return paramDecorator('@Reason()', WsParamType.Reason, undefined, []);
}

/**
 * Injects the `WsConnection` into a connection-scoped gateway, or into a provider it depends
 * on (which makes that provider, and the gateway, one per connection).
 */
export function InjectConnection(): PropertyDecorator & ParameterDecorator {
  return Inject(REQUEST);
}
