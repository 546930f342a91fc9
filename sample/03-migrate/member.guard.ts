import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { MembersService } from './members.service.js';

/** Lets named members through; a watcher's message is refused ("Forbidden resource"). */
@Injectable()
export class MemberGuard implements CanActivate {
  constructor(private readonly members: MembersService) {}

  canActivate(context: ExecutionContext): boolean {
    return this.members.nameOf(context.switchToWs().getClient<WebSocket>()) !== undefined;
  }
}
