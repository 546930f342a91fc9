import type { LoggerService, WsMessageHandler } from '@nestjs/common';
import { isObservable, type Observable, type Subscription } from 'rxjs';
import type { WsCloseCause } from '../close-reason.js';
import { ERROR_EVENT, logFailure, sendAnswer, undecodableMessage, unknownEvent, type BadMessageAnswer, type PolicySubject } from '../error-policy.js';
import { Mailbox } from '../mailbox.js';
import { isThenable } from '../thenable.js';
import type { ResolvedServerOptions } from './adapter-options.js';
import type { WsParsedMessage } from './message-parser.js';
import { WsGateClient, type ClientMessageSink } from './ws-gate-client.js';

/**
 * Routes one client's messages to the handlers Nest bound for it, as platform-ws does:
 * parse, look the event up, call the handler (Nest's guards, pipes, interceptors and
 * filters run inside it), and send each non-nil result — a value, a Promise's value, every
 * value of an Observable — as JSON. Observables end when the client goes.
 *
 * Unlike platform-ws, no rxjs per message, nothing thrown is lost (it is logged), and the
 * messages of a client in flight are bounded by `maxMailbox`: at that many, reading from
 * the client pauses. `ordered` runs them one at a time: the next starts once the previous
 * handler settled (a stream: once it sent its first value or ended).
 */
export class MessageDispatcher implements ClientMessageSink, PolicySubject {
  private readonly handlers = new Map<unknown, WsMessageHandler>();
  private readonly concurrency: number;
  private inFlight = 0;
  private queue: Mailbox | null = null;
  private streams: Set<Subscription> | null = null;
  private pumping = false;
  private stopped = false;

  private readonly onResult = (value: unknown): void => {
    if (value === undefined || value === null) {
      this.done();
      return;
    }
    if (isObservable(value)) {
      this.stream(value);
      return;
    }
    this.reply(value);
    this.done();
  };

  private readonly onFailure = (error: unknown): void => {
    this.logFailure(error);
    this.done();
  };

  constructor(
    private readonly client: WsGateClient,
    private readonly options: ResolvedServerOptions,
    private readonly logger: LoggerService,
    handlers: readonly WsMessageHandler[],
  ) {
    this.concurrency = options.ordered ? 1 : Infinity;
    this.add(handlers);
  }

  /**
   * Adds handlers: Nest binds each gateway class on a shared port and path separately, and
   * an event one of them handles is not unknown to the client. For an event two of them
   * handle, the first bound wins (platform-ws would call both).
   */
  add(handlers: readonly WsMessageHandler[]): void {
    for (const handler of handlers) if (!this.handlers.has(handler.message)) this.handlers.set(handler.message, handler);
  }

  receive(data: string | Buffer, isBinary: boolean): void {
    if (this.stopped) return;
    const queue = this.queue;
    if (this.inFlight < this.concurrency && (queue === null || queue.length === 0)) this.start(data);
    else (this.queue ??= new Mailbox()).push({ kind: 'message', data, isBinary });
    if (this.inFlight + (this.queue?.length ?? 0) >= this.options.maxMailbox) this.client.holdReading(true);
  }

  stop(): void {
    this.stopped = true;
    this.queue?.clear();
    const streams = this.streams;
    this.streams = null;
    if (streams !== null) for (const subscription of streams) subscription.unsubscribe();
  }

  // ---- one message ---------------------------------------------------------------------

  /** Handles one message; `done()` runs exactly once for it, now or when its handler settles. */
  private start(raw: string | Buffer): void {
    this.inFlight++;
    let message: unknown;
    try {
      message = this.options.messageParser(raw);
    } catch (error) {
      this.undecodable(error, true);
      this.done();
      return;
    }
    // A custom parser returns nothing to drop a message on purpose (Nest documents it).
    if (!message || typeof message !== 'object') {
      if (!message && this.options.customParser) this.done();
      else {
        this.undecodable(new Error('The message is not an object {"event", "data"}'), false);
        this.done();
      }
      return;
    }
    const { event, data } = message as WsParsedMessage;
    const handler = this.handlers.get(event);
    if (handler === undefined) {
      this.unknown(event);
      this.done();
      return;
    }
    let result: unknown;
    try {
      result = handler.callback(data, event);
    } catch (error) {
      this.onFailure(error);
      return;
    }
    if (isThenable(result)) result.then(this.onResult, this.onFailure);
    else this.onResult(result);
  }

  private done(): void {
    this.inFlight--;
    if (!this.pumping) this.pump();
  }

  /** Starts what waits, up to the concurrency; resumes reading once under the bound. */
  private pump(): void {
    if (this.stopped) return;
    this.pumping = true;
    try {
      const queue = this.queue;
      while (queue !== null && queue.length > 0 && this.inFlight < this.concurrency) {
        if (this.client.readyState !== WsGateClient.OPEN) {
          queue.clear();
          break;
        }
        const item = queue.shift()!;
        if (item.kind === 'message') this.start(item.data);
      }
    } finally {
      this.pumping = false;
    }
    if (this.inFlight + (this.queue?.length ?? 0) < this.options.maxMailbox) this.client.holdReading(false);
  }

  private stream(source: Observable<unknown>): void {
    let first = true;
    let ended = false;
    let subscription: Subscription | null = null;
    const settle = (): void => {
      if (!first) return;
      first = false;
      this.done();
    };
    const end = (): void => {
      ended = true;
      if (subscription !== null) this.streams?.delete(subscription);
      settle();
    };
    subscription = source.subscribe({
      next: (value) => {
        if (value !== undefined && value !== null) this.reply(value);
        settle();
      },
      error: (error: unknown) => {
        this.logFailure(error);
        end();
      },
      complete: end,
    });
    if (ended) return;
    if (this.stopped) subscription.unsubscribe();
    else (this.streams ??= new Set()).add(subscription);
  }

  // ---- answers -------------------------------------------------------------------------

  /** Sends a result as platform-ws does: `JSON.stringify` of it, only while the client is open. */
  private reply(value: unknown): void {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      this.logFailure(error);
      return;
    }
    if (text !== undefined) this.deliver(text);
  }

  private deliver(text: string): void {
    if (this.client.readyState !== WsGateClient.OPEN) return;
    sendAnswer(this, this.client.connection, text);
  }

  close(code: number, reason: string, cause: WsCloseCause, error?: unknown): void {
    this.client.close(code, reason, cause, error);
  }

  sendErrorAnswer(answer: BadMessageAnswer): void {
    this.deliver(JSON.stringify({ event: ERROR_EVENT, data: answer }));
  }

  private unknown(event: unknown): void {
    unknownEvent(this, this.options.onUnknownEvent, event);
  }

  /** `threw`: the parser threw (a custom parser's throw is an application bug, logged as platform-ws does). */
  private undecodable(cause: unknown, threw: boolean): void {
    if (threw && this.options.customParser) {
      this.logger.error(`[WSG_ERR_GATEWAY_UNDECODABLE] messageParser threw on client ${this.client.id}`, cause instanceof Error ? cause.stack : String(cause));
    }
    undecodableMessage(this, this.options.onUndecodable, cause);
  }

  /** What reaches here got past Nest's exception filters (a filter rethrew) or was thrown outside them. */
  private logFailure(error: unknown): void {
    logFailure(this.logger, error, `a message handler failed on client ${this.client.id}`);
  }
}
