import type { LoggerService } from '@nestjs/common';
import type { ContextId } from '@nestjs/core';
import { firstValueFrom, isObservable, type Observable, type Subscription } from 'rxjs';
import { CloseCode } from '../frames/close-codes.js';
import { AlreadyClosedError, IoError, SendQueueFullError, TimeoutError, WsgError } from '../frames/errors.js';
import type { CloseInfo, PreparedMessage, SendResult, WebSocketConnection } from '../frames/websocket-connection.js';
import type { WsHub } from '../hub/index.js';
import type { WsCloseCause, WsCloseReason } from './close-reason.js';
import { commandKind, isCommand, type WsCommand } from './commands.js';
import { GatewayError } from './errors.js';
import { exceptionPayload, INTERNAL_ERROR_MESSAGE } from './exception-payload.js';
import type { GatewayPlan, HandlerPlan } from './gateway-plan.js';
import type { HandlerChain, HandlerChainFactory } from './handler-chain.js';
import { LifecyclePattern } from './handler-patterns.js';
import { Mailbox, type MailboxItem } from './mailbox.js';
import type { WsUpgradeRequest } from './upgrade-request.js';
import type { PushCommand } from './commands.js';
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

/** One handler call in progress: what a reply, a stream or an error needs to know. */
interface Call {
  readonly handler: HandlerPlan;
  readonly chain: HandlerChain | null;
  readonly data: unknown;
  readonly pattern: string;
  /** The event a plain value is replied under; null where there is none (init, close). */
  readonly replyEvent: string | null | undefined;
}

interface Stream {
  cancel(): void;
}

const EXCEPTION_EVENT = 'exception';
const ERROR_EVENT = 'error';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/**
 * Runs one connection of one gateway: its mailbox (client messages and infos, one at a time,
 * in order), the commands handlers return, streams, errors, and the single `@OnClose`.
 *
 * Back-pressure: while `maxMailbox` client messages wait, the runner pauses the engine, which
 * stops reading the socket until the mailbox has room again.
 */
export class ConnectionRunner implements ConnectionCore {
  readonly conn: WsConnection;
  private _state: WsConnectionState = 'pending';
  private engine: WebSocketConnection | null = null;
  private instance: object | null;
  private contextId: ContextId | null = null;
  private scopedChains: Map<HandlerPlan, HandlerChain> | null = null;
  private readonly mailbox = new Mailbox();
  /** Settles when the handler in flight is done; null when none is. */
  private busy: Promise<void> | null = null;
  private draining = false;
  private drainScheduled = false;
  /** The engine is paused because the mailbox is full. */
  private holding = false;
  private closeCause: { cause: WsCloseCause; error?: unknown } | null = null;
  private streams: Set<Stream> | null = null;
  private ended = false;
  /** Made on first use: most connections never have their `closed` awaited. */
  private closedPromise: Promise<WsCloseReason> | null = null;
  private settleClosed: ((reason: WsCloseReason) => void) | null = null;
  private closedReason: WsCloseReason | null = null;

  /** @internal Called through the shared engine listener below (no closure per connection). */
  onEngineMessage(data: string | Buffer, isBinary: boolean): void {
    if (this._state === 'closed') return;
    this.mailbox.push({ kind: 'message', data, isBinary });
    if (this.mailbox.messageCount >= this.plan.options.maxMailbox) this.holdReading();
    this.drainMailbox();
  }

  /** @internal */
  onEngineClose(info: CloseInfo): void {
    this.finish(this.reasonFrom(info));
  }

  /** @internal */
  afterBusy(): void {
    this.busy = null;
    this.drainMailbox();
  }

  /** @internal */
  scheduledDrain(): void {
    this.drainScheduled = false;
    this.drainMailbox();
  }

