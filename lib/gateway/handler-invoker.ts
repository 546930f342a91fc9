import type { HandlerPlan } from './gateway-plan.js';
import type { HandlerChain } from './handler-chain.js';
import type { WsConnection } from './ws-connection.js';

/**
 * Where a handler runs: the gateway instance, and for a connection-scoped gateway the Nest
 * chains built for that instance (made on first use, kept for the connection).
 */
export interface HandlerScope {
  readonly gatewayInstance: object;
  scopedChain(handler: HandlerPlan): HandlerChain;
}

/**
 * Calls one handler with the three call arguments; `this` is its `HandlerPlan`. Chosen once
 * per route when the plan is compiled: the message path never asks whether a chain applies.
 */
export type HandlerInvoker = (this: HandlerPlan, scope: HandlerScope, conn: WsConnection, data: unknown, pattern: string) => unknown;

function callDirect(this: HandlerPlan, scope: HandlerScope, conn: WsConnection, data: unknown, pattern: string): unknown {
  return this.method.call(scope.gatewayInstance, conn, data, pattern);
}

function callWithArgs(this: HandlerPlan, scope: HandlerScope, conn: WsConnection, data: unknown, pattern: string): unknown {
  return this.method.apply(scope.gatewayInstance, this.resolveArgs!(conn, data, pattern));
}

function callChain(this: HandlerPlan, _scope: HandlerScope, conn: WsConnection, data: unknown, pattern: string): unknown {
  return this.chain!.invoke(conn, data, pattern);
}

function callScopedChain(this: HandlerPlan, scope: HandlerScope, conn: WsConnection, data: unknown, pattern: string): unknown {
  return scope.scopedChain(this).invoke(conn, data, pattern);
}

/**
 * The invoker of a route: direct (with or without an argument resolver) when no enhancer
 * applies; the chain built at compile for a singleton; the connection's own chain otherwise.
 */
export function selectInvoker(needsChain: boolean, scope: 'singleton' | 'connection', resolvesArgs: boolean): HandlerInvoker {
  if (!needsChain) return resolvesArgs ? callWithArgs : callDirect;
  return scope === 'singleton' ? callChain : callScopedChain;
}
