import { Controller, Get, Injectable, Req } from '@nestjs/common';
import {
  Conn,
  emit,
  OnInit,
  push,
  Push,
  PushResources,
  WsGatePush,
  WsGateway,
  type RequestPusher,
  type WsConnection,
} from '../../../../lib/gateway/index.js';

export const PUBLIC_DIR = new URL('../fixtures/public/', import.meta.url).pathname;

/** Pushes on open through the injectable, then tells the client the outcome. */
@WsGateway('/pushy')
@Injectable()
export class PushyGateway {
  constructor(private readonly pusher: WsGatePush) {}

  @OnInit()
  async init(@Conn() conn: WsConnection) {
    const outcome = await this.pusher.toConnection(conn, '/ws-pushed.txt', { headers: { 'content-type': 'text/plain' }, body: `for ${conn.request.road}` });
    return emit('pushed', outcome);
  }
}

/** Pushes on open with the push() command. */
@WsGateway('/pushy-command')
export class PushCommandGateway {
  @OnInit()
  init() {
    return [push('/cmd.txt', { 'content-type': 'text/plain' }, 'by command'), emit('pushed', 'command')];
  }

}

/** Pushes on open with headers HTTP/2 forbids (RFC 9113 §8.2.2), then emits. */
@WsGateway('/pushy-bad')
export class BadPushGateway {
  @OnInit()
  init() {
    return [push('/bad.txt', { connection: 'keep-alive' }, 'x'), emit('after-bad-push', true)];
  }
}

/** What @Push() promise() rejected with, kept whole so a test can assert the error itself. */
@Injectable()
export class CaughtPushErrors {
  readonly errors: unknown[] = [];
}

@Controller('pages')
export class PagesController {
  constructor(private readonly caught: CaughtPushErrors) {}

  @Get('home')
  @PushResources(['/app.css', { path: '/app.js', as: 'script' }])
  home() {
    return 'home';
  }

  @Get('missing')
  @PushResources(['/nope.css'])
  missing() {
    return 'missing';
  }

  @Get('manual')
  async manual(@Push() pusher: RequestPusher, @Req() req: { raw?: { httpVersion?: string }; httpVersion?: string }) {
    const outcome = await pusher.push('/manual.txt', { headers: { 'content-type': 'text/plain' }, body: 'manual' });
    return { outcome, canPush: pusher.canPush, http: req.raw?.httpVersion ?? req.httpVersion };
  }

  @Get('promise')
  async promised(@Push() pusher: RequestPusher) {
    try {
      const pushed = await pusher.promise({ ':path': '/promised.txt' });
      pushed.sendResponse({ 'content-type': 'text/plain' }).end('promised');
      return 'pushed';
    } catch (error) {
      this.caught.errors.push(error);
      return (error as { code?: string }).code;
    }
  }

  /** A path only a custom push.loader knows how to fail on. */
  @Get('boom')
  @PushResources(['/boom.css'])
  boom() {
    return 'boom';
  }
}
