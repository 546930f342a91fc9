import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { ProtocolError } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { EchoHarness, expectFailure, patterned } from './echo-harness.js';

// Autobahn category 4: reserved opcodes.
let harness: EchoHarness;
beforeEach(async () => {
  harness = await EchoHarness.start();
});
afterEach(async () => {
  await harness.close();
});

const FAIL = { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_INVALID_OPCODE' } as const;
const RESERVED_DATA = [0x3, 0x4, 0x5, 0x6, 0x7];
const RESERVED_CONTROL = [0xb, 0xc, 0xd, 0xe, 0xf];
const hex = (n: number): string => `0x${n.toString(16).toUpperCase()}`;

describe('RFC 6455 §5.2 reserved non-control opcodes 0x3–0x7 (Autobahn 4.1)', () => {
  it.each(RESERVED_DATA.map((op): [string, number] => [hex(op), op]))('closes 1002 WSG_ERR_INVALID_OPCODE on an empty frame with opcode %s', async (_name, opcode) => {
    const { peer, side } = await harness.connect();
    await peer.sendFrame(opcode);
    await expectFailure(peer, side, FAIL);
  });

  it.each(RESERVED_DATA.map((op): [string, number] => [hex(op), op]))('closes 1002 on opcode %s with a payload, after echoing the message sent before it, answering nothing after', async (_name, opcode) => {
    const { peer, side } = await harness.connect();
    await peer.write(
      Buffer.concat([peer.frame(Opcode.Text, 'before'), peer.frame(opcode, patterned(300)), peer.frame(Opcode.Ping, 'after')]),
    );
    expect((await peer.nextFrame()).payload.toString()).toBe('before');
    await expectFailure(peer, side, FAIL);
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Close]);
  });
});

describe('RFC 6455 §5.2 reserved control opcodes 0xB–0xF (Autobahn 4.2)', () => {
  it.each(RESERVED_CONTROL.map((op): [string, number] => [hex(op), op]))('closes 1002 WSG_ERR_INVALID_OPCODE on an empty frame with opcode %s', async (_name, opcode) => {
    const { peer, side } = await harness.connect();
    await peer.sendFrame(opcode);
    await expectFailure(peer, side, FAIL);
  });

  it.each(RESERVED_CONTROL.map((op): [string, number] => [hex(op), op]))('closes 1002 on opcode %s with a payload, after echoing the message sent before it, answering nothing after', async (_name, opcode) => {
    const { peer, side } = await harness.connect();
    await peer.write(
      Buffer.concat([peer.frame(Opcode.Text, 'before'), peer.frame(opcode, patterned(100)), peer.frame(Opcode.Ping, 'after')]),
    );
    expect((await peer.nextFrame()).payload.toString()).toBe('before');
    await expectFailure(peer, side, FAIL);
    expect(peer.frames.map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Close]);
  });

  it('closes 1002 on a reserved control opcode delivered one byte per tick', async () => {
    const { peer, side } = await harness.connect();
    await peer.drip(Buffer.concat([peer.frame(Opcode.Text, 'ok'), peer.frame(0xb, 'x')]));
    expect((await peer.nextFrame()).payload.toString()).toBe('ok');
    await expectFailure(peer, side, FAIL);
  });

  it('closes 1002 on a reserved opcode inside a fragmented message', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Text, 'frag', { fin: false }), peer.frame(0x5, 'x', { fin: false })]));
    await expectFailure(peer, side, FAIL);
  });
});
