import { Injectable } from '@nestjs/common';

/**
 * Stands in for real authentication: a fixed table of tokens. The gateway checks the token
 * before the WebSocket handshake completes, so a bad token gets HTTP 401 and no socket.
 */
@Injectable()
export class TokenService {
  private readonly users = new Map<string, string>([
    ['alice-token', 'alice'],
    ['bob-token', 'bob'],
    ['carol-token', 'carol'],
  ]);

  userFor(token: string | undefined): string | null {
    return token === undefined ? null : (this.users.get(token) ?? null);
  }
}
