import { constants as h2, type Http2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Http2Error, fromNodeHttp2Error } from './errors.js';
import { PushSendStream, type PushSendStreamOwner } from './push-send-stream.js';
import { RstCode, isValidRstCode, rstCodeName } from './rst-codes.js';

/**
 * `promised` — PUSH_PROMISE sent, no response yet; `responding` — response headers sent;
 * `reset` — we reset it (`sendReset()` / `abandon()`); `closed` — the stream is gone
 * (finished, or reset by the client: see `reset`).
 */
export type PushedResponseState = 'promised' | 'responding' | 'reset' | 'closed';

/** How a pushed stream ended. */
export interface PushClosed {
  /** The RST_STREAM code it closed with; NO_ERROR (0) for a response sent in full. */
  rstCode: number;
  /** Who ended it abnormally: `'client'` (its RST_STREAM), `'server'` (ours), `'session'` (the connection went), or null. */
  resetBy: 'client' | 'server' | 'session' | null;
  /** Node's error for the stream, when it reported one. */
  error?: Http2Error;
}

/**
 * One promised push (Rust h2's `SendPushedResponse`): answer it once with
 * `sendResponse(headers, endOfStream)`, or give it up with `sendReset(code)`. `reset`
 * resolves with the client's RST_STREAM code when the client refuses the push (CANCEL for a
 * resource it has cached). A push abandoned without a response is reset with CANCEL.
 */
export class PushedResponse implements PushSendStreamOwner {
  /** The request headers the PUSH_PROMISE carried, as completed by Node (:method, :scheme, :authority). */
  readonly requestHeaders: IncomingHttpHeaders;
  /** Resolves with the client's RST_STREAM code. Stays pending when the client never resets it. */
  readonly reset: Promise<number>;
  /** Resolves once, when the pushed stream is gone. */
  readonly closed: Promise<PushClosed>;

  #state: PushedResponseState = 'promised';
  #error: Http2Error | undefined;
  #resolveReset!: (code: number) => void;
  #resolveClosed!: (info: PushClosed) => void;
  #closedInfo: PushClosed | null = null;

