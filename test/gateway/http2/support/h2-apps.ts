import type { AddressInfo } from 'node:net';
import { CanActivate, Controller, Injectable, Module, type ExecutionContext, type INestApplication, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { WsGateModule, WsGatewayRegistry, type WsGateModuleOptions } from '../../../../lib/gateway/index.js';
import { TLS_CERT, TLS_KEY } from '../../../http2/support/tls-fixture.js';

/** Two ways to serve RFC 8441 from Nest: Fastify's own HTTP/2 server, or WsGateModule's http2 port beside Express. */
export type H2Host = 'fastify-h2' | 'express+http2-port';
export const H2_HOSTS: readonly H2Host[] = ['fastify-h2', 'express+http2-port'];

export interface H2App {
  readonly app: INestApplication;
  /** Port that serves both roads: the app's (Fastify) or WsGateModule's http2 port (Express). */
  readonly port: number;
  /** The app's own HTTP port (same as `port` on Fastify). */
  readonly appPort: number;
  wss(path: string): string;
  https(path: string): string;
}

export interface H2AppOptions extends ModuleMetadata {
  wsgate?: Omit<WsGateModuleOptions, 'http2'>;
  configure?: (app: INestApplication) => void;
  /** Where Nest and wsgate log. @defaultValue none (logging off) */
  logger?: LoggerService;
}

/** A Nest app with WsGateModule over TLS (test certificate), listening on 127.0.0.1:0. */
export async function startH2App(host: H2Host, options: H2AppOptions): Promise<H2App> {
  const { wsgate, configure, logger, ...metadata } = options;
  const http2 = host === 'express+http2-port' ? { http2: { key: TLS_KEY, cert: TLS_CERT, port: 0, host: '127.0.0.1' } } : {};
  @Module({ ...metadata, imports: [WsGateModule.forRoot({ host: '127.0.0.1', ...wsgate, ...http2 }), ...(metadata.imports ?? [])] })
  class H2TestModule {}
  const adapter =
    host === 'fastify-h2'
      ? new FastifyAdapter({ http2: true, https: { allowHTTP1: true, key: TLS_KEY, cert: TLS_CERT } } as ConstructorParameters<typeof FastifyAdapter>[0])
      : new ExpressAdapter();
  const app = await NestFactory.create(H2TestModule, adapter, { logger: logger ?? false, abortOnError: false });
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  const appPort = (app.getHttpServer().address() as AddressInfo).port;
  const port = host === 'fastify-h2' ? appPort : app.get(WsGatewayRegistry).http2Address!.port;
  return {
    app,
    port,
    appPort,
    wss: (path) => `wss://127.0.0.1:${port}${path}`,
    https: (path) => `https://127.0.0.1:${port}${path}`,
  };
}

/** Lets a request through only with `x-token: ok`, on either road. */
@Injectable()
export class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const client = context.switchToWs().getClient<{ request: { headers: Record<string, unknown> } }>();
    return client.request.headers['x-token'] === 'ok';
  }
}

@Controller()
export class NothingController {}
