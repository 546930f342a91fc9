import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse, ServerHttp2Stream } from 'node:http2';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { WsgError } from '../frames/errors.js';
import { WebSocketConnection } from '../frames/websocket-connection.js';
import type { PushedResponse } from '../http2/pushed-response.js';
import { connectStreamOf } from '../http2/rfc8441.js';
import { PushService, type PushLink, type PushLoader, type PushOutcome, type PushRequestHeaders, type PushResource } from '../http2/push-service.js';
import type { PushCommand } from './commands.js';
import { GatewayError } from './errors.js';
import type { ResolvedWsGateModuleOptions } from './module-options.js';
import { WSGATE_MODULE_OPTIONS } from './module-tokens.js';
import { fileLoader } from './push-file-loader.js';

/** One path's outcome from `resources()` / `@PushResources`. */
export interface PushResourceOutcome {
  readonly path: string;
  readonly outcome: PushOutcome;
}

/**
 * Server push bound to one controller request (what `@Push()` gives). On HTTP/2 it pushes
 * on the request's stream through `PushService`; on HTTP/1.1 `push()` and `resources()`
 * answer `'refused'` (or `'hinted'` when a 103 could go out), and `promise()` rejects with
 * `WSG_ERR_GATEWAY_PUSH_NOT_H2`. Call before the response starts: a PUSH_PROMISE or a 103
 * must precede the response headers.
 */
export class RequestPusher {
  constructor(
    private readonly service: PushService,
    private readonly loader: PushLoader | null,
    /** The request's HTTP/2 stream; null on HTTP/1.1. */
    readonly stream: ServerHttp2Stream | null,
    /** The response, for `103 Early Hints` on HTTP/1.1. */
    private readonly response: ServerResponse | Http2ServerResponse | null,
  ) {}

  /** True when the request came over HTTP/2 and the client accepts pushes now. */
  get canPush(): boolean {
    return this.stream !== null && this.service.refusal(this.stream) === null;
  }

  /** A PUSH_PROMISE for `headers[':path']`, answered through the `PushedResponse` (Rust h2's `SendPushedResponse`). */
  promise(headers: PushRequestHeaders): Promise<PushedResponse> {
    if (this.stream === null) return Promise.reject(notH2('promise()'));
    return this.service.promise(this.stream, headers);
  }

  /** Pushes one resource, or hints it (103) when the client takes no push; see `PushOutcome`. */
  push(link: PushLink, resource: PushResource): Promise<PushOutcome> {
    if (this.stream === null) return Promise.resolve(this.hint([link]) ? 'hinted' : 'refused');
    return this.service.push(this.stream, link, resource);
  }

  /** `103 Early Hints` with `Link: <path>; rel=preload` (HTTP/2 and HTTP/1.1); false once the response has started or hints are off. */
  hint(links: readonly PushLink[]): boolean {
    if (this.stream !== null) return this.service.hint(this.stream, links);
    const res = this.response as (ServerResponse & { writeEarlyHints?: (hints: Record<string, string | string[]>) => void }) | null;
    if (!this.service.earlyHints || links.length === 0 || res === null || res.headersSent || typeof res.writeEarlyHints !== 'function') return false;
    res.writeEarlyHints({ link: links.map((l) => (typeof l === 'string' ? `<${l}>; rel=preload` : `<${l.path}>; rel=preload${l.as !== undefined ? `; as=${l.as}` : ''}`)) });
    return true;
  }

  /**
   * Pushes what the client takes and hints the rest in one 103, loading each pushed path with
   * the module's `push.loader` (or `push.root`); without a loader everything is hinted.
   */
  resources(links: readonly PushLink[]): Promise<PushResourceOutcome[]> {
    const hintOnly = (): PushResourceOutcome[] => {
      const outcome: PushOutcome = this.hint(links) ? 'hinted' : 'refused';
      return links.map((l) => ({ path: typeof l === 'string' ? l : l.path, outcome }));
    };
    if (this.stream === null || this.loader === null) return Promise.resolve(hintOnly());
    return this.service.pushResources(this.stream, links, this.loader);
  }
}

