// Issue [B]'s bench app: the json echo written the wsgate way, on platform-express.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
// In an application: from 'wsgate'. lib/index.ts does not re-export the gateway layer yet.
import { OnMessage, Payload, WsGateModule, WsGateway, WsGatewayRegistry } from '../../lib/index.js';
import { ECHO_PATH, type EchoAppContext, type EchoAppHandle } from './echo-app-contract.js';
import { ErrorCountingLogger } from './error-counting-logger.js';

/** `{"event":"echo","data":x}` → `{"event":"echo","data":x}` through the json codec. */
@WsGateway(ECHO_PATH)
class EchoGateway {
  @OnMessage('echo')
  echo(@Payload() data: unknown): unknown {
    return data;
  }
}

@Module({
  imports: [WsGateModule.forRoot({ logRoutes: false })],
  providers: [EchoGateway],
})
class WsgateEchoModule {}

export async function startWsgateEchoApp({ host, recordError }: EchoAppContext): Promise<EchoAppHandle> {
  // abortOnError false: a bootstrap failure must reach the bench report, not abort() the process.
  const app = await NestFactory.create(WsgateEchoModule, new ExpressAdapter(), {
    logger: new ErrorCountingLogger(recordError),
    abortOnError: false,
  });
  await app.listen(0, host);
  const registry = app.get(WsGatewayRegistry);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    port,
    clientCount: () => registry.connectionCount(),
    close: () => app.close(),
    notes: [`route: ${registry.formatRouteTable()}`],
  };
}
