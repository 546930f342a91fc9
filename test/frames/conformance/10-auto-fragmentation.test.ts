import { afterEach, describe, expect, it } from '@jest/globals';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { WsClient } from '../../../lib/http2/ws-client.js';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { RawServer, type RawPeer } from '../../support/raw-peer.js';
import { EchoHarness, expectCleanClose, patterned } from './echo-harness.js';

// Autobahn category 10: large messages arrive intact whatever the fragmentation and TCP chunking.
let harness: EchoHarness | undefined;
let rawServer: RawServer | undefined;
let client: WebSocketConnection | undefined;
afterEach(async () => {
  client?.terminate();
  client = undefined;
  await rawServer?.close();
  rawServer = undefined;
  await harness?.close();
  harness = undefined;
});

function fragmented(peer: RawPeer, opcode: number, payload: Buffer, fragmentSize: number): Buffer {
  const frames: Buffer[] = [];
  for (let at = 0; at < payload.length; at += fragmentSize) {
    const part = payload.subarray(at, at + fragmentSize);
    frames.push(peer.frame(at === 0 ? opcode : Opcode.Continuation, part, { fin: at + fragmentSize >= payload.length }));
  }
  return Buffer.concat(frames);
}

const CASES: Array<[number, number]> = [
  // [fragment size, TCP chop size]
  [1300, 65536], // Autobahn 10.1.1
  [1300, 997],
  [1, 4096],
  [65536, 5],
  [4095, 4097],
];

describe('RFC 6455 §5.4 server reassembles a 64 KiB message regardless of fragments and chops (Autobahn 10.1)', () => {
  it.each(CASES)('echoes 65536 bytes of text sent in %i-byte fragments and %i-byte chops', async (fragmentSize, chopSize) => {
    harness = await EchoHarness.start();
    const { peer, side } = await harness.connect();
    const text = Buffer.from('αβγδε'.repeat(6554).slice(0, 32768), 'utf8').subarray(0, 65536);
    const wire = fragmented(peer, Opcode.Text, text, fragmentSize);
    // Multi-byte characters split across fragments and chops must still validate.
    await peer.chop(wire, chopSize);
    const echo = await peer.nextMessage();
    expect(echo.opcode).toBe(Opcode.Text);
    expect(echo.payload.equals(text)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it.each(CASES)('echoes 65536 bytes of binary sent in %i-byte fragments and %i-byte chops', async (fragmentSize, chopSize) => {
    harness = await EchoHarness.start();
    const { peer, side } = await harness.connect();
    const payload = patterned(65536, fragmentSize);
    await peer.chop(fragmented(peer, Opcode.Binary, payload, fragmentSize), chopSize);
    expect((await peer.nextMessage()).payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §5.4 client role reassembles large server messages', () => {
  it.each([
    [512 * 1024, 100, 333],
    [512 * 1024, 65536, 1000],
    [64 * 1024, 1, 65536],
  ])('receives a %i-byte binary message sent by the server in %i-byte fragments and %i-byte chops', async (size, fragmentSize, chopSize) => {
    rawServer = await RawServer.listen();
    const connecting = WsClient.connect(rawServer.url, { maxMessageSize: 1024 * 1024 });
    const peer = await rawServer.nextPeer();
    client = await connecting;
    const payload = patterned(size, 5);
    const received = client.receiveBytes();
    await peer.chop(fragmented(peer, Opcode.Binary, payload, fragmentSize), chopSize);
    expect((await received).equals(payload)).toBe(true);
    // The client's own frames are masked.
    client.sendText('thanks');
    const reply = await peer.nextFrame();
    expect(reply.masked).toBe(true);
    expect(reply.payload.toString()).toBe('thanks');
  });
});