  constructor(
    readonly plan: GatewayPlan,
    id: string,
    request: WsUpgradeRequest,
    private readonly context: RunnerContext,
  ) {
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

  get socket(): WebSocketConnection | null {
    return this.engine;
  }

  send(raw: string | Uint8Array): SendResult {
    return this.openEngine('send').send(raw);
  }

  emit(event: string, data: unknown): SendResult {
    return this.openEngine('emit').send(this.plan.options.codec.encode(event, data));
  }

  sendPrepared(message: PreparedMessage): SendResult {
    if (this.engine === null) throw new AlreadyClosedError('WSG_ERR_ALREADY_CLOSED', 'The connection is not open yet');
    return this.engine.sendPrepared(message);
  }

  deliverInfo(type: string, data: unknown): void {
    if (this.state !== 'open') return;
    if (this.mailbox.infoCount >= this.plan.options.maxMailbox) {
      const error = new GatewayError(
        'WSG_ERR_GATEWAY_MAILBOX_FULL',
        `More than maxMailbox (${this.plan.options.maxMailbox}) infos wait for connection ${this.conn.id}`,
        CloseCode.TryAgainLater,
      );
      this.closeWith(CloseCode.TryAgainLater, 'mailbox full', 'overflow', error);
      return;
    }
    this.mailbox.push({ kind: 'info', type, data });
    // Infos are handled on a later microtask, never inside the sender's call stack (which may
    // be another connection's handler in the middle of its own work).
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      queueMicrotask(() => this.scheduledDrain());
    }
  }

  kick(code: number, reason: string): void {
    const engine = this.openEngine('close');
    engine.close(code, reason);
    this.closeCause ??= { cause: 'kick' };
  }

  join(topic: string): void {
    this.openEngine('join');
    this.context.hub.join(this.conn, topic);
  }

  leave(topic: string): void {
    this.context.hub.leave(this.conn, topic);
  }

  topics(): ReadonlySet<string> {
    return this.context.hub.topicsOf(this.conn);
  }

