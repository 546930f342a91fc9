import { describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import type { SendQueuePolicy } from '../../../lib/frames/connection-options.js';
import { SendQueueFullError } from '../../../lib/frames/errors.js';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { expectThrowsWsgError, expectWsgError } from '../../support/expect-wsg-error.js';
import { enginePairs } from './engine-pair.js';

// maxSendQueue bounds what waits behind the socket. A send made while the queue is below the
// limit is admitted whole (the queue may overshoot by that one message, as a Node Writable
// overshoots its highWaterMark); a send made at or over it follows sendQueuePolicy. Frames
// leave on the next tick, so sends in one tick see each other in bufferedAmount.
const LIMIT = 1000;
const pair = enginePairs();

async function serverSide(policy: SendQueuePolicy): Promise<{ conn: WebSocketConnection; client: WebSocketConnection }> {
  const { serverSide: conn, client } = await pair({ maxSendQueue: LIMIT, sendLowWaterMark: 100, sendQueuePolicy: policy }, { maxMessageSize: 1 << 20 });
  return { conn, client };
}

/** A binary frame of exactly `frameBytes` bytes on the wire (server frames are unmasked). */
function payloadForFrame(frameBytes: number): Buffer {
  const header = frameBytes - 2 <= 125 ? 2 : 4;
  return Buffer.alloc(frameBytes - header, 1);
}

describe('limit maxSendQueue: a send below the limit is admitted whole', () => {
  it('admits a message larger than maxSendQueue when nothing is queued', async () => {
    const { conn, client } = await serverSide('error');
    const big = Buffer.alloc(10 * LIMIT, 2);
    expect(conn.send(big)).toBe('queued');
    expect(conn.bufferedAmount).toBe(big.length + 4);
    const got = await client.receive();
    expect(Buffer.compare(got.data as Buffer, big)).toBe(0);
  });

  it('admits a send at maxSendQueue - 1 queued bytes, overshooting by that message', async () => {
    const { conn } = await serverSide('error');
    expect(conn.send(payloadForFrame(LIMIT - 1))).toBe('queued');
    expect(conn.bufferedAmount).toBe(LIMIT - 1);
    expect(conn.send(Buffer.alloc(500))).toBe('queued');
    expect(conn.bufferedAmount).toBe(LIMIT - 1 + 504);
  });
});

describe('limit maxSendQueue: a send at or over the limit follows sendQueuePolicy', () => {
  it("'error': throws SendQueueFullError WSG_ERR_SEND_QUEUE_FULL (no close) at exactly maxSendQueue queued bytes", async () => {
    const { conn, client } = await serverSide('error');
    expect(conn.send(payloadForFrame(LIMIT))).toBe('queued');
    expect(conn.bufferedAmount).toBe(LIMIT);
    const error = expectThrowsWsgError(() => conn.send('x'), 'WSG_ERR_SEND_QUEUE_FULL');
    expect(error).toBeInstanceOf(SendQueueFullError);
    expect(conn.isOpen).toBe(true);
    // What was admitted still arrives; the refused message does not.
    expect((await client.receive()).data).toEqual(payloadForFrame(LIMIT));
    expect(conn.send('after')).toBe('ok');
    expect((await client.receive()).data).toBe('after');
  });

  it("'drop': answers 'dropped' and keeps the connection", async () => {
    const { conn, client } = await serverSide('drop');
    conn.send(payloadForFrame(LIMIT));
    expect(conn.send('x')).toBe('dropped');
    expect(conn.isOpen).toBe(true);
    expect((await client.receive()).data).toEqual(payloadForFrame(LIMIT));
  });

  it("'close': answers 'dropped' and closes 1013 (Try Again Later); the client is told", async () => {
    const { conn, client } = await serverSide('close');
    conn.send(payloadForFrame(LIMIT));
    expect(conn.send('x')).toBe('dropped');
    const info = await conn.closed;
    expectWsgError(info.error, 'WSG_ERR_SEND_QUEUE_FULL', CloseCode.TryAgainLater);
    client.on('message', () => undefined);
    expect((await client.closed).code).toBe(CloseCode.TryAgainLater);
  });
});
