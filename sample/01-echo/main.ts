import { pathToFileURL } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { EchoAppModule } from './app.module.js';

export interface SampleOptions {
  port?: number;
  host?: string;
  platform?: 'express' | 'fastify';
  logger?: false;
}

/** Starts the echo sample: `ws://host:port/echo`. */
export async function bootstrap(options: SampleOptions = {}): Promise<INestApplication> {
  const adapter = options.platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(EchoAppModule, adapter, options.logger === false ? { logger: false } : {});
  app.enableShutdownHooks();
  await app.listen(options.port ?? 3000, options.host ?? '127.0.0.1');
  return app;
}

// `node dist/sample/01-echo/main.js [port] [express|fastify]`
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
  const platform = process.argv[3] === 'fastify' ? 'fastify' : 'express';
  bootstrap({ port, platform }).then(
    async (app) => console.log(`echo sample on ${platform}: ${(await app.getUrl()).replace(/^http/, 'ws')}/echo`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
