import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { ProtocolError } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import type { RawFrameOptions } from '../../support/raw-peer.js';
import { EchoHarness, expectFailure, patterned } from './echo-harness.js';

// Autobahn category 3: reserved bits with no extension negotiated.
let harness: EchoHarness;
beforeEach(async () => {
  harness = await EchoHarness.start();
});
afterEach(async () => {
  await harness.close();
});

const RSV_CASES: Array<[string, RawFrameOptions]> = [
  ['RSV1', { rsv1: true }],
  ['RSV2', { rsv2: true }],
  ['RSV3', { rsv3: true }],
  ['RSV1+RSV2', { rsv1: true, rsv2: true }],
  ['RSV1+RSV3', { rsv1: true, rsv3: true }],
  ['RSV2+RSV3', { rsv2: true, rsv3: true }],
  ['RSV1+RSV2+RSV3', { rsv1: true, rsv2: true, rsv3: true }],
];

const FAIL = { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_UNEXPECTED_RSV' } as const;

describe('RFC 6455 §5.2 reserved bits must be 0 unless an extension defines them (Autobahn 3.1–3.7)', () => {
  it.each(RSV_CASES)('closes 1002 WSG_ERR_UNEXPECTED_RSV on a text frame with %s set', async (_name, bits) => {
    const { peer, side } = await harness.connect();
    await peer.sendText('Hello, world!', bits);
    await expectFailure(peer, side, FAIL);
  });

  it('echoes a message sent before a RSV2 frame, then closes 1002 and answers nothing after it (Autobahn 3.2)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(
      Buffer.concat([
        peer.frame(Opcode.Text, 'before'),
        peer.frame(Opcode.Text, 'bad', { rsv2: true }),
        peer.frame(Opcode.Ping, 'after'),
        peer.frame(Opcode.Text, 'after'),
      ]),
    );
    const echo = await peer.nextFrame();
    expect(echo.opcode).toBe(Opcode.Text);
    expect(echo.payload.toString()).toBe('before');
    await expectFailure(peer, side, FAIL);
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Close]);
  });

  it('closes 1002 on RSV3 set on a text frame delivered one byte per tick, answering nothing after it (Autobahn 3.3)', async () => {
    const { peer, side } = await harness.connect();
    await peer.drip(Buffer.concat([peer.frame(Opcode.Text, 'ok'), peer.frame(Opcode.Text, 'bad', { rsv3: true })]));
    expect((await peer.nextFrame()).payload.toString()).toBe('ok');
    await expectFailure(peer, side, FAIL);
    // The server may close TCP before the rest is written; the ping must never get a pong.
    await peer.write(peer.frame(Opcode.Ping, 'after'));
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Close]);
  });

  it('closes 1002 on a binary frame with RSV1+RSV2 set (Autobahn 3.5)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendBinary(patterned(256), { rsv1: true, rsv2: true });
    await expectFailure(peer, side, FAIL);
  });

  it('closes 1002 on a ping with RSV1+RSV3 set, without answering it (Autobahn 3.6)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendFrame(Opcode.Ping, 'ping', { rsv1: true, rsv3: true });
    await expectFailure(peer, side, FAIL);
    expect(peer.frames.filter((f) => f.opcode === Opcode.Pong)).toEqual([]);
  });

  it('closes 1002 on a close frame with all three RSV bits set (Autobahn 3.7)', async () => {
    const { peer, side } = await harness.connect();
    await peer.sendFrame(Opcode.Close, Buffer.from([0x03, 0xe8]), { rsv1: true, rsv2: true, rsv3: true });
    await expectFailure(peer, side, FAIL);
  });

  it('closes 1002 on a continuation frame with RSV1 set', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Text, 'a', { fin: false }), peer.frame(Opcode.Continuation, 'b', { rsv1: true })]));
    await expectFailure(peer, side, FAIL);
  });
});
