import type { AddressInfo } from 'node:net';
import { Injectable, type Type } from '@nestjs/common';
import type { HandlerKind } from './decorators/handler.decorators.js';
import type { EnhancerSummary, GatewayPlan } from './gateway-plan.js';

/** One row of the route table. */
export interface WsRouteInfo {
  readonly gateway: string;
  readonly path: string;
  /** The gateway's own port as declared; null when it shares the application's server. */
  readonly port: number | null;
  readonly kind: HandlerKind;
  /** Event or info type; null for catch-alls and lifecycle handlers. */
  readonly pattern: string | null;
  readonly method: string;
  readonly scope: 'singleton' | 'connection';
  readonly codec: string;
  readonly enhancers: EnhancerSummary;
  /** Called without Nest's pipeline (no guards, interceptors, pipes or filters). */
  readonly direct: boolean;
}

/**
 * The compiled gateways of the application, for inspection: plans, a route table, the
 * address of gateways that listen on their own port, and open connection counts.
 */
@Injectable()
export class WsGatewayRegistry {
  private _plans: readonly GatewayPlan[] = Object.freeze([]);
  private readonly addresses = new Map<GatewayPlan, AddressInfo>();
  private _http2Address: AddressInfo | null = null;
  private readonly counts = new Map<GatewayPlan, number>();

  /** Every compiled gateway; empty until the application has bootstrapped. */
  get plans(): readonly GatewayPlan[] {
    return this._plans;
  }

  /** The plan of a gateway class (or class name). */
  plan(gateway: Type<unknown> | string): GatewayPlan | undefined {
    return this._plans.find((p) => (typeof gateway === 'string' ? p.name === gateway : p.metatype === gateway));
  }

  routes(): readonly WsRouteInfo[] {
    const rows: WsRouteInfo[] = [];
    for (const plan of this._plans) {
      for (const handler of plan.handlers) {
        rows.push(
          Object.freeze({
            gateway: plan.name,
            path: plan.options.matcher.path,
            port: plan.options.port,
            kind: handler.kind,
            pattern: handler.pattern,
            method: handler.methodName,
            scope: plan.scope,
            codec: plan.options.codec.name,
            enhancers: handler.enhancers,
            direct: !handler.needsChain,
          }),
        );
      }
    }
    return Object.freeze(rows);
  }

  /** The bound address of a gateway that has its own port; null for one on the application's server. */
  address(gateway: Type<unknown> | string): AddressInfo | null {
    const plan = this.plan(gateway);
    return plan === undefined ? null : (this.addresses.get(plan) ?? null);
  }

  /** Open connections (all gateways, or one). */
  connectionCount(gateway?: Type<unknown> | string): number {
    if (gateway === undefined) {
      let total = 0;
      for (const n of this.counts.values()) total += n;
      return total;
    }
    const plan = this.plan(gateway);
    return plan === undefined ? 0 : (this.counts.get(plan) ?? 0);
  }

  /** The route table as text, one handler per line. */
  formatRouteTable(): string {
    return this.routes()
      .map((r) => {
        const where = r.port === null ? r.path : `:${r.port}${r.path}`;
        const what = r.kind === 'message' || r.kind === 'info' ? `${r.kind} ${r.pattern ?? '*'}` : r.kind;
        const chain = r.direct
          ? 'direct'
          : `guards=${r.enhancers.guards} interceptors=${r.enhancers.interceptors} pipes=${r.enhancers.pipes} filters=${r.enhancers.filters}`;
        return `${where} ${what} -> ${r.gateway}.${r.method}() [${r.scope}, ${r.codec}, ${chain}]`;
      })
      .join('\n');
  }

  /** @internal Set once by the runtime at bootstrap. */
  setPlans(plans: readonly GatewayPlan[]): void {
    this._plans = Object.freeze([...plans]);
  }

  /** The bound address of the HTTP/2 server `WsGateModule.forRoot({ http2 })` started; null without one. */
  get http2Address(): AddressInfo | null {
    return this._http2Address;
  }

  /** @internal */
  setHttp2Address(address: AddressInfo | null): void {
    this._http2Address = address;
  }

  /** @internal */
  setAddress(plan: GatewayPlan, address: AddressInfo): void {
    this.addresses.set(plan, address);
  }

  /** @internal */
  countConnection(plan: GatewayPlan, delta: 1 | -1): void {
    this.counts.set(plan, (this.counts.get(plan) ?? 0) + delta);
  }
}
