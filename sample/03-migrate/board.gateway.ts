import type { IncomingMessage } from 'node:http';
import { UseGuards, ValidationPipe } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  WsException,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type WsResponse,
} from '@nestjs/websockets';
import { WebSocket, type WebSocketServer as Server } from 'ws';
import { AddTaskDto } from './add-task.dto.js';
import { BoardService, type Task } from './board.service.js';
import { MemberGuard } from './member.guard.js';
import { MembersService } from './members.service.js';

const validTask = new ValidationPipe({ exceptionFactory: () => new WsException('title must be 1-200 characters') });

/**
 * A shared task board at `/board?name=…`, written for @nestjs/platform-ws: members add tasks
 * and everyone connected sees them; a client without a name watches.
 */
@WebSocketGateway({ path: '/board' })
export class BoardGateway implements OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer() private readonly server!: Server;

  constructor(
    private readonly board: BoardService,
    private readonly members: MembersService,
  ) {}

  handleConnection(client: WebSocket, request: IncomingMessage) {
    const name = new URL(request.url ?? '/', 'http://localhost').searchParams.get('name');
    if (name === null || name === '') return;
    this.members.add(client, name);
    this.broadcast(client, 'joined', { name });
  }

  handleDisconnect(client: WebSocket) {
    const name = this.members.remove(client);
    if (name !== undefined) this.broadcast(client, 'left', { name });
  }

  @SubscribeMessage('list')
  list(): WsResponse<readonly Task[]> {
    return { event: 'tasks', data: this.board.all() };
  }

  @UseGuards(MemberGuard)
  @SubscribeMessage('add')
  add(@MessageBody(validTask) body: AddTaskDto, @ConnectedSocket() client: WebSocket): WsResponse<Task> {
    const task = this.board.add(body.title, this.members.nameOf(client)!);
    this.broadcast(client, 'added', task);
    return { event: 'added', data: task };
  }

  /** To every open client but `except`, the way ws apps broadcast: over `server.clients`. */
  private broadcast(except: WebSocket, event: string, data: unknown) {
    const message = JSON.stringify({ event, data });
    for (const client of this.server.clients) {
      if (client !== except && client.readyState === WebSocket.OPEN) client.send(message);
    }
  }
}
