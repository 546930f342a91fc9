import {
  constants as h2,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { Http2Error, fromNodeHttp2Error } from './errors.js';
import { PushedResponse } from './pushed-response.js';

/**
 * What `push()` did for one resource:
 * - `pushed`: a PUSH_PROMISE for it went out on the parent stream, and its response on the
 *   pushed stream (the client may still refuse it: see `PushedResponse.reset`);
 * - `hinted`: the client cannot take a push now — it disabled push (SETTINGS_ENABLE_PUSH = 0,
 *   as every browser does) or has as many pushed streams open as allowed — so a
 *   `103 Early Hints` with `Link: <path>; rel=preload` went out on the parent before its response;
 * - `refused`: neither was possible: the parent is itself pushed, has finished, or has already
 *   sent its response headers (too late for a hint); the session is closing; hints are off;
 *   or the loader had nothing for the path (the promise is then cancelled).
 */
export type PushOutcome = 'pushed' | 'hinted' | 'refused';

/** Why a push cannot be promised on a parent stream right now. */
export type PushRefusal = 'disabled' | 'nested' | 'parent-finished' | 'session-closing' | 'concurrency';

/** Request headers of a promised push: `:path` is required; `:method` defaults to GET, `:authority` and `:scheme` to the parent's. */
export type PushRequestHeaders = OutgoingHttpHeaders & { ':path': string };

/** A resource to push: the response to send on the pushed stream. */
export interface PushResource {
  /** Response headers; `:status` defaults to 200. */
  headers?: OutgoingHttpHeaders;
  body?: string | Uint8Array;
  trailers?: OutgoingHttpHeaders;
  /** Extra request headers for the PUSH_PROMISE (e.g. `accept-encoding`), besides `:path`. */
  requestHeaders?: OutgoingHttpHeaders;
}

/** Where pushes are promised: a request's stream, or its compat response (Express, Fastify `reply.raw`, Nest). */
export type PushParent = ServerHttp2Stream | Http2ServerResponse;

/** A path to push or hint; `as` is the preload destination in the hint's Link (`style`, `script`…). */
export type PushLink = string | { path: string; as?: string };

/** Produces the resource for a path at push time; null when there is none. */
export type PushLoader = (path: string) => PushResource | null | Promise<PushResource | null>;

export interface PushServiceOptions {
  /**
   * Pushed streams open at once per HTTP/2 session, counted from the PUSH_PROMISE until the
   * stream closes; 0 never pushes (hints only). The client's SETTINGS_MAX_CONCURRENT_STREAMS
   * lowers it further. @defaultValue 100 streams
   */
  maxConcurrentPushes?: number;
  /** When a push is not possible and the parent has not responded yet, send `103 Early Hints`. @defaultValue true */
  earlyHints?: boolean;
}

export const PushServiceDefaults = {
  maxConcurrentPushes: 100,
  earlyHints: true,
} as const;

/**
 * Pushed streams per session, across every PushService: the client's limit is per session.
 * Pushes made with Node's `pushStream()` directly are not counted.
 */
const openPushes = new WeakMap<Http2Session, number>();
/** Promised pushes still waiting for a response, per parent, cancelled when the parent closes. */
const unanswered = new WeakMap<ServerHttp2Stream, Set<PushedResponse>>();

/** RFC 8297; node:http2 has no constant for it in its types. */
const HTTP_STATUS_EARLY_HINTS = 103;

/** Pushed streams have even ids (RFC 9113 §5.1.1); a stream without an id yet is not pushed. */
function isPushedStream(stream: ServerHttp2Stream): boolean {
  return stream.id !== undefined && stream.id % 2 === 0;
}

function streamOf(parent: PushParent): ServerHttp2Stream {
  return 'respond' in parent ? parent : parent.stream;
}

function linkValue(link: PushLink): string {
  const path = typeof link === 'string' ? link : link.path;
  const as = typeof link === 'string' ? undefined : link.as;
  return `<${path}>; rel=preload${as !== undefined ? `; as=${as}` : ''}`;
}

function linkPath(link: PushLink): string {
  return typeof link === 'string' ? link : link.path;
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new Http2Error('WSG_ERR_H2_INVALID_ARGUMENT', `A pushed :path must be origin-form ('/…'), got ${JSON.stringify(path)}`);
  }
}

/**
 * HTTP/2 server push on Node's `pushStream()`, with the Rust h2 `SendPushedResponse` contract
 * (`PushedResponse`), the client's limits respected, and `103 Early Hints` when push is not
 * possible.
 */
export class PushService {
  readonly maxConcurrentPushes: number;
  readonly earlyHints: boolean;

