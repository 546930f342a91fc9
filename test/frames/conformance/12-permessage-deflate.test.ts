import { afterEach, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../../lib/frames/close-codes.js';
import { CapacityError, InvalidUtf8Error, ProtocolError, WsgError } from '../../../lib/frames/errors.js';
import { Opcode } from '../../../lib/frames/opcodes.js';
import type { PerMessageDeflateOptions } from '../../../lib/frames/deflate-negotiation.js';
import type { WsServerOptions } from '../../../lib/frames/websocket-server.js';
import { RawDeflater, RawInflater, compressMessage, inflateMessage, normaliseExtensions } from '../../support/raw-deflate.js';
import type { RawPeer } from '../../support/raw-peer.js';
import { EchoHarness, expectCleanClose, expectFailure, patterned } from './echo-harness.js';

// Autobahn categories 12 and 13: permessage-deflate (RFC 7692) negotiation and round trips.
let harness: EchoHarness | undefined;
const cleanups: Array<() => void> = [];
async function start(options: Omit<WsServerOptions, 'port' | 'server'>): Promise<EchoHarness> {
  harness = await EchoHarness.start(options);
  return harness;
}
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await harness?.close();
  harness = undefined;
});

const offer = (value: string): { headers: Record<string, string> } => ({ headers: { 'Sec-WebSocket-Extensions': value } });
const negotiated = (peer: RawPeer): string[] => normaliseExtensions(peer.response?.headers['sec-websocket-extensions']);

/** Compressible text of `size` bytes. */
function sampleText(size: number, seed = 0): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
  let out = '';
  for (let i = 0; out.length < size; i++) out += words[(i * 7 + seed) % words.length] + ' ';
  return out.slice(0, size);
}

