import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Http2Error, fromNodeHttp2Error } from './errors.js';
import { RstCode } from './rst-codes.js';

/** What a send stream needs from the pushed response that made it. */
export interface PushSendStreamOwner {
  /** Why writing is no longer possible because of a reset, or null. */
  resetReason(): string | null;
  sendReset(code?: number): void;
}

const FORBIDDEN_VALUE = /[\r\n\0]/;

/**
 * Trailers are sent from Node's 'wantTrailers' event, where a throw would be uncatchable:
 * what HTTP/2 cannot carry (RFC 9113 §8.1: no pseudo-headers in trailers) fails here instead.
 */
function checkTrailers(trailers: OutgoingHttpHeaders): void {
  if (trailers === null || typeof trailers !== 'object') {
    throw new Http2Error('WSG_ERR_H2_INVALID_HEADERS', 'Trailers must be an object of header fields');
  }
  for (const [name, value] of Object.entries(trailers)) {
    if (name.length === 0 || name.startsWith(':')) {
      throw new Http2Error('WSG_ERR_H2_INVALID_HEADERS', `Trailers cannot carry ${JSON.stringify(name)} (RFC 9113 §8.1)`);
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === undefined || FORBIDDEN_VALUE.test(String(v))) {
        throw new Http2Error('WSG_ERR_H2_INVALID_HEADERS', `Trailer ${name} has an invalid value`);
      }
    }
  }
}

/**
 * The body side of a pushed response (Rust h2's `SendStream`): `write()` data, then end it
 * with `sendTrailers()` or `end()`. Back-pressure is HTTP/2 flow control: `write()` returns
 * false when the stream's buffer is full and `drain()` waits for it to empty.
 */
export class PushSendStream {
  #ended: boolean;
  #trailers: OutgoingHttpHeaders | null = null;

  /** @internal Made by `PushedResponse.sendResponse()`. */
  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly owner: PushSendStreamOwner,
    endOfStream: boolean,
  ) {
    this.#ended = endOfStream;
    if (!endOfStream) stream.once('wantTrailers', () => this.onWantTrailers());
  }

  /** No more data or trailers may be sent (ended, trailers sent, or reset). */
  get ended(): boolean {
    return this.#ended || this.owner.resetReason() !== null;
  }

  /** Queues body bytes; false means wait for `drain()` before writing more. */
  write(chunk: string | Uint8Array): boolean {
    this.checkWritable('write()');
    return this.stream.write(chunk);
  }

  /** Resolves when the buffered body is flushed to the session (or the stream is gone). */
  drain(): Promise<void> {
    if (this.stream.writableLength === 0 || this.stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }

  /** Ends the body (optionally with a last chunk) without trailers. */
  end(chunk?: string | Uint8Array): void {
    this.checkWritable('end()');
    this.#ended = true;
    if (chunk === undefined) this.stream.end();
    else this.stream.end(chunk);
  }

  /** Ends the body with a trailing HEADERS frame (END_STREAM) carrying `trailers`. */
  sendTrailers(trailers: OutgoingHttpHeaders): void {
    this.checkWritable('sendTrailers()');
    checkTrailers(trailers);
    this.#trailers = trailers;
    this.#ended = true;
    this.stream.end();
  }

  /** Abandons the response with RST_STREAM. @defaultValue code CANCEL */
  sendReset(code: number = RstCode.Cancel): void {
    this.owner.sendReset(code);
  }

  private checkWritable(operation: string): void {
    const reset = this.owner.resetReason();
    if (reset !== null) throw new Http2Error('WSG_ERR_H2_PUSH_RESET', `${operation} on a pushed stream that ${reset}`);
    if (this.#ended) throw new Http2Error('WSG_ERR_H2_STREAM_ENDED', `${operation} after the pushed response ended`);
  }

  private onWantTrailers(): void {
    if (this.stream.destroyed) return;
    try {
      // Empty trailers: Node sends an empty DATA frame with END_STREAM instead of HEADERS.
      this.stream.sendTrailers(this.#trailers ?? {});
    } catch (error) {
      // checkTrailers() let through something nghttp2 refuses: the response cannot end well.
      this.stream.destroy(fromNodeHttp2Error(error, 'WSG_ERR_H2_INVALID_HEADERS', 'Could not send the trailers'));
    }
  }
}
