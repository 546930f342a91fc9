import { isObservable, type Observable, type Subscription } from 'rxjs';
import type { SendResult, WebSocketConnection } from '../frames/websocket-connection.js';
import type { WsCloseCause } from './close-reason.js';
import { commandKind, isCommand, type PushCommand, type WsCommand } from './commands.js';
import { GatewayError } from './errors.js';
import type { GatewayPlan, HandlerPlan } from './gateway-plan.js';
import { isAsyncIterable, isThenable } from './thenable.js';

/** One handler call in progress: what a reply, a stream or an error needs to know. */
export interface HandlerCall {
  readonly handler: HandlerPlan;
  readonly data: unknown;
  readonly pattern: string;
  /** The event a plain value is replied under; null where there is none (init, close). */
  readonly replyEvent: string | null | undefined;
}

/** A stream a handler returned, cancelled when the connection ends. */
export interface ResultStream {
  cancel(): void;
}

/** What results act on: the connection's runner (prototype methods, nothing per connection). */
export interface ResultTarget {
  readonly plan: GatewayPlan;
  /** The engine connection, for a stream's back-pressure; null before the 101. */
  readonly connection: WebSocketConnection | null;
  /** Sends an encoded message; dropped once the connection is closing. */
  deliver(payload: string | Uint8Array): SendResult;
  close(code: number, reason: string, cause: WsCloseCause, error?: unknown): void;
  runPush(command: PushCommand): void;
  /** Answers an error the handler raised (filters, then the gateway's policy); never rejects. */
  fail(error: unknown, call: HandlerCall): Promise<void> | undefined;
  logUnexpected(error: unknown, call: HandlerCall): void;
  addStream(stream: ResultStream): void;
  removeStream(stream: ResultStream): void;
}

/**
 * Nest's `WsResponse`: an object whose own keys are exactly `event` (a string) and `data`.
 * Returned from a handler it is sent as that event; `reply(value)` sends such an object as
 * data under the handled event instead.
 */
export function isWsResponse(value: object): value is { readonly event: string; readonly data: unknown } {
  return (
    typeof (value as { event?: unknown }).event === 'string' &&
    Object.hasOwn(value, 'event') &&
    Object.hasOwn(value, 'data') &&
    Reflect.ownKeys(value).length === 2
  );
}

/**
 * Interprets what a handler returned: nothing; a plain value (a reply under the handled
 * event); a `WsResponse` (that event); a command or an array of commands (run in order); a
 * Promise (awaited); an Observable or an AsyncIterable (each value dispatched in turn).
 * Returns a promise (that never rejects) while the connection's next item must wait.
 */
export function dispatchResult(target: ResultTarget, value: unknown, call: HandlerCall): Promise<void> | undefined {
  try {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' && typeof value !== 'function') {
      replyTo(target, value, call);
      return undefined;
    }
    if (isCommand(value)) {
      execute(target, value, call);
      return undefined;
    }
    if (Array.isArray(value)) {
      if (value.length > 0 && value.every(isCommand)) {
        for (const command of value) execute(target, command, call);
      } else {
        replyTo(target, value, call);
      }
      return undefined;
    }
    if (isThenable(value)) {
      return Promise.resolve(value).then(
        (resolved) => dispatchResult(target, resolved, call),
        (error: unknown) => target.fail(error, call),
      );
    }
    if (isObservable(value)) return streamObservable(target, value, call);
    if (isAsyncIterable(value)) {
      streamIterable(target, value, call);
      return undefined;
    }
    if (isWsResponse(value)) {
      target.deliver(target.plan.options.codec.encode(value.event, value.data));
      return undefined;
    }
    replyTo(target, value, call);
    return undefined;
  } catch (error) {
    return target.fail(error, call);
  }
}

function replyTo(target: ResultTarget, data: unknown, call: HandlerCall): void {
  if (call.replyEvent === null) {
    throw new GatewayError(
      'WSG_ERR_GATEWAY_RESULT',
      `${target.plan.name}.${call.handler.methodName}() returned a plain value, which has no event to reply with; return emit(event, data)`,
    );
  }
  target.deliver(target.plan.options.codec.encode(call.replyEvent, data));
}

function execute(target: ResultTarget, command: WsCommand, call: HandlerCall): void {
  switch (commandKind(command)) {
    case 'reply':
      replyTo(target, (command as { data: unknown }).data, call);
      return;
    case 'emit': {
      const { event, data } = command as { event: string; data: unknown };
      target.deliver(target.plan.options.codec.encode(event, data));
      return;
    }
    case 'send':
      target.deliver((command as { raw: string | Uint8Array }).raw);
      return;
    case 'push':
      target.runPush(command as PushCommand);
      return;
    case 'close': {
      const { code, reason } = command as { code: number; reason: string };
      target.close(code, reason, 'server');
      return;
    }
    default:
      throw new GatewayError(
        'WSG_ERR_GATEWAY_MISPLACED_COMMAND',
        `${target.plan.name}.${call.handler.methodName}() returned ${commandKind(command)}(), which only @OnAccept may return`,
      );
  }
}

function streamObservable(target: ResultTarget, source: Observable<unknown>, call: HandlerCall): Promise<void> | undefined {
  // With interceptors even a plain value arrives as an Observable: hold the mailbox until
  // it first produces, so a reply keeps its place in line; the rest streams on its own.
  let settleFirst: (() => void) | null = null;
  const first = call.handler.enhancers.interceptors > 0 ? new Promise<void>((resolve) => (settleFirst = resolve)) : undefined;
  const settle = (): void => {
    const resolve = settleFirst;
    settleFirst = null;
    resolve?.();
  };
  let subscription: Subscription | null = null;
  let done = false;
  const stream: ResultStream = {
    cancel: () => {
      done = true;
      subscription?.unsubscribe();
      settle();
    },
  };
  const end = (): void => {
    done = true;
    target.removeStream(stream);
    settle();
  };
  subscription = source.subscribe({
    next: (value) => {
      if (done) return;
      const pending = dispatchResult(target, value, call);
      if (pending !== undefined && settleFirst !== null) void pending.then(settle);
      else settle();
    },
    error: (error: unknown) => {
      end();
      void target.fail(error, call);
    },
    complete: end,
  });
  if (done) subscription.unsubscribe();
  else target.addStream(stream);
  return first;
}

function streamIterable(target: ResultTarget, source: AsyncIterable<unknown>, call: HandlerCall): void {
  const iterator = source[Symbol.asyncIterator]();
  let done = false;
  const stream: ResultStream = {
    cancel: () => {
      done = true;
      void Promise.resolve(iterator.return?.()).catch((error: unknown) => target.logUnexpected(error, call));
    },
  };
  target.addStream(stream);
  const pump = async (): Promise<void> => {
    try {
      while (!done) {
        const step = await iterator.next();
        if (step.done === true || done) break;
        await dispatchResult(target, step.value, call);
        const engine = target.connection;
        if (engine !== null && engine.bufferedAmount > engine.options.sendLowWaterMark) await engine.drain();
      }
    } catch (error) {
      if (!done) await target.fail(error, call);
    } finally {
      target.removeStream(stream);
    }
  };
  void pump();
}