describe('RFC 7692 §5, §7.1 negotiation by the server (Autobahn 13 parameter sets)', () => {
  const CASES: Array<[string, boolean | PerMessageDeflateOptions, string, string[]]> = [
    ['plain offer', true, 'permessage-deflate', ['permessage-deflate']],
    ['client_max_window_bits without value', true, 'permessage-deflate; client_max_window_bits', ['permessage-deflate']],
    ['server_no_context_takeover is echoed', true, 'permessage-deflate; server_no_context_takeover', ['permessage-deflate; server_no_context_takeover']],
    ['client_no_context_takeover is echoed', true, 'permessage-deflate; client_no_context_takeover', ['permessage-deflate; client_no_context_takeover']],
    ['server_max_window_bits=10 is accepted', true, 'permessage-deflate; server_max_window_bits=10', ['permessage-deflate; server_max_window_bits=10']],
    ['client_max_window_bits=9 is accepted', true, 'permessage-deflate; client_max_window_bits=9', ['permessage-deflate; client_max_window_bits=9']],
    ['server option serverMaxWindowBits 11', { serverMaxWindowBits: 11 }, 'permessage-deflate', ['permessage-deflate; server_max_window_bits=11']],
    ['server option serverMaxWindowBits 11 under an offer of 13', { serverMaxWindowBits: 11 }, 'permessage-deflate; server_max_window_bits=13', ['permessage-deflate; server_max_window_bits=11']],
    ['server option serverNoContextTakeover', { serverNoContextTakeover: true }, 'permessage-deflate', ['permessage-deflate; server_no_context_takeover']],
    ['server option clientMaxWindowBits 10 answers the bare offer', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits', ['permessage-deflate; client_max_window_bits=10']],
    ['all four parameters', true, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9', ['permessage-deflate; client_max_window_bits=9; client_no_context_takeover; server_max_window_bits=9; server_no_context_takeover']],
    ['first acceptable of several offers', true, 'permessage-deflate; server_max_window_bits=16, permessage-deflate; client_no_context_takeover', ['permessage-deflate; client_no_context_takeover']],
    ['unknown extension before ours', true, 'x-webkit-deflate-frame, permessage-deflate', ['permessage-deflate']],
    ['quoted parameter value', true, 'permessage-deflate; client_max_window_bits="10"', ['permessage-deflate; client_max_window_bits=10']],
  ];

  it.each(CASES)('%s', async (_name, serverOption, offered, expected) => {
    const h = await start({ perMessageDeflate: serverOption });
    const { peer, side } = await h.connect(offer(offered));
    expect(negotiated(peer)).toEqual(expected);
    expect(side.conn.extensions).not.toBe('');
    await expectCleanClose(peer, side);
  });

  const DECLINED: Array<[string, boolean | PerMessageDeflateOptions, string]> = [
    ['server_max_window_bits=7 (below 8)', true, 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits=16 (above 15)', true, 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits without a value', true, 'permessage-deflate; server_max_window_bits'],
    ['window bits with a leading zero', true, 'permessage-deflate; client_max_window_bits=09'],
    ['a value on server_no_context_takeover', true, 'permessage-deflate; server_no_context_takeover=1'],
    ['an unknown parameter', true, 'permessage-deflate; foo=bar'],
    ['a repeated parameter', true, 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['clientMaxWindowBits required but not offered', { clientMaxWindowBits: 10 }, 'permessage-deflate'],
    ['serverMaxWindowBits false refuses a window request', { serverMaxWindowBits: false }, 'permessage-deflate; server_max_window_bits=10'],
  ];

  it.each(DECLINED)('declines an offer with %s and answers 101 without the extension', async (_name, serverOption, offered) => {
    const h = await start({ perMessageDeflate: serverOption });
    const { peer, side } = await h.connect(offer(offered));
    expect(peer.response?.headers['sec-websocket-extensions']).toBeUndefined();
    expect(side.conn.extensions).toBe('');
    await expectCleanClose(peer, side);
  });

  it('does not negotiate when the server has permessage-deflate off (the default)', async () => {
    const h = await start({});
    const { peer, side } = await h.connect(offer('permessage-deflate; client_max_window_bits'));
    expect(peer.response?.headers['sec-websocket-extensions']).toBeUndefined();
    await expectCleanClose(peer, side);
  });

  it('closes 1002 WSG_ERR_UNEXPECTED_RSV on a RSV1 frame when the extension was not negotiated', async () => {
    const h = await start({});
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    await peer.sendText(compressMessage(Buffer.from('Hello')), { rsv1: true });
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_UNEXPECTED_RSV' });
  });

  it('rejects a malformed Sec-WebSocket-Extensions header with 400', async () => {
    const h = await start({ perMessageDeflate: true });
    await expect(h.connect(offer('permessage-deflate; ;;'))).rejects.toMatchObject({ response: { status: 400 } });
  });
});

describe('RFC 7692 §7.2 compressed messages round trip (Autobahn 12.1, 12.2)', () => {
  it.each([16, 64, 256, 1023, 1024, 4096, 65536, 131072])(
    'echoes a %i-byte compressed text message; the echo is compressed only at or above the 1024-byte threshold',
    async (size) => {
      const h = await start({ perMessageDeflate: true });
      const { peer, side } = await h.connect(offer('permessage-deflate'));
      const inflater = new RawInflater();
      cleanups.push(() => inflater.close());
      const text = sampleText(size, size);
      await peer.sendText(compressMessage(Buffer.from(text)), { rsv1: true });
      const echo = await peer.nextFrame();
      expect(echo.opcode).toBe(Opcode.Text);
      expect(echo.rsv1).toBe(size >= 1024);
      const data = echo.rsv1 ? await inflater.decompress(echo.payload) : echo.payload;
      expect(data.toString()).toBe(text);
      await expectCleanClose(peer, side);
    },
  );

  it('echoes 20 binary messages with context takeover in both directions', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    const deflater = new RawDeflater();
    const inflater = new RawInflater();
    cleanups.push(() => deflater.close(), () => inflater.close());
    for (let i = 0; i < 20; i++) {
      const payload = Buffer.from(sampleText(2048, i % 3));
      // The same text every third message: later ones are mostly back-references.
      await peer.sendBinary(await deflater.compress(payload), { rsv1: true });
      const echo = await peer.nextFrame();
      expect(echo.opcode).toBe(Opcode.Binary);
      expect(echo.rsv1).toBe(true);
      expect((await inflater.decompress(echo.payload)).equals(payload)).toBe(true);
    }
    await expectCleanClose(peer, side);
  });

  it('honours server_no_context_takeover: each compressed echo inflates on its own', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate; server_no_context_takeover'));
    const text = sampleText(4096);
    for (let i = 0; i < 5; i++) {
      await peer.sendText(compressMessage(Buffer.from(text)), { rsv1: true });
      const echo = await peer.nextFrame();
      expect(echo.rsv1).toBe(true);
      expect(inflateMessage(echo.payload).toString()).toBe(text);
    }
    await expectCleanClose(peer, side);
  });

  it('honours server_max_window_bits=9: echoes inflate with a 512-byte window', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate; server_max_window_bits=9'));
    const inflater = new RawInflater(9);
    cleanups.push(() => inflater.close());
    for (let i = 0; i < 5; i++) {
      const payload = Buffer.from(sampleText(8192, i));
      await peer.sendBinary(compressMessage(payload), { rsv1: true });
      const echo = await peer.nextFrame();
      expect((await inflater.decompress(echo.payload)).equals(payload)).toBe(true);
    }
    await expectCleanClose(peer, side);
  });

  it('inflates a client that uses client_max_window_bits=9 and client_no_context_takeover', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate; client_max_window_bits=9; client_no_context_takeover'));
    expect(negotiated(peer)).toEqual(['permessage-deflate; client_max_window_bits=9; client_no_context_takeover']);
    const inflater = new RawInflater();
    cleanups.push(() => inflater.close());
    for (let i = 0; i < 5; i++) {
      const payload = Buffer.from(sampleText(3000, i));
      await peer.sendBinary(compressMessage(payload, 9), { rsv1: true });
      expect((await inflater.decompress((await peer.nextFrame()).payload)).equals(payload)).toBe(true);
    }
    await expectCleanClose(peer, side);
  });

  it.each([8, 9, 12])('echoes with context takeover when both max_window_bits are %i (Autobahn 13.3–13.6)', async (bits) => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer(`permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`));
    expect(negotiated(peer)).toEqual([`permessage-deflate; client_max_window_bits=${bits}; server_max_window_bits=${bits}`]);
    const deflater = new RawDeflater(bits);
    const inflater = new RawInflater(bits);
    cleanups.push(() => deflater.close(), () => inflater.close());
    for (let i = 0; i < 8; i++) {
      // Repeats at distances around the window size of each setting.
      const payload = Buffer.concat([patterned(300, i), Buffer.from(sampleText(1500, i)), patterned(300, i), patterned(5000, i)]);
      await peer.sendBinary(await deflater.compress(payload), { rsv1: true });
      const echo = await peer.nextFrame();
      expect(echo.rsv1).toBe(true);
      expect((await inflater.decompress(echo.payload)).equals(payload)).toBe(true);
    }
    await expectCleanClose(peer, side);
  });

  it('echoes a compressed message sent in fragments (RSV1 on the first frame only) and chopped', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    const text = sampleText(20_000);
    const compressed = compressMessage(Buffer.from(text));
    const parts = [compressed.subarray(0, 10), compressed.subarray(10, 100), compressed.subarray(100)];
    const wire = Buffer.concat([
      peer.frame(Opcode.Text, parts[0]!, { fin: false, rsv1: true }),
      peer.frame(Opcode.Ping, 'mid'),
      peer.frame(Opcode.Continuation, parts[1]!, { fin: false }),
      peer.frame(Opcode.Continuation, parts[2]!),
    ]);
    await peer.chop(wire, 7);
    const pong = await peer.nextFrame();
    expect(pong.opcode).toBe(Opcode.Pong);
    const echo = await peer.nextFrame();
    expect(inflateMessage(echo.payload).toString()).toBe(text);
    await expectCleanClose(peer, side);
  });

  it('accepts an empty compressed message encoded as a single 0x00 byte (§7.2.3.6)', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    await peer.sendText(Buffer.from([0x00]), { rsv1: true });
    const echo = await peer.nextFrame();
    expect(echo.opcode).toBe(Opcode.Text);
    expect(echo.payload.length).toBe(0);
    await expectCleanClose(peer, side);
  });

  it('accepts uncompressed messages (RSV1 clear) on a connection with the extension', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    await peer.sendText('plain');
    expect((await peer.nextFrame()).payload.toString()).toBe('plain');
    await expectCleanClose(peer, side);
  });

  it('accepts a message whose deflate stream ends with BFINAL, then the next message', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    const { deflateRawSync } = await import('node:zlib');
    // A full (Z_FINISH) deflate stream is valid per §7.2.3.4; the trailer appended after it is ignored.
    await peer.sendText(deflateRawSync(Buffer.from('finished stream')), { rsv1: true });
    expect((await peer.nextFrame()).payload.toString()).toBe('finished stream');
    await peer.sendText(compressMessage(Buffer.from('next')), { rsv1: true });
    expect((await peer.nextFrame()).payload.toString()).toBe('next');
    await expectCleanClose(peer, side);
  });
});

