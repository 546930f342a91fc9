import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectedSocket, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { WsGateAdapter } from '../../../lib/gateway/index.js';
import type { WsGateClient } from '../../../lib/gateway/adapter/ws-gate-client.js';
import { expectCodeInText } from '../../support/expect-wsg-error.js';
import { WsTestClient } from '../support/ws-client.js';
import { startAdapterApp, type AdapterApp } from './support/adapter-app.js';
import { LogWatch } from './support/log-watch.js';

// WsGateAdapter's clients past `maxSendQueue` are closed 1013 (its policy), and the close is
// counted and warned like a native gateway's: nothing is lost without a line in the log.
const LIMIT = 4096;

@WebSocketGateway({ path: '/sq' })
class FloodGateway {
  /** Two sends in one tick: the first fills the queue past LIMIT, the second finds it full. */
  @SubscribeMessage('flood')
  flood(@ConnectedSocket() client: WsGateClient) {
    client.send(Buffer.alloc(LIMIT));
    client.send(Buffer.alloc(LIMIT));
  }
}

describe('WsGateAdapter send queue: a client past maxSendQueue is closed 1013, counted and warned', () => {
  const logger = new LogWatch();
  let started: AdapterApp;
  beforeAll(async () => {
    started = await startAdapterApp('express', {
      providers: [FloodGateway],
      adapter: (app) => new WsGateAdapter(app, { maxSendQueue: LIMIT, sendLowWaterMark: 1024 }),
      logger,
    });
  });
  afterAll(async () => {
    await started?.app.close();
  });

  it('closes 1013 and writes one [WSG_ERR_SEND_QUEUE_FULL] warn line', async () => {
    const client = await WsTestClient.connect(started.url('/sq'));
    client.emit('flood', null);
    expect((await client.closed).code).toBe(CloseCode.TryAgainLater);
    const line = await logger.waitFor('warn', 'WSG_ERR_SEND_QUEUE_FULL');
    expectCodeInText(line, 'WSG_ERR_SEND_QUEUE_FULL');
    expect(line).toContain('/sq');
  });
});
