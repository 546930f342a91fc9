import { describe, it, expect } from '@jest/globals';
import { createServer } from 'node:http';
import { DeflateConfig } from '../../../lib/frames/deflate-negotiation.js';
import { InvalidOptionError } from '../../../lib/frames/errors.js';
import { Limits } from '../../../lib/frames/limits.js';
import { resolveServerOptions } from '../../../lib/gateway/adapter/adapter-options.js';
import { GatewayError, GatewayLimits, WsGateAdapter, jsonMessageParser } from '../../../lib/gateway/index.js';
import { expectThrowsWsgError, expectWsgError } from '../../support/expect-wsg-error.js';

/** Options are refused with WSG_ERR_GATEWAY_INVALID_OPTION, a GatewayError that closes nothing. */
function rejected(run: () => unknown): GatewayError {
  const error = expectThrowsWsgError(run, 'WSG_ERR_GATEWAY_INVALID_OPTION');
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('WsGateAdapter options: defaults', () => {
  it('keeps platform-ws behaviour by default: 100 MiB messages, unbounded send queue, unordered, silent drops, close code, terminate', () => {
    const o = resolveServerOptions({}, {}, 'test');
    expect(o.connection.maxMessageSize).toBe(100 * 1024 * 1024);
    expect(o.connection.maxFrameSize).toBe(100 * 1024 * 1024);
    expect(o.connection.maxSendQueue).toBe(Number.MAX_SAFE_INTEGER);
    expect(o.connection.sendQueuePolicy).toBe('close');
    expect(o.connection.closeTimeout).toBe(Limits.closeTimeout.default);
    expect(o).toMatchObject({
      perMessageDeflate: null,
      ordered: false,
      maxMailbox: GatewayLimits.maxMailbox.default,
      onUnknownEvent: 'ignore',
      onUndecodable: 'ignore',
      disconnectReason: 'code',
      onShutdown: 'terminate',
      messageParser: jsonMessageParser,
      customParser: false,
      verifyClient: null,
      handleProtocols: null,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it("lets a gateway's own options win over the adapter's, and maps ws names to wsgate's", () => {
    const o = resolveServerOptions({ ordered: true, maxPayload: 2048, onUnknownEvent: 'error' }, { onUnknownEvent: 'close', maxPendingAutoPongs: 7 }, 'test');
    expect(o).toMatchObject({ ordered: true, onUnknownEvent: 'close' });
    expect(o.connection).toMatchObject({ maxMessageSize: 2048, maxPendingPongs: 7 });
    expect(resolveServerOptions({ maxMessageSize: 10 }, { maxPayload: 20 }, 'test').connection.maxMessageSize).toBe(20);
  });

  it("reads ws's perMessageDeflate form (zlibDeflateOptions.level)", () => {
    const deflate = resolveServerOptions({}, { perMessageDeflate: { threshold: 0, zlibDeflateOptions: { level: 1, chunkSize: 1024 } } }, 'test').perMessageDeflate;
    expect(deflate).toBeInstanceOf(DeflateConfig);
    expect(deflate).toMatchObject({ threshold: 0, level: 1, memLevel: 8 });
    expect(Object.isFrozen(deflate)).toBe(true);
  });
});

describe('WsGateAdapter options: checked at construction (WSG_ERR_GATEWAY_INVALID_OPTION)', () => {
  it.each([
    ['ordered', { ordered: 'yes' }],
    ['onUnknownEvent', { onUnknownEvent: 'drop' }],
    ['onUndecodable', { onUndecodable: true }],
    ['disconnectReason', { disconnectReason: 'reason' }],
    ['onShutdown', { onShutdown: 'kill' }],
    ['maxMailbox', { maxMailbox: 0 }],
    ['messageParser', { messageParser: 'json' }],
    ['verifyClient', { verifyClient: true }],
    ['perMessageDeflate', { perMessageDeflate: 'on' }],
  ])('rejects a bad %s', (_name, options) => {
    rejected(() => new WsGateAdapter(undefined, options as never));
  });

  it('rejects maxPayload and maxMessageSize that disagree', () => {
    expect(rejected(() => new WsGateAdapter(undefined, { maxPayload: 10, maxMessageSize: 20 })).message).toContain('maxPayload (10) and maxMessageSize (20) disagree');
  });

  it("rejects an engine limit the engine rejects, with the engine's error as cause", () => {
    const error = rejected(() => new WsGateAdapter(undefined, { maxSendQueue: 1024 }));
    expect(error.message).toContain('sendLowWaterMark');
    expect(error.cause).toBeInstanceOf(InvalidOptionError);
    expectWsgError(error.cause, 'WSG_ERR_INVALID_OPTION');
    const deflate = rejected(() => new WsGateAdapter(undefined, { perMessageDeflate: { threshold: -1 } }));
    expect(deflate.cause).toBeInstanceOf(InvalidOptionError);
    expectWsgError(deflate.cause, 'WSG_ERR_INVALID_OPTION');
  });
});

describe('WsGateAdapter.create()', () => {
  it('rejects a namespace, as WsAdapter does, and a bad gateway option', async () => {
    const adapter = new WsGateAdapter(createServer());
    expect(rejected(() => adapter.create(0, { namespace: 'chat' })).message).toContain('does not support namespaces');
    expect(rejected(() => adapter.create(0, { path: '/x', onUnknownEvent: 'shout' })).message).toContain('@WebSocketGateway(0, /x)');
    await adapter.dispose();
  });

  it('mounts on the HTTP server it was given and unmounts at dispose()', async () => {
    const http = createServer();
    const adapter = new WsGateAdapter(http);
    const server = adapter.create(0, { path: 'events/' });
    expect(server.path).toBe('/events');
    expect(http.listenerCount('upgrade')).toBe(1);
    adapter.create(0, { path: '/other' });
    expect(http.listenerCount('upgrade')).toBe(1);
    expect(expectThrowsWsgError(() => adapter.create(0, { path: '/events' }), 'WSG_ERR_GATEWAY_DUPLICATE_PATH').message).toBe(
      '@WebSocketGateway(0, events/) and @WebSocketGateway(0, /events) are both mounted at /events on one server',
    );
    await adapter.dispose();
    expect(http.listenerCount('upgrade')).toBe(0);
  });

  it('takes setMessageParser() before the gateways are created, and refuses it after', async () => {
    const adapter = new WsGateAdapter(createServer());
    const parser = (data: string | Buffer) => ({ event: String(data), data: null });
    adapter.setMessageParser(parser);
    const server = adapter.create(0, { path: '/p' });
    expect(server.options.messageParser).toBe(parser);
    expect(server.options.customParser).toBe(true);
    expect(rejected(() => adapter.setMessageParser(parser)).message).toBe('setMessageParser() must be called before the application initializes its gateways');
    await adapter.dispose();
  });
});
