// The json echo written the Nest way (`@WebSocketGateway` + `@SubscribeMessage`), on
// platform-express, runnable on any `WebSocketAdapter`: issue [B] measures it on WsAdapter
// (@nestjs/platform-ws); issue [C] will run the same app on WsGateAdapter by passing another
// adapter factory from a new servers/*.js file.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Module, type INestApplication, type WebSocketAdapter } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import { ECHO_PATH, type EchoAppContext, type EchoAppHandle } from './echo-app-contract.js';
import { ErrorCountingLogger } from './error-counting-logger.js';

/**
 * WsAdapter sends `JSON.stringify(returnValue)`, so returning `{ event, data }` makes the reply
 * the same bytes as the request, as the load generator checks.
 */
@WebSocketGateway({ path: ECHO_PATH })
class EchoGateway {
  @WebSocketServer()
  server!: { readonly clients: { readonly size: number } };

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): { event: string; data: unknown } {
    return { event: 'echo', data };
  }
}

@Module({ providers: [EchoGateway] })
class WebSocketGatewayEchoModule {}

export type AdapterFactory = (app: INestApplication) => WebSocketAdapter;

export async function startWebSocketGatewayEchoApp(
  { host, recordError }: EchoAppContext,
  createAdapter: AdapterFactory,
  notes: readonly string[] = [],
): Promise<EchoAppHandle> {
  // abortOnError false: a bootstrap failure must reach the bench report, not abort() the process.
  const app = await NestFactory.create(WebSocketGatewayEchoModule, new ExpressAdapter(), {
    logger: new ErrorCountingLogger(recordError),
    abortOnError: false,
  });
  app.useWebSocketAdapter(createAdapter(app));
  await app.listen(0, host);
  const gateway = app.get(EchoGateway);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    port,
    clientCount: () => gateway.server.clients.size,
    close: () => app.close(),
    notes,
  };
}
