import type { ConnectionOptions } from '../frames/connection-options.js';
import type { WsgError } from '../frames/errors.js';
import { WsClient } from '../http2/ws-client.js';
import type { CloseInfo, ReceivedMessage, SendResult, WebSocketConnection } from '../frames/websocket-connection.js';
import { TestClientError } from './errors.js';
import type { TestingErrorCode } from './errors.js';
import { previewMessage, readJsonEvent } from './json-event.js';
import { openTestClients } from './open-test-clients.js';
import { resolveWebSocketUrl } from './server-address.js';
import type { TestQuery, TestTarget } from './server-address.js';

/** Default wait of `expect()`, `next()` and `expectClose()`, in ms. */
export const DEFAULT_TEST_TIMEOUT = 2_000;

/** Options of `connectTestClient()`. Engine limits (`maxMessageSize`, …) pass through. */
export interface TestClientOptions extends ConnectionOptions {
  /** Extra upgrade request headers (`authorization`, `cookie`, `origin`…). */
  headers?: Record<string, string>;
  /** Subprotocols to offer, in order of preference. */
  protocols?: string[];
  /** Query parameters appended to the URL. */
  query?: TestQuery;
  /** ms that `expect()`, `next()` and `expectClose()` wait unless told otherwise. @defaultValue 2000 */
  timeout?: number;
  /** ms before the opening handshake is abandoned. @defaultValue 5000 */
  handshakeTimeout?: number;
  /** Offer permessage-deflate. @defaultValue false */
  perMessageDeflate?: boolean;
}

/** How long one wait may take. */
export interface WaitOptions {
  /** ms. @defaultValue the client's `timeout` (2000) */
  timeout?: number;
}

interface MessageWaiter {
  readonly what: string;
  readonly matches: (message: ReceivedMessage) => boolean;
  readonly resolve: (message: ReceivedMessage) => void;
  readonly reject: (error: TestClientError) => void;
  timer: NodeJS.Timeout | null;
}

interface CloseWaiter {
  readonly settle: (info: CloseInfo) => void;
  timer: NodeJS.Timeout | null;
}

function checkTimeout(timeout: unknown): number {
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new TestClientError('WSG_ERR_TESTING_INVALID_ARGUMENT', `A timeout must be a positive number of ms, got ${String(timeout)}`);
  }
  return timeout;
}

function describeClose(info: CloseInfo): string {
  const reason = info.reason === '' ? '' : ` ${JSON.stringify(info.reason)}`;
  const why = info.error === undefined ? '' : ` (${info.error.code}: ${info.error.message})`;
  return `code ${info.code}${reason}${why}`;
}

/**
 * A WebSocket client for tests, on the engine's own client role. Every message that arrives
 * is kept until a `next()` or `expect()` takes it, so a test may await a message that came
 * before it asked. Waits time out with a `TestClientError` that shows what arrived instead.
 */
export class TestClient {
  /** The engine connection underneath, for what this class does not cover (ping, drain…). */
  readonly connection: WebSocketConnection;
  /** The URL it connected to. */
  readonly url: string;
  readonly #timeout: number;
  readonly #unconsumed: ReceivedMessage[] = [];
  #messageWaiters: MessageWaiter[] = [];
  #closeWaiters: CloseWaiter[] = [];
  #closeInfo: CloseInfo | null = null;
  #lastError: WsgError | null = null;

