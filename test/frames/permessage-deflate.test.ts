import { describe, it, expect, afterEach } from '@jest/globals';
import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { CloseCode } from '../../lib/frames/close-codes.js';
import {
  AlreadyClosedError,
  CapacityError,
  ConnectionClosedError,
  HandshakeError,
  InvalidOptionError,
  WsgError,
} from '../../lib/frames/errors.js';
import { formatExtensionHeader, parseExtensionHeader, type ExtensionParams } from '../../lib/frames/extension-header.js';
import { PerMessageDeflate, type PerMessageDeflateOptions } from '../../lib/frames/permessage-deflate.js';
import { sharedZlibLimiter, ZlibLimiter } from '../../lib/frames/zlib-limiter.js';
import { expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';

const MiB = 1024 * 1024;
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

const created: PerMessageDeflate[] = [];
afterEach(() => {
  for (const pmd of created.splice(0)) pmd.cleanup();
});

function make(options: PerMessageDeflateOptions | undefined, role: 'server' | 'client', maxMessageSize = MiB): PerMessageDeflate {
  const pmd = new PerMessageDeflate(options, role, maxMessageSize);
  created.push(pmd);
  return pmd;
}

/** Offers as they arrive at a server: through a real header string and the parser. */
function offersFrom(header: string): ExtensionParams[] {
  return parseExtensionHeader(header).get(PerMessageDeflate.extensionName) ?? [];
}

function paramsOf(response: ExtensionParams | null): Record<string, string | true> | null {
  return response === null ? null : { ...response };
}

/** Client offers, server answers, client accepts: both configured as on a real handshake. */
function negotiate(
  serverOptions: PerMessageDeflateOptions | undefined,
  clientOptions: PerMessageDeflateOptions | undefined,
  maxMessageSize = MiB,
): { server: PerMessageDeflate; client: PerMessageDeflate; response: string } {
  const server = make(serverOptions, 'server', maxMessageSize);
  const client = make(clientOptions, 'client', maxMessageSize);
  const offerHeader = formatExtensionHeader({ [PerMessageDeflate.extensionName]: client.offer() });
  const answer = server.acceptAsServer(offersFrom(offerHeader));
  if (answer === null) throw new Error('server declined the offer');
  const response = formatExtensionHeader({ [PerMessageDeflate.extensionName]: answer });
  client.acceptAsClient(offersFrom(response));
  return { server, client, response };
}

function compress(pmd: PerMessageDeflate, data: Buffer, fin = true): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pmd.compress(data, fin, (err, result) => (err !== null ? reject(err) : resolve(result!)));
  });
}

function decompress(pmd: PerMessageDeflate, data: Buffer, fin = true): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    pmd.decompress(data, fin, (err, result) => (err !== null ? reject(err) : resolve(result)));
  });
}

async function decompressError(pmd: PerMessageDeflate, data: Buffer, fin = true): Promise<WsgError> {
  try {
    await decompress(pmd, data, fin);
  } catch (error) {
    expect(error).toBeInstanceOf(WsgError);
    return error as WsgError;
  }
  throw new Error('expected decompress to fail');
}

function handshakeError(fn: () => unknown): HandshakeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HandshakeError);
    return error as HandshakeError;
  }
  throw new Error('expected a HandshakeError');
}

