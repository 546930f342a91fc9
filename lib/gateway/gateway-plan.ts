import type { Type } from '@nestjs/common';
import type { HandlerKind } from './decorators/handler.decorators.js';
import type { ResolvedGatewayOptions } from './gateway-options.js';
import type { HandlerChain } from './handler-chain.js';
import type { HandlerInvoker } from './handler-invoker.js';
import type { ArgsResolver } from './params-factory.js';

/** How many enhancers of each kind apply to a handler, globals included. */
export interface EnhancerSummary {
  readonly guards: number;
  readonly interceptors: number;
  /** Pipes that will run on this handler's parameters (0 when it has no decorated parameters). */
  readonly pipes: number;
  readonly filters: number;
  /** Parameters made with Nest's `createParamDecorator()`, which need an ExecutionContext. */
  readonly customParams: number;
}

/** One handler, compiled: everything the executor needs, nothing it has to look up. */
export interface HandlerPlan {
  readonly kind: HandlerKind;
  readonly methodName: string;
  /** Event (`@OnMessage`) or info type (`@OnInfo`); null for a catch-all and lifecycle handlers. */
  readonly pattern: string | null;
  readonly method: (...args: unknown[]) => unknown;
  /** Builds the argument list of a direct call; null when the method takes `(conn, data, pattern)`. */
  readonly resolveArgs: ArgsResolver | null;
  readonly enhancers: EnhancerSummary;
  /** False: called directly, no Nest pipeline. */
  readonly needsChain: boolean;
  /** The Nest pipeline of a singleton gateway, built once; null when direct or per connection. */
  readonly chain: HandlerChain | null;
  /** Calls the handler (call it as `handler.invoke(...)`): direct or through its chain, decided at compile. */
  readonly invoke: HandlerInvoker;
}

/** One gateway class, compiled at bootstrap and frozen. */
export interface GatewayPlan {
  readonly name: string;
  readonly metatype: Type<unknown>;
  readonly options: ResolvedGatewayOptions;
  /** `connection` when the gateway asked for it or depends on a connection-scoped provider. */
  readonly scope: 'singleton' | 'connection';
  /** The instance of a singleton gateway; null for connection scope (resolved per connection). */
  readonly instance: object | null;
  /** Nest's id for the gateway's provider (the inquirer of per-connection enhancers). */
  readonly wrapperId: string;
  readonly moduleKey: string;
  readonly accept: HandlerPlan | null;
  readonly init: HandlerPlan | null;
  readonly close: HandlerPlan | null;
  readonly messages: ReadonlyMap<string, HandlerPlan>;
  readonly messageCatchAll: HandlerPlan | null;
  readonly infos: ReadonlyMap<string, HandlerPlan>;
  readonly infoCatchAll: HandlerPlan | null;
  /** Every handler above, in declaration order, for the route table. */
  readonly handlers: readonly HandlerPlan[];
}
