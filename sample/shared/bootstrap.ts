import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export interface SampleOptions {
  /** @defaultValue `PORT` from the environment, else 3000 (0 picks a free port) */
  port?: number;
  /** @defaultValue `HOST` from the environment, else 127.0.0.1 */
  host?: string;
  /** @defaultValue 'express' */
  platform?: 'express' | 'fastify';
  /** false silences Nest's logger. @defaultValue Nest's console logger */
  logger?: false;
  /** Runs before `listen`: where an app sets its WebSocket adapter, global pipes, ... */
  configure?: (app: INestApplication) => void;
}

/** Where a started sample can be reached: `http://host:port` and `ws://host:port`. */
export interface SampleUrls {
  readonly http: string;
  readonly ws: string;
}

/** Creates the sample's Nest app and listens; SIGINT / SIGTERM close it (and its WebSockets). */
export async function startSample(module: Type<unknown>, options: SampleOptions = {}): Promise<INestApplication> {
  const http = options.platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(module, http, options.logger === false ? { logger: false } : {});
  app.enableShutdownHooks();
  options.configure?.(app);
  await app.listen(options.port ?? Number(process.env.PORT ?? 3000), options.host ?? process.env.HOST ?? '127.0.0.1');
  return app;
}

/** What a sample's main.ts calls: starts it, then prints the line `describe` makes of its URLs. */
export async function runSample(
  module: Type<unknown>,
  describe: (urls: SampleUrls) => string,
  options: Omit<SampleOptions, 'port' | 'host'> = {},
): Promise<INestApplication> {
  const app = await startSample(module, options);
  const http = await app.getUrl();
  console.log(describe({ http, ws: http.replace(/^http/, 'ws') }));
  return app;
}
