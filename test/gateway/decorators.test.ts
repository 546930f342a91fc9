import { describe, it, expect } from '@jest/globals';
import { Scope, type PipeTransform } from '@nestjs/common';
import { ROUTE_ARGS_METADATA, SCOPE_OPTIONS_METADATA } from '@nestjs/common/internal';
import { WsParamtype } from '@nestjs/websockets/enums/ws-paramtype.enum.js';
import {
  WsGateway,
  OnAccept,
  OnInit,
  OnMessage,
  OnInfo,
  OnClose,
  Conn,
  Payload,
  Param,
  Query,
  Headers,
  State,
  Info,
  Reason,
  Req,
  WsParamType,
  DecoratorError,
  PushResources,
} from '../../lib/gateway/index.js';
import { GATEWAY_METADATA, HANDLER_METADATA, NEST_SCOPE_OPTIONS_METADATA, PARAM_ARGS_METADATA } from '../../lib/gateway/metadata-keys.js';
import { expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';

/** Runs `fn`, which must throw a DecoratorError with `code` (no close code: nothing is open yet). */
function thrown(fn: () => unknown, code: `WSG_ERR_DECORATOR_${string}`): DecoratorError {
  const error = expectThrowsWsgError(fn, code);
  expect(error).toBeInstanceOf(DecoratorError);
  return error as DecoratorError;
}

const upper: PipeTransform = { transform: (v: unknown) => String(v).toUpperCase() };

describe('@WsGateway', () => {
  it('writes frozen options under its own key, path from the first argument', () => {
    @WsGateway('/rooms/:room', { codec: 'text', maxMessageSize: 1024 })
    class G {}
    const options = Reflect.getMetadata(GATEWAY_METADATA, G);
    expect(options).toEqual({ path: '/rooms/:room', codec: 'text', maxMessageSize: 1024 });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('takes an options object alone, or nothing (path /)', () => {
    @WsGateway({ path: '/a', protocols: ['p1'] })
    class A {}
    @WsGateway()
    class B {}
    expect(Reflect.getMetadata(GATEWAY_METADATA, A)).toEqual({ path: '/a', protocols: ['p1'] });
    expect(Object.isFrozen(Reflect.getMetadata(GATEWAY_METADATA, A).protocols)).toBe(true);
    expect(Reflect.getMetadata(GATEWAY_METADATA, B)).toEqual({});
  });

  it("scope 'connection' also tells Nest the provider is request scoped", () => {
    @WsGateway({ path: '/c', scope: 'connection' })
    class C {}
    @WsGateway({ path: '/s' })
    class S {}
    expect(NEST_SCOPE_OPTIONS_METADATA).toBe(SCOPE_OPTIONS_METADATA);
    expect(Reflect.getMetadata(SCOPE_OPTIONS_METADATA, C)).toEqual({ scope: Scope.REQUEST });
    expect(Reflect.getMetadata(SCOPE_OPTIONS_METADATA, S)).toBeUndefined();
  });

  it.each([
    ['no leading slash', 'rooms'],
    ['an empty segment', '/a//b'],
    ['a parameter that is not an identifier', '/a/:1x'],
    ['a repeated parameter', '/a/:id/b/:id'],
    ['a space', '/a b'],
    ['a non-string', 42],
  ])('throws WSG_ERR_DECORATOR_PATH for %s', (_what, path) => {
    thrown(() => WsGateway(path as string), 'WSG_ERR_DECORATOR_PATH');
  });

  it.each([
    ['an unknown option', { pathh: '/x' }],
    // The gateway's codec decodes; the engine's decodeText is not a gateway option.
    ['the engine option decodeText', { decodeText: false }],
    ['a port out of range', { port: 70000 }],
    ['a fractional port', { port: 1.5 }],
    ['an unknown codec', { codec: 'xml' }],
    ['a codec object without encode', { codec: { decode: () => ({ event: 'x', data: 1 }) } }],
    ['an unknown scope', { scope: 'request' }],
    ['an unknown onUnknownEvent', { onUnknownEvent: 'ignore' }],
    ['an unknown onUndecodable', { onUndecodable: 'drop' }],
    ['an unknown onError', { onError: 'crash' }],
    ['maxMailbox 0', { maxMailbox: 0 }],
    ['empty allowedOrigins entries', { allowedOrigins: [''] }],
    ['protocols not an array', { protocols: 'chat' }],
    ['an engine limit out of range', { maxMessageSize: 0 }],
    ['conflicting engine limits', { maxSendQueue: 100, sendLowWaterMark: 1000 }],
    ['perMessageDeflate of the wrong type', { perMessageDeflate: 'yes' }],
    ['a perMessageDeflate option out of range', { perMessageDeflate: { serverMaxWindowBits: 16 } }],
  ])('throws WSG_ERR_DECORATOR_OPTION for %s', (_what, options) => {
    thrown(() => WsGateway(options as never), 'WSG_ERR_DECORATOR_OPTION');
  });

  it('throws WSG_ERR_DECORATOR_OPTION when the path is given twice', () => {
    thrown(() => WsGateway('/a', { path: '/b' }), 'WSG_ERR_DECORATOR_OPTION');
  });

  it('keeps the engine error as the cause', () => {
    const error = thrown(() => WsGateway({ maxMessageSize: -1 }), 'WSG_ERR_DECORATOR_OPTION');
    expectWsgError(error.cause, 'WSG_ERR_INVALID_OPTION');
    const deflate = thrown(() => WsGateway({ perMessageDeflate: { threshold: -1 } }), 'WSG_ERR_DECORATOR_OPTION');
    expectWsgError(deflate.cause, 'WSG_ERR_INVALID_OPTION');
    expect(deflate.message).toBe('Option perMessageDeflate.threshold must be an integer from 0 to 9007199254740991, got -1');
  });
});

describe('handler decorators', () => {
  it('record kind and pattern on the method; several per method in order', () => {
    class G {
      @OnAccept() a() {}
      @OnInit() i() {}
      @OnMessage('x') @OnMessage('y') m() {}
      @OnMessage() all() {}
      @OnInfo('t') info() {}
      @OnClose() c() {}
    }
    const p = G.prototype;
    expect(Reflect.getMetadata(HANDLER_METADATA, p.a)).toEqual([{ kind: 'accept', pattern: null }]);
    expect(Reflect.getMetadata(HANDLER_METADATA, p.i)).toEqual([{ kind: 'init', pattern: null }]);
    expect(Reflect.getMetadata(HANDLER_METADATA, p.m)).toEqual([
      { kind: 'message', pattern: 'y' },
      { kind: 'message', pattern: 'x' },
    ]);
    expect(Reflect.getMetadata(HANDLER_METADATA, p.all)).toEqual([{ kind: 'message', pattern: null }]);
    expect(Reflect.getMetadata(HANDLER_METADATA, p.info)).toEqual([{ kind: 'info', pattern: 't' }]);
    expect(Reflect.getMetadata(HANDLER_METADATA, p.c)).toEqual([{ kind: 'close', pattern: null }]);
  });

  it('throw WSG_ERR_DECORATOR_EVENT / _INFO_TYPE for an empty or non-string pattern', () => {
    thrown(() => OnMessage(''), 'WSG_ERR_DECORATOR_EVENT');
    thrown(() => OnMessage(7 as never), 'WSG_ERR_DECORATOR_EVENT');
    thrown(() => OnInfo(''), 'WSG_ERR_DECORATOR_INFO_TYPE');
  });

  it('throw WSG_ERR_DECORATOR_TARGET on a static method', () => {
    thrown(() => {
      class G {
        @OnMessage('x') static s() {}
      }
      return G;
    }, 'WSG_ERR_DECORATOR_TARGET');
  });
});

describe('parameter decorators', () => {
  it('write Nest-shaped records ("type:index") under Nest\'s route-args key', () => {
    class G {
      m(@Conn() _c: unknown, @Payload('text', upper) _p: unknown, @Param('room') _r: unknown, @Query() _q: unknown, @Headers('X-Token') _h: unknown, @State() _s: unknown, @Req() _req: unknown) {}
      i(@Info() _i: unknown) {}
      c(@Reason() _r: unknown) {}
    }
    expect(PARAM_ARGS_METADATA).toBe(ROUTE_ARGS_METADATA);
    const records = Reflect.getMetadata(PARAM_ARGS_METADATA, G, 'm');
    expect(records).toEqual({
      [`${WsParamType.Conn}:0`]: { index: 0, data: undefined, pipes: [] },
      [`${WsParamType.Payload}:1`]: { index: 1, data: 'text', pipes: [upper] },
      [`${WsParamType.Param}:2`]: { index: 2, data: 'room', pipes: [] },
      [`${WsParamType.Query}:3`]: { index: 3, data: undefined, pipes: [] },
      [`${WsParamType.Headers}:4`]: { index: 4, data: 'x-token', pipes: [] },
      [`${WsParamType.State}:5`]: { index: 5, data: undefined, pipes: [] },
      [`${WsParamType.Req}:6`]: { index: 6, data: undefined, pipes: [] },
    });
    expect(Object.keys(Reflect.getMetadata(PARAM_ARGS_METADATA, G, 'i'))).toEqual([`${WsParamType.Info}:0`]);
    expect(Object.keys(Reflect.getMetadata(PARAM_ARGS_METADATA, G, 'c'))).toEqual([`${WsParamType.Reason}:0`]);
  });

  it("share Nest's numbers for the socket and the payload", () => {
    expect(WsParamType.Conn).toBe(WsParamtype.SOCKET);
    expect(WsParamType.Payload).toBe(WsParamtype.PAYLOAD);
  });

  it('@Payload(pipe) takes a pipe as its first argument', () => {
    class G {
      m(@Payload(upper) _p: unknown) {}
    }
    expect(Reflect.getMetadata(PARAM_ARGS_METADATA, G, 'm')).toEqual({ [`${WsParamType.Payload}:0`]: { index: 0, data: undefined, pipes: [upper] } });
  });

  it('throw WSG_ERR_DECORATOR_PARAM for an empty name', () => {
    thrown(() => Param(''), 'WSG_ERR_DECORATOR_PARAM');
    thrown(() => Query(''), 'WSG_ERR_DECORATOR_PARAM');
    thrown(() => Headers(5 as never), 'WSG_ERR_DECORATOR_PARAM');
  });

  it('throw WSG_ERR_DECORATOR_PIPE for something that is not a pipe', () => {
    thrown(() => Payload('x', 42 as never), 'WSG_ERR_DECORATOR_PIPE');
    thrown(() => Query('n', {} as never), 'WSG_ERR_DECORATOR_PIPE');
  });

  it('throw WSG_ERR_DECORATOR_TARGET on a constructor parameter', () => {
    thrown(() => {
      class G {
        constructor(@Conn() readonly c: unknown) {}
      }
      return G;
    }, 'WSG_ERR_DECORATOR_TARGET');
  });
});

describe('@PushResources', () => {
  it.each([
    ['an empty list', []],
    ['a relative path', ['style.css']],
    ['an absolute URL', ['https://cdn.example/app.js']],
    ['a link with an uppercase as', [{ path: '/a.js', as: 'Script' }]],
    ['not an array', '/a.js'],
  ])('throws WSG_ERR_DECORATOR_PUSH_PATHS for %s, when the class is defined', (_what, links) => {
    expect(thrown(() => PushResources(links as never), 'WSG_ERR_DECORATOR_PUSH_PATHS').message).toBe(
      `@PushResources takes a non-empty array of origin-form paths or { path, as } links, got ${JSON.stringify(links)}`,
    );
  });
});