  /** Use `connectTestClient()`; this wraps a connection that is already open. */
  constructor(connection: WebSocketConnection, url: string, timeout: number = DEFAULT_TEST_TIMEOUT) {
    this.connection = connection;
    this.url = url;
    this.#timeout = checkTimeout(timeout);
    connection.on('message', (data: string | Buffer, isBinary: boolean) => this.#onMessage({ data, isBinary }));
    // Recorded and shown when a wait fails; the close that follows rejects the waits.
    connection.on('error', (error: WsgError) => {
      this.#lastError = error;
    });
    // The promise, not the 'close' event: it also settles for a connection already closed.
    void connection.closed.then((info) => this.#onClose(info));
    openTestClients.add(this);
  }

  /** The subprotocol the server chose, or `''`. */
  get protocol(): string {
    return this.connection.protocol;
  }

  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  /** How the connection ended, once it has. */
  get closeInfo(): CloseInfo | null {
    return this.#closeInfo;
  }

  /** The last error the engine reported on this connection, if any. */
  get lastError(): WsgError | null {
    return this.#lastError;
  }

  /** Messages that arrived and were not yet taken by `next()` / `expect()`, oldest first. */
  get unconsumed(): readonly ReceivedMessage[] {
    return [...this.#unconsumed];
  }

  /** Resolves with how the connection ended (any code). */
  get closed(): Promise<CloseInfo> {
    return this.connection.closed;
  }

  /** Sends `{"event": event, "data": data}` as a text message (the json codec). */
  emit(event: string, data?: unknown): SendResult {
    if (typeof event !== 'string' || event.length === 0) {
      throw new TestClientError('WSG_ERR_TESTING_INVALID_ARGUMENT', 'emit() needs a non-empty event name');
    }
    return this.connection.sendText(JSON.stringify({ event, data }));
  }

  /** Sends a string as a text message or bytes as a binary message, unchanged. */
  sendRaw(data: string | Uint8Array): SendResult {
    return this.connection.send(data);
  }

  /** The next message not yet taken, in arrival order, whatever it is. */
  next(options: WaitOptions = {}): Promise<ReceivedMessage> {
    return this.#take('any message', () => true, options);
  }

  /**
   * The `data` of the first json-codec message (`{event, data}`) with this event that no
   * earlier call has taken, waiting for it if needed. Other messages stay where they are for
   * later calls. Rejects with `WSG_ERR_TESTING_TIMEOUT` or `WSG_ERR_TESTING_CLOSED`.
   */
  async expect<T = unknown>(event: string, options: WaitOptions = {}): Promise<T> {
    if (typeof event !== 'string' || event.length === 0) {
      throw new TestClientError('WSG_ERR_TESTING_INVALID_ARGUMENT', 'expect() needs a non-empty event name');
    }
    const message = await this.#take(`event ${JSON.stringify(event)}`, (m) => readJsonEvent(m)?.event === event, options);
    return readJsonEvent(message)!.data as T;
  }

  /**
   * Resolves with the `CloseInfo` once the connection is closed with `code` (any code when
   * omitted). Rejects with `WSG_ERR_TESTING_CLOSE_CODE` when it closes with another code, and
   * with `WSG_ERR_TESTING_TIMEOUT` when it is still open after the timeout (it stays open).
   */
  expectClose(code?: number, options: WaitOptions = {}): Promise<CloseInfo> {
    const timeout = checkTimeout(options.timeout ?? this.#timeout);
    const check = (info: CloseInfo): CloseInfo => {
      if (code !== undefined && info.code !== code) {
        throw new TestClientError(
          'WSG_ERR_TESTING_CLOSE_CODE',
          `Expected close code ${code}, the connection closed with ${describeClose(info)}`,
          info,
          this.#unconsumed,
        );
      }
      return info;
    };
    if (this.#closeInfo !== null) {
      try {
        return Promise.resolve(check(this.#closeInfo));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<CloseInfo>((resolve, reject) => {
      const waiter: CloseWaiter = {
        settle: (info) => {
          try {
            resolve(check(info));
          } catch (error) {
            reject(error);
          }
        },
        timer: null,
      };
      waiter.timer = setTimeout(() => {
        this.#closeWaiters = this.#closeWaiters.filter((w) => w !== waiter);
        reject(this.#failure('WSG_ERR_TESTING_TIMEOUT', `Connection still open after ${timeout} ms; expected a close${code === undefined ? '' : ` with code ${code}`}`));
      }, timeout);
      waiter.timer.unref();
      this.#closeWaiters.push(waiter);
    });
  }

  /**
   * Closes with `code` and `reason` and resolves once the connection is gone (the engine's
   * `closeTimeout` bounds the wait). Safe to call more than once, or after the server closed.
   */
  async close(code?: number, reason?: string): Promise<CloseInfo> {
    if (this.#closeInfo !== null) return this.#closeInfo;
    this.connection.close(code, reason);
    return this.connection.closed;
  }

  #take(what: string, matches: (m: ReceivedMessage) => boolean, options: WaitOptions): Promise<ReceivedMessage> {
    let timeout: number;
    try {
      timeout = checkTimeout(options.timeout ?? this.#timeout);
    } catch (error) {
      return Promise.reject(error);
    }
    const index = this.#unconsumed.findIndex(matches);
    if (index !== -1) return Promise.resolve(this.#unconsumed.splice(index, 1)[0]!);
    if (this.#closeInfo !== null) {
      return Promise.reject(this.#failure('WSG_ERR_TESTING_CLOSED', `Connection closed (${describeClose(this.#closeInfo)}) before ${what} arrived`));
    }
    return new Promise<ReceivedMessage>((resolve, reject) => {
      const waiter: MessageWaiter = { what, matches, resolve, reject, timer: null };
      waiter.timer = setTimeout(() => {
        this.#messageWaiters = this.#messageWaiters.filter((w) => w !== waiter);
        reject(this.#failure('WSG_ERR_TESTING_TIMEOUT', `Timed out after ${timeout} ms waiting for ${what}`));
      }, timeout);
      waiter.timer.unref();
      this.#messageWaiters.push(waiter);
    });
  }

  #onMessage(message: ReceivedMessage): void {
    const index = this.#messageWaiters.findIndex((w) => w.matches(message));
    if (index === -1) {
      this.#unconsumed.push(message);
      return;
    }
    const waiter = this.#messageWaiters.splice(index, 1)[0]!;
    if (waiter.timer !== null) clearTimeout(waiter.timer);
    waiter.resolve(message);
  }

  #onClose(info: CloseInfo): void {
    this.#closeInfo = info;
    openTestClients.delete(this);
    const messageWaiters = this.#messageWaiters;
    const closeWaiters = this.#closeWaiters;
    this.#messageWaiters = [];
    this.#closeWaiters = [];
    for (const waiter of messageWaiters) {
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      waiter.reject(this.#failure('WSG_ERR_TESTING_CLOSED', `Connection closed (${describeClose(info)}) before ${waiter.what} arrived`));
    }
    for (const waiter of closeWaiters) {
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      waiter.settle(info);
    }
  }

  #failure(code: TestingErrorCode, message: string): TestClientError {
    const unconsumed = this.#unconsumed;
    const shown = unconsumed.slice(0, 5).map(previewMessage).join(', ');
    const more = unconsumed.length > 5 ? `, and ${unconsumed.length - 5} more` : '';
    const arrived = unconsumed.length === 0 ? '; nothing else arrived' : `; unconsumed: ${shown}${more}`;
    return new TestClientError(code, message + arrived, this.#closeInfo, [...unconsumed], this.#lastError === null ? undefined : { cause: this.#lastError });
  }
}

/**
 * Opens a test client to `path` on a listening Nest app (`await app.listen(0)`), a listening
 * server, a port on 127.0.0.1 or a URL. The client is tracked until it closes, so
 * `closeAllTestClients()` in `afterEach` leaves no open handle.
 *
 * @example
 * const client = await connectTestClient(app, '/chat', { headers: { authorization: 'Bearer t' } });
 * client.emit('say', { text: 'hi' });
 * expect(await client.expect('said')).toEqual({ text: 'hi' });
 */
export async function connectTestClient(target: TestTarget, path?: string, options: TestClientOptions = {}): Promise<TestClient> {
  const { query, timeout = DEFAULT_TEST_TIMEOUT, handshakeTimeout = 5_000, ...clientOptions } = options;
  checkTimeout(timeout);
  const url = resolveWebSocketUrl(target, path, query);
  const connection = await WsClient.connect(url, { ...clientOptions, handshakeTimeout });
  return new TestClient(connection, url, timeout);
}
