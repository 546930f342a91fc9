import { describe, it, expect } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { WsHub } from '../../lib/hub/index.js';
import { WsGateway, OnMessage, WsGateModule, WsGatewayRegistry, WSGATE_MODULE_OPTIONS, type ResolvedWsGateModuleOptions } from '../../lib/gateway/index.js';
import { resolveModuleOptions } from '../../lib/gateway/module-options.js';
import { CaptureLogger } from './support/capture-logger.js';
import { PLATFORMS, startApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

@WsGateway('/one')
class OneGateway {
  @OnMessage('who') who() {
    return 'one';
  }
}

@WsGateway('/one')
class SamePathGateway {}

@WsGateway('/rooms/:a')
class ParamA {}

@WsGateway('/rooms/:b')
class ParamB {}

async function bootstrapError(providers: unknown[], options: Parameters<typeof WsGateModule.forRoot>[0] = {}): Promise<{ code?: string; message: string }> {
  @Module({ imports: [WsGateModule.forRoot(options)], providers: providers as never[] })
  class M {}
  const app = await NestFactory.create(M, new ExpressAdapter(), { logger: false, abortOnError: false });
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    return error as { code?: string; message: string };
  } finally {
    await app.close().catch(() => undefined);
  }
  throw new Error('expected bootstrap to fail');
}

describe('WsGateModule.forRoot() options', () => {
  it('are validated and frozen', () => {
    const resolved = resolveModuleOptions({ defaults: { codec: 'text', maxMailbox: 3 }, host: '127.0.0.1' });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(resolved.defaults)).toBe(true);
    expect(resolved).toMatchObject({ defaults: { codec: 'text', maxMailbox: 3 }, host: '127.0.0.1', logRoutes: true });
  });

  it.each([
    ['an unknown key', { hosts: 'x' }],
    ['a path in defaults', { defaults: { path: '/x' } }],
    ['a port in defaults', { defaults: { port: 1 } }],
    ['a bad default', { defaults: { codec: 'xml' } }],
    ['a bad hub option', { hub: { maxNameLength: 0 } }],
    ['an empty host', { host: '' }],
    ['logRoutes not boolean', { logRoutes: 'yes' }],
  ])('throw WSG_ERR_GATEWAY_INVALID_OPTION for %s, at forRoot()', (_what, options) => {
    expect(() => WsGateModule.forRoot(options as never)).toThrow(expect.objectContaining({ code: 'WSG_ERR_GATEWAY_INVALID_OPTION' }));
  });

  it('take a WsHub instance as it is', async () => {
    const hub = new WsHub();
    const started = await startApp('express', { providers: [OneGateway], wsgate: { hub } });
    expect(started.app.get(WsHub)).toBe(hub);
    await started.app.close();
    expect(hub.closed).toBe(true);
  });
});

describe('WsGateModule.forRootAsync()', () => {
  it('resolves options from injected providers, validates them, and mounts gateways', async () => {
    @Injectable()
    class Config {
      readonly mailbox = 9;
    }
    @Module({ providers: [Config], exports: [Config] })
    class ConfigModule {}
    @Module({
      imports: [WsGateModule.forRootAsync({ imports: [ConfigModule], inject: [Config], useFactory: (config: Config) => ({ defaults: { maxMailbox: config.mailbox } }) })],
      providers: [OneGateway],
    })
    class M {}
    const app = await NestFactory.create(M, new ExpressAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as AddressInfo).port;
    expect(app.get<ResolvedWsGateModuleOptions>(WSGATE_MODULE_OPTIONS).defaults.maxMailbox).toBe(9);
    expect(app.get(WsGatewayRegistry).plan(OneGateway)?.options.maxMailbox).toBe(9);
    const client = await WsTestClient.connect(`ws://127.0.0.1:${port}/one`);
    client.emit('who');
    expect((await client.nextJson()).data).toBe('one');
    await client.close();
    await app.close();
  });

  it('rejects invalid options from the factory with WSG_ERR_GATEWAY_INVALID_OPTION', async () => {
    @Module({ imports: [WsGateModule.forRootAsync({ useFactory: async () => ({ defaults: { scope: 'nope' } }) as never })] })
    class M {}
    let context: INestApplicationContext | undefined;
    await expect(
      (async () => {
        context = await NestFactory.createApplicationContext(M, { logger: false, abortOnError: false });
      })(),
    ).rejects.toMatchObject({ code: 'WSG_ERR_GATEWAY_INVALID_OPTION' });
    await context?.close();
  });
});

describe('bootstrap', () => {
  it('throws WSG_ERR_GATEWAY_DUPLICATE_PATH for two gateways at one path on one server', async () => {
    expect(await bootstrapError([OneGateway, SamePathGateway])).toMatchObject({ code: 'WSG_ERR_GATEWAY_DUPLICATE_PATH' });
    expect(await bootstrapError([ParamA, ParamB])).toMatchObject({ code: 'WSG_ERR_GATEWAY_DUPLICATE_PATH' });
  });

  it('throws WSG_ERR_GATEWAY_NO_HTTP_SERVER for a gateway without a port in an app without HTTP', async () => {
    @Module({ imports: [WsGateModule.forRoot()], providers: [OneGateway] })
    class M {}
    // createApplicationContext() runs the bootstrap hooks itself.
    await expect(NestFactory.createApplicationContext(M, { logger: false, abortOnError: false })).rejects.toMatchObject({ code: 'WSG_ERR_GATEWAY_NO_HTTP_SERVER' });
  });

  it('throws WSG_ERR_GATEWAY_LISTEN when a gateway\'s own port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    @WsGateway({ path: '/own', port })
    class OwnPort {}
    try {
      expect(await bootstrapError([OwnPort], { host: '127.0.0.1' })).toMatchObject({ code: 'WSG_ERR_GATEWAY_LISTEN' });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it.each(PLATFORMS)('logs the route table at verbose on %s', async (platform) => {
    const logger = new CaptureLogger();
    const started = await startApp(platform, { providers: [OneGateway], logger });
    expect(logger.has('verbose', '/one message who -> OneGateway.who() [singleton, json, direct]')).toBe(true);
    await started.app.close();
  });

  it('does not log the route table with logRoutes: false', async () => {
    const logger = new CaptureLogger();
    const started = await startApp('express', { providers: [OneGateway], logger, wsgate: { logRoutes: false } });
    expect(logger.has('verbose', 'OneGateway.who()')).toBe(false);
    await started.app.close();
  });
});
