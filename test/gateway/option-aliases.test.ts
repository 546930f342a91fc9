import { afterAll, beforeAll, describe, it, expect, jest } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { resolveServerOptions } from '../../lib/gateway/adapter/adapter-options.js';
import { resolveGatewayOptions } from '../../lib/gateway/gateway-options.js';
import { resolveModuleOptions } from '../../lib/gateway/module-options.js';
import { OnMessage, WsGateAdapter, WsGateModule, WsGateway } from '../../lib/gateway/index.js';
import { expectRejectsWsgError, expectThrowsWsgError } from '../support/expect-wsg-error.js';
import { startApp } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

const WARNING = 'Option onUnknown is deprecated and will be removed in wsgate 0.2.0; use onUnknownEvent (same values)';
const CONFLICT = 'Options onUnknown (deprecated) and onUnknownEvent disagree (close vs error); give onUnknownEvent only';

// Gateways are made inside the tests: a class decorated at load would warn before the spy.
function gateway(options: Parameters<typeof WsGateway>[0]): new () => object {
  @WsGateway(options)
  class G {
    @OnMessage('known') known() {
      return 'ok';
    }
  }
  return G;
}

async function unknownEventAnswer(url: string): Promise<unknown> {
  const client = await WsTestClient.connect(url);
  client.emit('nope');
  const answer = await Promise.race([client.nextJson(), client.closed]);
  await client.close();
  return answer;
}

const unknownEventError = { event: 'error', data: { code: 'WSG_ERR_GATEWAY_UNKNOWN_EVENT', message: 'No handler for event "nope"', event: 'nope' } };
const closed1003 = { code: CloseCode.UnsupportedData, reason: 'unknown event' };

