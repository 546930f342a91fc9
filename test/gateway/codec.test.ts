import { describe, it, expect } from '@jest/globals';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { jsonCodec, textCodec, binaryCodec } from '../../lib/gateway/index.js';
import { resolveCodec } from '../../lib/gateway/codec.js';
import { expectThrowsWsgError } from '../support/expect-wsg-error.js';

describe("codec 'json'", () => {
  it('decodes {event, data} from text and from UTF-8 binary', () => {
    expect(jsonCodec.decode('{"event":"e","data":[1]}', false)).toEqual({ event: 'e', data: [1] });
    expect(jsonCodec.decode(Buffer.from('{"event":"é"}'), true)).toEqual({ event: 'é', data: undefined });
  });

  it.each([
    ['not JSON', '{', false],
    ['null', 'null', false],
    ['an array', '[]', false],
    ['no event', '{"data":1}', false],
    ['an empty event', '{"event":""}', false],
    ['a numeric event', '{"event":1}', false],
  ])('rejects %s with WSG_ERR_GATEWAY_UNDECODABLE and close code 1007', (_what, text) => {
    expectThrowsWsgError(() => jsonCodec.decode(text as string, false), 'WSG_ERR_GATEWAY_UNDECODABLE', CloseCode.InvalidPayload);
  });

  it('rejects binary that is not UTF-8 with close code 1007', () => {
    expectThrowsWsgError(() => jsonCodec.decode(Buffer.from([0xc3, 0x28]), true), 'WSG_ERR_GATEWAY_UNDECODABLE', CloseCode.InvalidPayload);
  });

  it('encodes {event, data}', () => {
    expect(jsonCodec.encode('e', { a: 1 })).toBe('{"event":"e","data":{"a":1}}');
  });
});

describe("codecs 'text' and 'binary'", () => {
  it('text: strings in and out, no event; binary frames rejected with 1003', () => {
    expect(textCodec.decode('hi', false)).toEqual({ event: undefined, data: 'hi' });
    expectThrowsWsgError(() => textCodec.decode(Buffer.from('hi'), true), 'WSG_ERR_GATEWAY_UNDECODABLE', CloseCode.UnsupportedData);
    expect(textCodec.encode(undefined, 'x')).toBe('x');
    expect(textCodec.encode('e', { a: 1 })).toBe('{"a":1}');
  });

  it('binary: bytes in and out, no event; text frames rejected with 1003', () => {
    expect(binaryCodec.decode(Buffer.from([1]), true)).toEqual({ event: undefined, data: Buffer.from([1]) });
    expectThrowsWsgError(() => binaryCodec.decode('x', false), 'WSG_ERR_GATEWAY_UNDECODABLE', CloseCode.UnsupportedData);
    expect(binaryCodec.encode(undefined, 'é')).toEqual(Buffer.from('é'));
    expect(binaryCodec.encode(undefined, new Uint8Array([9]))).toEqual(new Uint8Array([9]));
  });
});

describe('custom codecs', () => {
  it('are bound to their object and named', () => {
    class Upper {
      readonly prefix = '!';
      decode(data: string | Buffer) {
        return { event: 'e', data: `${this.prefix}${String(data)}` };
      }
      encode(_event: string | undefined, data: unknown) {
        return `${this.prefix}${String(data)}`;
      }
    }
    const codec = resolveCodec(new Upper());
    expect(codec.name).toBe('custom');
    expect(codec.decode('a', false)).toEqual({ event: 'e', data: '!a' });
    expect(codec.encode('e', 'b')).toBe('!b');
    expect(Object.isFrozen(codec)).toBe(true);
  });
});