  private openEngine(operation: string): WebSocketConnection {
    if (this.state !== 'open') {
      throw new GatewayError('WSG_ERR_GATEWAY_NOT_OPEN', `Cannot ${operation}: connection ${this.conn.id} is ${this.state}`);
    }
    return this.engine!;
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
   * before the 101 there is no socket to send an exception to, so they become HTTP statuses.
   */
  async callAccept(): Promise<unknown> {
    const handler = this.plan.accept!;
    const chain = this.chainFor(handler);
    const request = this.conn.request;
    let result: unknown;
    if (chain !== null) result = await chain.invoke(this.conn, request, LifecyclePattern.Accept);
    else if (handler.resolveArgs === null) result = await handler.method.call(this.instance, this.conn, request, LifecyclePattern.Accept);
    else result = await handler.method.apply(this.instance, handler.resolveArgs(this.conn, request, LifecyclePattern.Accept));
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
    if (this.plan.init !== null) this.mailbox.push({ kind: 'init' });
    engine.on('message', engineOnMessage);
    this.drainMailbox();
  }

  /** The accept phase refused the connection, or the client left before the 101. */
  abandon(state: 'denied' | 'closed', reason: WsCloseReason): void {
    this._state = state;
    this.resolveClosed(reason);
    this.release();
  }

  /** Closes with 1001 for application shutdown; resolves once `@OnClose` has run. */
  shutdown(): Promise<WsCloseReason> {
    if (this.state === 'open') this.closeWith(CloseCode.GoingAway, 'server shutting down', 'shutdown');
    return this.conn.closed;
  }

  private holdReading(): void {
    if (this.holding) return;
    this.holding = true;
    this.engine!.pause();
  }

  private releaseReading(): void {
    if (!this.holding) return;
    this.holding = false;
    this.engine!.resume();
  }

  private closeWith(code: number, reason: string, cause: WsCloseCause, error?: unknown): void {
    const engine = this.engine;
    if (engine === null || engine.state !== 'open' || this._state !== 'open') return;
    this.closeCause ??= error === undefined ? { cause } : { cause, error };
    engine.close(code, reason);
  }

  private reasonFrom(info: CloseInfo): WsCloseReason {
    const base = { code: info.code, reason: info.reason, wasClean: info.wasClean };
    if (this.closeCause !== null) {
      const error = this.closeCause.error ?? info.error;
      return Object.freeze(error === undefined ? { ...base, cause: this.closeCause.cause } : { ...base, cause: this.closeCause.cause, error });
    }
    const error = info.error;
    let cause: WsCloseCause;
    if (error instanceof TimeoutError) cause = 'timeout';
    else if (error instanceof IoError) cause = 'io';
    else if (error instanceof SendQueueFullError) cause = 'overflow';
    else if (error !== undefined) cause = 'protocol';
    else cause = info.code === CloseCode.Abnormal ? 'io' : 'client';
    return Object.freeze(error === undefined ? { ...base, cause } : { ...base, cause, error });
  }

  private finish(reason: WsCloseReason): void {
    this._state = 'closed';
    this.mailbox.clear();
    if (this.streams !== null) {
      for (const stream of this.streams) stream.cancel();
      this.streams = null;
    }
    this.context.hub.unregister(this.conn);
    // Callbacks of one connection never overlap: @OnClose waits for the handler in flight.
    const run = (): Promise<void> =>
      this.runClose(reason).catch((error: unknown) =>
        this.context.logger.error(`[WSG_ERR_GATEWAY_HANDLER] ${this.plan.name}: @OnClose could not run`, error instanceof Error ? error.stack : String(error)),
      );
    if (this.busy !== null) void this.busy.then(run);
    else void run();
  }

  private async runClose(reason: WsCloseReason): Promise<void> {
    const handler = this.plan.close;
    try {
      if (handler !== null) await this.invoke(handler, reason, LifecyclePattern.Close, null);
    } finally {
      // Shutdown waits on `closed`: it must settle whatever happened above.
      this.resolveClosed(reason);
      this.release();
    }
  }

  private release(): void {
    if (this.ended) return;
    this.ended = true;
    // Dropping these lets the per-connection gateway instance, its request-scoped providers
    // (keyed by contextId in Nest's WeakMaps) and the chains built for them be collected.
    this.instance = null;
    this.contextId = null;
    this.scopedChains = null;
    this.context.ended(this);
  }

  // ---- the mailbox ---------------------------------------------------------------------

  private drainMailbox(): void {
    if (this.busy !== null || this.draining) return;
    this.draining = true;
    try {
      // Once this side decided to close, what still waits is dropped, as commands are.
      while (this._state === 'open' && this.closeCause === null) {
        const item = this.mailbox.shift();
        if (item === undefined) break;
        const pending = this.handle(item);
        if (pending !== undefined) {
          this.busy = pending.then(() => this.afterBusy());
          break;
        }
      }
    } finally {
      this.draining = false;
    }
    if (this.holding && this._state === 'open' && this.mailbox.messageCount < this.plan.options.maxMailbox) this.releaseReading();
  }

  /** Handles one item; returns a promise (that never rejects) when it did not finish synchronously. */
  private handle(item: MailboxItem): Promise<void> | undefined {
    const plan = this.plan;
    switch (item.kind) {
      case 'init':
        return this.invoke(plan.init!, undefined, LifecyclePattern.Init, null);
      case 'message': {
        let event: string | undefined;
        let data: unknown;
        try {
          const decoded = plan.options.codec.decode(item.data, item.isBinary);
          event = decoded.event;
          data = decoded.data;
        } catch (error) {
          this.onUndecodable(error);
          return undefined;
        }
        const handler = (event === undefined ? undefined : plan.messages.get(event)) ?? plan.messageCatchAll;
        if (handler === null) {
          this.onUnknownEvent(event);
          return undefined;
        }
        return this.invoke(handler, data, event ?? LifecyclePattern.Message, event);
      }
      case 'info': {
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

  private chainFor(handler: HandlerPlan): HandlerChain | null {
    if (!handler.needsChain) return null;
    if (handler.chain !== null) return handler.chain;
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

  /** Calls a handler (through its chain, if it has one) and dispatches what it returns. */
  private invoke(handler: HandlerPlan, data: unknown, pattern: string, replyEvent: string | null | undefined): Promise<void> | undefined {
    let chain: HandlerChain | null = null;
    let result: unknown;
    try {
      chain = this.chainFor(handler);
      if (chain !== null) {
        result = chain.invoke(this.conn, data, pattern);
      } else {
        result =
          handler.resolveArgs === null
            ? handler.method.call(this.instance, this.conn, data, pattern)
            : handler.method.apply(this.instance, handler.resolveArgs(this.conn, data, pattern));
      }
    } catch (error) {
      return this.fail(error, { handler, chain, data, pattern, replyEvent });
    }
    return this.dispatch(result, { handler, chain, data, pattern, replyEvent });
  }

  // ---- results and commands ------------------------------------------------------------

  private dispatch(value: unknown, call: Call): Promise<void> | undefined {
    try {
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'object' && typeof value !== 'function') {
        this.reply(value, call);
        return undefined;
      }
      if (isCommand(value)) {
        this.execute(value, call);
        return undefined;
      }
      if (Array.isArray(value)) {
        if (value.length > 0 && value.every(isCommand)) {
          for (const command of value) this.execute(command, call);
        } else {
          this.reply(value, call);
        }
        return undefined;
      }
      if (isThenable(value)) {
        return Promise.resolve(value).then(
          (resolved) => this.dispatch(resolved, call),
          (error: unknown) => this.fail(error, call),
        );
      }
      if (isObservable(value)) return this.streamObservable(value, call);
      if (isAsyncIterable(value)) {
        this.streamIterable(value, call);
        return undefined;
      }
      this.reply(value, call);
      return undefined;
    } catch (error) {
      return this.fail(error, call);
    }
  }

  private reply(data: unknown, call: Call): void {
    if (call.replyEvent === null) {
      throw new GatewayError(
        'WSG_ERR_GATEWAY_RESULT',
        `${this.plan.name}.${call.handler.methodName}() returned a plain value, which has no event to reply with; return emit(event, data)`,
      );
    }
    this.deliver(this.plan.options.codec.encode(call.replyEvent, data));
  }

  private execute(command: WsCommand, call: Call): void {
    switch (commandKind(command)) {
      case 'reply':
        this.reply((command as { data: unknown }).data, call);
        return;
      case 'emit': {
        const { event, data } = command as { event: string; data: unknown };
        this.deliver(this.plan.options.codec.encode(event, data));
        return;
      }
      case 'send':
        this.deliver((command as { raw: string | Uint8Array }).raw);
        return;
      case 'push':
        // Fire and forget: a push never holds the mailbox; WsGatePush logs its failures.
        void this.context.push.runCommand(this.engine, command as PushCommand, this.plan.name);
        return;
      case 'close': {
        const { code, reason } = command as { code: number; reason: string };
        this.closeWith(code, reason, 'server');
        return;
      }
      default:
        throw new GatewayError(
          'WSG_ERR_GATEWAY_MISPLACED_COMMAND',
          `${this.plan.name}.${call.handler.methodName}() returned ${commandKind(command)}(), which only @OnAccept may return`,
        );
    }
  }

  /** Sends what a handler produced; after a close it is dropped, as commands after close are. */
  private deliver(payload: string | Uint8Array): SendResult {
    const engine = this.engine;
    if (engine === null || this._state !== 'open' || engine.state !== 'open') return 'dropped';
    try {
      return engine.send(payload);
    } catch (error) {
      if (error instanceof SendQueueFullError) {
        this.closeWith(CloseCode.TryAgainLater, 'send queue full', 'overflow', error);
        return 'dropped';
      }
      if (error instanceof AlreadyClosedError) return 'dropped';
      throw error;
    }
  }

  private streamObservable(source: Observable<unknown>, call: Call): Promise<void> | undefined {
    const streams = (this.streams ??= new Set());
    // With interceptors even a plain value arrives as an Observable: hold the mailbox until
    // it first produces, so a reply keeps its place in line; the rest streams on its own.
    let settleFirst: (() => void) | null = null;
    const first = call.chain?.hasInterceptors === true ? new Promise<void>((resolve) => (settleFirst = resolve)) : undefined;
    const settle = (): void => {
      const resolve = settleFirst;
      settleFirst = null;
      resolve?.();
    };
    let subscription: Subscription | null = null;
    let done = false;
    const stream: Stream = {
      cancel: () => {
        done = true;
        subscription?.unsubscribe();
        settle();
      },
    };
    const end = (): void => {
      done = true;
      this.streams?.delete(stream);
      settle();
    };
    subscription = source.subscribe({
      next: (value) => {
        if (done) return;
        const pending = this.dispatch(value, call);
        if (pending !== undefined && settleFirst !== null) void pending.then(settle);
        else settle();
      },
      error: (error: unknown) => {
        end();
        void this.fail(error, call);
      },
      complete: end,
    });
    if (done) subscription.unsubscribe();
    else streams.add(stream);
    return first;
  }

  private streamIterable(source: AsyncIterable<unknown>, call: Call): void {
    const iterator = source[Symbol.asyncIterator]();
    let done = false;
    const stream: Stream = {
      cancel: () => {
        done = true;
        void Promise.resolve(iterator.return?.()).catch((error: unknown) => this.logUnexpected(error, call));
      },
    };
    (this.streams ??= new Set()).add(stream);
    const pump = async (): Promise<void> => {
      try {
        while (!done) {
          const step = await iterator.next();
          if (step.done === true || done) break;
          await this.dispatch(step.value, call);
          const engine = this.engine;
          if (engine !== null && engine.bufferedAmount > engine.options.sendLowWaterMark) await engine.drain();
        }
      } catch (error) {
        if (!done) await this.fail(error, call);
      } finally {
        this.streams?.delete(stream);
      }
    };
    void pump();
  }

  // ---- errors --------------------------------------------------------------------------

  private fail(error: unknown, call: Call): Promise<void> | undefined {
    const filter = call.chain?.catch ?? null;
    if (filter === null) {
      this.answerError(error, call);
      return undefined;
    }
    return filter(error, this.conn, call.data, call.pattern).then(
      (handled) => {
        if (!handled) this.answerError(error, call);
      },
      (filterError: unknown) => this.answerError(filterError, call),
    );
  }

  /** The default answer to an error no exception filter handled. */
  private answerError(error: unknown, call: Call): void {
    const open = this._state === 'open' && this.engine?.state === 'open';
    const payload = exceptionPayload(error);
    if (payload !== null) {
      if (open) this.deliverSafely(EXCEPTION_EVENT, payload, call);
      return;
    }
    this.logUnexpected(error, call);
    if (!open) return;
    if (this.plan.options.onError === 'close') {
      const wrapped = new GatewayError('WSG_ERR_GATEWAY_HANDLER', `${this.plan.name}.${call.handler.methodName}() failed`, CloseCode.InternalError, { cause: error });
      this.closeWith(CloseCode.InternalError, INTERNAL_ERROR_MESSAGE, 'error', wrapped);
    } else {
      this.deliverSafely(EXCEPTION_EVENT, { status: 'error', message: INTERNAL_ERROR_MESSAGE }, call);
    }
  }

  private deliverSafely(event: string, payload: unknown, call: Call): void {
    try {
      this.deliver(this.plan.options.codec.encode(event, payload));
    } catch (error) {
      this.logUnexpected(error, call);
    }
  }

  private logUnexpected(error: unknown, call: Call): void {
    const where = `${this.plan.name}.${call.handler.methodName}()`;
    const code = error instanceof WsgError ? error.code : 'WSG_ERR_GATEWAY_HANDLER';
    this.context.logger.error(`[${code}] ${where} failed on connection ${this.conn.id}`, error instanceof Error ? error.stack : String(error));
  }

  private onUndecodable(error: unknown): void {
    const code = error instanceof WsgError && error.closeCode !== undefined ? error.closeCode : CloseCode.InvalidPayload;
    if (this.plan.options.onUndecodable === 'close') {
      this.closeWith(code, 'undecodable message', 'protocol', error);
      return;
    }
    const message = error instanceof Error ? error.message : 'The message could not be decoded';
    this.deliverPolicyAnswer({ code: 'WSG_ERR_GATEWAY_UNDECODABLE', message });
  }

  private onUnknownEvent(event: string | undefined): void {
    if (this.plan.options.onUnknown === 'close') {
      this.closeWith(CloseCode.UnsupportedData, 'unknown event', 'protocol', new GatewayError('WSG_ERR_GATEWAY_UNKNOWN_EVENT', `No handler for event "${event}"`, CloseCode.UnsupportedData));
      return;
    }
    this.deliverPolicyAnswer({ code: 'WSG_ERR_GATEWAY_UNKNOWN_EVENT', message: `No handler for event "${event ?? ''}"`, event });
  }

  private deliverPolicyAnswer(payload: { code: string; message: string; event?: string | undefined }): void {
    try {
      this.deliver(this.plan.options.codec.encode(ERROR_EVENT, payload));
    } catch (error) {
      this.context.logger.error(`[${payload.code}] ${this.plan.name}: the codec could not encode the error answer`, String(error));
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
