import { Module } from '@nestjs/common';
import { BoardGateway } from './board.gateway.js';
import { BoardService } from './board.service.js';
import { MembersService } from './members.service.js';

// A platform-ws app as it was: no wsgate module, nothing in here changes to migrate.
@Module({
  providers: [BoardService, MembersService, BoardGateway],
})
export class BoardAppModule {}
