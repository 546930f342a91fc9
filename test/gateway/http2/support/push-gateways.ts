import { Controller, Get, Injectable, Req } from '@nestjs/common';
import {
  Conn,
  emit,
  OnInit,
  OnMessage,
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

  @OnMessage('bad-push')
  bad() {
    return [push('/bad.txt', { connection: 'keep-alive' }, 'x'), emit('after-bad-push', true)];
  }
}

@Controller('pages')
export class PagesController {
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
      return (error as { code?: string }).code;
    }
  }
}
