import type { ParamsFactory } from '@nestjs/core';
import { WsParamType } from './param-type.js';
import type { WsConnection } from './ws-connection.js';

/**
 * Every handler is called with the same three arguments, which are also what guards and
 * interceptors see through `switchToWs()`: `getClient()` the connection, `getData()` the
 * message data (info data, close reason, upgrade request), `getPattern()` the event.
 */
export type HandlerArgs = [conn: WsConnection, data: unknown, pattern: string];

/** Builds a handler's argument list from the three call arguments. */
export type ArgsResolver = (conn: WsConnection, data: unknown, pattern: string) => unknown[];

type ValueResolver = (conn: WsConnection, data: unknown, pattern: string) => unknown;

function pick(source: Readonly<Record<string, unknown>>, name: string | undefined): unknown {
  return name === undefined ? source : source[name];
}

/** The value of one parameter kind; `name` is the decorator's argument. */
export function valueResolver(type: number, name: string | undefined): ValueResolver {
  switch (type) {
    case WsParamType.Conn:
      return (conn) => conn;
    case WsParamType.Payload:
      return name === undefined ? (_c, data) => data : (_c, data) => (data as Record<string, unknown> | null | undefined)?.[name];
    case WsParamType.Req:
      return (conn) => conn.request;
    case WsParamType.Param:
      return (conn) => pick(conn.request.params, name);
    case WsParamType.Query:
      return (conn) => pick(conn.request.query, name);
    case WsParamType.Headers:
      return (conn) => pick(conn.request.headers as Record<string, unknown>, name);
    case WsParamType.State:
      return (conn) => conn.data;
    case WsParamType.Info:
      return (_c, data, pattern) => ({ type: pattern, data });
    case WsParamType.Reason:
      return (_c, data) => data;
    default:
      return () => undefined;
  }
}

/** Compiles the argument list of a direct call: one resolver per position, holes stay undefined. */
export function compileArgsResolver(params: ReadonlyArray<{ index: number; type: number; name: string | undefined }>): ArgsResolver {
  const length = params.reduce((max, p) => Math.max(max, p.index + 1), 0);
  const slots: (ValueResolver | null)[] = Array.from({ length }, () => null);
  for (const p of params) slots[p.index] = valueResolver(p.type, p.name);
  return (conn, data, pattern) => {
    const args = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      const slot = slots[i];
      args[i] = slot === null ? undefined : slot!(conn, data, pattern);
    }
    return args;
  };
}

/** The same values for Nest's `ExternalContextCreator`, which hands over the call arguments. */
export const wsParamsFactory: ParamsFactory = {
  exchangeKeyForValue(type: number, data: unknown, args: HandlerArgs): unknown {
    return valueResolver(type, typeof data === 'string' ? data : undefined)(args[0], args[1], args[2]);
  },
};
