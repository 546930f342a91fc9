import { Controller, Get, Header } from '@nestjs/common';
import { CHAT_PAGE } from './chat-page.js';

/** Serves the browser client; open `/?token=alice-token&room=lobby`. */
@Controller()
export class ChatPageController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return CHAT_PAGE;
  }
}
