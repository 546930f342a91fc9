import { describe, expect, it } from '@jest/globals';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { enginePairs } from './engine-pair.js';

// Back-pressure on the reading side is one mechanism: pause() stops taking messages and stops
// reading the socket; resume() takes them again, in order. receive() uses the same pause when
// maxReceiveQueue messages wait.
const pair = enginePairs();

function nextMessages(conn: WebSocketConnection, count: number): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve) => {
    const onMessage = (data: string | Buffer): void => {
      got.push(String(data));
      if (got.length === count) {
        conn.off('message', onMessage);
        resolve(got);
      }
    };
    conn.on('message', onMessage);
  });
}

describe('pause() and resume()', () => {
  it("emits no 'message' while paused, stops reading the socket, then delivers everything in order on resume()", async () => {
    const { serverSide, client } = await pair();
    const seen: string[] = [];
    serverSide.on('message', (data: string | Buffer) => seen.push(String(data)));
    serverSide.pause();
    expect(serverSide.isPaused).toBe(true);
    expect(serverSide.transport.isPaused()).toBe(true);
    for (let n = 1; n <= 20; n++) client.send(`m${n}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]);
    serverSide.resume();
    expect(serverSide.isPaused).toBe(false);
    const deadline = Date.now() + 2_000;
    while (seen.length < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
  });

  it('holds the peer back through TCP: a paused reader makes the sender queue', async () => {
    const { serverSide, client } = await pair();
    serverSide.on('message', () => undefined);
    serverSide.pause();
    const chunk = Buffer.alloc(256 * 1024, 1);
    // Loopback buffers take a few MiB; past that the client's own queue must grow.
    for (let i = 0; i < 64 && client.bufferedAmount < 1024 * 1024; i++) {
      client.send(chunk);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(client.bufferedAmount).toBeGreaterThanOrEqual(1024 * 1024);
    serverSide.resume();
    await client.drain();
    expect(client.bufferedAmount).toBeLessThanOrEqual(client.options.sendLowWaterMark);
  });

  it('keeps a paused connection closable: the close handshake completes, data before the reply is dropped', async () => {
    const { serverSide, client } = await pair();
    const seen: string[] = [];
    serverSide.on('message', (data: string | Buffer) => seen.push(String(data)));
    serverSide.pause();
    client.send('before-close');
    await new Promise((resolve) => setTimeout(resolve, 50));
    serverSide.close(1000, 'bye');
    const [serverInfo, clientInfo] = await Promise.all([serverSide.closed, client.closed]);
    expect(serverInfo).toMatchObject({ code: 1000, wasClean: true });
    expect(clientInfo).toMatchObject({ code: 1000, reason: 'bye', wasClean: true });
    expect(seen).toEqual([]);
  });

  it('is idempotent: two pauses need one resume', async () => {
    const { serverSide, client } = await pair();
    serverSide.pause();
    serverSide.pause();
    serverSide.resume();
    expect(serverSide.isPaused).toBe(false);
    const got = nextMessages(serverSide, 1);
    client.send('after');
    expect(await got).toEqual(['after']);
  });
});

describe('one consumer per connection', () => {
  it("queues for receive() until a 'message' listener attaches; the listener then gets the queue first, in order", async () => {
    const { serverSide, client } = await pair();
    client.send('a');
    client.send('b');
    expect((await serverSide.receive()).data).toBe('a');
    const got = nextMessages(serverSide, 2);
    client.send('c');
    expect(await got).toEqual(['b', 'c']);
  });

  it('pauses reading at maxReceiveQueue waiting messages and resumes as receive() takes them', async () => {
    const { serverSide, client } = await pair({ maxReceiveQueue: 3 });
    for (let n = 1; n <= 5; n++) client.send(`q${n}`);
    const deadline = Date.now() + 2_000;
    while (!serverSide.transport.isPaused() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(serverSide.transport.isPaused()).toBe(true);
    // The application's own pause is not the queue's: isPaused speaks of pause() only.
    expect(serverSide.isPaused).toBe(false);
    const read: string[] = [];
    for (let n = 1; n <= 5; n++) read.push(String((await serverSide.receive()).data));
    expect(read).toEqual(['q1', 'q2', 'q3', 'q4', 'q5']);
  });
});
