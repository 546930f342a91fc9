// Gateways written for @nestjs/platform-ws, as an application migrating to wsgate has them:
// nothing here imports wsgate. The parity table runs them under both adapters.
import type { IncomingMessage } from 'node:http';
import {
  Catch,
  Injectable,
  Scope,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  WsException,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { IsInt, IsString, Min } from 'class-validator';
import { Observable, from, map } from 'rxjs';
import WebSocket from 'ws';
import { Journal } from './journal.js';

/** The parts of a ws socket / server that gateway code uses. */
interface SocketLike {
  send(data: unknown): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  readonly CONNECTING: number;
  readonly OPEN: number;
  readonly CLOSING: number;
  readonly CLOSED: number;
}
interface ServerLike {
  readonly clients: Set<SocketLike>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  close: unknown;
}

@WebSocketGateway({ path: '/chat' })
export class ChatGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer() server!: ServerLike;

  constructor(private readonly journal: Journal) {}

  afterInit(server: ServerLike) {
    this.journal.record('init', {
      clientsIsSet: server.clients instanceof Set,
      on: typeof server.on,
      close: typeof server.close,
      sameAsProperty: server === this.server,
    });
    server.on('headers', (headers: string[]) => headers.push('X-Gateway: chat'));
  }

  handleConnection(client: SocketLike, req: IncomingMessage) {
    this.journal.record('connect', {
      url: req.url,
      open: client.readyState === WebSocket.OPEN,
      constants: [client.CONNECTING, client.OPEN, client.CLOSING, client.CLOSED],
      send: typeof client.send,
      bufferedAmount: typeof client.bufferedAmount,
      protocol: client.protocol,
    });
    client.on('message', (data: unknown, isBinary: boolean) => {
      const text = String(data);
      if (text.includes('probe')) this.journal.record('raw', { isBuffer: Buffer.isBuffer(data), text, isBinary });
    });
    client.on('close', (code: number, reason: unknown) => this.journal.record('close-event', { code, reason: Buffer.isBuffer(reason) ? reason.toString() : 'not a Buffer' }));
  }

  handleDisconnect(_client: SocketLike, reason?: unknown) {
    this.journal.record('disconnect', reason);
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('plain')
  plain() {
    return 'pong';
  }

  /** A WsResponse under another event than the one handled. */
  @SubscribeMessage('ask')
  answer() {
    return { event: 'answer', data: 42 };
  }

  @SubscribeMessage('async')
  async later(@MessageBody() data: unknown) {
    await Promise.resolve();
    return { event: 'async', data };
  }

  @SubscribeMessage('stream')
  stream(@MessageBody() n: number): Observable<unknown> {
    return from(Array.from({ length: n }, (_, i) => i)).pipe(map((i) => ({ event: 'stream', data: i })));
  }

  @SubscribeMessage('nothing')
  nothing() {
    return undefined;
  }

  @SubscribeMessage('null')
  nullResult() {
    return null;
  }

  /** Emits until unsubscribed; 'forever:teardown' records that the teardown ran. */
  @SubscribeMessage('forever')
  forever(): Observable<unknown> {
    return new Observable((subscriber) => {
      let n = 0;
      const timer = setInterval(() => subscriber.next({ event: 'forever', data: n++ }), 5);
      return () => {
        clearInterval(timer);
        this.journal.record('forever:teardown', true);
      };
    });
  }

  @SubscribeMessage('manual')
  manual(@ConnectedSocket() client: SocketLike, @MessageBody('text') text: string) {
    client.send(JSON.stringify({ event: 'manual', data: text }));
  }

  @SubscribeMessage('binary')
  binary(@ConnectedSocket() client: SocketLike) {
    client.send(Buffer.from([1, 2, 3]));
  }

  @SubscribeMessage('shout')
  shout(@MessageBody() data: unknown) {
    for (const client of this.server.clients) if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify({ event: 'shout', data }));
  }

  @SubscribeMessage('kick')
  kick(@ConnectedSocket() client: SocketLike) {
    client.close(4000, 'bye');
  }

  @SubscribeMessage('drop')
  drop(@ConnectedSocket() client: SocketLike) {
    client.terminate();
  }

  @SubscribeMessage('ping-me')
  pingMe(@ConnectedSocket() client: SocketLike) {
    client.ping();
  }

  @SubscribeMessage('fail')
  fail() {
    throw new WsException('nope');
  }

  @SubscribeMessage('crash')
  crash() {
    throw new Error('boom');
  }

  @SubscribeMessage('size')
  size(@MessageBody() data: string) {
    return { event: 'size', data: data.length };
  }
}

@WebSocketGateway({ path: '/other' })
export class OtherGateway {
  @SubscribeMessage('who')
  who() {
    return { event: 'who', data: 'other' };
  }
}

