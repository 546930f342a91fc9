import { Module } from '@nestjs/common';
import { WsGateModule } from 'wsgate';
import { ChatGateway } from './chat.gateway.js';
import { ChatPageController } from './chat-page.controller.js';
import { ChatSession } from './chat-session.js';
import { TokenService } from './token.service.js';

@Module({
  imports: [WsGateModule.forRoot()],
  controllers: [ChatPageController],
  providers: [TokenService, ChatSession, ChatGateway],
})
export class ChatAppModule {}