function notH2(what: string): GatewayError {
  return new GatewayError('WSG_ERR_GATEWAY_PUSH_NOT_H2', `${what}: this request did not come over HTTP/2, where server push exists`);
}

/** The raw Node request/response under Express's or Fastify's (`.raw`). */
function rawOf<T>(value: unknown): T | null {
  if (value === null || typeof value !== 'object') return null;
  const raw = (value as { raw?: unknown }).raw;
  return (raw !== undefined && raw !== null && typeof raw === 'object' ? raw : value) as T;
}

/**
 * HTTP/2 server push for the application, provided by `WsGateModule`: pushers for controller
 * requests (`forRequest`, what `@Push()` and `@PushResources` use) and pushes on gateway
 * connections opened by RFC 8441 (`toConnection`, what the `push()` command uses).
 */
@Injectable()
export class WsGatePush {
  readonly logger = new Logger('WsGatePush');
  /** From `push.loader`, else a file loader on `push.root`, else null (hints only). */
  readonly loader: PushLoader | null;

  constructor(
    readonly service: PushService,
    @Inject(WSGATE_MODULE_OPTIONS) options: ResolvedWsGateModuleOptions,
  ) {
    this.loader = options.push.loader ?? (options.push.root !== undefined ? fileLoader(options.push.root) : null);
  }

  /** The pusher for one request: Express's or Fastify's request and response, or Node's. */
  forRequest(request: unknown, response: unknown): RequestPusher {
    const req = rawOf<{ stream?: ServerHttp2Stream; httpVersionMajor?: number }>(request);
    const res = rawOf<ServerResponse | Http2ServerResponse>(response);
    const stream = req !== null && req.httpVersionMajor === 2 && req.stream !== undefined ? req.stream : null;
    return new RequestPusher(this.service, this.loader, stream, res);
  }

  /**
   * Pushes `resource` as `path` on a connection's (`WsConnection`, `WsGateClient`) CONNECT stream (RFC 8441). A
   * connection opened by an HTTP/1.1 upgrade has no HTTP/2 stream: `'refused'`. No 103 is
   * possible there: the CONNECT's 200 has gone out.
   */
  toConnection(connection: PushTarget, path: string, resource: PushResource): Promise<PushOutcome> {
    const stream = connectStreamOf(engineOf(connection));
    if (stream === null || stream.destroyed) return Promise.resolve('refused');
    return this.service.push(stream, path, resource);
  }

  /** @internal What the gateway executor does with a `push()` command: never rejects; failures are logged. */
  runCommand(engine: WebSocketConnection | null, command: PushCommand, gateway: string): Promise<PushOutcome> {
    const resource: PushResource = {
      ...(command.headers !== undefined ? { headers: command.headers } : {}),
      ...(command.body !== undefined ? { body: command.body } : {}),
    };
    return this.toConnection(engine ?? { connection: null }, command.path, resource).then(
      (outcome) => {
        if (outcome !== 'pushed') this.logger.debug?.(`${gateway}: push(${command.path}) ${outcome}`);
        return outcome;
      },
      (error: unknown) => {
        const code = error instanceof WsgError ? error.code : 'WSG_ERR_GATEWAY_PUSH_FAILED';
        this.logger.error(`[WSG_ERR_GATEWAY_PUSH_FAILED] ${gateway}: push(${command.path}) failed (${code})`, error instanceof Error ? error.stack : String(error));
        return 'refused' as const;
      },
    );
  }
}

/** An engine connection, or what stands on one: a gateway's `WsConnection`, an adapter's `WsGateClient`. */
type PushTarget = WebSocketConnection | { readonly connection: WebSocketConnection | null };

function engineOf(target: PushTarget): WebSocketConnection | null {
  return target instanceof WebSocketConnection ? target : target.connection;
}