  constructor(options: PushServiceOptions = {}) {
    const max = options.maxConcurrentPushes ?? PushServiceDefaults.maxConcurrentPushes;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new Http2Error('WSG_ERR_H2_INVALID_OPTION', `Option maxConcurrentPushes must be a non-negative integer, got ${String(max)}`);
    }
    const hints = options.earlyHints ?? PushServiceDefaults.earlyHints;
    if (typeof hints !== 'boolean') {
      throw new Http2Error('WSG_ERR_H2_INVALID_OPTION', `Option earlyHints must be a boolean, got ${String(hints)}`);
    }
    this.maxConcurrentPushes = max;
    this.earlyHints = hints;
  }

  /** Pushed streams this process has open on `session`. */
  static openPushes(session: Http2Session): number {
    return openPushes.get(session) ?? 0;
  }

  /** Why a push on `parent` is impossible now, or null when it can be promised. */
  refusal(of: PushParent): PushRefusal | null {
    const parent = streamOf(of);
    if (isPushedStream(parent)) return 'nested';
    if (parent.destroyed || parent.closed || parent.writableEnded) return 'parent-finished';
    const session = parent.session;
    if (session === undefined || session.closed || session.destroyed) return 'session-closing';
    if (!parent.pushAllowed) return 'disabled';
    const open = openPushes.get(session) ?? 0;
    const peerLimit = session.remoteSettings.maxConcurrentStreams ?? Number.MAX_SAFE_INTEGER;
    if (open >= Math.min(this.maxConcurrentPushes, peerLimit)) return 'concurrency';
    return null;
  }

  /**
   * Promises a push on `parent`: the PUSH_PROMISE is queued before this returns, so call it
   * before responding on the parent. Resolves with the `PushedResponse` to answer; rejects
   * with `WSG_ERR_H2_PUSH_DISABLED`, `WSG_ERR_H2_PUSH_NESTED` or `WSG_ERR_H2_PUSH_REFUSED`.
   * A push still unanswered when the parent closes is reset with CANCEL.
   */
  promise(of: PushParent, headers: PushRequestHeaders): Promise<PushedResponse> {
    const parent = streamOf(of);
    try {
      checkPath(headers?.[h2.HTTP2_HEADER_PATH]);
    } catch (error) {
      return Promise.reject(error);
    }
    const refusal = this.refusal(parent);
    if (refusal !== null) return Promise.reject(refusalError(refusal, parent));
    const session = parent.session!;
    openPushes.set(session, (openPushes.get(session) ?? 0) + 1);
    return new Promise<PushedResponse>((resolve, reject) => {
      const settle = (error: Error | null, stream?: ServerHttp2Stream, requestHeaders?: IncomingHttpHeaders): void => {
        if (error !== null || stream === undefined) {
          releasePush(session);
          reject(fromNodeHttp2Error(error, 'WSG_ERR_H2_PUSH_REFUSED', 'Node could not promise the push'));
          return;
        }
        const pushed = new PushedResponse(stream, requestHeaders ?? {}, session);
        trackUnanswered(parent, pushed);
        void pushed.closed.then(() => releasePush(session));
        resolve(pushed);
      };
      try {
        parent.pushStream(headers, (error, stream, requestHeaders) => settle(error, stream, requestHeaders as IncomingHttpHeaders));
      } catch (error) {
        // Synchronous refusals (invalid headers; push disabled by a SETTINGS that just arrived).
        releasePush(session);
        reject(fromNodeHttp2Error(error, 'WSG_ERR_H2_PUSH_REFUSED', 'Node could not promise the push'));
      }
    });
  }

  /**
   * Sends `103 Early Hints` with one `Link: <path>; rel=preload` per entry on `parent`.
   * False when the parent has already responded (or finished), or hints are off.
   */
  hint(of: PushParent, links: readonly PushLink[]): boolean {
    const parent = streamOf(of);
    if (!this.earlyHints || links.length === 0) return false;
    if (parent.destroyed || parent.closed || parent.headersSent || isPushedStream(parent)) return false;
    for (const link of links) checkPath(linkPath(link));
    try {
      parent.additionalHeaders({ [h2.HTTP2_HEADER_STATUS]: HTTP_STATUS_EARLY_HINTS, link: links.map(linkValue) });
    } catch (error) {
      throw fromNodeHttp2Error(error, 'WSG_ERR_H2_INVALID_HEADERS', 'Could not send 103 Early Hints');
    }
    return true;
  }

  /**
   * Pushes one resource, or hints it when push is not possible (see `PushOutcome`). The
   * choice, and the PUSH_PROMISE or the 103, happen before this returns; the promise settles
   * once the response is handed to the pushed stream. Rejects on errors that are not a
   * refusal (headers HTTP/2 cannot carry).
   */
  push(of: PushParent, link: PushLink, resource: PushResource): Promise<PushOutcome> {
    const parent = streamOf(of);
    const path = linkPath(link);
    try {
      checkPath(path);
    } catch (error) {
      return Promise.reject(error);
    }
    const refusal = this.refusal(parent);
    if (refusal !== null) return Promise.resolve(this.fallback(parent, [link], refusal));
    return this.promise(parent, { ...resource.requestHeaders, ':path': path }).then((pushed) => {
      try {
        respondWith(pushed, resource);
      } catch (error) {
        pushed.abandon();
        throw error;
      }
      return 'pushed' as const;
    });
  }

  /**
   * Pushes or hints several resources for one parent: pushes what the client takes, one
   * `103` for the rest. Every PUSH_PROMISE and the 103 are sent before this returns, so call
   * it before responding on the parent; `loader` runs afterwards, once per pushed path, and
   * the parent should not end before the returned promise settles (unanswered pushes are
   * cancelled then). Resolves with each path's outcome, in order.
   */
  pushResources(of: PushParent, links: readonly PushLink[], loader: PushLoader): Promise<Array<{ path: string; outcome: PushOutcome }>> {
    const parent = streamOf(of);
    try {
      for (const link of links) checkPath(linkPath(link));
    } catch (error) {
      return Promise.reject(error);
    }
    const outcomes: Array<PushOutcome | Promise<PushOutcome>> = [];
    const toHint: Array<{ index: number; link: PushLink }> = [];
    let hintable = true;
    for (const [index, link] of links.entries()) {
      const refusal = this.refusal(parent);
      if (refusal === null) {
        const path = linkPath(link);
        outcomes.push(this.promise(parent, { ':path': path }).then((pushed) => loadAndRespond(pushed, path, loader)));
      } else {
        if (refusal !== 'disabled' && refusal !== 'concurrency') hintable = false;
        outcomes.push('refused');
        toHint.push({ index, link });
      }
    }
    if (hintable && toHint.length > 0 && this.hint(parent, toHint.map((h) => h.link))) {
      for (const { index } of toHint) outcomes[index] = 'hinted';
    }
    return Promise.all(outcomes).then((settled) => settled.map((outcome, i) => ({ path: linkPath(links[i]!), outcome })));
  }

  private fallback(parent: ServerHttp2Stream, links: readonly PushLink[], refusal: PushRefusal): PushOutcome {
    if (refusal !== 'disabled' && refusal !== 'concurrency') return 'refused';
    return this.hint(parent, links) ? 'hinted' : 'refused';
  }
}

