import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpException, HttpStatus } from '@nestjs/common';
import { ContextIdFactory, type ModuleRef } from '@nestjs/core';
import { WsException } from '@nestjs/websockets';
import { CloseCode } from '../frames/close-codes.js';
import { WsgError } from '../frames/errors.js';
import { completeUpgrade, guardUpgradeSocket, negotiateDeflate, rejectUpgrade, validateOrRefuseUpgrade } from '../frames/handshake.js';
import { commandKind, DENY_STATUS, isCommand, type AcceptCommand, type DenyCommand } from './commands.js';
import { ConnectionRunner, type RunnerContext } from './connection-runner.js';
import { GatewayError } from './errors.js';
import type { GatewayPlan } from './gateway-plan.js';
import { normalizeOrigin } from './gateway-options.js';
import type { WsPathParams } from './path-matcher.js';
import type { ExtendedConnectRequest } from '../http2/extended-connect.js';
import { rememberConnectStream } from './connect-streams.js';
import type { ExtendedConnectAdmission } from './upgrade-router.js';
import { http1Source, snapshotUpgradeRequest } from './upgrade-request.js';

/** The outcome of `@OnAccept`, normalized. */
type Decision =
  | { readonly kind: 'accept'; readonly state: unknown; readonly protocol: string | undefined; readonly headers: Readonly<Record<string, string>> | undefined }
  | { readonly kind: 'deny'; readonly status: number; readonly headers: Readonly<Record<string, string>> | undefined; readonly body: string | undefined };

const ACCEPT_AS_IS: Decision = Object.freeze({ kind: 'accept', state: undefined, protocol: undefined, headers: undefined });
const FORBIDDEN: Decision = Object.freeze({ kind: 'deny', status: HttpStatus.FORBIDDEN, headers: undefined, body: undefined });
const INTERNAL: Decision = Object.freeze({ kind: 'deny', status: HttpStatus.INTERNAL_SERVER_ERROR, headers: undefined, body: undefined });
const UNAVAILABLE = HttpStatus.SERVICE_UNAVAILABLE;

/** What the accept phase needs beyond one request. */
export interface AcceptContext extends RunnerContext {
  readonly moduleRef: ModuleRef;
  /** True once the application is shutting down: new upgrades get 503. */
  readonly closing: boolean;
  started(runner: ConnectionRunner): void;
}

/**
 * Everything between Node's `upgrade` event and the 101 (or the refusal): RFC 6455 checks,
 * the Origin allow-list, a per-connection gateway instance for connection scope, `@OnAccept`
 * with its guards and pipes, then `completeUpgrade` or `rejectUpgrade`. A refused client
 * gets a real HTTP response and never a 101.
 */
export class AcceptPhase {
  constructor(private readonly context: AcceptContext) {}

  async run(plan: GatewayPlan, params: WsPathParams, url: URL, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const unguard = guardUpgradeSocket(socket);
    const offer = validateOrRefuseUpgrade(req, socket);
    if (offer === null) return;
    const allowed = plan.options.allowedOrigins;
    const origin = req.headers.origin;
    if (allowed !== null && origin !== undefined && !allowed.has(normalizeOrigin(origin))) {
      rejectUpgrade(socket, HttpStatus.FORBIDDEN, undefined, `[WSG_ERR_GATEWAY_ORIGIN] Origin ${origin} is not allowed`);
      return;
    }
    const request = snapshotUpgradeRequest(http1Source(req), url, params, offer.protocols);
    const runner = new ConnectionRunner(plan, randomUUID(), request, this.context);
    this.context.started(runner);

    let decision = await this.decideFor(plan, runner);

    if (socket.destroyed || !socket.writable) {
      runner.abandon('closed', { code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'io' });
      return;
    }
    if (this.context.closing) decision = { kind: 'deny', status: UNAVAILABLE, headers: undefined, body: undefined };
    if (decision.kind === 'deny') {
      rejectUpgrade(socket, decision.status, decision.headers, decision.body);
      runner.abandon('denied', { code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'denied' });
      return;
    }

    let engine;
    try {
      const protocol = decision.protocol ?? plan.options.protocols.find((p) => offer.protocols.includes(p));
      if (protocol !== undefined && !offer.protocols.includes(protocol)) {
        throw new GatewayError('WSG_ERR_GATEWAY_INVALID_COMMAND', `accept(): protocol "${protocol}" was not offered by the client`);
      }
      const connection = plan.options.connection;
      engine = completeUpgrade(socket, head, {
        ...connection,
        key: offer.key,
        ...(protocol !== undefined ? { protocol } : {}),
        ...(decision.headers !== undefined ? { headers: decision.headers } : {}),
        deflate: negotiateDeflate(offer, plan.options.perMessageDeflate),
      });
    } catch (error) {
      this.logFailure(error, plan);
      rejectUpgrade(socket, HttpStatus.INTERNAL_SERVER_ERROR);
      runner.abandon('denied', { code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'denied', error });
      return;
    }
    unguard();
    runner.conn.data = decision.state;
    try {
      runner.open(engine);
    } catch (error) {
      // After the 101 only a close frame can answer (e.g. the hub was closed by the application).
      this.logFailure(error, plan);
      engine.close(CloseCode.InternalError, 'gateway unavailable');
    }
  }

