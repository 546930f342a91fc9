import { pathToFileURL } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ChatAppModule } from './app.module.js';

export interface SampleOptions {
  port?: number;
  host?: string;
  platform?: 'express' | 'fastify';
  logger?: false;
}

/** Starts the chat sample: the page at `http://host:port/?token=alice-token`, rooms at `/chat/:room`. */
export async function bootstrap(options: SampleOptions = {}): Promise<INestApplication> {
  const adapter = options.platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(ChatAppModule, adapter, options.logger === false ? { logger: false } : {});
  app.enableShutdownHooks();
  await app.listen(options.port ?? 3000, options.host ?? '127.0.0.1');
  return app;
}

// `node dist/sample/02-chat/main.js [port] [express|fastify]`
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
  const platform = process.argv[3] === 'fastify' ? 'fastify' : 'express';
  bootstrap({ port, platform }).then(
    async (app) => {
      const url = await app.getUrl();
      console.log(`chat sample on ${platform}: open ${url}/?token=alice-token and ${url}/?token=bob-token`);
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
