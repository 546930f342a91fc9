import { describe, it, expect } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { WsHub } from '../../lib/hub/index.js';
import { WsGateway, OnMessage, OnInfo, OnClose, Info, Reason, WsGateModule, WsGatewayRegistry, WSGATE_MODULE_OPTIONS, type ResolvedWsGateModuleOptions } from '../../lib/gateway/index.js';
import { resolveModuleOptions } from '../../lib/gateway/module-options.js';
import { expectRejectsWsgError, expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';
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

@WsGateway('/twice')
class TwoHandlersForOneEvent {
  @OnMessage('say') first() {}
  @OnMessage('say') second() {}
}

@WsGateway('/two-closes')
class TwoOnClose {
  @OnClose() one() {}
  @OnClose() two() {}
}

@WsGateway('/info-on-message')
class InfoOnMessage {
  @OnMessage('x') x(@Info() _info: unknown) {}
}

@WsGateway('/reason-on-info')
class ReasonOnInfo {
  @OnInfo('t') t(@Reason() _reason: unknown) {}
}

/** What app.listen() rejected with; the app is closed either way. */
async function bootstrapError(providers: unknown[], options: Parameters<typeof WsGateModule.forRoot>[0] = {}): Promise<unknown> {
  @Module({ imports: [WsGateModule.forRoot(options)], providers: providers as never[] })
  class M {}
  const app = await NestFactory.create(M, new ExpressAdapter(), { logger: false, abortOnError: false });
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    return error;
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
    expectThrowsWsgError(() => WsGateModule.forRoot(options as never), 'WSG_ERR_GATEWAY_INVALID_OPTION');
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
    await expectRejectsWsgError(
      (async () => {
        context = await NestFactory.createApplicationContext(M, { logger: false, abortOnError: false });
      })(),
      'WSG_ERR_GATEWAY_INVALID_OPTION',
    );
    await context?.close();
  });
});

describe('bootstrap', () => {
  it('throws WSG_ERR_GATEWAY_DUPLICATE_PATH for two gateways at one path on one server', async () => {
    expect(expectWsgError(await bootstrapError([OneGateway, SamePathGateway]), 'WSG_ERR_GATEWAY_DUPLICATE_PATH').message).toBe(
      'OneGateway and SamePathGateway are both mounted at /one on one server',
    );
    expectWsgError(await bootstrapError([ParamA, ParamB]), 'WSG_ERR_GATEWAY_DUPLICATE_PATH');
  });

  it('throws WSG_ERR_GATEWAY_DUPLICATE_HANDLER for two handlers of one event, or two @OnClose', async () => {
    expect(expectWsgError(await bootstrapError([TwoHandlersForOneEvent]), 'WSG_ERR_GATEWAY_DUPLICATE_HANDLER').message).toBe(
      'TwoHandlersForOneEvent: event "say" is handled by both first() and second()',
    );
    expect(expectWsgError(await bootstrapError([TwoOnClose]), 'WSG_ERR_GATEWAY_DUPLICATE_HANDLER').message).toBe(
      'TwoOnClose: @OnClose is handled by both one() and two()',
    );
  });

  it('throws WSG_ERR_GATEWAY_PARAM_CONTEXT for @Info() outside @OnInfo and @Reason() outside @OnClose', async () => {
    expect(expectWsgError(await bootstrapError([InfoOnMessage]), 'WSG_ERR_GATEWAY_PARAM_CONTEXT').message).toBe(
      'InfoOnMessage.x(): @Info() is only given to @OnInfo handlers',
    );
    expect(expectWsgError(await bootstrapError([ReasonOnInfo]), 'WSG_ERR_GATEWAY_PARAM_CONTEXT').message).toBe(
      'ReasonOnInfo.t(): @Reason() is only given to @OnClose handlers',
    );
  });

  it('throws WSG_ERR_GATEWAY_NO_HTTP_SERVER for a gateway without a port in an app without HTTP', async () => {
    @Module({ imports: [WsGateModule.forRoot()], providers: [OneGateway] })
    class M {}
    // createApplicationContext() runs the bootstrap hooks itself.
    const error = await expectRejectsWsgError(NestFactory.createApplicationContext(M, { logger: false, abortOnError: false }), 'WSG_ERR_GATEWAY_NO_HTTP_SERVER');
    expect(error.message).toBe('OneGateway has no port of its own and the application has no HTTP server');
  });

  it('throws WSG_ERR_GATEWAY_LISTEN when a gateway\'s own port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    @WsGateway({ path: '/own', port })
    class OwnPort {}
    try {
      const error = expectWsgError(await bootstrapError([OwnPort], { host: '127.0.0.1' }), 'WSG_ERR_GATEWAY_LISTEN');
      expect((error.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
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