  /**
   * The same phase for an RFC 8441 extended CONNECT (already checked by the intake): Origin,
   * scope, `@OnAccept` with its enhancers, then a decision the intake answers with
   * `:status 200` or the refusal; the runner opens over the stream once the 200 is out.
   */
  async runExtendedConnect(plan: GatewayPlan, params: WsPathParams, url: URL, connect: ExtendedConnectRequest): Promise<ExtendedConnectAdmission> {
    const allowed = plan.options.allowedOrigins;
    const origin = connect.headers.origin;
    if (allowed !== null && typeof origin === 'string' && !allowed.has(normalizeOrigin(origin))) {
      return { decision: { accept: false, status: HttpStatus.FORBIDDEN, body: `[WSG_ERR_GATEWAY_ORIGIN] Origin ${origin} is not allowed` } };
    }
    const socket = connect.stream.session?.socket;
    const source = { url: connect.path, headers: connect.headers, remoteAddress: socket?.remoteAddress, remotePort: socket?.remotePort, road: 'h2' as const };
    const request = snapshotUpgradeRequest(source, url, params, connect.protocols);
    const runner = new ConnectionRunner(plan, randomUUID(), request, this.context);
    this.context.started(runner);

    let decision = await this.decideFor(plan, runner);
    const stream = connect.stream;
    if (stream.destroyed || stream.closed) {
      runner.abandon('closed', { code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'io' });
      return { decision: { accept: false, status: HttpStatus.BAD_REQUEST } };
    }
    if (this.context.closing) decision = { kind: 'deny', status: UNAVAILABLE, headers: undefined, body: undefined };
    if (decision.kind === 'deny') {
      runner.abandon('denied', { code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'denied' });
      return {
        decision: {
          accept: false,
          status: decision.status,
          ...(decision.headers !== undefined ? { headers: decision.headers } : {}),
          ...(decision.body !== undefined ? { body: decision.body } : {}),
        },
      };
    }
    const protocol = decision.protocol ?? plan.options.protocols.find((p) => connect.protocols.includes(p));
    if (protocol !== undefined && !connect.protocols.includes(protocol)) {
      const error = new GatewayError('WSG_ERR_GATEWAY_INVALID_COMMAND', `accept(): protocol "${protocol}" was not offered by the client`);
      this.logFailure(error, plan);
      runner.abandon('denied', { code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'denied', error });
      return { decision: { accept: false, status: HttpStatus.INTERNAL_SERVER_ERROR } };
    }
    const state = decision.state;
    return {
      decision: {
        accept: true,
        ...(protocol !== undefined ? { protocol } : {}),
        ...(decision.headers !== undefined ? { headers: decision.headers } : {}),
        options: plan.options.connection,
        perMessageDeflate: plan.options.perMessageDeflate ?? false,
      },
      opened: (engine) => {
        rememberConnectStream(engine, stream);
        runner.conn.data = state;
        try {
          runner.open(engine);
        } catch (error) {
          this.logFailure(error, plan);
          engine.close(CloseCode.InternalError, 'gateway unavailable');
        }
      },
      aborted: (error) => {
        runner.abandon('closed', { code: CloseCode.Abnormal, reason: '', wasClean: false, cause: 'io', ...(error !== null && error !== undefined ? { error } : {}) });
      },
    };
  }

  /** Scope, then `@OnAccept` (or accept as is), normalized; a failure becomes a refusal. */
  private async decideFor(plan: GatewayPlan, runner: ConnectionRunner): Promise<Decision> {
    try {
      if (plan.scope === 'connection') await this.resolveScope(plan, runner);
      return plan.accept === null ? ACCEPT_AS_IS : this.decide(await runner.callAccept(), plan);
    } catch (error) {
      return this.refusalFor(error, plan);
    }
  }

  /** A connection-scoped gateway: one instance per connection, the connection as its REQUEST. */
  private async resolveScope(plan: GatewayPlan, runner: ConnectionRunner): Promise<void> {
    const { moduleRef } = this.context;
    const contextId = ContextIdFactory.getByRequest(runner.conn);
    moduleRef.registerRequestByContextId(runner.conn, contextId);
    const instance = await moduleRef.resolve(plan.metatype, contextId, { strict: false });
    runner.bindScope(instance as object, contextId);
  }

  private decide(result: unknown, plan: GatewayPlan): Decision {
    if (result === undefined || result === true) return ACCEPT_AS_IS;
    if (result === false) return FORBIDDEN;
    if (isCommand(result)) {
      const kind = commandKind(result);
      if (kind === 'accept') {
        const c = result as AcceptCommand;
        return { kind: 'accept', state: c.state, protocol: c.protocol, headers: c.headers };
      }
      if (kind === 'deny') {
        const c = result as DenyCommand;
        return { kind: 'deny', status: c.status, headers: c.headers, body: c.body };
      }
    }
    throw new GatewayError(
      'WSG_ERR_GATEWAY_ACCEPT_RESULT',
      `${plan.name}.${plan.accept!.methodName}() returned ${isCommand(result) ? `${commandKind(result)}()` : typeof result}; @OnAccept returns accept(), deny(), a boolean or nothing`,
    );
  }

  private refusalFor(error: unknown, plan: GatewayPlan): Decision {
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status >= DENY_STATUS.min && status <= DENY_STATUS.max) return { kind: 'deny', status, headers: undefined, body: error.message };
    }
    if (error instanceof WsException) return { kind: 'deny', status: HttpStatus.FORBIDDEN, headers: undefined, body: error.message };
    this.logFailure(error, plan);
    return INTERNAL;
  }

  private logFailure(error: unknown, plan: GatewayPlan): void {
    const code = error instanceof WsgError ? error.code : 'WSG_ERR_GATEWAY_HANDLER';
    this.context.logger.error(`[${code}] ${plan.name}: the accept phase failed`, error instanceof Error ? error.stack : String(error));
  }
}