async function loadAndRespond(pushed: PushedResponse, path: string, loader: PushLoader): Promise<PushOutcome> {
  let resource: PushResource | null;
  try {
    resource = await loader(path);
  } catch (error) {
    pushed.sendReset(h2.NGHTTP2_INTERNAL_ERROR);
    throw error;
  }
  if (resource === null) {
    pushed.abandon();
    return 'refused';
  }
  // The client may have cancelled while the loader ran (a cached resource): nothing to send.
  if (pushed.resetReason() !== null) return 'pushed';
  try {
    respondWith(pushed, resource);
  } catch (error) {
    pushed.abandon();
    throw error;
  }
  return 'pushed';
}

function respondWith(pushed: PushedResponse, resource: PushResource): void {
  const hasBody = resource.body !== undefined && resource.body.length > 0;
  const hasTrailers = resource.trailers !== undefined && Object.keys(resource.trailers).length > 0;
  if (!hasTrailers) {
    pushed.sendWhole(resource.headers, resource.body);
    return;
  }
  const send = pushed.sendResponse(resource.headers, !hasBody && !hasTrailers);
  if (send.ended) return;
  if (hasBody) send.write(resource.body!);
  if (hasTrailers) send.sendTrailers(resource.trailers!);
  else send.end();
}

function refusalError(refusal: PushRefusal, parent: ServerHttp2Stream): Http2Error {
  switch (refusal) {
    case 'disabled':
      return new Http2Error('WSG_ERR_H2_PUSH_DISABLED', 'The client disabled push (SETTINGS_ENABLE_PUSH = 0)');
    case 'nested':
      return new Http2Error('WSG_ERR_H2_PUSH_NESTED', `Stream ${parent.id} is itself pushed; pushes cannot be nested (RFC 9113 §8.4)`);
    case 'parent-finished':
      return new Http2Error('WSG_ERR_H2_PUSH_REFUSED', `Stream ${parent.id} has finished; a PUSH_PROMISE must come before its END_STREAM`);
    case 'session-closing':
      return new Http2Error('WSG_ERR_H2_PUSH_REFUSED', 'The HTTP/2 session is closing');
    case 'concurrency':
      return new Http2Error('WSG_ERR_H2_PUSH_REFUSED', "The session has as many pushed streams open as the client (SETTINGS_MAX_CONCURRENT_STREAMS) or maxConcurrentPushes allows");
  }
}

function releasePush(session: Http2Session): void {
  const open = (openPushes.get(session) ?? 1) - 1;
  if (open <= 0) openPushes.delete(session);
  else openPushes.set(session, open);
}

function trackUnanswered(parent: ServerHttp2Stream, pushed: PushedResponse): void {
  if (parent.closed || parent.destroyed) {
    pushed.abandon();
    return;
  }
  let pending = unanswered.get(parent);
  if (pending === undefined) {
    const set = new Set<PushedResponse>();
    unanswered.set(parent, set);
    // One listener per parent, however many pushes it promises.
    parent.once('close', () => {
      unanswered.delete(parent);
      for (const p of set) p.abandon();
    });
    pending = set;
  }
  pending.add(pushed);
  void pushed.closed.then(() => pending.delete(pushed));
  // Answered pushes leave the set when they close; abandon() ignores them in the meantime.
}