describe('RFC 7692 §6.1 RSV1 placement', () => {
  it('closes 1002 WSG_ERR_UNEXPECTED_RSV on RSV1 set on a continuation frame', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    const compressed = compressMessage(Buffer.from(sampleText(200)));
    await peer.write(
      Buffer.concat([
        peer.frame(Opcode.Text, compressed.subarray(0, 5), { fin: false, rsv1: true }),
        peer.frame(Opcode.Continuation, compressed.subarray(5), { rsv1: true }),
      ]),
    );
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_UNEXPECTED_RSV' });
  });

  it('closes 1002 WSG_ERR_UNEXPECTED_RSV on RSV1 set on a ping', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    await peer.sendFrame(Opcode.Ping, 'x', { rsv1: true });
    await expectFailure(peer, side, { closeCode: CloseCode.ProtocolError, errorClass: ProtocolError, code: 'WSG_ERR_UNEXPECTED_RSV' });
  });
});

describe('RFC 7692 §8.1 / limit maxMessageSize counts inflated bytes (decompression bomb)', () => {
  const TOO_LARGE = { closeCode: CloseCode.MessageTooBig, errorClass: CapacityError, code: 'WSG_ERR_MESSAGE_TOO_LARGE' } as const;

  it('accepts a compressed message that inflates to exactly maxMessageSize', async () => {
    const h = await start({ perMessageDeflate: true, maxMessageSize: 64 * 1024 });
    const { peer, side } = await h.connect(offer('permessage-deflate; server_no_context_takeover'));
    await peer.sendBinary(compressMessage(Buffer.alloc(64 * 1024)), { rsv1: true });
    const echo = await peer.nextFrame();
    expect(inflateMessage(echo.payload).length).toBe(64 * 1024);
    await expectCleanClose(peer, side);
  });

  it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE on a compressed message that inflates to maxMessageSize + 1', async () => {
    const h = await start({ perMessageDeflate: true, maxMessageSize: 64 * 1024 });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    await peer.sendBinary(compressMessage(Buffer.alloc(64 * 1024 + 1)), { rsv1: true });
    await expectFailure(peer, side, TOO_LARGE);
  });

  it('closes 1009 on a 16 KiB frame that would inflate to 16 MiB of zeros (bomb)', async () => {
    const h = await start({ perMessageDeflate: true, maxMessageSize: 64 * 1024 });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    const bomb = compressMessage(Buffer.alloc(16 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(20 * 1024);
    await peer.sendText(bomb, { rsv1: true });
    await expectFailure(peer, side, TOO_LARGE);
  });

  it('closes 1009 on a bomb spread over many small compressed fragments', async () => {
    const h = await start({ perMessageDeflate: true, maxMessageSize: 64 * 1024 });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    const bomb = compressMessage(Buffer.alloc(4 * 1024 * 1024));
    const frames: Buffer[] = [];
    for (let at = 0; at < bomb.length; at += 64) {
      frames.push(peer.frame(at === 0 ? Opcode.Binary : Opcode.Continuation, bomb.subarray(at, at + 64), { fin: at + 64 >= bomb.length, rsv1: at === 0 }));
    }
    await peer.write(Buffer.concat(frames));
    await expectFailure(peer, side, TOO_LARGE);
  });
});

