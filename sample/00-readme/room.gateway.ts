import { Module } from '@nestjs/common';
import { WsGateModule, WsGateway, OnAccept, OnInit, OnMessage, OnInfo, OnClose,
         Query, Param, Payload, Reason, InjectConnection, accept, deny, close,
         WsHub, type WsConnection, type WsCloseReason } from 'wsgate';

@WsGateway({ path: '/rooms/:room', scope: 'connection', maxMessageSize: 64 * 1024, idleTimeout: 60_000 })
export class RoomGateway {
  static readonly closed: WsCloseReason[] = [];
  constructor(private readonly hub: WsHub, @InjectConnection() private readonly conn: WsConnection<{ room: string }>) {}

  @OnAccept()                       // runs before the 101; guards and pipes apply
  accept(@Query('token') token: string, @Param('room') room: string) {
    return token === 'secret' ? accept({ room }) : deny(401, { body: 'bad token' });
  }
  @OnInit() init() { this.conn.join(`room:${this.conn.data.room}`); }
  @OnMessage('say') say(@Payload() msg: { text: string }) {
    this.hub.to(`room:${this.conn.data.room}`).emit('said', msg);   // encoded once for everyone
  }
  @OnMessage('ping') ping() { return 'pong'; }                          // → {"event":"ping","data":"pong"}
  @OnInfo('kick') kick() { return close(4001, 'kicked'); }
  @OnClose() closed(@Reason() reason: WsCloseReason) { RoomGateway.closed.push(reason); }   // exactly once, on every path
}

@Module({ imports: [WsGateModule.forRoot()], providers: [RoomGateway] })
export class AppModule {}
