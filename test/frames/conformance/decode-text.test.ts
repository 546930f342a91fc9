import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { resolveConnectionOptions } from '../../../lib/frames/connection-options.js';
import { InvalidUtf8Error } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { connectWebSocket, upgradeOverHttp1 } from '../../../lib/frames/websocket-client.js';
import type { WebSocketConnection } from '../../../lib/frames/websocket-connection.js';
import { WsServer } from '../../../lib/frames/websocket-server.js';
import { expectThrowsWsgError } from '../../support/expect-wsg-error.js';
import { EchoHarness, expectCleanClose, expectFailure } from './echo-harness.js';

// decodeText: false hands text messages over as their UTF-8 bytes (a Buffer, isBinary false),
// as ws does, so code that wants bytes pays no decode. The bytes are validated all the same.
let harness: EchoHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const TEXT = 'zoë κόσμε ✓ 你好 🙂';
const TEXT_BYTES = Buffer.from(TEXT, 'utf8');

describe('decodeText option', () => {
  it('defaults to true and must be a boolean (WSG_ERR_INVALID_OPTION)', () => {
    expect(resolveConnectionOptions({}).decodeText).toBe(true);
    expect(resolveConnectionOptions({ decodeText: false }).decodeText).toBe(false);
    const error = expectThrowsWsgError(() => resolveConnectionOptions({ decodeText: 'no' as unknown as boolean }), 'WSG_ERR_INVALID_OPTION');
    expect(error.message).toBe('Option decodeText must be a boolean, got no');
    expectThrowsWsgError(() => new WsServer({ port: 0, decodeText: 0 as unknown as boolean }), 'WSG_ERR_INVALID_OPTION');
  });

  it("default: a text message arrives as a string ('message' event, isBinary false)", async () => {
    harness = await EchoHarness.start({}, 'pull');
    const { peer, side } = await harness.connect();
    const received = new Promise<[unknown, boolean]>((resolve) => side.conn.on('message', (data: unknown, isBinary: boolean) => resolve([data, isBinary])));
    await peer.sendText(TEXT_BYTES);
    expect(await received).toEqual([TEXT, false]);
    await expectCleanClose(peer, side);
  });

  it("false: a text message arrives as a Buffer of its bytes, isBinary false; binary is unchanged", async () => {
    harness = await EchoHarness.start({ decodeText: false }, 'pull');
    const { peer, side } = await harness.connect();
    const received: Array<[unknown, boolean]> = [];
    side.conn.on('message', (data: unknown, isBinary: boolean) => received.push([data, isBinary]));
    await peer.sendText(TEXT_BYTES);
    await peer.sendBinary(Buffer.from([1, 2, 3]));
    await peer.sendText('');
    while (received.length < 3) await once(side.conn, 'message');
    expect(Buffer.isBuffer(received[0]![0])).toBe(true);
    expect((received[0]![0] as Buffer).equals(TEXT_BYTES)).toBe(true);
    expect(received[0]![1]).toBe(false);
    expect(received[1]).toEqual([Buffer.from([1, 2, 3]), true]);
    expect(Buffer.isBuffer(received[2]![0])).toBe(true);
    expect(received[2]).toEqual([Buffer.alloc(0), false]);
    await expectCleanClose(peer, side);
  });

  it('false: receive() gives the Buffer; receiveText() still gives a string', async () => {
    harness = await EchoHarness.start({ decodeText: false }, 'pull');
    const { peer, side } = await harness.connect();
    await peer.sendText(TEXT_BYTES);
    await peer.sendText(TEXT_BYTES);
    const first = await side.conn.receive();
    expect(first.isBinary).toBe(false);
    expect(Buffer.isBuffer(first.data)).toBe(true);
    expect((first.data as Buffer).equals(TEXT_BYTES)).toBe(true);
    expect(await side.conn.receiveText()).toBe(TEXT);
    await expectCleanClose(peer, side);
  });

  it('false: echoed with send(data, { binary: isBinary }), text stays text, byte for byte, also when chopped', async () => {
    harness = await EchoHarness.start({ decodeText: false });
    const { peer, side } = await harness.connect();
    const big = Buffer.concat(Array.from({ length: 4000 }, () => TEXT_BYTES));
    await peer.chop(peer.frame(Opcode.Text, big), 999);
    const echo = await peer.nextMessage();
    expect(echo.opcode).toBe(Opcode.Text);
    expect(echo.payload.equals(big)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('false: invalid UTF-8 in a text message still closes 1007 WSG_ERR_INVALID_UTF8', async () => {
    harness = await EchoHarness.start({ decodeText: false });
    const { peer, side } = await harness.connect();
    await peer.sendText(Buffer.concat([TEXT_BYTES, Buffer.from([0xed, 0xa0, 0x80])]));
    await expectFailure(peer, side, { closeCode: CloseCode.InvalidPayload, errorClass: InvalidUtf8Error, code: 'WSG_ERR_INVALID_UTF8' });
  });

  it('false in the client role: the client gets the server’s text as a Buffer, isBinary false', async () => {
    const server = new WsServer({ port: 0 });
    const { port } = await server.listen();
    server.on('connection', (conn: WebSocketConnection) => conn.send(TEXT));
    const client = await connectWebSocket(`ws://127.0.0.1:${port}/`, { decodeText: false }, upgradeOverHttp1);
    try {
      const message = await client.receive();
      expect(message.isBinary).toBe(false);
      expect(Buffer.isBuffer(message.data)).toBe(true);
      expect((message.data as Buffer).equals(TEXT_BYTES)).toBe(true);
    } finally {
      client.terminate();
      await server.close();
    }
  });
});
