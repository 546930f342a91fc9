import { isValidWireCloseCode, MAX_CLOSE_REASON_BYTES } from '../frames/close-codes.js';
import { DENY_STATUS, isDenyStatus } from '../frames/handshake-decision.js';
import { GatewayError } from './errors.js';

/** Marks objects made by the command helpers, so a plain reply value is never taken for one. */
const COMMAND = Symbol('wsgate:command');

export interface AcceptCommand<S = unknown> {
  readonly [COMMAND]: 'accept';
  readonly state: S | undefined;
  readonly protocol: string | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
}
export interface DenyCommand {
  readonly [COMMAND]: 'deny';
  readonly status: number;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly body: string | undefined;
}
export interface ReplyCommand {
  readonly [COMMAND]: 'reply';
  readonly data: unknown;
}
export interface EmitCommand {
  readonly [COMMAND]: 'emit';
  readonly event: string;
  readonly data: unknown;
}
export interface SendCommand {
  readonly [COMMAND]: 'send';
  readonly raw: string | Uint8Array;
}
export interface PushCommand {
  readonly [COMMAND]: 'push';
  readonly path: string;
  /** Response headers of the pushed resource (`:status` defaults to 200). */
  readonly headers: Readonly<Record<string, string | number>> | undefined;
  readonly body: string | Uint8Array | undefined;
}
export interface CloseCommand {
  readonly [COMMAND]: 'close';
  readonly code: number;
  readonly reason: string;
}

/** What `@OnAccept` may return (besides `true`, `false` and nothing). */
export type WsAcceptCommand = AcceptCommand | DenyCommand;
/** What message, info, init and close handlers may return (besides plain reply values). */
export type WsMessageCommand = ReplyCommand | EmitCommand | SendCommand | CloseCommand | PushCommand;
export type WsCommand = WsAcceptCommand | WsMessageCommand;
export type WsCommandKind = WsCommand[typeof COMMAND];

export function isCommand(value: unknown): value is WsCommand {
  return typeof value === 'object' && value !== null && (value as { [COMMAND]?: unknown })[COMMAND] !== undefined;
}

export function commandKind(command: WsCommand): WsCommandKind {
  return command[COMMAND];
}

function invalid(message: string): GatewayError {
  return new GatewayError('WSG_ERR_GATEWAY_INVALID_COMMAND', message);
}

function checkHeaders(headers: unknown): Readonly<Record<string, string>> | undefined {
  if (headers === undefined) return undefined;
  if (headers === null || typeof headers !== 'object') throw invalid('headers must be an object of strings');
  for (const [name, value] of Object.entries(headers)) {
    // Header injection: a CR or LF would let a value start a header or a body of its own.
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || typeof value !== 'string' || /[\r\n]/.test(value)) {
      throw invalid(`header "${name}" is not a valid header name with a single-line string value`);
    }
  }
  return Object.freeze({ ...(headers as Record<string, string>) });
}

/**
 * `@OnAccept` result: complete the handshake. `state` becomes the connection's `@State()`;
 * `protocol` must be one the client offered; `headers` go on the 101 response.
 */
export function accept<S>(state?: S, options: { protocol?: string; headers?: Record<string, string> } = {}): AcceptCommand<S> {
  if (options.protocol !== undefined && (typeof options.protocol !== 'string' || options.protocol.length === 0)) {
    throw invalid('accept(): protocol must be a non-empty string');
  }
  return Object.freeze({ [COMMAND]: 'accept' as const, state, protocol: options.protocol, headers: checkHeaders(options.headers) });
}

/** `@OnAccept` result: answer the upgrade request with this HTTP status (400–599) instead of 101. */
export function deny(status: number, options: { headers?: Record<string, string>; body?: string } = {}): DenyCommand {
  if (!isDenyStatus(status)) {
    throw invalid(`deny(): status must be an integer from ${DENY_STATUS.min} to ${DENY_STATUS.max}, got ${String(status)}`);
  }
  if (options.body !== undefined && typeof options.body !== 'string') throw invalid('deny(): body must be a string');
  return Object.freeze({ [COMMAND]: 'deny' as const, status, headers: checkHeaders(options.headers), body: options.body });
}

/**
 * Sends `data` under the event being handled (json codec: `{ event, data }`). A plain value
 * returned from a handler does the same, except an object whose own keys are exactly
 * `event` (a string) and `data` — Nest's `WsResponse` — which is sent as that event:
 * `reply()` is for the rare payload of that shape that must stay data.
 */
export function reply(data: unknown): ReplyCommand {
  return Object.freeze({ [COMMAND]: 'reply' as const, data });
}

/** Sends `data` under another event. */
export function emit(event: string, data?: unknown): EmitCommand {
  if (typeof event !== 'string' || event.length === 0) throw invalid('emit(): event must be a non-empty string');
  return Object.freeze({ [COMMAND]: 'emit' as const, event, data });
}

/** Sends a message as it is, past the codec: a string as text, bytes as binary. */
export function send(raw: string | Uint8Array): SendCommand {
  if (typeof raw !== 'string' && !(raw instanceof Uint8Array)) throw invalid('send(): raw must be a string or a Uint8Array');
  return Object.freeze({ [COMMAND]: 'send' as const, raw });
}

/** Starts the closing handshake; commands after it are dropped. */
export function close(code: number, reason = ''): CloseCommand {
  if (typeof code !== 'number' || !isValidWireCloseCode(code)) throw invalid(`close(): code ${String(code)} may not be sent (RFC 6455 §7.4)`);
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
    throw invalid(`close(): reason must be a string of at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes`);
  }
  return Object.freeze({ [COMMAND]: 'close' as const, code, reason });
}

/**
 * HTTP/2 server push (RFC 9113 §8.4) from a gateway: on a connection opened by RFC 8441
 * extended CONNECT, a PUSH_PROMISE for `path` on the WebSocket's CONNECT stream, answered with
 * `headers` and `body`, for clients that accept pushes (browsers do not). Elsewhere — an
 * HTTP/1.1 upgrade, a client that disabled push, too many pushes open — nothing is sent and
 * the outcome is `'refused'` (logged at debug). Pushes do not wait for each other or for
 * later commands. For the outcome, use `WsGatePush.toConnection()`.
 */
export function push(path: string, headers?: Record<string, string | number>, body?: string | Uint8Array): PushCommand {
  if (typeof path !== 'string' || !path.startsWith('/')) throw invalid(`push(): path must be origin-form ('/…'), got ${JSON.stringify(path)}`);
  if (headers !== undefined && (headers === null || typeof headers !== 'object')) throw invalid('push(): headers must be an object');
  if (headers !== undefined) {
    for (const [name, value] of Object.entries(headers)) {
      if (!/^:?[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name) || (typeof value !== 'string' && typeof value !== 'number') || /[\x00-\x08\x0a-\x1f\x7f]/.test(String(value))) {
        // node:http2 passes control characters in values to the wire, where the client resets the stream.
        throw invalid(`push(): header "${name}" is not a lower-case HTTP/2 header name with a value free of control characters`);
      }
    }
  }
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) throw invalid('push(): body must be a string or a Uint8Array');
  return Object.freeze({ [COMMAND]: 'push' as const, path, headers: headers === undefined ? undefined : Object.freeze({ ...headers }), body });
}
