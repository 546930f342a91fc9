import { Module } from '@nestjs/common';
import { WsGateModule, WsGateway, OnAccept, OnInit, OnMessage, OnInfo, OnClose,
         Query, Param, Payload, Reason, InjectConnection, accept, deny, close,
         WsHub, type WsConnection, type WsCloseReason } from 'wsgate';

@WsGateway({ path: '/rooms/:room', scope: 'connection', maxMessageSize: 64 * 1024, idleTimeout: 60_000 })
export class RoomGateway {
  constructor(private readonly hub: WsHub, @InjectConnection() private readonly conn: WsConnection<{ room: string; user: string }>) {}
  private get room() { return `room:${this.conn.data.room}`; }

  @OnAccept()                       // runs before the 101; guards and pipes apply
  accept(@Query('token') token: string, @Query('user') user: string, @Param('room') room: string) {
    return token === 'secret' && user ? accept({ room, user }) : deny(401, { body: 'bad token' });
  }
  @OnInit() init() {
    this.conn.join(this.room);
    this.hub.alias(this.conn, `user:${this.conn.data.user}`);            // anywhere in the app: hub.send('user:ada', 'kick')
  }
  @OnMessage('say') say(@Payload() msg: { text: string }) {
    this.hub.to(this.room).emit('said', msg);                           // encoded once for everyone
  }
  @OnMessage('ping') ping() { return 'pong'; }                          // → {"event":"ping","data":"pong"}
  @OnInfo('kick') kick() { return close(4001, 'kicked'); }
  @OnClose() closed(@Reason() reason: WsCloseReason) {                  // exactly once, on every path
    if (!this.hub.closed) this.hub.to(this.room).emit('left', { user: this.conn.data.user, code: reason.code });
  }
}

@Module({ imports: [WsGateModule.forRoot()], providers: [RoomGateway] })
export class AppModule {}
