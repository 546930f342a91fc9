import { Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';

/** Who is connected under which name; a socket without a name is a watcher. */
@Injectable()
export class MembersService {
  private readonly names = new WeakMap<WebSocket, string>();

  add(client: WebSocket, name: string): void {
    this.names.set(client, name);
  }

  nameOf(client: WebSocket): string | undefined {
    return this.names.get(client);
  }

  /** Forgets the client; returns the name it had, if any. */
  remove(client: WebSocket): string | undefined {
    const name = this.names.get(client);
    this.names.delete(client);
    return name;
  }
}
