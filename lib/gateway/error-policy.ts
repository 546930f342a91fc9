import type { LoggerService } from '@nestjs/common';
import { CloseCode } from '../frames/close-codes.js';
import { AlreadyClosedError, SendQueueFullError, WsgError } from '../frames/errors.js';
import type { SendResult, WebSocketConnection } from '../frames/websocket-connection.js';
import type { WsCloseCause } from './close-reason.js';
import { GatewayError } from './errors.js';
import { exceptionPayload, INTERNAL_ERROR_MESSAGE } from './exception-payload.js';
import type { GatewayPlan } from './gateway-plan.js';
import type { HandlerCall } from './result-dispatcher.js';

/**
 * What a client gets for a message no handler takes or that cannot be read: nothing
 * (`ignore`, the adapter's platform-ws default), an `error` event, or a close (1003 / 1007).
 */
export type BadMessagePolicy = 'ignore' | 'error' | 'close';

/** The `data` of the `error` event a bad message is answered with. */
export interface BadMessageAnswer {
  readonly code: 'WSG_ERR_GATEWAY_UNKNOWN_EVENT' | 'WSG_ERR_GATEWAY_UNDECODABLE';
  readonly message: string;
  readonly event?: string;
}

/** The event of bad-message answers. */
export const ERROR_EVENT = 'error';
/** The event of what handlers raise, as Nest's BaseWsExceptionFilter names it. */
export const EXCEPTION_EVENT = 'exception';

/**
 * One side of a connection the policy acts on: the gateway's runner or the adapter's
 * message dispatcher. Both implement it with prototype methods: nothing per connection.
 */
export interface PolicySubject {
  /** Starts the closing handshake for `cause`; nothing when the connection is not open. */
  close(code: number, reason: string, cause: WsCloseCause, error?: unknown): void;
  /** Sends `{ event: 'error', data: answer }` in this side's encoding. */
  sendErrorAnswer(answer: BadMessageAnswer): void;
}

/** A message whose event no handler takes. */
export function unknownEvent(subject: PolicySubject, policy: BadMessagePolicy, event: unknown): void {
  if (policy === 'ignore') return;
  const message = `No handler for event "${event === undefined ? '' : String(event)}"`;
  if (policy === 'error') {
    subject.sendErrorAnswer(typeof event === 'string' ? { code: 'WSG_ERR_GATEWAY_UNKNOWN_EVENT', message, event } : { code: 'WSG_ERR_GATEWAY_UNKNOWN_EVENT', message });
    return;
  }
  subject.close(CloseCode.UnsupportedData, 'unknown event', 'protocol', new GatewayError('WSG_ERR_GATEWAY_UNKNOWN_EVENT', message, CloseCode.UnsupportedData));
}

/**
 * A message the codec or parser could not read. A `WsgError` (the codecs' `GatewayError`)
 * carries its close code; anything else a custom codec or parser threw is wrapped, 1007.
 */
export function undecodableMessage(subject: PolicySubject, policy: BadMessagePolicy, cause: unknown): void {
  if (policy === 'ignore') return;
  const message = cause instanceof Error ? cause.message : 'The message could not be decoded';
  if (policy === 'error') {
    subject.sendErrorAnswer({ code: 'WSG_ERR_GATEWAY_UNDECODABLE', message });
    return;
  }
  const error = cause instanceof WsgError ? cause : new GatewayError('WSG_ERR_GATEWAY_UNDECODABLE', message, CloseCode.InvalidPayload, { cause });
  subject.close(error.closeCode ?? CloseCode.InvalidPayload, 'undecodable message', 'protocol', error);
}

/**
 * Sends what a handler produced. After a close it is dropped, as commands after close are;
 * a full send queue closes 1013 (cause `overflow`): a slow consumer is cut and told.
 */
export function sendAnswer(subject: PolicySubject, engine: WebSocketConnection, payload: string | Uint8Array): SendResult {
  try {
    return engine.send(payload);
  } catch (error) {
    if (error instanceof SendQueueFullError) {
      subject.close(CloseCode.TryAgainLater, 'send queue full', 'overflow', error);
      return 'dropped';
    }
    if (error instanceof AlreadyClosedError) return 'dropped';
    throw error;
  }
}

/** Logs an error no filter handled, under its own code when it has one. */
export function logFailure(logger: LoggerService, error: unknown, what: string): void {
  const code = error instanceof WsgError ? error.code : 'WSG_ERR_GATEWAY_HANDLER';
  logger.error(`[${code}] ${what}`, error instanceof Error ? error.stack : String(error));
}

/** A gateway connection, for errors its handlers raise (the adapter leaves those to Nest's filters). */
export interface HandlerErrorSubject extends PolicySubject {
  readonly plan: GatewayPlan;
  /** Open, and not closing. */
  readonly isOpen: boolean;
  /** Sends `data` under `event`; logs what the codec cannot encode. */
  sendEvent(event: string, data: unknown, call: HandlerCall): void;
  logUnexpected(error: unknown, call: HandlerCall): void;
}

/**
 * The answer to an error no exception filter handled: what a client may see (`WsException`,
 * `HttpException`) as an `exception` event; anything else is logged, then the gateway's
 * `onError` sends a generic `exception` or closes 1011 (cause `error`).
 */
export function answerHandlerError(subject: HandlerErrorSubject, error: unknown, call: HandlerCall): void {
  const open = subject.isOpen;
  const payload = exceptionPayload(error);
  if (payload !== null) {
    if (open) subject.sendEvent(EXCEPTION_EVENT, payload, call);
    return;
  }
  subject.logUnexpected(error, call);
  if (!open) return;
  const plan = subject.plan;
  if (plan.options.onError === 'close') {
    const wrapped = new GatewayError('WSG_ERR_GATEWAY_HANDLER', `${plan.name}.${call.handler.methodName}() failed`, CloseCode.InternalError, { cause: error });
    subject.close(CloseCode.InternalError, INTERNAL_ERROR_MESSAGE, 'error', wrapped);
  } else {
    subject.sendEvent(EXCEPTION_EVENT, { status: 'error', message: INTERNAL_ERROR_MESSAGE }, call);
  }
}
