import { randomUUID } from 'node:crypto';
import { HttpException, HttpStatus } from '@nestjs/common';
import { ContextIdFactory, type ModuleRef } from '@nestjs/core';
import { WsException } from '@nestjs/websockets';
import { runAcceptPipeline, type EngineSettings } from '../frames/accept-pipeline.js';
import type { AdmissionCaps } from '../frames/admission-caps.js';
import { CloseCode } from '../frames/close-codes.js';
import { WsgError } from '../frames/errors.js';
import { isDenyStatus, SERVICE_UNAVAILABLE, type HandshakeDecision, type HandshakeDeny } from '../frames/handshake-decision.js';
import type { WebSocketConnection } from '../frames/websocket-connection.js';
import type { WsCloseReason } from './close-reason.js';
import { commandKind, isCommand, type AcceptCommand, type DenyCommand } from './commands.js';
import { ConnectionRunner, type RunnerContext } from './connection-runner.js';
import { GatewayError } from './errors.js';
import type { GatewayPlan } from './gateway-plan.js';
import type { WsGatewayRegistry } from './gateway-registry.js';
import { screenGatewayOrigin } from './origin-screen.js';
import type { WsPathParams } from './path-matcher.js';
import { snapshotUpgradeRequest, upgradeRequestSource } from './upgrade-request.js';
import type { GatewayRoad } from './upgrade-router.js';

const ACCEPT_AS_IS: HandshakeDecision = Object.freeze({ accept: true });
const FORBIDDEN: HandshakeDeny = Object.freeze({ accept: false, status: HttpStatus.FORBIDDEN });

/** What `@OnAccept` decided, and the `@State()` an accepted connection starts with. */
interface GatewayDecision {
  readonly decision: HandshakeDecision;
  readonly state: unknown;
}

/** How a connection that never opened ended: refused (`denied`) or left by its client (`io`). */
function notOpenedReason(cause: 'denied' | 'io', error: unknown): WsCloseReason {
  return { code: CloseCode.Abnormal, reason: '', wasClean: false, cause, ...(error !== undefined ? { error } : {}) };
}

/** What the accept phase needs beyond one request. */
export interface AcceptContext extends RunnerContext {
  readonly moduleRef: ModuleRef;
  /** True once the application is shutting down: new upgrades get 503. */
  readonly closing: boolean;
  started(runner: ConnectionRunner): void;
  /** Counts each gateway's drops and 1013 closes at a full send queue (the registry's). */
  readonly registry: WsGatewayRegistry;
}

/**
 * A gateway's steps in the accept pipeline (`runAcceptPipeline`), the same on both roads: the
 * origin screen (the same host, or `allowedOrigins`), 503 while shutting down, a
 * per-connection gateway instance for connection scope, `@OnAccept` with its guards and
 * pipes, then the 101 / `:status 200` and the runner, or a real HTTP refusal (never an
 * opening response).
 */
export class AcceptPhase {
  constructor(private readonly context: AcceptContext) {}

  async run(plan: GatewayPlan, params: WsPathParams, url: URL, road: GatewayRoad, caps?: AdmissionCaps): Promise<void> {
    const source = upgradeRequestSource(road);
    let runner: ConnectionRunner | null = null;
    let state: unknown;
    await runAcceptPipeline(road, {
      screen: () => screenGatewayOrigin(plan.options.allowedOrigins, road),
      capacity: () => (this.context.closing ? SERVICE_UNAVAILABLE : null),
      ...(caps !== undefined ? { caps } : {}),
      handshakeTimeout: plan.options.handshake.handshakeTimeout,
      decide: async () => {
        const started = new ConnectionRunner(plan, randomUUID(), snapshotUpgradeRequest(source, url, params, road.protocols), this.context);
        runner = started;
        this.context.started(started);
        const decided = await this.decideFor(plan, started, road.protocols);
        state = decided.state;
        return decided.decision;
      },
      settings: () => settingsOf(plan),
      failed: (error) => this.refusalFor(error, plan),
      unoffered: (protocol) => new GatewayError('WSG_ERR_GATEWAY_INVALID_COMMAND', `accept(): protocol "${protocol}" was not offered by the client`),
      opened: (engine) => this.open(plan, runner!, state, engine),
      refused: (deny) => runner?.notOpened('denied', notOpenedReason('denied', deny.error)),
      gone: () => runner?.notOpened('closed', notOpenedReason('io', undefined)),
    });
  }