/** What a peer that always syncs-flushes would put on the wire for `data` (RFC 7692 §7.2.1). */
function wireDeflate(data: Buffer, options: zlib.ZlibOptions = {}): Buffer {
  const out = zlib.deflateRawSync(data, { ...options, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  expect(out.subarray(-4)).toEqual(TRAILER);
  return out.subarray(0, out.length - 4);
}

/** What any zlib peer recovers from our wire bytes after appending the tail (RFC 7692 §7.2.2). */
function inflateWire(wire: Buffer): Buffer {
  return zlib.inflateRawSync(Buffer.concat([wire, TRAILER]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

function splitInto(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), data.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(data.subarray(last, p));
    last = p;
  }
  parts.push(data.subarray(last));
  return parts;
}

async function decompressFrames(pmd: PerMessageDeflate, frames: Buffer[]): Promise<Buffer> {
  let result: Buffer | undefined;
  for (let i = 0; i < frames.length; i++) {
    const fin = i === frames.length - 1;
    const out = await decompress(pmd, frames[i]!, fin);
    if (fin) result = out;
    else expect(out === undefined || out.length === 0).toBe(true);
  }
  return result!;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const sample = text('The quick brown fox jumps over the lazy dog. '.repeat(40));

describe('RFC 7692 §7.1 negotiation, server side', () => {
  const table: [string, PerMessageDeflateOptions | undefined, string, Record<string, string | true> | null][] = [
    ['accepts a bare offer with an empty response', undefined, 'permessage-deflate', {}],
    ['does not answer client_max_window_bits offered without a value', undefined, 'permessage-deflate; client_max_window_bits', {}],
    ['echoes client_max_window_bits offered with a value', undefined, 'permessage-deflate; client_max_window_bits=10', { client_max_window_bits: '10' }],
    ['answers its clientMaxWindowBits when the client supports the parameter', { clientMaxWindowBits: 12 }, 'permessage-deflate; client_max_window_bits', { client_max_window_bits: '12' }],
    ['answers the smaller of its clientMaxWindowBits and the offer', { clientMaxWindowBits: 12 }, 'permessage-deflate; client_max_window_bits=10', { client_max_window_bits: '10' }],
    ['caps an offered client_max_window_bits at its clientMaxWindowBits', { clientMaxWindowBits: 9 }, 'permessage-deflate; client_max_window_bits=10', { client_max_window_bits: '9' }],
    ['declines an offer without client_max_window_bits when it insists on clientMaxWindowBits', { clientMaxWindowBits: 12 }, 'permessage-deflate', null],
    ['never answers client_max_window_bits when clientMaxWindowBits is false', { clientMaxWindowBits: false }, 'permessage-deflate; client_max_window_bits=10', {}],
    ['echoes server_no_context_takeover (§7.1.1.1: accepting means echoing)', undefined, 'permessage-deflate; server_no_context_takeover', { server_no_context_takeover: true }],
    ['adds server_no_context_takeover when serverNoContextTakeover is set', { serverNoContextTakeover: true }, 'permessage-deflate', { server_no_context_takeover: true }],
    ['echoes the client_no_context_takeover hint', undefined, 'permessage-deflate; client_no_context_takeover', { client_no_context_takeover: true }],
    ['adds client_no_context_takeover when clientNoContextTakeover is set', { clientNoContextTakeover: true }, 'permessage-deflate', { client_no_context_takeover: true }],
    ['echoes server_max_window_bits', undefined, 'permessage-deflate; server_max_window_bits=10', { server_max_window_bits: '10' }],
    ['answers the smaller of its serverMaxWindowBits and the offer', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=10', { server_max_window_bits: '10' }],
    ['answers a server_max_window_bits below the offer', { serverMaxWindowBits: 9 }, 'permessage-deflate; server_max_window_bits=10', { server_max_window_bits: '9' }],
    ['answers serverMaxWindowBits even when not offered (§7.1.2.1)', { serverMaxWindowBits: 11 }, 'permessage-deflate', { server_max_window_bits: '11' }],
    ['declines an offer with server_max_window_bits when serverMaxWindowBits is false', { serverMaxWindowBits: false }, 'permessage-deflate; server_max_window_bits=10', null],
    ['accepts an offer without server_max_window_bits when serverMaxWindowBits is false', { serverMaxWindowBits: false }, 'permessage-deflate', {}],
    ['accepts an 8-bit server window', undefined, 'permessage-deflate; server_max_window_bits=8', { server_max_window_bits: '8' }],
    ['accepts an 8-bit client window', undefined, 'permessage-deflate; client_max_window_bits=8', { client_max_window_bits: '8' }],
    ['accepts a quoted window value', undefined, 'permessage-deflate; server_max_window_bits="10"', { server_max_window_bits: '10' }],
    [
      'answers all four parameters together',
      undefined,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11',
      { server_no_context_takeover: true, client_no_context_takeover: true, server_max_window_bits: '9', client_max_window_bits: '11' },
    ],
  ];
  it.each(table)('%s', (_label, options, header, expected) => {
    expect(paramsOf(make(options, 'server').acceptAsServer(offersFrom(header)))).toEqual(expected);
  });

  const invalidOffers: [string, string][] = [
    ['an unknown parameter', 'permessage-deflate; foo'],
    ['a prototype-named parameter', 'permessage-deflate; __proto__=1'],
    ['a repeated parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['a repeated window parameter', 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=11'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
    ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits with a leading zero', 'permessage-deflate; server_max_window_bits=09'],
    ['server_max_window_bits not a number', 'permessage-deflate; server_max_window_bits=ten'],
    ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16'],
    ['client_max_window_bits=0', 'permessage-deflate; client_max_window_bits=0'],
    ['server_no_context_takeover with a value', 'permessage-deflate; server_no_context_takeover=1'],
    ['client_no_context_takeover with a quoted value', 'permessage-deflate; client_no_context_takeover="x"'],
  ];
  it.each(invalidOffers)('declines an offer with %s and takes the next acceptable one', (_label, header) => {
    const server = make(undefined, 'server');
    expect(server.acceptAsServer(offersFrom(header))).toBeNull();
    expect(paramsOf(server.acceptAsServer(offersFrom(`${header}, permessage-deflate; client_max_window_bits=11`)))).toEqual({
      client_max_window_bits: '11',
    });
  });

  it('returns null when nothing is offered', () => {
    expect(make(undefined, 'server').acceptAsServer([])).toBeNull();
  });

  it('picks the first acceptable offer in order', () => {
    const server = make({ clientMaxWindowBits: 10 }, 'server');
    const answer = server.acceptAsServer(
      offersFrom('permessage-deflate, permessage-deflate; client_max_window_bits=12, permessage-deflate; client_max_window_bits=9'),
    );
    expect(paramsOf(answer)).toEqual({ client_max_window_bits: '10' });
  });

  it('returns a null-prototype params object', () => {
    expect(Object.getPrototypeOf(make(undefined, 'server').acceptAsServer(offersFrom('permessage-deflate')))).toBeNull();
  });
});

describe('RFC 7692 §7.1 negotiation, client side', () => {
  const offers: [string, PerMessageDeflateOptions | undefined, Record<string, string | true>][] = [
    ['offers client_max_window_bits without a value by default', undefined, { client_max_window_bits: true }],
    ['offers nothing extra when clientMaxWindowBits is false', { clientMaxWindowBits: false }, {}],
    ['offers client_max_window_bits with its value', { clientMaxWindowBits: 10 }, { client_max_window_bits: '10' }],
    ['offers server_max_window_bits with its value', { serverMaxWindowBits: 8 }, { server_max_window_bits: '8', client_max_window_bits: true }],
    ['never offers server_max_window_bits without a value', { serverMaxWindowBits: true, clientMaxWindowBits: false }, {}],
    [
      'offers both no_context_takeover parameters',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, clientMaxWindowBits: false },
      { server_no_context_takeover: true, client_no_context_takeover: true },
    ],
  ];
  it.each(offers)('%s', (_label, options, expected) => {
    const offer = make(options, 'client').offer();
    expect(Object.getPrototypeOf(offer)).toBeNull();
    expect({ ...offer }).toEqual(expected);
  });

  const accepted: [string, PerMessageDeflateOptions | undefined, string][] = [
    ['an empty response', undefined, 'permessage-deflate'],
    ['server_no_context_takeover it did not request (§7.1.1.1)', undefined, 'permessage-deflate; server_no_context_takeover'],
    ['client_no_context_takeover it did not offer (§7.1.1.2)', undefined, 'permessage-deflate; client_no_context_takeover'],
    ['server_max_window_bits it did not request (§7.1.2.1)', undefined, 'permessage-deflate; server_max_window_bits=10'],
    ['server_max_window_bits below its request', { serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=9'],
    ['an 8-bit server window it requested', { serverMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=8'],
    ['client_max_window_bits after offering it without a value', undefined, 'permessage-deflate; client_max_window_bits=8'],
    ['client_max_window_bits at its offered value', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    ['server_no_context_takeover it requested', { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover'],
  ];
  it.each(accepted)('accepts %s', (_label, options, header) => {
    expect(() => make(options, 'client').acceptAsClient(offersFrom(header))).not.toThrow();
  });

  const rejected: [string, PerMessageDeflateOptions | undefined, string][] = [
    ['no response entry', undefined, ''],
    ['two response entries', undefined, 'permessage-deflate, permessage-deflate'],
    ['an unknown parameter', undefined, 'permessage-deflate; foo=1'],
    ['a repeated parameter', undefined, 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10'],
    ['server_max_window_bits=16', undefined, 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits=7', undefined, 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits without a value', undefined, 'permessage-deflate; server_max_window_bits'],
    ['client_max_window_bits without a value (only offers may omit it)', undefined, 'permessage-deflate; client_max_window_bits'],
    ['client_max_window_bits=08', undefined, 'permessage-deflate; client_max_window_bits=08'],
    ['server_no_context_takeover with a value', undefined, 'permessage-deflate; server_no_context_takeover=1'],
    ['client_max_window_bits it did not offer', { clientMaxWindowBits: false }, 'permessage-deflate; client_max_window_bits=10'],
    ['client_max_window_bits above its offer', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=12'],
    ['server_max_window_bits above its request', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=12'],
    ['no server_max_window_bits after requesting one', { serverMaxWindowBits: 10 }, 'permessage-deflate'],
    ['no server_no_context_takeover after requesting it', { serverNoContextTakeover: true }, 'permessage-deflate'],
  ];
  it.each(rejected)('fails the handshake with WSG_ERR_HANDSHAKE_EXTENSION on %s', (_label, options, header) => {
    const client = make(options, 'client');
    const response = header === '' ? [] : offersFrom(header);
    const error = handshakeError(() => client.acceptAsClient(response));
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_EXTENSION');
    expect(error.status).toBe(0);
  });
});

describe('options', () => {
  it('defaults threshold to 1024 bytes', () => {
    expect(make(undefined, 'server').threshold).toBe(1024);
    expect(make({ threshold: 0 }, 'server').threshold).toBe(0);
  });

  const invalid: [string, PerMessageDeflateOptions, number][] = [
    ['serverMaxWindowBits 7', { serverMaxWindowBits: 7 }, MiB],
    ['serverMaxWindowBits 16', { serverMaxWindowBits: 16 }, MiB],
    ['clientMaxWindowBits 9.5', { clientMaxWindowBits: 9.5 }, MiB],
    ['clientMaxWindowBits "10"', { clientMaxWindowBits: '10' as unknown as number }, MiB],
    ['serverNoContextTakeover "yes"', { serverNoContextTakeover: 'yes' as unknown as boolean }, MiB],
    ['threshold -1', { threshold: -1 }, MiB],
    ['concurrencyLimit 0', { concurrencyLimit: 0 }, MiB],
    ['level 10', { level: 10 }, MiB],
    ['memLevel 0', { memLevel: 0 }, MiB],
    ['maxMessageSize 0', {}, 0],
    ['maxMessageSize 1.5', {}, 1.5],
  ];
  it.each(invalid)('rejects %s with WSG_ERR_INVALID_OPTION', (_label, options, maxMessageSize) => {
    const error = expectThrowsWsgError(() => new PerMessageDeflate(options, 'server', maxMessageSize), 'WSG_ERR_INVALID_OPTION');
    expect(error).toBeInstanceOf(InvalidOptionError);
  });
});

describe('RFC 7692 §7.2 compression and decompression', () => {
  it('strips the 00 00 ff ff tail, and zlib inflates the message once it is appended', async () => {
    const { server } = negotiate(undefined, undefined);
    const wire = await compress(server, sample);
    expect(wire.length).toBeLessThan(sample.length);
    expect(wire.subarray(-4)).not.toEqual(TRAILER);
    expect(inflateWire(wire)).toEqual(sample);
  });

  it('inflates what a zlib peer sends with the tail stripped', async () => {
    const { client } = negotiate(undefined, undefined);
    expect(await decompress(client, wireDeflate(sample))).toEqual(sample);
  });

  it('round-trips several messages both ways with context takeover, later repeats compressing smaller', async () => {
    const { server, client } = negotiate(undefined, undefined);
    const sizes: number[] = [];
    const body = Buffer.concat([randomBytes(1500), sample]);
    for (let i = 0; i < 4; i++) {
      const message = Buffer.concat([body, text(` #${i}`)]);
      const down = await compress(server, message);
      sizes.push(down.length);
      expect(await decompress(client, down)).toEqual(message);
      const up = await compress(client, message);
      expect(await decompress(server, up)).toEqual(message);
    }
    // The window still holds the first message, so the repeats are mostly back-references.
    expect(sizes[1]!).toBeLessThan(sizes[0]! / 4);
  });

  it('round-trips without context takeover, each message standing alone', async () => {
    const { server, client, response } = negotiate(undefined, { serverNoContextTakeover: true, clientNoContextTakeover: true });
    expect(response).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    const first = await compress(server, sample);
    const second = await compress(server, sample);
    expect(second).toEqual(first);
    expect(await decompress(client, first)).toEqual(sample);
    expect(await decompress(client, second)).toEqual(sample);
    // A fresh inflater (no shared window) decodes any of them.
    expect(inflateWire(second)).toEqual(sample);
    const up1 = await compress(client, sample);
    const up2 = await compress(client, sample);
    expect(up2).toEqual(up1);
    expect(await decompress(server, up2)).toEqual(sample);
  });

  it('inflates peers that reset their window only when the peer agreed to', async () => {
    // With server_no_context_takeover the client must reset its inflater per message.
    const { client } = negotiate({ serverNoContextTakeover: true }, undefined);
    const wire = wireDeflate(sample);
    expect(await decompress(client, wire)).toEqual(sample);
    expect(await decompress(client, wire)).toEqual(sample);
  });

  it('round-trips with 8-bit windows both ways (deflating with 9 bits, as zlib must)', async () => {
    const { server, client, response } = negotiate(undefined, { serverMaxWindowBits: 8, clientMaxWindowBits: 8 });
    expect(response).toBe('permessage-deflate; server_max_window_bits=8; client_max_window_bits=8');
    const message = Buffer.concat(Array.from({ length: 64 }, (_, i) => Buffer.concat([randomBytes(40), sample.subarray(0, 200 + i)])));
    for (let i = 0; i < 3; i++) {
      expect(await decompress(client, await compress(server, message))).toEqual(message);
      expect(await decompress(server, await compress(client, message))).toEqual(message);
    }
  });

  it('round-trips with negotiated 9..15-bit windows', async () => {
    for (let bits = 9; bits <= 15; bits++) {
      const { server, client } = negotiate({ clientMaxWindowBits: bits }, { serverMaxWindowBits: bits });
      expect(await decompress(client, await compress(server, sample))).toEqual(sample);
      expect(await decompress(server, await compress(client, sample))).toEqual(sample);
    }
  });

  it('round-trips an empty message', async () => {
    const { server, client } = negotiate(undefined, undefined);
    const wire = await compress(server, Buffer.alloc(0));
    expect(wire.length).toBeGreaterThan(0);
    expect(await decompress(client, wire)).toEqual(Buffer.alloc(0));
    expect(await decompress(client, Buffer.from([0x00]))).toEqual(Buffer.alloc(0));
  });

  it('compresses a message given in fragments (fin false, then true)', async () => {
    const { server, client } = negotiate(undefined, undefined);
    const parts = [sample.subarray(0, 500), sample.subarray(500, 1000), sample.subarray(1000)];
    const frames = [await compress(server, parts[0]!, false), await compress(server, parts[1]!, false), await compress(server, parts[2]!, true)];
    expect(await decompressFrames(client, frames)).toEqual(sample);
  });

  it('inflates peers that end each message with a BFINAL block (§7.2.3.4)', async () => {
    const { client } = negotiate(undefined, undefined);
    for (const message of [sample, text('second message'), sample]) {
      expect(await decompress(client, zlib.deflateRawSync(message))).toEqual(message);
    }
  });
});

describe('RFC 7692 §7.2.2 fragmented decompression', () => {
  it('inflates a compressed payload split across 3 frames, answering only on the last', async () => {
    const { client } = negotiate(undefined, undefined);
    const wire = wireDeflate(sample);
    const third = Math.floor(wire.length / 3);
    const frames = splitInto(wire, [third, 2 * third]);
    expect(frames).toHaveLength(3);
    expect(await decompressFrames(client, frames)).toEqual(sample);
    // The next message starts cleanly after the fragmented one.
    expect(await decompress(client, wireDeflate(text('next')))).toEqual(text('next'));
  });

  it('accepts empty frames inside a compressed message', async () => {
    const { client } = negotiate(undefined, undefined);
    const wire = wireDeflate(sample);
    expect(await decompressFrames(client, [Buffer.alloc(0), wire, Buffer.alloc(0)])).toEqual(sample);
  });
});

describe('limit maxMessageSize during inflation', () => {
  const LIMIT = 64 * 1024;

  async function tooLarge(pmd: PerMessageDeflate, frames: Buffer[]): Promise<{ error: WsgError; frame: number }> {
    for (let i = 0; i < frames.length; i++) {
      try {
        await decompress(pmd, frames[i]!, i === frames.length - 1);
      } catch (error) {
        return { error: error as WsgError, frame: i };
      }
    }
    throw new Error('expected WSG_ERR_MESSAGE_TOO_LARGE');
  }

  it('accepts a message inflating to exactly maxMessageSize', async () => {
    const { client } = negotiate(undefined, undefined, LIMIT);
    const message = Buffer.alloc(LIMIT, 0x61);
    expect(await decompress(client, wireDeflate(message))).toEqual(message);
  });

  it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE at maxMessageSize + 1 B', async () => {
    const { client } = negotiate(undefined, undefined, LIMIT);
    const error = await decompressError(client, wireDeflate(Buffer.alloc(LIMIT + 1, 0x61)));
    expect(error).toBeInstanceOf(CapacityError);
    expectWsgError(error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
  });

  it('counts inflated bytes across the frames of one message', async () => {
    const { client } = negotiate(undefined, undefined, LIMIT);
    const atLimit = Buffer.alloc(LIMIT, 0x62);
    const wire = wireDeflate(atLimit);
    expect(await decompressFrames(client, splitInto(wire, [10, 20]))).toEqual(atLimit);

    const over = wireDeflate(Buffer.alloc(LIMIT + 1, 0x62));
    const { error } = await tooLarge(client, splitInto(over, [10, 20]));
    expectWsgError(error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
  });

  it('resets the count per message: many messages each under the limit pass', async () => {
    const { server, client } = negotiate(undefined, undefined, LIMIT);
    const message = Buffer.alloc(LIMIT - 10, 0x63);
    for (let i = 0; i < 5; i++) expect(await decompress(client, await compress(server, message))).toEqual(message);
  });

  it('stops a decompression bomb (10 MB of zeros in a few KB) at 1 MiB without inflating the rest', async () => {
    const { client } = negotiate(undefined, undefined, MiB);
    const bomb = wireDeflate(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(16 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const error = await decompressError(client, bomb);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(error).toBeInstanceOf(CapacityError);
    expectWsgError(error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    // Had the whole 10 MB been inflated first, its output buffers would still be counted here.
    expect(grown).toBeLessThan(2 * MiB);
  });

  it('answers a bomb spread over 10 frames at the frame that crosses the limit, not at the end', async () => {
    const { client } = negotiate(undefined, undefined, MiB);
    const bomb = wireDeflate(Buffer.alloc(10 * 1024 * 1024));
    const tenth = Math.ceil(bomb.length / 10);
    const frames = splitInto(bomb, Array.from({ length: 9 }, (_, i) => (i + 1) * tenth));
    const { error, frame } = await tooLarge(client, frames);
    expectWsgError(error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
    // Each frame inflates to about 1 MB: the second one crosses 1 MiB.
    expect(frame).toBeLessThanOrEqual(2);
  });
});

describe('RFC 7692 §7.2.2 corrupt compressed data', () => {
  it('closes 1007 WSG_ERR_INVALID_COMPRESSED_DATA on a stream zlib cannot inflate', async () => {
    const { client } = negotiate(undefined, undefined);
    const error = await decompressError(client, Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02]));
    expectWsgError(error, 'WSG_ERR_INVALID_COMPRESSED_DATA', CloseCode.InvalidPayload);
    expect(error.cause).toHaveProperty('code', 'Z_DATA_ERROR');
  });

  it('closes 1007 when a later frame of a message is corrupt', async () => {
    const { client } = negotiate(undefined, undefined);
    // The first frame ends on a block boundary; 0xff then starts a block of reserved type 3.
    const first = zlib.deflateRawSync(sample, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(await decompress(client, first, false)).toBeUndefined();
    const error = await decompressError(client, Buffer.from([0xff, 0xff]), true);
    expectWsgError(error, 'WSG_ERR_INVALID_COMPRESSED_DATA', CloseCode.InvalidPayload);
  });

  it('inflates the next message with a fresh context after corrupt data', async () => {
    const { client } = negotiate(undefined, undefined);
    const error = await decompressError(client, Buffer.from([0xff, 0xff]));
    expectWsgError(error, 'WSG_ERR_INVALID_COMPRESSED_DATA', CloseCode.InvalidPayload);
    expect(await decompress(client, wireDeflate(sample))).toEqual(sample);
  });
});

describe('callbacks', () => {
  it('are never called synchronously', () => {
    const { server, client } = negotiate(undefined, undefined);
    let called = 0;
    server.compress(sample, true, () => called++);
    client.decompress(wireDeflate(sample), true, () => called++);
    client.cleanup();
    client.decompress(sample, true, () => called++);
    expect(called).toBe(0);
    return new Promise<void>((resolve) => setImmediate(resolve));
  });

  it('come back in call order across compress and decompress', async () => {
    const { server } = negotiate(undefined, undefined);
    const order: string[] = [];
    const calls: Promise<void>[] = [];
    const messages = Array.from({ length: 30 }, (_, i) => Buffer.concat([randomBytes(i * 97), sample]));
    for (let i = 0; i < messages.length; i++) {
      calls.push(
        new Promise((resolve, reject) => {
          const done = (label: string) => (err: WsgError | null) => {
            if (err !== null) reject(err);
            order.push(label);
            resolve();
          };
          if (i % 2 === 0) server.compress(messages[i]!, true, done(`c${i}`));
          else server.decompress(wireDeflate(messages[i]!), true, done(`d${i}`));
        }),
      );
    }
    await Promise.all(calls);
    expect(order).toEqual(messages.map((_, i) => (i % 2 === 0 ? `c${i}` : `d${i}`)));
  });
});

describe('cleanup', () => {
  it('fails pending operations with their code, in order, and never succeeds after it', async () => {
    const { server } = negotiate(undefined, undefined);
    const results: string[] = [];
    const all: Promise<void>[] = [];
    const record = (label: string) =>
      new Promise<void>((resolve) => {
        const cb = (err: WsgError | null) => {
          results.push(`${label}:${err === null ? 'ok' : err.code}`);
          resolve();
        };
        if (label.startsWith('c')) server.compress(sample, true, cb);
        else server.decompress(wireDeflate(sample), true, cb);
      });
    for (const label of ['c1', 'd2', 'c3', 'd4']) all.push(record(label));
    server.cleanup();
    await Promise.all(all);
    expect(results).toEqual([
      'c1:WSG_ERR_ALREADY_CLOSED',
      'd2:WSG_ERR_CONNECTION_CLOSED',
      'c3:WSG_ERR_ALREADY_CLOSED',
      'd4:WSG_ERR_CONNECTION_CLOSED',
    ]);
  });

  it('answers later calls with errors instead of crashing, and may run twice', async () => {
    const { client } = negotiate(undefined, undefined);
    await decompress(client, wireDeflate(sample));
    client.cleanup();
    client.cleanup();
    const compressError = await compress(client, sample).catch((error: unknown) => error);
    expect(compressError).toBeInstanceOf(AlreadyClosedError);
    expectWsgError(compressError, 'WSG_ERR_ALREADY_CLOSED');
    const inflateError = await decompressError(client, wireDeflate(sample));
    expect(inflateError).toBeInstanceOf(ConnectionClosedError);
    expectWsgError(inflateError, 'WSG_ERR_CONNECTION_CLOSED');
  });

  it('frees its limiter slots so other connections keep going', async () => {
    const { server } = negotiate({ concurrencyLimit: 1 }, undefined);
    const pending = compress(server, Buffer.concat([sample, randomBytes(64 * 1024)])).then(
      () => 'compressed after cleanup',
      (error: unknown) => error,
    );
    server.cleanup();
    expectWsgError(await pending, 'WSG_ERR_ALREADY_CLOSED');
    const other = negotiate({ concurrencyLimit: 1 }, undefined);
    expect(await decompress(other.client, await compress(other.server, sample))).toEqual(sample);
    expect(sharedZlibLimiter.inFlight).toBe(0);
  });

  it('releases its zlib streams while the instance itself stays alive', async () => {
    // zlib handles are invisible to getActiveResourcesInfo(); their async-hooks destroy
    // event fires once a closed handle is collected. An open one stays reachable from
    // the instance, so without cleanup() this test would never see both destroyed.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const live = new Set<number>();
    let onDestroy = (): void => {};
    const hook = createHook({
      init(id, type) {
        if (type === 'ZLIB') live.add(id);
      },
      destroy(id) {
        if (live.delete(id)) onDestroy();
      },
    });
    hook.enable();
    try {
      const pmd = make(undefined, 'server');
      const wire = wireDeflate(sample);
      live.clear();
      await compress(pmd, sample);
      await decompress(pmd, wire);
      expect(live.size).toBe(2);
      pmd.cleanup();
      await new Promise<void>((resolve) => {
        onDestroy = () => {
          if (live.size === 0) resolve();
        };
        let attempts = 0;
        const collect = (): void => {
          if (live.size === 0) return resolve();
          // Bounded: a handle still referenced survives any number of collections.
          if (++attempts > 100) return resolve();
          gc();
          setImmediate(collect);
        };
        collect();
      });
      expect(live.size).toBe(0);
      expect(created).toContain(pmd);
    } finally {
      hook.disable();
    }
  });
});

describe('zlib concurrency limit', () => {
  // Mutations caught (lib/frames/zlib-limiter.ts): LIFO (taking the tail of the queue instead
  // of its head); the limit off by one (`inFlight > limit` instead of `>=`, or `>= limit - 1`).
  function holdingJobs(limiter: ZlibLimiter, limit: number, count: number): { started: number[]; done: (() => void)[] } {
    const started: number[] = [];
    const done: (() => void)[] = [];
    for (let i = 0; i < count; i++) {
      limiter.run(limit, (release) => {
        started.push(i);
        done[i] = release;
      });
    }
    return { started, done };
  }

  it('runs at most `limit` jobs at once and starts the next, first in first out, as one finishes', () => {
    const limiter = new ZlibLimiter();
    const { started, done } = holdingJobs(limiter, 3, 6);
    expect(started).toEqual([0, 1, 2]);
    expect(limiter.inFlight).toBe(3);
    expect(limiter.queued).toBe(3);
    done[1]!();
    expect(started).toEqual([0, 1, 2, 3]);
    done[1]!(); // a second call is ignored
    expect(limiter.inFlight).toBe(3);
    done[0]!();
    done[2]!();
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    for (const release of done) release();
    expect(limiter.inFlight).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it('holds a job back while its own limit is reached, and everything behind it', () => {
    const limiter = new ZlibLimiter();
    const first = holdingJobs(limiter, 2, 2);
    const order: string[] = [];
    limiter.run(2, (release) => {
      order.push('limit-2');
      release();
    });
    limiter.run(10, (release) => {
      order.push('limit-10');
      release();
    });
    expect(order).toEqual([]);
    first.done[0]!();
    expect(order).toEqual(['limit-2', 'limit-10']);
    first.done[1]!();
  });

  it('starts exactly `limit` jobs at once, not one more and not one fewer, for limits 1, 2 and 10', () => {
    for (const limit of [1, 2, 10]) {
      const limiter = new ZlibLimiter();
      const { started, done } = holdingJobs(limiter, limit, limit + 1);
      expect({ started: started.length, inFlight: limiter.inFlight, queued: limiter.queued }).toEqual({ started: limit, inFlight: limit, queued: 1 });
      done[0]!();
      expect(started).toEqual(Array.from({ length: limit + 1 }, (_, i) => i));
      for (const release of done) release();
      expect(limiter.inFlight).toBe(0);
    }
  });

  it('starts waiting jobs strictly first in, first out, also those queued while others wait', () => {
    const limiter = new ZlibLimiter();
    const started: string[] = [];
    const release = new Map<string, () => void>();
    const run = (name: string): void => limiter.run(1, (done) => {
      started.push(name);
      release.set(name, done);
    });
    run('a');
    run('b');
    run('c');
    expect(started).toEqual(['a']);
    release.get('a')!();
    run('d');
    run('e');
    expect(started).toEqual(['a', 'b']);
    release.get('b')!();
    release.get('c')!();
    release.get('d')!();
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    release.get('e')!();
    expect({ inFlight: limiter.inFlight, queued: limiter.queued }).toEqual({ inFlight: 0, queued: 0 });
  });

  it('survives jobs that finish synchronously without deep recursion', () => {
    const limiter = new ZlibLimiter();
    const blocker = holdingJobs(limiter, 1, 1);
    let ran = 0;
    for (let i = 0; i < 100_000; i++) {
      limiter.run(1, (release) => {
        ran++;
        release();
      });
    }
    blocker.done[0]!();
    expect(ran).toBe(100_000);
    expect(limiter.inFlight).toBe(0);
  });

  it('is shared process-wide: a connection waits while its concurrencyLimit of jobs runs elsewhere', async () => {
    const order: string[] = [];
    let releaseHeld = (): void => {};
    // Another user of the process-wide limiter holds one slot.
    sharedZlibLimiter.run(1, (release) => {
      releaseHeld = release;
    });
    const blocked = negotiate({ concurrencyLimit: 1 }, undefined).server;
    const free = negotiate({ concurrencyLimit: 2 }, undefined).server;

    const blockedDone = compress(blocked, sample).then(() => order.push('limit-1 compressed'));
    expect(sharedZlibLimiter.queued).toBe(1);
    // Queued behind limit-1 (first in, first out), so this one waits too, until...
    const freeDone = compress(free, sample).then(() => order.push('limit-2 compressed'));
    expect(sharedZlibLimiter.queued).toBe(2);
    // ...the held slot is given back: a microtask runs after both were queued.
    await Promise.resolve();
    order.push('released');
    releaseHeld();
    await Promise.all([blockedDone, freeDone]);
    // Both jobs may run at once after the release (limit 2 allows it): zlib's thread pool decides
    // which finishes first, so only "nothing before the release" is ordered.
    expect(order[0]).toBe('released');
    expect(order.slice(1).sort()).toEqual(['limit-1 compressed', 'limit-2 compressed']);
    expect(sharedZlibLimiter.inFlight).toBe(0);
  });

  it('lets a connection with a higher limit proceed while one slot is held', async () => {
    let releaseHeld = (): void => {};
    sharedZlibLimiter.run(1, (release) => {
      releaseHeld = release;
    });
    const free = negotiate({ concurrencyLimit: 2 }, undefined).server;
    const wire = await compress(free, sample);
    expect(inflateWire(wire)).toEqual(sample);
    expect(sharedZlibLimiter.inFlight).toBe(1);
    releaseHeld();
    expect(sharedZlibLimiter.inFlight).toBe(0);
  });
});

describe('property: any message survives compress then decompress over any frame split', () => {
  it('round-trips with and without context takeover', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 4096 }),
            fc.string({ unit: 'grapheme', maxLength: 2000 }).map((s) => new Uint8Array(Buffer.from(s.repeat(3)))),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        fc.array(fc.nat({ max: 5000 }), { maxLength: 6 }),
        fc.boolean(),
        fc.constantFrom<number | undefined>(undefined, 8, 9, 12, 15),
        async (messages, cuts, noContextTakeover, windowBits) => {
          const { server, client } = negotiate(undefined, {
            serverNoContextTakeover: noContextTakeover,
            clientNoContextTakeover: noContextTakeover,
            serverMaxWindowBits: windowBits,
            clientMaxWindowBits: windowBits,
          });
          try {
            for (const bytes of messages) {
              const message = Buffer.from(bytes);
              const wire = await compress(server, message);
              expect(await decompressFrames(client, splitInto(wire, cuts))).toEqual(message);
              const up = await compress(client, message);
              expect(await decompressFrames(server, splitInto(up, cuts))).toEqual(message);
            }
          } finally {
            server.cleanup();
            client.cleanup();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
