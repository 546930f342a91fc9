import { afterEach, describe, expect, it } from '@jest/globals';
import { encodeFrame } from '../../../lib/frames/frame-encoder.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import type { WsServerOptions } from '../../../lib/frames/websocket-server.js';
import { EchoHarness, expectCleanClose, patterned, type ServerMode, type ServerSide } from './echo-harness.js';

// README: "Frames queued in one tick leave in one socket write; pings and pongs jump the data
// queue". The engine's real TCP socket (conn.transport) is observed, not replaced: every call
// to its write() is recorded with the bytes and whether the socket was corked at the time
// (corked writes leave as one writev when uncorked).
//
// Mutations caught (lib/frames/websocket-connection.ts): flush per frame (scheduleFlush()
// calling flush() at once instead of on the next tick); control frames written after the data
// queue instead of before it (flush() joining data.concat(control)).
let harness: EchoHarness | undefined;
async function start(options: Omit<WsServerOptions, 'port' | 'server'> = {}, mode: ServerMode = 'pull'): Promise<EchoHarness> {
  harness = await EchoHarness.start(options, mode);
  return harness;
}
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface RecordedWrite {
  bytes: Buffer;
  /** socket.writableCorked when write() was called: > 0 means part of one writev. */
  corked: number;
}

/** Records every write() on the engine's socket from now on; the writes still go through. */
function recordWrites(side: ServerSide): RecordedWrite[] {
  const socket = side.conn.transport;
  const writes: RecordedWrite[] = [];
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    writes.push({ bytes: Buffer.from(chunk as Uint8Array), corked: socket.writableCorked });
    return write(chunk, ...rest);
  }) as typeof socket.write;
  return writes;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** What a server sends: unmasked frames. */
const text = (s: string): Buffer => encodeFrame(Opcode.Text, Buffer.from(s, 'utf8'));
const binary = (b: Buffer): Buffer => encodeFrame(Opcode.Binary, b);

describe('writer: frames queued in one tick leave in one socket write', () => {
  it('five sends in one tick reach the socket as exactly one write holding the five frames in order', async () => {
    const h = await start();
    const { peer, side } = await h.connect();
    const writes = recordWrites(side);
    for (const s of ['m0', 'm1', 'm2', 'm3', 'm4']) side.conn.send(s);
    expect(writes).toHaveLength(0);
    for (let i = 0; i < 5; i++) expect((await peer.nextMessage()).payload.toString()).toBe(`m${i}`);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.bytes.equals(Buffer.concat(['m0', 'm1', 'm2', 'm3', 'm4'].map(text)))).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('sends in different ticks leave in different writes (the recorder sees every write)', async () => {
    const h = await start();
    const { peer, side } = await h.connect();
    const writes = recordWrites(side);
    side.conn.send('a');
    await tick();
    side.conn.send('b');
    await peer.nextMessage();
    await peer.nextMessage();
    expect(writes.map((w) => w.bytes)).toEqual([text('a'), text('b')]);
    await expectCleanClose(peer, side);
  });

  it('a batch over 64 KiB is written while the socket is corked: one writev of every frame, in order', async () => {
    const h = await start();
    const { peer, side } = await h.connect();
    const writes = recordWrites(side);
    const payloads = [patterned(30 * 1024, 1), patterned(30 * 1024, 2), patterned(30 * 1024, 3)];
    for (const p of payloads) side.conn.sendBytes(p);
    for (const p of payloads) expect((await peer.nextMessage()).payload.equals(p)).toBe(true);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((w) => w.corked > 0)).toBe(true);
    expect(Buffer.concat(writes.map((w) => w.bytes)).equals(Buffer.concat(payloads.map(binary)))).toBe(true);
    await expectCleanClose(peer, side);
  });
});

describe('writer: pings and pongs jump the data queue', () => {
  it('a ping and a pong queued after two messages in the same tick leave first, in the same write', async () => {
    const h = await start();
    const { peer, side } = await h.connect();
    const writes = recordWrites(side);
    side.conn.send('first');
    side.conn.sendBytes(patterned(10));
    side.conn.ping('p');
    side.conn.pong('q');
    const order: number[] = [];
    for (let i = 0; i < 4; i++) order.push((await peer.nextFrame()).opcode);
    expect(order).toEqual([Opcode.Ping, Opcode.Pong, Opcode.Text, Opcode.Binary]);
    expect(writes).toHaveLength(1);
    const expected = Buffer.concat([
      encodeFrame(Opcode.Ping, Buffer.from('p')),
      encodeFrame(Opcode.Pong, Buffer.from('q')),
      text('first'),
      binary(patterned(10)),
    ]);
    expect(writes[0]!.bytes.equals(expected)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('echoes of messages read in one chunk leave in one write, with the pong for a ping behind them first', async () => {
    const h = await start({}, 'echo');
    const { peer, side } = await h.connect();
    const writes = recordWrites(side);
    const arrived = new Promise<number>((resolve) => side.conn.transport.once('data', (chunk: Buffer) => resolve(chunk.length)));
    const burst = Buffer.concat([peer.frame(Opcode.Text, 'e0'), peer.frame(Opcode.Text, 'e1'), peer.frame(Opcode.Text, 'e2'), peer.frame(Opcode.Ping, 'sync')]);
    await peer.write(burst);
    // One read of the whole burst is the premise: the kernel delivered it in one chunk.
    expect(await arrived).toBe(burst.length);
    const opcodes: number[] = [];
    for (let i = 0; i < 4; i++) opcodes.push((await peer.nextFrame()).opcode);
    expect(opcodes).toEqual([Opcode.Pong, Opcode.Text, Opcode.Text, Opcode.Text]);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.bytes.equals(Buffer.concat([encodeFrame(Opcode.Pong, Buffer.from('sync')), text('e0'), text('e1'), text('e2')]))).toBe(true);
    await expectCleanClose(peer, side);
  });
});
