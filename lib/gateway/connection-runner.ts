import type { LoggerService } from '@nestjs/common';
import type { ContextId } from '@nestjs/core';
import { firstValueFrom, isObservable } from 'rxjs';
import { CloseCode } from '../frames/close-codes.js';
import type { CloseInfo, SendResult, WebSocketConnection } from '../frames/websocket-connection.js';
import type { WsHub } from '../hub/index.js';
import { closeMark, closeReasonOf, type CloseMark, type WsCloseCause, type WsCloseReason } from './close-reason.js';
import type { WsCodec } from './codec.js';
import type { PushCommand } from './commands.js';
import { ConnectionScheduler } from './connection-scheduler.js';
import { GatewayError } from './errors.js';
import { answerHandlerError, ERROR_EVENT, logFailure, sendAnswer, undecodableMessage, unknownEvent, type BadMessageAnswer, type HandlerErrorSubject } from './error-policy.js';
import type { GatewayPlan, HandlerPlan } from './gateway-plan.js';
import type { HandlerChain, HandlerChainFactory } from './handler-chain.js';
import type { HandlerScope } from './handler-invoker.js';
import { LifecyclePattern } from './handler-patterns.js';
import type { MailboxItem } from './mailbox.js';
import { dispatchResult, type HandlerCall, type ResultStream, type ResultTarget } from './result-dispatcher.js';
import type { WsUpgradeRequest } from './upgrade-request.js';
import type { WsGatePush } from './ws-gate-push.js';
import { WsConnection, type ConnectionCore, type WsConnectionState } from './ws-connection.js';

/** What every connection of an application shares. */
export interface RunnerContext {
  readonly hub: WsHub;
  /** Runs `push()` commands on the connection's HTTP/2 CONNECT stream. */
  readonly push: WsGatePush;
  readonly chains: HandlerChainFactory;
  readonly logger: LoggerService;
  /** Called once per connection, after `@OnClose` ran (or when a pending one is dropped). */
  ended(runner: ConnectionRunner): void;
}

const INIT: MailboxItem = Object.freeze({ kind: 'init' });

/**
 * Runs one connection of one gateway: its lifecycle (open, `@OnInit`, the single
 * `@OnClose`), what its `WsConnection` stands on, and the handler calls the scheduler (its
 * base class) hands it. What handlers return goes to `dispatchResult()`; errors and bad
 * messages to the error policy; why it closed to `closeReasonOf()`.
 */
export class ConnectionRunner extends ConnectionScheduler implements ConnectionCore, HandlerScope, ResultTarget, HandlerErrorSubject {
  readonly conn: WsConnection;
  private _state: WsConnectionState = 'pending';
  private engine: WebSocketConnection | null = null;
  private instance: object | null;
  private contextId: ContextId | null = null;
  private scopedChains: Map<HandlerPlan, HandlerChain> | null = null;
  private closeCause: CloseMark | null = null;
  private streams: Set<ResultStream> | null = null;
  private ended = false;
  /** Made on first use: most connections never have their `closed` awaited. */
  private closedPromise: Promise<WsCloseReason> | null = null;
  private settleClosed: ((reason: WsCloseReason) => void) | null = null;
  private closedReason: WsCloseReason | null = null;

  /** @internal Called through the shared engine listener below (no closure per connection). */
  onEngineMessage(data: string | Buffer, isBinary: boolean): void {
    if (this._state === 'closed') return;
    this.receive(data, isBinary);
  }

  /** @internal */
  onEngineClose(info: CloseInfo): void {
    this.onClosed(closeReasonOf(info, this.closeCause));
  }

  constructor(
    readonly plan: GatewayPlan,
    id: string,
    request: WsUpgradeRequest,
    private readonly context: RunnerContext,
  ) {
    super();
    this.instance = plan.instance;
    // randomUUID() builds a rope of 14 pieces; a flat copy keeps ~400 B less per connection.
    this.conn = new WsConnection(flatString(id), request, this);
  }

  // ---- ConnectionCore ------------------------------------------------------------------

  closed(): Promise<WsCloseReason> {
    if (this.closedPromise === null) {
      this.closedPromise =
        this.closedReason !== null
          ? Promise.resolve(this.closedReason)
          : new Promise<WsCloseReason>((resolve) => {
              this.settleClosed = resolve;
            });
    }
    return this.closedPromise;
  }