  /** @internal Made by `PushService.promise()`. */
  constructor(
    /** The pushed stream (even id), for callers that need Node's API. */
    readonly stream: ServerHttp2Stream,
    requestHeaders: IncomingHttpHeaders,
    private readonly session: Http2Session,
  ) {
    this.requestHeaders = requestHeaders;
    this.reset = new Promise((resolve) => (this.#resolveReset = resolve));
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    stream.on('error', (error: Error) => {
      // Our own reset with a code other than CANCEL comes back as an error; it is no news.
      if (this.#state !== 'reset') this.#error ??= fromNodeHttp2Error(error, 'WSG_ERR_H2_STREAM', 'The pushed stream failed');
    });
    stream.once('close', () => this.onClose());
  }

  get state(): PushedResponseState {
    return this.#state;
  }

  /** The promised `:path`. */
  get path(): string {
    return String(this.requestHeaders[h2.HTTP2_HEADER_PATH]);
  }

  /**
   * Sends the response headers (`:status` defaults to 200). With `endOfStream` the response
   * has no body; otherwise write it to the returned send stream and end it there.
   * Throws `WSG_ERR_H2_PUSH_RESET` after a reset (ours or the client's),
   * `WSG_ERR_H2_PUSH_RESPONDED` the second time, `WSG_ERR_H2_INVALID_HEADERS` for headers
   * HTTP/2 cannot carry (the push stays promised).
   */
  sendResponse(headers: OutgoingHttpHeaders = {}, endOfStream = false): PushSendStream {
    const reset = this.resetReason();
    if (reset !== null) throw new Http2Error('WSG_ERR_H2_PUSH_RESET', `sendResponse() on a pushed stream that ${reset}`);
    if (this.#state !== 'promised') {
      throw new Http2Error('WSG_ERR_H2_PUSH_RESPONDED', `The push of ${this.path} already has a response`);
    }
    const responseHeaders: OutgoingHttpHeaders = { [h2.HTTP2_HEADER_STATUS]: h2.HTTP_STATUS_OK, ...headers };
    try {
      this.stream.respond(responseHeaders, endOfStream ? { endStream: true } : { waitForTrailers: true });
    } catch (error) {
      throw fromNodeHttp2Error(error, 'WSG_ERR_H2_INVALID_HEADERS', `Could not send the response for ${this.path}`);
    }
    this.#state = 'responding';
    return new PushSendStream(this.stream, this, endOfStream);
  }

  /**
   * @internal A whole response at once, for `PushService` resources without trailers: no
   * send stream and no wait for trailers (which costs an extra empty DATA frame). Same
   * checks and errors as `sendResponse()`.
   */
  sendWhole(headers: OutgoingHttpHeaders = {}, body?: string | Uint8Array): void {
    const reset = this.resetReason();
    if (reset !== null) throw new Http2Error('WSG_ERR_H2_PUSH_RESET', `sendResponse() on a pushed stream that ${reset}`);
    if (this.#state !== 'promised') {
      throw new Http2Error('WSG_ERR_H2_PUSH_RESPONDED', `The push of ${this.path} already has a response`);
    }
    const hasBody = body !== undefined && body.length > 0;
    const responseHeaders: OutgoingHttpHeaders = { [h2.HTTP2_HEADER_STATUS]: h2.HTTP_STATUS_OK, ...headers };
    try {
      this.stream.respond(responseHeaders, hasBody ? undefined : { endStream: true });
    } catch (error) {
      throw fromNodeHttp2Error(error, 'WSG_ERR_H2_INVALID_HEADERS', `Could not send the response for ${this.path}`);
    }
    this.#state = 'responding';
    if (hasBody) this.stream.end(body);
  }

  /** Resets the pushed stream (RST_STREAM). Idempotent; a no-op once the stream is gone. @defaultValue code CANCEL */
  sendReset(code: number = RstCode.Cancel): void {
    if (!isValidRstCode(code)) {
      throw new Http2Error('WSG_ERR_H2_INVALID_ARGUMENT', `RST_STREAM codes are 32-bit unsigned integers, got ${String(code)}`);
    }
    if (this.#state === 'reset' || this.#state === 'closed' || this.stream.destroyed) return;
    this.#state = 'reset';
    this.stream.close(code);
  }

  /** Gives up a push that has no response yet (CANCEL); once responding it does nothing. */
  abandon(): void {
    if (this.#state === 'promised') this.sendReset(RstCode.Cancel);
  }

  /** (PushSendStreamOwner) Why nothing more can be sent because of a reset, or null. */
  resetReason(): string | null {
    if (this.#state === 'reset') return 'we reset';
    const info = this.#closedInfo;
    if (info !== null && info.resetBy !== null) return `was reset by the ${info.resetBy} (${rstCodeName(info.rstCode)})`;
    if (this.stream.destroyed && this.#state === 'promised') return 'is gone';
    return null;
  }

  private onClose(): void {
    const rstCode = this.stream.rstCode ?? RstCode.NoError;
    const resetByUs = this.#state === 'reset';
    // A stream closed before our response can only have been reset. Node destroys every
    // stream of a session that goes away; that is not the client's RST.
    const unanswered = this.#state === 'promised';
    const resetBy = resetByUs ? 'server' : this.session.destroyed ? 'session' : rstCode !== RstCode.NoError || unanswered ? 'client' : null;
    const info: PushClosed = { rstCode, resetBy };
    if (this.#error !== undefined) info.error = this.#error;
    this.#closedInfo = info;
    if (!resetByUs) this.#state = 'closed';
    if (resetBy === 'client') this.#resolveReset(rstCode);
    this.#resolveClosed(info);
  }
}