  private open(plan: GatewayPlan, runner: ConnectionRunner, state: unknown, engine: WebSocketConnection): void {
    runner.conn.data = state;
    engine.observeSendQueue(this.context.registry.sendQueueCounters(plan));
    try {
      runner.open(engine);
    } catch (error) {
      // After the opening response only a close frame can answer (e.g. the hub was closed by the application).
      this.logFailure(error, plan);
      engine.close(CloseCode.InternalError, 'gateway unavailable');
    }
  }

  /** Scope, then `@OnAccept` (or accept as is), normalized; the gateway's subprotocol is the default. */
  private async decideFor(plan: GatewayPlan, runner: ConnectionRunner, offered: readonly string[]): Promise<GatewayDecision> {
    if (plan.scope === 'connection') await this.resolveScope(plan, runner);
    const decided = plan.accept === null ? { decision: ACCEPT_AS_IS, state: undefined } : this.decide(await runner.callAccept(), plan);
    if (!decided.decision.accept || decided.decision.protocol !== undefined) return decided;
    const protocol = plan.options.protocols.find((p) => offered.includes(p));
    return protocol === undefined ? decided : { decision: { ...decided.decision, protocol }, state: decided.state };
  }

  /** A connection-scoped gateway: one instance per connection, the connection as its REQUEST. */
  private async resolveScope(plan: GatewayPlan, runner: ConnectionRunner): Promise<void> {
    const { moduleRef } = this.context;
    const contextId = ContextIdFactory.getByRequest(runner.conn);
    moduleRef.registerRequestByContextId(runner.conn, contextId);
    const instance = await moduleRef.resolve(plan.metatype, contextId, { strict: false });
    runner.bindScope(instance as object, contextId);
  }

  private decide(result: unknown, plan: GatewayPlan): GatewayDecision {
    if (result === undefined || result === true) return { decision: ACCEPT_AS_IS, state: undefined };
    if (result === false) return { decision: FORBIDDEN, state: undefined };
    if (isCommand(result)) {
      const kind = commandKind(result);
      if (kind === 'accept') {
        const c = result as AcceptCommand;
        return { decision: { accept: true, protocol: c.protocol, headers: c.headers }, state: c.state };
      }
      if (kind === 'deny') {
        const c = result as DenyCommand;
        return { decision: { accept: false, status: c.status, headers: c.headers, body: c.body }, state: undefined };
      }
    }
    throw new GatewayError(
      'WSG_ERR_GATEWAY_ACCEPT_RESULT',
      `${plan.name}.${plan.accept!.methodName}() returned ${isCommand(result) ? `${commandKind(result)}()` : typeof result}; @OnAccept returns accept(), deny(), a boolean or nothing`,
    );
  }

  /** A failure of the accept phase as its refusal: Nest's exceptions keep their status, anything else is logged and answered 500. */
  private refusalFor(error: unknown, plan: GatewayPlan): HandshakeDeny {
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (isDenyStatus(status)) return { accept: false, status, body: error.message };
    }
    if (error instanceof WsException) return { accept: false, status: HttpStatus.FORBIDDEN, body: error.message };
    this.logFailure(error, plan);
    return { accept: false, status: HttpStatus.INTERNAL_SERVER_ERROR, error };
  }

  private logFailure(error: unknown, plan: GatewayPlan): void {
    const code = error instanceof WsgError ? error.code : 'WSG_ERR_GATEWAY_HANDLER';
    this.context.logger.error(`[${code}] ${plan.name}: the accept phase failed`, error instanceof Error ? error.stack : String(error));
  }
}

function settingsOf(plan: GatewayPlan): EngineSettings {
  return { options: plan.options.connection, deflate: plan.options.perMessageDeflate };
}

