import { afterEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import type { ConnectionOptions } from '../../../lib/frames/connection-options.js';
import { SendQueueFullError } from '../../../lib/frames/errors.js';
import { encodeOnce, type WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { WsServer } from '../../../lib/frames/websocket-server.js';
import { WsClient } from '../../../lib/http2/ws-client.js';
import { expectCodeInText, expectWsgError } from '../../support/expect-wsg-error.js';

// A slow consumer is cut and told, never silently starved: at maxSendQueue the default
// policy closes 1013, only messages marked volatile are dropped, and WsServer counts both
// (and says so on Node's warning channel, at most one line a second).
const LIMIT = 1000;
const servers: WsServer[] = [];
const clients: WebSocketConnection[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function open(options: ConnectionOptions = {}): Promise<{ server: WsServer; conn: WebSocketConnection; client: WebSocketConnection }> {
  const server = new WsServer({ maxSendQueue: LIMIT, sendLowWaterMark: 100, ...options, port: 0, host: '127.0.0.1' });
  servers.push(server);
  const accepted = new Promise<WebSocketConnection>((resolve) => server.once('connection', resolve));
  const { port } = await server.listen();
  const client = await WsClient.connect(`ws://127.0.0.1:${port}/`);
  clients.push(client);
  return { server, conn: await accepted, client };
}

/** Fills the queue to exactly LIMIT bytes with one binary frame (2 + 2 header bytes). */
function fill(conn: WebSocketConnection): void {
  expect(conn.send(Buffer.alloc(LIMIT - 4, 1))).toBe('queued');
  expect(conn.bufferedAmount).toBe(LIMIT);
}

describe("slow consumer: the default sendQueuePolicy 'close' cuts and tells", () => {
  it('closes 1013 WSG_ERR_SEND_QUEUE_FULL when a peer stops reading; at closeTimeout a peer that never reads is reset, and WsServer counts one close', async () => {
    const { server, conn, client } = await open({ maxSendQueue: 64 * 1024, closeTimeout: 200 });
    expect(conn.options.sendQueuePolicy).toBe('close');
    client.transport.pause();
    const errors: unknown[] = [];
    conn.on('error', (error) => errors.push(error));
    let sent = 0;
    let result: string;
    // Keep sending until the kernel buffers are full and our queue reaches the limit.
    do {
      result = conn.send(Buffer.alloc(16 * 1024, sent));
      if (result !== 'dropped') sent++;
      if (sent % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    } while (result !== 'dropped');
    expect(conn.state).toBe('closing');
    const info = await conn.closed;
    expect(info.code).toBe(CloseCode.TryAgainLater);
    expect(info.wasClean).toBe(false);
    expect(info.error).toBeInstanceOf(SendQueueFullError);
    expectWsgError(info.error, 'WSG_ERR_SEND_QUEUE_FULL', CloseCode.TryAgainLater);
    expect(errors).toEqual([info.error]);
    expect(server.sendQueueTotals).toEqual({ dropped: 0, closed: 1 });
  });

  it('a peer that reads again within closeTimeout gets every admitted message, in order, then the 1013 close frame', async () => {
    const { conn, client } = await open({ closeTimeout: 10_000 });
    const got: Buffer[] = [];
    client.on('message', (data: Buffer) => got.push(data));
    fill(conn);
    expect(conn.send('over')).toBe('dropped');
    expect(conn.state).toBe('closing');
    const info = await client.closed;
    expect(info.code).toBe(CloseCode.TryAgainLater);
    expect(got.map((m) => m.length)).toEqual([LIMIT - 4]);
  });
});

describe('volatile sends: dropped and counted at maxSendQueue, whatever the policy', () => {
  it("a volatile send at maxSendQueue answers 'dropped' and the connection stays open; the next non-volatile send closes 1013; WsServer counts 1 dropped, 1 closed", async () => {
    const { server, conn, client } = await open({ closeTimeout: 10_000 });
    client.on('message', () => undefined);
    fill(conn);
    expect(conn.send('typing', { volatile: true })).toBe('dropped');
    expect(conn.sendPrepared(encodeOnce('typing'), { volatile: true })).toBe('dropped');
    expect(conn.isOpen).toBe(true);
    expect(server.sendQueueTotals).toEqual({ dropped: 2, closed: 0 });
    expect(conn.send('line')).toBe('dropped');
    expect(conn.state).toBe('closing');
    expect(server.sendQueueTotals).toEqual({ dropped: 2, closed: 1 });
    expect((await client.closed).code).toBe(CloseCode.TryAgainLater);
  });

  it('a volatile send below maxSendQueue is sent like any other', async () => {
    const { server, conn, client } = await open();
    expect(conn.send('typing', { volatile: true })).toBe('ok');
    expect((await client.receive()).data).toBe('typing');
    expect(server.sendQueueTotals).toEqual({ dropped: 0, closed: 0 });
  });

  it("under 'error' a volatile send is dropped, not thrown; a non-volatile one still throws SendQueueFullError", async () => {
    const { server, conn } = await open({ sendQueuePolicy: 'error' });
    fill(conn);
    expect(conn.send('typing', { volatile: true })).toBe('dropped');
    expect(() => conn.send('line')).toThrow(SendQueueFullError);
    expect(conn.isOpen).toBe(true);
    // A throw is told to its caller: only the drop is counted.
    expect(server.sendQueueTotals).toEqual({ dropped: 1, closed: 0 });
  });

  it("under 'drop' every send at maxSendQueue is dropped and counted", async () => {
    const { server, conn } = await open({ sendQueuePolicy: 'drop' });
    fill(conn);
    expect(conn.send('a')).toBe('dropped');
    expect(conn.send('b', { volatile: true })).toBe('dropped');
    expect(conn.isOpen).toBe(true);
    expect(server.sendQueueTotals).toEqual({ dropped: 2, closed: 0 });
  });
});

describe("WsServer reports drops and 1013 closes as 'warning' lines, at most one a second", () => {
  it('reports the first drop at once, sums the next ones into one line a second later, and never loses a count', async () => {
    const { server, conn } = await open({ sendQueuePolicy: 'drop' });
    const lines: Array<{ at: number; line: string }> = [];
    server.on('warning', (line: string) => lines.push({ at: Date.now(), line }));
    fill(conn);
    const start = Date.now();
    for (let i = 0; i < 5; i++) expect(conn.send('x', { volatile: true })).toBe('dropped');
    expect(lines).toHaveLength(1);
    expectCodeInText(lines[0]!.line, 'WSG_ERR_SEND_QUEUE_FULL');
    expect(lines[0]!.line).toContain('WsServer: 1 message(s) dropped, 0 connection(s) closed 1013 at maxSendQueue (1000 bytes)');
    // The summed line comes about a second after the first: the rate limit is the behaviour.
    while (lines.length < 2 && Date.now() - start < 3000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines).toHaveLength(2);
    expect(lines[1]!.line).toContain('4 message(s) dropped');
    expect(lines[1]!.line).toContain('totals 5 dropped, 0 closed');
    expect(lines[1]!.at - lines[0]!.at).toBeGreaterThanOrEqual(900);
    expect(server.sendQueueTotals).toEqual({ dropped: 5, closed: 0 });
  });

  it('reports what is still pending when the server closes', async () => {
    const { server, conn } = await open({ sendQueuePolicy: 'drop' });
    const lines: string[] = [];
    server.on('warning', (line: string) => lines.push(line));
    fill(conn);
    conn.send('x', { volatile: true });
    conn.send('y', { volatile: true });
    expect(lines).toHaveLength(1);
    clients.splice(0).forEach((c) => c.terminate());
    await server.close();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('1 message(s) dropped');
  });
});
