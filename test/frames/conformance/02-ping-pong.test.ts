import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { ProtocolError } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import { EchoHarness, expectCleanClose, expectFailure, patterned } from './echo-harness.js';

// Autobahn category 2: pings and pongs.
let harness: EchoHarness;
beforeEach(async () => {
  harness = await EchoHarness.start();
});
afterEach(async () => {
  await harness.close();
});

describe('RFC 6455 §5.5.2 ping answered by pong (Autobahn 2.1–2.3)', () => {
  it.each([0, 1, 10, 125])('answers a ping with a %i-byte payload with a pong carrying the same bytes', async (size) => {
    const { peer, side } = await harness.connect();
    const payload = patterned(size, 11);
    await peer.ping(payload);
    const pong = await peer.nextFrame();
    expect(pong).toMatchObject({ fin: true, opcode: Opcode.Pong, masked: false });
    expect(pong.payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('answers a ping whose payload is arbitrary binary including 0x00 and 0xff (Autobahn 2.3)', async () => {
    const { peer, side } = await harness.connect();
    const payload = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
    await peer.ping(payload);
    expect((await peer.nextFrame()).payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });

  it('emits the ping to the application with its payload', async () => {
    const { peer, side } = await harness.connect();
    const seen = new Promise<Buffer>((resolve) => side.conn.once('ping', resolve));
    await peer.ping('hello');
    expect((await seen).toString()).toBe('hello');
    expect((await peer.nextFrame()).opcode).toBe(Opcode.Pong);
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §5.5 control frame payload limit (Autobahn 2.4, 2.5)', () => {
  it('accepts a ping with exactly 125 bytes', async () => {
    const { peer, side } = await harness.connect();
    await peer.ping(patterned(125));
    expect((await peer.nextFrame()).payload.length).toBe(125);
    await expectCleanClose(peer, side);
  });

  it('closes 1002 WSG_ERR_CONTROL_FRAME_TOO_LONG on a ping with 126 bytes, without answering it', async () => {
    const { peer, side } = await harness.connect();
    await peer.ping(patterned(126));
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_CONTROL_FRAME_TOO_LONG' });
    expect(peer.frames.filter((f) => f.opcode === Opcode.Pong)).toEqual([]);
  });

  it('closes 1002 WSG_ERR_CONTROL_FRAME_TOO_LONG on a pong with 126 bytes declared by a 16-bit length', async () => {
    const { peer, side } = await harness.connect();
    await peer.pong(patterned(126));
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_CONTROL_FRAME_TOO_LONG' });
  });

  it('answers a 125-byte ping delivered one byte per tick (Autobahn 2.6)', async () => {
    const { peer, side } = await harness.connect();
    const payload = patterned(125, 5);
    await peer.drip(peer.frame(Opcode.Ping, payload));
    expect((await peer.nextFrame()).payload.equals(payload)).toBe(true);
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §5.5.3 unsolicited pong (Autobahn 2.7, 2.8)', () => {
  it('ignores an unsolicited empty pong and keeps echoing', async () => {
    const { peer, side } = await harness.connect();
    await peer.pong();
    await peer.sendText('after pong');
    const next = await peer.nextFrame();
    expect(next.opcode).toBe(Opcode.Text);
    expect(next.payload.toString()).toBe('after pong');
    await expectCleanClose(peer, side);
  });

  it('ignores an unsolicited pong with payload, then answers a ping with its own payload (Autobahn 2.9)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(Buffer.concat([peer.frame(Opcode.Pong, 'unsolicited'), peer.frame(Opcode.Ping, 'solicited')]));
    const pong = await peer.nextFrame();
    expect(pong.opcode).toBe(Opcode.Pong);
    expect(pong.payload.toString()).toBe('solicited');
    await expectCleanClose(peer, side);
    expect(peer.frames.filter((f) => f.opcode === Opcode.Pong)).toHaveLength(1);
  });

  it("reports the unsolicited pong through the 'pong' event", async () => {
    const { peer, side } = await harness.connect();
    const seen = new Promise<Buffer>((resolve) => side.conn.once('pong', resolve));
    await peer.pong('p');
    expect((await seen).toString()).toBe('p');
    await expectCleanClose(peer, side);
  });
});

describe('RFC 6455 §5.5.3 every ping is answered (Autobahn 2.10, 2.11)', () => {
  it('answers 10 pings written in one burst with 10 pongs in order', async () => {
    const { peer, side } = await harness.connect();
    const pings = Array.from({ length: 10 }, (_, i) => peer.frame(Opcode.Ping, `payload-${i}`));
    await peer.write(Buffer.concat(pings));
    for (let i = 0; i < 10; i++) {
      const pong = await peer.nextFrame();
      expect(pong.opcode).toBe(Opcode.Pong);
      expect(pong.payload.toString()).toBe(`payload-${i}`);
    }
    await expectCleanClose(peer, side);
  });

  it('answers 10 pings sent one per tick with 10 pongs in order', async () => {
    const { peer, side } = await harness.connect();
    for (let i = 0; i < 10; i++) {
      await peer.ping(`payload-${i}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < 10; i++) {
      const pong = await peer.nextFrame();
      expect(pong.payload.toString()).toBe(`payload-${i}`);
    }
    await expectCleanClose(peer, side);
  });

  it('answers pings delivered one byte per tick, each with its own pong', async () => {
    const { peer, side } = await harness.connect();
    await peer.drip(Buffer.concat([peer.frame(Opcode.Ping, 'a'), peer.frame(Opcode.Ping, 'bb'), peer.frame(Opcode.Ping, '')]));
    expect((await peer.nextFrame()).payload.toString()).toBe('a');
    expect((await peer.nextFrame()).payload.toString()).toBe('bb');
    expect((await peer.nextFrame()).payload.toString()).toBe('');
    await expectCleanClose(peer, side);
  });

  it('sends the pong for a ping ahead of a large echo queued before it (control frames jump the data queue)', async () => {
    const { peer, side } = await harness.connect();
    await peer.write(peer.frame(Opcode.Binary, patterned(200_000), { fin: false }));
    // The message's last fragment and the ping travel in one small write, so one read batch
    // completes the 200 kB echo and the ping together.
    await peer.write(Buffer.concat([peer.frame(Opcode.Continuation, 'x'), peer.frame(Opcode.Ping, 'urgent')]));
    const first = await peer.nextFrame();
    const second = await peer.nextFrame();
    // Both were produced in one read batch; the pong may not be stuck behind 200 kB of data.
    expect([first.opcode, second.opcode]).toEqual([Opcode.Pong, Opcode.Binary]);
    await expectCleanClose(peer, side);
  });
});