describe('RFC 7692 §7.2.2 invalid compressed data', () => {
  it('closes 1007 WSG_ERR_INVALID_COMPRESSED_DATA on bytes that are not a deflate stream', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    await peer.sendBinary(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), { rsv1: true });
    await expectFailure(peer, side, { closeCode: CloseCode.InvalidPayload, errorClass: WsgError, code: 'WSG_ERR_INVALID_COMPRESSED_DATA' });
  });

  it('closes 1007 WSG_ERR_INVALID_UTF8 on a compressed text message that inflates to invalid UTF-8', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    await peer.sendText(compressMessage(Buffer.from([0xce, 0xba, 0xed, 0xa0, 0x80])), { rsv1: true });
    await expectFailure(peer, side, { closeCode: CloseCode.InvalidPayload, errorClass: InvalidUtf8Error, code: 'WSG_ERR_INVALID_UTF8' });
  });
});

describe('RFC 7692 compressed traffic keeps the close handshake', () => {
  it('closes cleanly right after a large compressed message, echo first', async () => {
    const h = await start({ perMessageDeflate: true });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    const payload = patterned(300_000);
    await peer.write(Buffer.concat([peer.frame(Opcode.Binary, compressMessage(payload), { rsv1: true }), peer.frame(Opcode.Close, Buffer.from([0x03, 0xe8]))]));
    const echo = await peer.nextFrame();
    expect(echo.opcode).toBe(Opcode.Binary);
    expect(inflateMessage(echo.payload).equals(payload)).toBe(true);
    const close = await peer.closeFrame();
    expect(close.code).toBe(1000);
    await peer.closed;
    expect(await side.closeInfo).toMatchObject({ code: 1000, wasClean: true });
  });
});

