import { Injectable, Scope } from '@nestjs/common';
import { InjectConnection, type WsConnection } from 'wsgate';

/** What `@OnAccept` stores on the connection (`@State()`). */
export interface ChatState {
  readonly user: string;
  readonly room: string;
}

/**
 * One per connection: Nest builds it with the connection injected, for the connection-scoped
 * gateway that depends on it, and drops it when the connection closes.
 */
@Injectable({ scope: Scope.REQUEST })
export class ChatSession {
  private said = 0;

  constructor(@InjectConnection() private readonly conn: WsConnection<ChatState>) {}

  get user(): string {
    return this.conn.data.user;
  }

  get room(): string {
    return this.conn.data.room;
  }

  /** The hub topic every member of the room joins. */
  get topic(): string {
    return `room:${this.room}`;
  }

  /** The alias every member of the room carries, so an info reaches all of them. */
  get typingAlias(): string {
    return `typing:${this.room}`;
  }

  countMessage(): number {
    return ++this.said;
  }
}