describe('deprecated option onUnknown, now onUnknownEvent (gateways and WsGateAdapter, until 0.2.0)', () => {
  // Jest's sandboxed process does not relay 'warning' events, so the call itself is observed.
  const spyOnEmitWarning = () => jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  let emitWarning: ReturnType<typeof spyOnEmitWarning>;
  beforeAll(() => {
    emitWarning = spyOnEmitWarning();
  });
  afterAll(() => emitWarning.mockRestore());

  // First in the file: the warning is once per process (per module instance under Jest).
  it('warns once per process, a DeprecationWarning with code WSG_DEP_ON_UNKNOWN, wherever the old name is used', async () => {
    gateway({ path: '/a', onUnknown: 'close' });
    gateway({ path: '/b', onUnknown: 'error' });
    WsGateModule.forRoot({ defaults: { onUnknown: 'close' } });
    const adapter = new WsGateAdapter(undefined, { onUnknown: 'error' });
    await adapter.dispose();
    expect(emitWarning.mock.calls).toEqual([[WARNING, { type: 'DeprecationWarning', code: 'WSG_DEP_ON_UNKNOWN' }]]);
  });

  it('does not warn for the new name', () => {
    emitWarning.mockClear();
    gateway({ path: '/c', onUnknownEvent: 'close' });
    new WsGateAdapter(undefined, { onUnknownEvent: 'close' });
    expect(emitWarning).not.toHaveBeenCalled();
  });

  it('accepts onUnknown as onUnknownEvent on @WsGateway and in forRoot defaults: a real app closes 1003 on an unknown event', async () => {
    const started = await startApp('express', {
      wsgate: { defaults: { onUnknown: 'close' } },
      providers: [gateway({ path: '/old-own', onUnknown: 'close' }), gateway('/old-default'), gateway({ path: '/new-own', onUnknownEvent: 'error' })],
    });
    try {
      expect(await unknownEventAnswer(started.url('/old-own'))).toEqual(closed1003);
      expect(await unknownEventAnswer(started.url('/old-default'))).toEqual(closed1003);
      // A gateway's own option wins over a default whichever name each uses.
      expect(await unknownEventAnswer(started.url('/new-own'))).toEqual(unknownEventError);
    } finally {
      await started.app.close();
    }
  });

  it("lets a gateway's own old name win over a default's new name, and the reverse", () => {
    expect(resolveGatewayOptions({ onUnknown: 'close' }, { onUnknownEvent: 'error' }).onUnknown).toBe('close');
    expect(resolveGatewayOptions({ onUnknownEvent: 'close' }, { onUnknown: 'error' }).onUnknown).toBe('close');
    expect(resolveModuleOptions({ defaults: { onUnknown: 'close' } }).defaults).toEqual({ onUnknownEvent: 'close' });
  });

  it('accepts onUnknown on WsGateAdapter and on @WebSocketGateway under it: a real app closes 1003, or answers error', async () => {
    @WebSocketGateway({ path: '/adapter-default' })
    class AdapterDefault {
      @SubscribeMessage('known') known() {
        return 'ok';
      }
    }
    @WebSocketGateway({ path: '/adapter-own', onUnknown: 'error' })
    class AdapterOwn {
      @SubscribeMessage('known') known() {
        return 'ok';
      }
    }
    const moduleRef = await Test.createTestingModule({ providers: [AdapterDefault, AdapterOwn] }).compile();
    const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    app.useWebSocketAdapter(new WsGateAdapter(app, { onUnknown: 'close' }));
    await app.listen(0, '127.0.0.1');
    const base = `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    try {
      expect(await unknownEventAnswer(`${base}/adapter-default`)).toEqual(closed1003);
      expect(await unknownEventAnswer(`${base}/adapter-own`)).toEqual(unknownEventError);
    } finally {
      await app.close();
    }
  });

  it('accepts both names when they agree', () => {
    expect(resolveGatewayOptions({ onUnknown: 'close', onUnknownEvent: 'close' }).onUnknown).toBe('close');
    expect(resolveServerOptions({ onUnknown: 'close', onUnknownEvent: 'close' }, {}, 'test').onUnknownEvent).toBe('close');
  });

  it('checks a value given under the old name as the new name is checked', () => {
    expect(expectThrowsWsgError(() => gateway({ onUnknown: 'ignore' as never }), 'WSG_ERR_DECORATOR_OPTION').message).toBe("Option onUnknownEvent must be 'error' or 'close', got ignore");
    expect(expectThrowsWsgError(() => new WsGateAdapter(undefined, { onUnknown: 'drop' as never }), 'WSG_ERR_GATEWAY_INVALID_OPTION').message).toBe(
      "WsGateAdapter: option onUnknownEvent must be 'ignore', 'error', 'close', got drop",
    );
  });

  it('refuses both names with different values: WSG_ERR_DECORATOR_OPTION on @WsGateway', () => {
    expect(expectThrowsWsgError(() => gateway({ onUnknown: 'close', onUnknownEvent: 'error' }), 'WSG_ERR_DECORATOR_OPTION').message).toBe(CONFLICT);
    expect(expectThrowsWsgError(() => WsGateway('/x', { onUnknown: 'close', onUnknownEvent: 'error' }), 'WSG_ERR_DECORATOR_OPTION').message).toBe(CONFLICT);
  });

  it('refuses both names with different values: WSG_ERR_GATEWAY_INVALID_OPTION in forRoot() and forRootAsync() defaults', async () => {
    const defaults = { onUnknown: 'close', onUnknownEvent: 'error' } as const;
    expect(expectThrowsWsgError(() => WsGateModule.forRoot({ defaults }), 'WSG_ERR_GATEWAY_INVALID_OPTION').message).toBe(CONFLICT);
    const compiling = Test.createTestingModule({ imports: [WsGateModule.forRootAsync({ useFactory: () => ({ defaults }) })] }).compile();
    expect((await expectRejectsWsgError(compiling, 'WSG_ERR_GATEWAY_INVALID_OPTION')).message).toBe(CONFLICT);
  });

  it('refuses both names with different values: WSG_ERR_GATEWAY_INVALID_OPTION on WsGateAdapter and @WebSocketGateway under it', async () => {
    expect(expectThrowsWsgError(() => new WsGateAdapter(undefined, { onUnknown: 'close', onUnknownEvent: 'error' }), 'WSG_ERR_GATEWAY_INVALID_OPTION').message).toBe(
      `WsGateAdapter: ${CONFLICT}`,
    );
    const adapter = new WsGateAdapter(createServer());
    try {
      expect(expectThrowsWsgError(() => adapter.create(0, { path: '/x', onUnknown: 'close', onUnknownEvent: 'error' }), 'WSG_ERR_GATEWAY_INVALID_OPTION').message).toBe(
        `@WebSocketGateway(0, /x): ${CONFLICT}`,
      );
    } finally {
      await adapter.dispose();
    }
  });
});
