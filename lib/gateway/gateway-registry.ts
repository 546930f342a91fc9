import type { AddressInfo } from 'node:net';
import { Injectable, Logger, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { SendQueueCounters, type SendQueueTotals } from '../frames/send-queue-counters.js';
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

const NO_SEND_QUEUE_EVENTS: SendQueueTotals = Object.freeze({ dropped: 0, closed: 0 });

/**
 * The compiled gateways of the application, for inspection: plans, a route table, the
 * address of gateways that listen on their own port, open connection counts, and what each
 * gateway's full send queues cost (messages dropped, connections closed 1013), also logged
 * at `warn` at most once a second per gateway.
 */
@Injectable()
export class WsGatewayRegistry implements OnApplicationShutdown {
  private _plans: readonly GatewayPlan[] = Object.freeze([]);
  private readonly addresses = new Map<GatewayPlan, AddressInfo>();
  private _http2Address: AddressInfo | null = null;
  private readonly counts = new Map<GatewayPlan, number>();
  private readonly sendQueues = new Map<GatewayPlan, SendQueueCounters>();
  private readonly logger = new Logger('WsGate');

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

  /**
   * Messages dropped (volatile) and connections closed 1013 (`sendQueuePolicy` 'close', the
   * default) because a send found the send queue at `maxSendQueue`: all gateways, or one.
   */
  sendQueueTotals(gateway?: Type<unknown> | string): SendQueueTotals {
    if (gateway === undefined) {
      let dropped = 0;
      let closed = 0;
      for (const c of this.sendQueues.values()) {
        dropped += c.dropped;
        closed += c.closed;
      }
      return Object.freeze({ dropped, closed });
    }
    const plan = this.plan(gateway);
    return (plan === undefined ? undefined : this.sendQueues.get(plan)?.totals()) ?? NO_SEND_QUEUE_EVENTS;
  }

  /** @internal The counters every connection of this gateway reports its drops and policy closes to. */
  sendQueueCounters(plan: GatewayPlan): SendQueueCounters {
    let counters = this.sendQueues.get(plan);
    if (counters === undefined) {
      counters = new SendQueueCounters(plan.name, plan.options.connection.maxSendQueue, (line) => this.logger.warn(line));
      this.sendQueues.set(plan, counters);
    }
    return counters;
  }

  /** Reports drops still waiting for their rate-limited line. */
  onApplicationShutdown(): void {
    for (const counters of this.sendQueues.values()) counters.flush();
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