describe('back-pressure while inflating (RFC 7692 on a bounded zlib pool)', () => {
  it('does not keep reading the socket while a compressed frame waits for a zlib slot (bytes held stay bounded)', async () => {
    const { sharedZlibLimiter } = await import('../../../lib/frames/zlib-limiter.js');
    const h = await start({ perMessageDeflate: true, maxMessageSize: 1024 * 1024 });
    const { peer, side } = await h.connect(offer('permessage-deflate'));
    // Occupy every slot of the process-wide zlib limiter, as busy neighbours would.
    const held: Array<() => void> = [];
    for (let i = 0; i < 10; i++) sharedZlibLimiter.run(10, (done) => held.push(done));
    cleanups.push(() => held.splice(0).forEach((done) => done()));
    let delivered = 0;
    side.conn.transport.on('data', (chunk: Buffer) => (delivered += chunk.length));
    await peer.sendText(compressMessage(Buffer.from('waiting for zlib')), { rsv1: true });
    // 8 MiB of messages behind it: more than loopback kernel buffers hold (128 KiB receive,
    // at most 4 MiB send) while the server does not read, so these writes stall.
    const filler = peer.frame(Opcode.Binary, patterned(1024 * 1024));
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 8; i++) writes.push(peer.write(filler));
    const allWritten = Promise.all(writes).then(() => 'written' as const);
    const verdict = await Promise.race([allWritten, new Promise<'held'>((resolve) => setTimeout(() => resolve('held'), 1000))]);
    const deliveredWhileHeld = delivered;
    held.splice(0).forEach((done) => done());
    expect(verdict).toBe('held');
    expect(deliveredWhileHeld).toBeLessThan(2 * 1024 * 1024);
    expect((await peer.nextFrame()).payload.toString()).toBe('waiting for zlib');
    // Echoes come back compressed; their count is what matters here.
    for (let i = 0; i < 8; i++) expect((await peer.nextFrame()).opcode).toBe(Opcode.Binary);
    await allWritten;
    await expectCleanClose(peer, side);
  });
});