  private resolveClosed(reason: WsCloseReason): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.settleClosed?.(reason);
  }

  get state(): WsConnectionState {
    if (this._state === 'open' && this.engine!.state !== 'open') return 'closing';
    return this._state;
  }

  get connection(): WebSocketConnection | null {
    return this.engine;
  }

  get codec(): WsCodec {
    return this.plan.options.codec;
  }

  get hub(): WsHub {
    return this.context.hub;
  }

  deliverInfo(type: string, data: unknown): void {
    if (this.state !== 'open') return;
    if (!this.queueInfo(type, data)) {
      const error = new GatewayError(
        'WSG_ERR_GATEWAY_MAILBOX_FULL',
        `More than maxMailbox (${this.plan.options.maxMailbox}) infos wait for connection ${this.conn.id}`,
        CloseCode.TryAgainLater,
      );
      this.close(CloseCode.TryAgainLater, 'mailbox full', 'overflow', error);
    }
  }

  /**
   * Starts the closing handshake for `cause` (a handler's `close()`, the policy, a command,
   * an overflow, `conn.close()`); nothing if not open. The first cause marked is the one
   * reported. A code or reason the engine refuses throws and leaves nothing marked.
   */
  close(code: number, reason: string, cause: WsCloseCause, error?: unknown): void {
    const engine = this.engine;
    if (engine === null || engine.state !== 'open' || this._state !== 'open') return;
    const before = this.closeCause;
    this.closeCause ??= closeMark(cause, error);
    try {
      engine.close(code, reason);
    } catch (refused) {
      this.closeCause = before;
      throw refused;
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------

  /** Sets the per-connection gateway instance and its DI context (connection scope). */
  bindScope(instance: object, contextId: ContextId): void {
    this.instance = instance;
    this.contextId = contextId;
  }

  /** The instance handlers run on; resolved before the accept phase calls any handler. */
  get gatewayInstance(): object {
    return this.instance!;
  }

  /**
   * Runs `@OnAccept` (guards, pipes, interceptors included) and resolves with what it
   * returned; an Observable (an interceptor's) gives its first value. Errors propagate:
   * before the 101 there is no connection to send an exception to, so they become HTTP statuses.
   */
  async callAccept(): Promise<unknown> {
    const result: unknown = await this.plan.accept!.invoke(this, this.conn, this.conn.request, LifecyclePattern.Accept);
    return isObservable(result) ? firstValueFrom(result, { defaultValue: undefined }) : result;
  }

  /** After the 101: start handling, `@OnInit` first. */
  open(engine: WebSocketConnection): void {
    this.engine = engine;
    this._state = 'open';
    (engine as RunnerEngine)[kRunner] = this;
    // 'close' is emitted once; on() avoids a once-wrapper per connection.
    engine.on('close', engineOnClose);
    this.context.hub.register(this.conn);
    engine.on('message', engineOnMessage);
    if (this.plan.init !== null) this.runFirst(INIT);
  }

  /** The accept phase refused the connection, or the client left before the 101: no `@OnClose`. */
  notOpened(state: 'denied' | 'closed', reason: WsCloseReason): void {
    this._state = state;
    this.resolveClosed(reason);
    this.dispose();
  }

  /** Closes with 1001 for application shutdown; resolves once `@OnClose` has run. */
  shutdown(): Promise<WsCloseReason> {
    if (this.state === 'open') this.close(CloseCode.GoingAway, 'server shutting down', 'shutdown');
    return this.conn.closed;
  }

  /** The engine closed: stop taking work, leave the hub, run `@OnClose` after what is in flight. */
  private onClosed(reason: WsCloseReason): void {
    this._state = 'closed';
    this.clearMailbox();
    if (this.streams !== null) {
      for (const stream of this.streams) stream.cancel();
      this.streams = null;
    }
    this.context.hub.unregister(this.conn);
    this.afterInFlight(() =>
      this.runClose(reason).catch((error: unknown) =>
        this.context.logger.error(`[WSG_ERR_GATEWAY_HANDLER] ${this.plan.name}: @OnClose could not run`, error instanceof Error ? error.stack : String(error)),
      ),
    );
  }

  private async runClose(reason: WsCloseReason): Promise<void> {
    const handler = this.plan.close;
    try {
      if (handler !== null) await this.invoke(handler, reason, LifecyclePattern.Close, null);
    } finally {
      // Shutdown waits on `closed`: it must settle whatever happened above.
      this.resolveClosed(reason);
      this.dispose();
    }
  }

  /** Drops what this connection held (not a close: the connection is already gone). */
  private dispose(): void {
    if (this.ended) return;
    this.ended = true;
    // Dropping these lets the per-connection gateway instance, its request-scoped providers
    // (keyed by contextId in Nest's WeakMaps) and the chains built for them be collected.
    this.instance = null;
    this.contextId = null;
    this.scopedChains = null;
    this.context.ended(this);
  }

  // ---- ConnectionScheduler -------------------------------------------------------------

  protected get maxMailbox(): number {
    return this.plan.options.maxMailbox;
  }

  protected runnable(): boolean {
    return this._state === 'open' && this.closeCause === null;
  }

  protected holdReading(hold: boolean): void {
    if (hold) this.engine!.pause();
    else if (this._state === 'open') this.engine!.resume();
  }

  protected handle(item: MailboxItem): Promise<void> | undefined {
    switch (item.kind) {
      case 'init':
        return this.invoke(this.plan.init!, undefined, LifecyclePattern.Init, null);
      case 'message':
        return this.handleMessage(item.data, item.isBinary);
      case 'info': {
        const plan = this.plan;
        const handler = plan.infos.get(item.type) ?? plan.infoCatchAll;
        if (handler === null) {
          this.context.logger.warn?.(
            `[WSG_ERR_GATEWAY_UNKNOWN_INFO] ${plan.name}: no @OnInfo handles "${item.type}"; the info for connection ${this.conn.id} was dropped`,
          );
          return undefined;
        }
        return this.invoke(handler, item.data, item.type, item.type);
      }
    }
  }

  protected handleMessage(raw: string | Buffer, isBinary: boolean): Promise<void> | undefined {
    const plan = this.plan;
    let event: string | undefined;
    let data: unknown;
    try {
      const decoded = plan.options.codec.decode(raw, isBinary);
      event = decoded.event;
      data = decoded.data;
    } catch (error) {
      undecodableMessage(this, plan.options.onUndecodable, error);
      return undefined;
    }
    const handler = (event === undefined ? undefined : plan.messages.get(event)) ?? plan.messageCatchAll;
    if (handler === null) {
      unknownEvent(this, plan.options.onUnknown, event);
      return undefined;
    }
    return this.invoke(handler, data, event ?? LifecyclePattern.Message, event);
  }

  // ---- handler calls -------------------------------------------------------------------

  /** The chain of `handler` on this connection's gateway instance, built on first use. */
  scopedChain(handler: HandlerPlan): HandlerChain {
    const chains = (this.scopedChains ??= new Map());
    let chain = chains.get(handler);
    if (chain === undefined) {
      chain = this.context.chains.build(
        this.instance!,
        handler.method,
        handler.methodName,
        this.plan.moduleKey,
        handler.enhancers.interceptors > 0,
        this.contextId ?? undefined,
        this.plan.wrapperId,
      );
      chains.set(handler, chain);
    }
    return chain;
  }

  /** Calls a handler (direct or through its chain, as compiled) and dispatches what it returns. */
  private invoke(handler: HandlerPlan, data: unknown, pattern: string, replyEvent: string | null | undefined): Promise<void> | undefined {
    const call: HandlerCall = { handler, data, pattern, replyEvent };
    let result: unknown;
    try {
      result = handler.invoke(this, this.conn, data, pattern);
    } catch (error) {
      return this.fail(error, call);
    }
    return dispatchResult(this, result, call);
  }

  // ---- ResultTarget --------------------------------------------------------------------

  /** Sends what a handler produced; after a close it is dropped, as commands after close are. */
  deliver(payload: string | Uint8Array): SendResult {
    const engine = this.engine;
    if (engine === null || this._state !== 'open' || engine.state !== 'open') return 'dropped';
    return sendAnswer(this, engine, payload);
  }

  /** Fire and forget: a push never holds the mailbox; WsGatePush logs its failures. */
  runPush(command: PushCommand): void {
    void this.context.push.runCommand(this.engine, command, this.plan.name);
  }

  addStream(stream: ResultStream): void {
    (this.streams ??= new Set()).add(stream);
  }

  removeStream(stream: ResultStream): void {
    this.streams?.delete(stream);
  }

  /** The handler's exception filters first, then the gateway's `onError` policy. */
  fail(error: unknown, call: HandlerCall): Promise<void> | undefined {
    // The chain was made when the handler was called (unless making it is what failed).
    const chain = call.handler.chain ?? this.scopedChains?.get(call.handler) ?? null;
    const filter = chain?.catch ?? null;
    if (filter === null) {
      answerHandlerError(this, error, call);
      return undefined;
    }
    return filter(error, this.conn, call.data, call.pattern).then(
      (handled) => {
        if (!handled) answerHandlerError(this, error, call);
      },
      (filterError: unknown) => answerHandlerError(this, filterError, call),
    );
  }

  logUnexpected(error: unknown, call: HandlerCall): void {
    logFailure(this.context.logger, error, `${this.plan.name}.${call.handler.methodName}() failed on connection ${this.conn.id}`);
  }

  // ---- HandlerErrorSubject -------------------------------------------------------------

  get isOpen(): boolean {
    return this._state === 'open' && this.engine?.state === 'open';
  }

  /** Sends an answer of the error policy; what the codec cannot encode is logged. */
  sendEvent(event: string, data: unknown, call: HandlerCall): void {
    try {
      this.deliver(this.plan.options.codec.encode(event, data));
    } catch (error) {
      this.logUnexpected(error, call);
    }
  }

  sendErrorAnswer(answer: BadMessageAnswer): void {
    try {
      this.deliver(this.plan.options.codec.encode(ERROR_EVENT, answer));
    } catch (error) {
      this.context.logger.error(`[${answer.code}] ${this.plan.name}: the codec could not encode the error answer`, String(error));
    }
  }
}

const kRunner = Symbol('wsgate.runner');
type RunnerEngine = WebSocketConnection & { [kRunner]: ConnectionRunner };

/** Shared engine listeners that find their runner on the engine connection. */
function engineOnMessage(this: RunnerEngine, data: string | Buffer, isBinary: boolean): void {
  this[kRunner].onEngineMessage(data, isBinary);
}
function engineOnClose(this: RunnerEngine, info: CloseInfo): void {
  this[kRunner].onEngineClose(info);
}

/** A flat copy of a string (V8 keeps concatenations as ropes until something flattens them). */
function flatString(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}
