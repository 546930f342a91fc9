import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { WsGateway, OnMessage, OnClose, Payload, Conn, Reason, LifecyclePattern, type WsCloseReason, type WsConnection, type WsCustomCodec } from '../../lib/gateway/index.js';
import { expectWsgError } from '../support/expect-wsg-error.js';
import { PLATFORMS, startApp, type StartedApp } from './support/nest-app.js';
import { gate } from './support/wait-for.js';
import { WsTestClient } from './support/ws-client.js';

@WsGateway({ path: '/json' })
class JsonGateway {
  @OnMessage('echo')
  echo(@Payload() data: unknown) {
    return data;
  }
}

@WsGateway({ path: '/json-catch-all' })
class JsonCatchAllGateway {
  @OnMessage('known')
  known() {
    return 'known';
  }

  @OnMessage()
  any(@Payload() data: unknown, @Conn() conn: WsConnection, ...rest: unknown[]) {
    return { caught: data, rest: rest.length, open: conn.isOpen };
  }
}

/** What the next @OnClose of a strict gateway receives through @Reason(). */
let strictClose = gate<WsCloseReason>();

@WsGateway({ path: '/json-strict', onUnknownEvent: 'close', onUndecodable: 'close' })
class JsonStrictGateway {
  @OnMessage('echo')
  echo(@Payload() data: unknown) {
    return data;
  }

  @OnClose()
  closed(@Reason() reason: WsCloseReason) {
    strictClose.open(reason);
  }
}

@WsGateway({ path: '/text', codec: 'text' })
class TextGateway {
  @OnMessage()
  onText(@Payload() text: string) {
    if (text === 'object') return { as: 'json' };
    return `${typeof text}:${text.toUpperCase()}`;
  }
}

@WsGateway({ path: '/text-strict', codec: 'text', onUndecodable: 'close' })
class TextStrictGateway {
  @OnMessage()
  onText(@Payload() text: string) {
    return text;
  }

  @OnClose()
  closed(@Reason() reason: WsCloseReason) {
    strictClose.open(reason);
  }
}

@WsGateway({ path: '/binary', codec: 'binary' })
class BinaryGateway {
  @OnMessage()
  onBytes(_conn: WsConnection, bytes: Buffer, pattern: string) {
    if (pattern !== LifecyclePattern.Message) throw new Error(`pattern ${pattern}`);
    return Buffer.from([...bytes].reverse());
  }
}

/** `event|json` text frames: a codec users could write. */
const pipeCodec: WsCustomCodec = {
  name: 'pipe',
  decode(data, isBinary) {
    if (isBinary) throw new Error('text only');
    const bar = (data as string).indexOf('|');
    if (bar < 1) throw new Error('expected event|json');
    return { event: (data as string).slice(0, bar), data: JSON.parse((data as string).slice(bar + 1)) };
  },
  encode(event, data) {
    return `${event}|${JSON.stringify(data)}`;
  },
};

@WsGateway({ path: '/custom', codec: pipeCodec })
class CustomGateway {
  @OnMessage('add')
  add(@Payload() data: { a: number; b: number }) {
    return data.a + data.b;
  }
}

@WsGateway('/raw-args')
class RawArgsGateway {
  /** No parameter decorators: called as (conn, data, pattern), like Nest's gateways. */
  @OnMessage('raw')
  raw(conn: WsConnection, data: unknown, pattern: string) {
    return { isConn: typeof conn.id === 'string', data, pattern };
  }

  @OnMessage()
  any(_conn: WsConnection, _data: unknown, pattern: string) {
    return pattern;
  }
}

