import type { AddressInfo } from 'node:net';
import type { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { WsGateModule, type WsGateModuleOptions } from '../../../lib/gateway/index.js';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: readonly Platform[] = ['express', 'fastify'];

export interface StartedApp {
  readonly app: INestApplication;
  readonly port: number;
  url(path: string): string;
}

export interface StartOptions extends ModuleMetadata {
  wsgate?: WsGateModuleOptions;
  /** Runs before listen (useGlobalPipes, ...). */
  configure?: (app: INestApplication) => void;
  /** true: errors and warnings to the console; a LoggerService: captured. @defaultValue silent */
  logger?: boolean | LoggerService;
}

/** Builds a Nest app on the platform with WsGateModule and the given providers, listening on 127.0.0.1:0. */
export async function startApp(platform: Platform, options: StartOptions): Promise<StartedApp> {
  const { wsgate, configure, logger, ...metadata } = options;
  @Module({ ...metadata, imports: [WsGateModule.forRoot({ host: '127.0.0.1', ...wsgate }), ...(metadata.imports ?? [])] })
  class TestAppModule {}
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(TestAppModule, adapter, {
    logger: logger === true ? ['error', 'warn'] : logger === undefined || logger === false ? false : logger,
    abortOnError: false,
  });
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, url: (path: string) => `ws://127.0.0.1:${port}${path}` };
}