export class SayDto {
  @IsString()
  text!: string;

  @IsInt()
  @Min(1)
  times!: number;
}

@Injectable()
export class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getData<{ token?: string } | undefined>()?.token === 'ok';
  }
}

@Injectable()
export class WrapInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const pattern = context.switchToWs().getPattern();
    return next.handle().pipe(map((value) => ({ event: 'wrapped', data: { value, pattern } })));
  }
}

@Catch(WsException)
export class ToClientFilter implements ExceptionFilter {
  catch(exception: WsException, host: ArgumentsHost) {
    const ws = host.switchToWs();
    ws.getClient<SocketLike>().send(JSON.stringify({ event: 'filtered', data: { error: exception.getError(), pattern: ws.getPattern() } }));
  }
}

@WebSocketGateway({ path: '/enhanced' })
export class EnhancedGateway {
  @UseGuards(TokenGuard)
  @SubscribeMessage('secret')
  secret() {
    return { event: 'secret', data: 'granted' };
  }

  @UsePipes(new ValidationPipe({ exceptionFactory: (errors) => new WsException({ status: 'invalid', fields: errors.map((e) => e.property) }) }))
  @SubscribeMessage('say')
  say(@MessageBody() dto: SayDto) {
    return { event: 'said', data: dto.text.repeat(dto.times) };
  }

  @UsePipes(new ValidationPipe())
  @SubscribeMessage('strict')
  strict(@MessageBody() dto: SayDto) {
    return { event: 'strict', data: dto };
  }

  @UseInterceptors(WrapInterceptor)
  @SubscribeMessage('wrapped')
  wrapped(@MessageBody() data: unknown) {
    return data;
  }

  @UseFilters(ToClientFilter)
  @SubscribeMessage('filtered')
  filtered() {
    throw new WsException('custom');
  }
}

@Injectable({ scope: Scope.REQUEST })
export class PerClientCounter {
  count = 0;
}

/** Depends on a request-scoped provider: Nest gives each client its own instance. */
@WebSocketGateway({ path: '/scoped' })
export class ScopedGateway implements OnGatewayConnection {
  constructor(
    private readonly counter: PerClientCounter,
    private readonly journal: Journal,
  ) {}

  handleConnection() {
    this.journal.record('scoped-connect', this.counter.count);
  }

  @SubscribeMessage('count')
  count() {
    return { event: 'count', data: ++this.counter.count };
  }
}

@WebSocketGateway({ path: '/small', maxPayload: 1024 })
export class SmallGateway {
  @SubscribeMessage('size')
  size(@MessageBody() data: string) {
    return { event: 'size', data: data.length };
  }
}

@WebSocketGateway({ path: '/zip', perMessageDeflate: true })
export class ZipGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { event: 'echo', data };
  }
}

@WebSocketGateway({
  path: '/verified',
  verifyClient: (info: { req: IncomingMessage }) => info.req.headers['x-token'] === 'ok',
})
export class VerifiedGateway {
  @SubscribeMessage('who')
  who() {
    return { event: 'who', data: 'verified' };
  }
}

@WebSocketGateway({
  path: '/verified-async',
  verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
    setImmediate(() => done(info.req.headers['x-token'] === 'ok', 403, 'Go away'));
  },
})
export class VerifiedAsyncGateway {
  @SubscribeMessage('who')
  who() {
    return { event: 'who', data: 'verified-async' };
  }
}

@WebSocketGateway({ path: '/proto', handleProtocols: (offered: Set<string>) => (offered.has('chat.v2') ? 'chat.v2' : false) })
export class ProtoGateway {
  @SubscribeMessage('who')
  who() {
    return { event: 'who', data: 'proto' };
  }
}

/** Gateways on ports of their own: two paths on one port, and one without a path (any path). */
export function ownPortGateways(port: number, loosePort: number): Array<new (...args: never[]) => unknown> {
  @WebSocketGateway(port, { path: '/a' })
  class OwnA {
    @SubscribeMessage('who')
    who() {
      return { event: 'who', data: 'own-a' };
    }
  }

  @WebSocketGateway(port, { path: '/b' })
  class OwnB {
    @SubscribeMessage('who')
    who() {
      return { event: 'who', data: 'own-b' };
    }
  }

  @WebSocketGateway(loosePort)
  class Loose {
    @SubscribeMessage('who')
    who() {
      return { event: 'who', data: 'loose' };
    }
  }

  return [OwnA, OwnB, Loose];
}

export const APP_GATEWAYS = [
  Journal,
  PerClientCounter,
  ChatGateway,
  OtherGateway,
  EnhancedGateway,
  ScopedGateway,
  SmallGateway,
  ZipGateway,
  VerifiedGateway,
  VerifiedAsyncGateway,
  ProtoGateway,
];