describe.each(PLATFORMS)('codecs on %s', (platform) => {
  let started: StartedApp;
  beforeAll(async () => {
    started = await startApp(platform, {
      providers: [JsonGateway, JsonCatchAllGateway, JsonStrictGateway, TextGateway, TextStrictGateway, BinaryGateway, CustomGateway, RawArgsGateway],
    });
  });
  afterAll(async () => {
    await started.app.close();
  });

  describe("codec 'json' (Nest-compatible {event, data})", () => {
    it('routes text frames by event and replies under the same event', async () => {
      const client = await WsTestClient.connect(started.url('/json'));
      client.emit('echo', [1, { two: 2 }]);
      expect(await client.nextJson()).toEqual({ event: 'echo', data: [1, { two: 2 }] });
      await client.close();
    });

    it('reads UTF-8 JSON in binary frames too', async () => {
      const client = await WsTestClient.connect(started.url('/json'));
      client.send(Buffer.from(JSON.stringify({ event: 'echo', data: 'é' })), true);
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'é' });
      await client.close();
    });

    it('a catch-all @OnMessage() takes events no other handler takes', async () => {
      const client = await WsTestClient.connect(started.url('/json-catch-all'));
      client.emit('known');
      client.emit('whatever', 5);
      expect(await client.takeJson(2)).toEqual([
        { event: 'known', data: 'known' },
        { event: 'whatever', data: { caught: 5, rest: 0, open: true } },
      ]);
      await client.close();
    });

    it('a handler without parameter decorators is called as (conn, data, pattern)', async () => {
      const client = await WsTestClient.connect(started.url('/raw-args'));
      client.emit('raw', 'x');
      client.emit('other');
      expect(await client.takeJson(2)).toEqual([
        { event: 'raw', data: { isConn: true, data: 'x', pattern: 'raw' } },
        { event: 'other', data: 'other' },
      ]);
      await client.close();
    });
  });

  describe('unknown events: never silence', () => {
    it("default 'error': an error event naming the event, and the connection stays", async () => {
      const client = await WsTestClient.connect(started.url('/json'));
      client.emit('nope', 1);
      expect(await client.nextJson()).toEqual({
        event: 'error',
        data: { code: 'WSG_ERR_GATEWAY_UNKNOWN_EVENT', message: 'No handler for event "nope"', event: 'nope' },
      });
      client.emit('echo', 'still');
      expect(await client.nextJson()).toEqual({ event: 'echo', data: 'still' });
      await client.close();
    });

    it("'close': closes 1003 WSG_ERR_GATEWAY_UNKNOWN_EVENT (cause protocol)", async () => {
      strictClose = gate();
      const client = await WsTestClient.connect(started.url('/json-strict'));
      client.emit('nope');
      expect(await client.closed).toEqual({ code: CloseCode.UnsupportedData, reason: 'unknown event' });
      const reason = await strictClose.promise;
      expect(reason).toMatchObject({ code: CloseCode.UnsupportedData, reason: 'unknown event', cause: 'protocol' });
      expect(expectWsgError(reason.error, 'WSG_ERR_GATEWAY_UNKNOWN_EVENT', CloseCode.UnsupportedData).message).toBe('No handler for event "nope"');
    });
  });

  describe('undecodable messages: never silence', () => {
    it.each([
      ['not JSON', '{oops'],
      ['JSON without event', '{"data":1}'],
      ['a JSON array', '[1,2]'],
    ])("default 'error' for %s: an error event WSG_ERR_GATEWAY_UNDECODABLE", async (_what, text) => {
      const client = await WsTestClient.connect(started.url('/json'));
      client.send(text, false);
      const answer = await client.nextJson<{ code: string }>();
      expect(answer.event).toBe('error');
      expect(answer.data.code).toBe('WSG_ERR_GATEWAY_UNDECODABLE');
      await client.close();
    });

    it("'close': closes 1007 WSG_ERR_GATEWAY_UNDECODABLE for text that is not JSON", async () => {
      strictClose = gate();
      const client = await WsTestClient.connect(started.url('/json-strict'));
      client.send('{oops', false);
      expect(await client.closed).toEqual({ code: CloseCode.InvalidPayload, reason: 'undecodable message' });
      const reason = await strictClose.promise;
      expect(reason).toMatchObject({ code: CloseCode.InvalidPayload, reason: 'undecodable message', cause: 'protocol' });
      expectWsgError(reason.error, 'WSG_ERR_GATEWAY_UNDECODABLE', CloseCode.InvalidPayload);
    });

    it("'close': closes 1007 WSG_ERR_GATEWAY_UNDECODABLE for binary that is not UTF-8", async () => {
      strictClose = gate();
      const client = await WsTestClient.connect(started.url('/json-strict'));
      client.send(Buffer.from([0xff, 0xfe, 0x7b]), true);
      expect(await client.closed).toEqual({ code: CloseCode.InvalidPayload, reason: 'undecodable message' });
      expectWsgError((await strictClose.promise).error, 'WSG_ERR_GATEWAY_UNDECODABLE', CloseCode.InvalidPayload);
    });

    it("'close': closes 1003 WSG_ERR_GATEWAY_UNDECODABLE for the wrong frame type (binary to a text gateway)", async () => {
      strictClose = gate();
      const client = await WsTestClient.connect(started.url('/text-strict'));
      client.send(Buffer.from('hi'), true);
      expect(await client.closed).toEqual({ code: CloseCode.UnsupportedData, reason: 'undecodable message' });
      const reason = await strictClose.promise;
      expect(reason).toMatchObject({ code: CloseCode.UnsupportedData, cause: 'protocol' });
      expectWsgError(reason.error, 'WSG_ERR_GATEWAY_UNDECODABLE', CloseCode.UnsupportedData);
    });
  });

  describe("codec 'text'", () => {
    it('hands text to the catch-all as a string and sends strings back as text', async () => {
      const client = await WsTestClient.connect(started.url('/text'));
      client.send('hello', false);
      expect(await client.next()).toEqual({ data: 'string:HELLO', isBinary: false });
      client.send('object', false);
      expect(await client.next()).toEqual({ data: '{"as":"json"}', isBinary: false });
      await client.close();
    });

    it('answers a binary frame with an error event (as JSON text)', async () => {
      const client = await WsTestClient.connect(started.url('/text'));
      client.send(Buffer.from('x'), true);
      const m = await client.next();
      expect(JSON.parse(m.data as string)).toMatchObject({ code: 'WSG_ERR_GATEWAY_UNDECODABLE' });
      await client.close();
    });
  });

  describe("codec 'binary'", () => {
    it('hands bytes to the catch-all as a Buffer (pattern $message) and sends bytes back as binary', async () => {
      const client = await WsTestClient.connect(started.url('/binary'));
      client.send(Buffer.from([1, 2, 3]), true);
      const m = await client.next();
      expect(m.isBinary).toBe(true);
      expect([...(m.data as Buffer)]).toEqual([3, 2, 1]);
      await client.close();
    });
  });

  describe('custom codec', () => {
    it('decodes and encodes with the given object', async () => {
      const client = await WsTestClient.connect(started.url('/custom'));
      client.send('add|{"a":2,"b":3}', false);
      expect((await client.next()).data).toBe('add|5');
      client.send('garbage', false);
      expect((await client.next()).data).toBe('error|{"code":"WSG_ERR_GATEWAY_UNDECODABLE","message":"expected event|json"}');
      await client.close();
    });
  });
});
