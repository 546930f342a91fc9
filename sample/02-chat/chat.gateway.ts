import { ValidationPipe } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import {
  WsHub,
  WsGateway,
  OnAccept,
  OnInit,
  OnMessage,
  OnInfo,
  OnClose,
  Param,
  Query,
  Payload,
  Info,
  Reason,
  InjectConnection,
  accept,
  deny,
  emit,
  type WsCloseReason,
  type WsConnection,
} from 'wsgate';
import { ChatSession, type ChatState } from './chat-session.js';
import { SayDto } from './say.dto.js';
import { TokenService } from './token.service.js';

const ROOM_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Chat rooms at `/chat/:room?token=…`. One instance per connection (it depends on the
 * connection-scoped ChatSession); rooms are hub topics; typing goes to the room as an info.
 *
 * A member that stops reading is not allowed to hold the room back or lose lines unseen: once
 * 1 MiB waits for it (`maxSendQueue`), its connection is closed 1013 (Try Again Later, the
 * default `sendQueuePolicy`), the room is told it left with cause `overflow`, and everyone
 * else gets every line. Only typing indicators are sent volatile: a slow reader loses those.
 */
@WsGateway({ path: '/chat/:room', scope: 'connection', maxMessageSize: 16 * 1024, maxSendQueue: 1024 * 1024, idleTimeout: 120_000 })
export class ChatGateway {
  constructor(
    private readonly hub: WsHub,
    private readonly tokens: TokenService,
    private readonly session: ChatSession,
    @InjectConnection() private readonly conn: WsConnection<ChatState>,
  ) {}

  @OnAccept()
  accept(@Query('token') token: string | undefined, @Param('room') room: string) {
    const user = this.tokens.userFor(token);
    if (user === null) return deny(401, { headers: { 'WWW-Authenticate': 'Bearer' }, body: 'invalid or missing token' });
    if (!ROOM_NAME.test(room)) return deny(400, { body: 'room names are 1-32 letters, digits, _ or -' });
    const state: ChatState = { user, room };
    return accept(state);
  }

  @OnInit()
  init() {
    this.conn.join(this.session.topic);
    this.hub.alias(this.conn, this.session.typingAlias);
    this.hub.to(this.session.topic).except(this.conn.id).emit('joined', { user: this.session.user });
    return emit('welcome', { user: this.session.user, room: this.session.room, members: this.hub.count(this.session.topic) });
  }

  @OnMessage('say')
  say(@Payload(new ValidationPipe({ exceptionFactory: () => new WsException('text must be 1-500 characters') })) message: SayDto) {
    const n = this.session.countMessage();
    this.hub.to(this.session.topic).emit('said', { user: this.session.user, text: message.text, n });
  }

  @OnMessage('typing')
  typing() {
    this.hub.send(this.session.typingAlias, 'typing', { user: this.session.user });
  }

  /**
   * Every member of the room gets the info; each tells its own client, except the typist's.
   * Volatile: the next indicator supersedes this one, so a client that reads slowly loses it
   * (counted) rather than being closed for it.
   */
  @OnInfo('typing')
  onTyping(@Info() info: { data: { user: string } }) {
    if (info.data.user === this.session.user || !this.conn.isOpen) return;
    this.conn.emit('typing', { user: info.data.user }, { volatile: true });
  }

  @OnClose()
  closed(@Reason() reason: WsCloseReason) {
    if (this.hub.closed) return;
    this.hub.to(this.session.topic).emit('left', { user: this.session.user, cause: reason.cause });
  }
}
