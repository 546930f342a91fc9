import { describe, it, expect, afterEach } from '@jest/globals';
import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { CloseCode } from '../../lib/frames/close-codes.js';
import type { Role } from '../../lib/frames/connection-options.js';
import { DeflateCodec } from '../../lib/frames/deflate-codec.js';
import { DeflateConfig, ZLIB_LEVEL, ZLIB_MEM_LEVEL, type PerMessageDeflateOptions } from '../../lib/frames/deflate-negotiation.js';
import { AlreadyClosedError, CapacityError, ConnectionClosedError, InvalidOptionError, WsgError } from '../../lib/frames/errors.js';
import { sharedZlibLimiter, ZlibLimiter } from '../../lib/frames/zlib-limiter.js';
import { bareCodec, negotiatedPair } from '../support/deflate-pair.js';
import { expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';

// permessage-deflate's zlib runtime (RFC 7692 §7.2): a DeflateCodec per connection, built from
// a DeflateConfig and the agreement negotiation returned (deflate-negotiation.test.ts).

const MiB = 1024 * 1024;
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

const created: DeflateCodec[] = [];
afterEach(() => {
  for (const codec of created.splice(0)) codec.cleanup();
});

/** A negotiated server and client codec pair, cleaned up after each test. */
function negotiate(
  serverOptions: PerMessageDeflateOptions | undefined,
  clientOptions: PerMessageDeflateOptions | undefined,
  maxMessageSize = MiB,
): { server: DeflateCodec; client: DeflateCodec; response: string } {
  const pair = negotiatedPair(serverOptions, clientOptions, maxMessageSize);
  created.push(pair.server, pair.client);
  return pair;
}

/** One codec after a bare offer, cleaned up after each test. */
function make(options: PerMessageDeflateOptions | undefined, role: Role, maxMessageSize = MiB): DeflateCodec {
  const codec = bareCodec(role, options, maxMessageSize);
  created.push(codec);
  return codec;
}

function compress(codec: DeflateCodec, data: Buffer, fin = true): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    codec.compress(data, fin, (err, result) => (err !== null ? reject(err) : resolve(result!)));
  });
}

function decompress(codec: DeflateCodec, data: Buffer, fin = true): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    codec.decompress(data, fin, (err, result) => (err !== null ? reject(err) : resolve(result)));
  });
}

async function decompressError(codec: DeflateCodec, data: Buffer, fin = true): Promise<WsgError> {
  try {
    await decompress(codec, data, fin);
  } catch (error) {
    expect(error).toBeInstanceOf(WsgError);
    return error as WsgError;
  }
  throw new Error('expected decompress to fail');
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

async function decompressFrames(codec: DeflateCodec, frames: Buffer[]): Promise<Buffer> {
  let result: Buffer | undefined;
  for (let i = 0; i < frames.length; i++) {
    const fin = i === frames.length - 1;
    const out = await decompress(codec, frames[i]!, fin);
    if (fin) result = out;
    else expect(out === undefined || out.length === 0).toBe(true);
  }
  return result!;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const sample = text('The quick brown fox jumps over the lazy dog. '.repeat(40));

describe('codec inputs', () => {
  it('takes its threshold from the config: 1024 B by default', () => {
    expect(make(undefined, 'server').threshold).toBe(1024);
    expect(make({ threshold: 0 }, 'server').threshold).toBe(0);
  });

  it("writes out zlib's own level and memLevel bounds", () => {
    expect(ZLIB_LEVEL).toEqual({ min: zlib.constants.Z_DEFAULT_COMPRESSION, max: zlib.constants.Z_BEST_COMPRESSION, default: zlib.constants.Z_DEFAULT_COMPRESSION });
    expect([ZLIB_MEM_LEVEL.min, ZLIB_MEM_LEVEL.max, ZLIB_MEM_LEVEL.default]).toEqual([zlib.constants.Z_MIN_MEMLEVEL, zlib.constants.Z_MAX_MEMLEVEL, 8]);
  });

  const agreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const invalid: [string, Role, number][] = [
    ['maxMessageSize 0', 'server', 0],
    ['maxMessageSize 1.5', 'server', 1.5],
    ['maxMessageSize NaN', 'client', Number.NaN],
    ['a role that is neither server nor client', 'peer' as Role, MiB],
  ];
  it.each(invalid)('rejects %s with WSG_ERR_INVALID_OPTION', (_label, role, maxMessageSize) => {
    const error = expectThrowsWsgError(() => new DeflateCodec(DeflateConfig.from({}), agreement, role, maxMessageSize), 'WSG_ERR_INVALID_OPTION');
    expect(error).toBeInstanceOf(InvalidOptionError);
  });

  it('accepts an Infinity maxMessageSize', () => {
    expect(() => new DeflateCodec(DeflateConfig.from({}), agreement, 'client', Infinity).cleanup()).not.toThrow();
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

  async function tooLarge(codec: DeflateCodec, frames: Buffer[]): Promise<{ error: WsgError; frame: number }> {
    for (let i = 0; i < frames.length; i++) {
      try {
        await decompress(codec, frames[i]!, i === frames.length - 1);
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
      const codec = make(undefined, 'server');
      const wire = wireDeflate(sample);
      live.clear();
      await compress(codec, sample);
      await decompress(codec, wire);
      expect(live.size).toBe(2);
      codec.cleanup();
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
      expect(created).toContain(codec);
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
