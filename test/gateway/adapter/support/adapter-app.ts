import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import type { INestApplication, LoggerService, ModuleMetadata, WebSocketAdapter } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import { WsGateAdapter, type WsGateAdapterOptions } from '../../../../lib/gateway/index.js';
import type { Platform } from '../../support/nest-app.js';

export type AdapterName = 'WsAdapter' | 'WsGateAdapter';

/** Builds the adapter a migrating application would pass to `app.useWebSocketAdapter()`. */
export type AdapterFactory = (app: INestApplication, options?: WsGateAdapterOptions) => WebSocketAdapter;

/**
 * The rows of the parity table: the same gateways run on platform-ws and on wsgate. Only
 * `messageParser` is given to WsAdapter (the one option it has).
 */
export const ADAPTERS: ReadonlyArray<readonly [AdapterName, AdapterFactory]> = [
  ['WsAdapter', (app, options) => new WsAdapter(app, options?.messageParser === undefined ? undefined : { messageParser: options.messageParser as never })],
  ['WsGateAdapter', (app, options) => new WsGateAdapter(app, options)],
];

export interface AdapterApp {
  readonly app: INestApplication;
  readonly port: number;
  url(path: string): string;
}

export interface AdapterAppOptions extends ModuleMetadata {
  adapter: AdapterFactory;
  adapterOptions?: WsGateAdapterOptions;
  /** Runs before listen (global pipes, ...). */
  configure?: (app: INestApplication) => void;
  /** true: errors and warnings to the console; a LoggerService: captured. @defaultValue silent */
  logger?: boolean | LoggerService;
}

/**
 * A Nest application as a platform-ws user has it (no WsGateModule unless imported), with the
 * given adapter, listening on 127.0.0.1:0.
 */
export async function startAdapterApp(platform: Platform, options: AdapterAppOptions): Promise<AdapterApp> {
  const { adapter, adapterOptions, configure, logger, ...metadata } = options;
  @Module(metadata)
  class AdapterTestModule {}
  const http = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AdapterTestModule, http, {
    logger: logger === true ? ['error', 'warn'] : logger === undefined || logger === false ? false : logger,
    abortOnError: false,
  });
  app.useWebSocketAdapter(adapter(app, adapterOptions));
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, url: (path: string) => `ws://127.0.0.1:${port}${path}` };
}

/** A port nobody listens on right now (all interfaces), for gateways that need a fixed port of their own. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
