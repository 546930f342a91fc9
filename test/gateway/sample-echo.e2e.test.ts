import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { WsClient } from '../../lib/http2/ws-client.js';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { EchoAppModule } from '../../sample/01-echo/app.module.js';
import { startSample } from '../../sample/shared/bootstrap.js';
import { PLATFORMS } from './support/nest-app.js';
import { WsTestClient } from './support/ws-client.js';

describe.each(PLATFORMS)('sample 01-echo on %s', (platform) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    app = await startSample(EchoAppModule, { port: 0, platform, logger: false });
    url = `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/echo`;
  });
  afterAll(async () => {
    await app.close();
  });

  it('echoes events to a ws client, in order', async () => {
    const client = await WsTestClient.connect(url);
    for (let i = 0; i < 100; i++) client.emit('echo', { i });
    const replies = await client.takeJson(100);
    expect(replies.map((r) => (r.data as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await client.close();
  });

  it('echoes to the engine client and closes cleanly', async () => {
    const client = await WsClient.connect(url);
    client.sendText(JSON.stringify({ event: 'echo', data: 'hi' }));
    expect(JSON.parse(await client.receiveText())).toEqual({ event: 'echo', data: 'hi' });
    client.close(CloseCode.Normal);
    expect((await client.closed).wasClean).toBe(true);
  });

  it('answers an unknown event with an error event', async () => {
    const client = await WsTestClient.connect(url);
    client.emit('shout', 1);
    expect(await client.nextJson()).toMatchObject({ event: 'error', data: { code: 'WSG_ERR_GATEWAY_UNKNOWN_EVENT' } });
    await client.close();
  });
});
