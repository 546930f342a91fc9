import { describe, it, expect } from '@jest/globals';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { jsonCodec, textCodec, binaryCodec } from '../../lib/gateway/index.js';
import { resolveCodec } from '../../lib/gateway/codec.js';

function undecodable(fn: () => unknown): { code: string; closeCode: number } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; closeCode: number };
  }
  throw new Error('expected the codec to throw');
}

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
    expect(undecodable(() => jsonCodec.decode(text as string, false))).toMatchObject({ code: 'WSG_ERR_GATEWAY_UNDECODABLE', closeCode: CloseCode.InvalidPayload });
  });

  it('rejects binary that is not UTF-8 with close code 1007', () => {
    expect(undecodable(() => jsonCodec.decode(Buffer.from([0xc3, 0x28]), true))).toMatchObject({ closeCode: CloseCode.InvalidPayload });
  });

  it('encodes {event, data}', () => {
    expect(jsonCodec.encode('e', { a: 1 })).toBe('{"event":"e","data":{"a":1}}');
  });
});

describe("codecs 'text' and 'binary'", () => {
  it('text: strings in and out, no event; binary frames rejected with 1003', () => {
    expect(textCodec.decode('hi', false)).toEqual({ event: undefined, data: 'hi' });
    expect(undecodable(() => textCodec.decode(Buffer.from('hi'), true))).toMatchObject({ closeCode: CloseCode.UnsupportedData });
    expect(textCodec.encode(undefined, 'x')).toBe('x');
    expect(textCodec.encode('e', { a: 1 })).toBe('{"a":1}');
  });

  it('binary: bytes in and out, no event; text frames rejected with 1003', () => {
    expect(binaryCodec.decode(Buffer.from([1]), true)).toEqual({ event: undefined, data: Buffer.from([1]) });
    expect(undecodable(() => binaryCodec.decode('x', false))).toMatchObject({ closeCode: CloseCode.UnsupportedData });
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
