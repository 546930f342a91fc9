import { describe, it, expect } from '@jest/globals';
import {
  formatExtensionHeader,
  parseExtensionHeader,
  repeatedParamNames,
  type ExtensionParams,
} from '../../lib/frames/extension-header.js';
import { HandshakeError, InvalidArgumentError } from '../../lib/frames/errors.js';
import { expectThrowsWsgError } from '../support/expect-wsg-error.js';

/** Plain-object view of a parse result, for readable expectations. */
function plain(map: Map<string, ExtensionParams[]>): Record<string, Record<string, string | true>[]> {
  const out: Record<string, Record<string, string | true>[]> = {};
  for (const [name, offers] of map) out[name] = offers.map((params) => ({ ...params }));
  return out;
}

/** Parses `header`, expecting HandshakeError WSG_ERR_HANDSHAKE_EXTENSION answered 400 (no close code: no connection yet). */
function parseError(header: string | readonly string[]): HandshakeError {
  const error = expectThrowsWsgError(() => parseExtensionHeader(header), 'WSG_ERR_HANDSHAKE_EXTENSION');
  expect(error).toBeInstanceOf(HandshakeError);
  expect((error as HandshakeError).status).toBe(400);
  return error as HandshakeError;
}

describe('RFC 6455 §9.1 Sec-WebSocket-Extensions grammar', () => {
  it('returns an empty map when the header is absent', () => {
    expect(parseExtensionHeader(undefined).size).toBe(0);
    expect(parseExtensionHeader([]).size).toBe(0);
  });

  it('parses a bare extension name as one offer without parameters', () => {
    expect(plain(parseExtensionHeader('permessage-deflate'))).toEqual({ 'permessage-deflate': [{}] });
  });

  it('parses parameters without a value as true and with a token value as a string', () => {
    expect(plain(parseExtensionHeader('permessage-deflate; client_max_window_bits; server_max_window_bits=10'))).toEqual({
      'permessage-deflate': [{ client_max_window_bits: true, server_max_window_bits: '10' }],
    });
  });

  it('keeps several offers of one extension in order, and other extensions apart', () => {
    const parsed = parseExtensionHeader(
      'permessage-deflate; server_max_window_bits=10, x-webkit-deflate-frame, permessage-deflate',
    );
    expect([...parsed.keys()]).toEqual(['permessage-deflate', 'x-webkit-deflate-frame']);
    expect(plain(parsed)).toEqual({
      'permessage-deflate': [{ server_max_window_bits: '10' }, {}],
      'x-webkit-deflate-frame': [{}],
    });
  });

  it('unquotes quoted-string values and removes quoted-pair escapes', () => {
    expect(plain(parseExtensionHeader('foo; a="10"; b="x\\y\\z"; c="\\1"'))).toEqual({
      foo: [{ a: '10', b: 'xyz', c: '1' }],
    });
  });

  it('accepts optional whitespace (SP and HTAB) around ";", ",", "=" and at both ends', () => {
    expect(plain(parseExtensionHeader(' \tfoo \t; a \t= \t1 ;b\t; c = "2" \t, bar\t '))).toEqual({
      foo: [{ a: '1', b: true, c: '2' }],
      bar: [{}],
    });
  });

  it('ignores empty list elements as RFC 7230 §7 requires', () => {
    expect(plain(parseExtensionHeader(', ,foo,, ,bar; a=1 ,'))).toEqual({ foo: [{}], bar: [{ a: '1' }] });
  });

  it('parses a parameter without a value before ",", before ";" and at the end, trailing whitespace excluded', () => {
    expect(plain(parseExtensionHeader('foo; a, bar; b; c, baz; d \t'))).toEqual({
      foo: [{ a: true }],
      bar: [{ b: true, c: true }],
      baz: [{ d: true }],
    });
  });

  it('joins several header lines as one list', () => {
    expect(plain(parseExtensionHeader(['foo; a=1', 'bar', 'foo']))).toEqual({ foo: [{ a: '1' }, {}], bar: [{}] });
  });

  it('accepts every RFC 7230 tchar in names and values', () => {
    const tchars = "!#$%&'*+-.^_`|~09AZaz";
    expect(plain(parseExtensionHeader(`${tchars}; ${tchars}=${tchars}`))).toEqual({ [tchars]: [{ [tchars]: tchars }] });
  });

  it('returns parameters as null-prototype objects', () => {
    const [params] = parseExtensionHeader('foo; a=1').get('foo')!;
    expect(Object.getPrototypeOf(params)).toBeNull();
  });
});

describe('RFC 6455 §9.1 malformed headers answer 400 WSG_ERR_HANDSHAKE_EXTENSION', () => {
  const cases: [string, string][] = [
    ['an empty header', ''],
    ['only whitespace', ' \t '],
    ['only commas', ' , ,'],
    ['a trailing semicolon', 'foo;'],
    ['a trailing semicolon and space', 'foo; '],
    ['an empty parameter', 'foo;;a'],
    ['a parameter without a name', 'foo; =1'],
    ['a missing value after "="', 'foo; a='],
    ['a missing value before ","', 'foo; a=, bar'],
    ['an empty quoted value', 'foo; a=""'],
    ['a space inside a quoted value', 'foo; a="1 2"'],
    ['an unterminated quoted value', 'foo; a="10'],
    ['a dangling escape', 'foo; a="10\\'],
    ['an escaped non-token character', 'foo; a="\\ "'],
    ['an escaped double quote', 'foo; a="\\""'],
    ['text right after a quoted value', 'foo; a="1"x'],
    ['two tokens in a name', 'foo bar'],
    ['two tokens in a parameter name', 'foo; a b'],
    ['two tokens in a value', 'foo; a=1 2'],
    ['a second "="', 'foo; a=1=2'],
    ['a quoted extension name', '"foo"'],
    ['a value on the extension name', 'foo=1'],
    ['a semicolon before any name', '; foo'],
    ['a separator in a name', 'foo/bar'],
    ['a non-ASCII name', 'fóo'],
    ['a non-ASCII value', 'foo; a=é'],
    ['a NUL byte', 'foo\u0000'],
    ['a line break', 'foo;\r\n a=1'],
    ['a quote inside a token value', 'foo; a=1"'],
  ];
  it.each(cases)('rejects %s', (_label, header) => {
    const error = parseError(header);
    expect(error.message).toMatch(/^Invalid Sec-WebSocket-Extensions header: /);
  });

  it('names the offending character and its index', () => {
    expect(parseError('foo; a b').message).toMatch(/0x62 at index 7/);
  });

  it.each([
    ['a character that cannot start an element', '; foo', 'unexpected character 0x3b at index 0'],
    ['a quote starting an element', '"foo"', 'unexpected character 0x22 at index 0'],
    ['a control character, with two hex digits', 'foo\u0001', 'unexpected character 0x01 at index 3'],
    ['a space inside a quoted value, at the space', 'foo; a="1 2"', 'unexpected character 0x20 at index 9'],
    ['a character that cannot start a parameter', 'foo; =1', 'unexpected character 0x3d at index 5'],
    ['an empty quoted value, at its closing quote', 'foo; a=""', 'empty quoted value at index 8'],
    ['a header with no element', ' , ', 'no extension in header'],
    ['a header ending inside a quoted value', 'foo; a="1', 'unexpected end of header'],
  ])('says what is wrong and where: %s', (_label, header, detail) => {
    expect(parseError(header).message).toBe(`Invalid Sec-WebSocket-Extensions header: ${detail}`);
  });

  it('rejects a malformed line among several header lines', () => {
    expect(parseError(['foo', 'bar;']).message).toBe('Invalid Sec-WebSocket-Extensions header: unexpected end of header');
  });
});

describe('prototype-safe parameter objects', () => {
  it('stores "__proto__", "constructor" and "hasOwnProperty" as plain names', () => {
    const parsed = parseExtensionHeader('__proto__; __proto__=1; constructor; hasOwnProperty="x", constructor, hasOwnProperty');
    expect([...parsed.keys()]).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
    const [params] = parsed.get('__proto__')!;
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(Object.keys(params!)).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
    expect(params!['__proto__']).toBe('1');
    expect(params!['constructor']).toBe(true);
    expect(params!['hasOwnProperty']).toBe('x');
    expect(parsed.get('constructor')).toHaveLength(1);
    expect(Object.keys(parsed.get('constructor')![0]!)).toEqual([]);
  });

  it('never touches Object.prototype', () => {
    parseExtensionHeader('foo; __proto__=polluted; toString; valueOf=1');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype.toString.call([])).toBe('[object Array]');
    expect(typeof ({} as { valueOf: unknown }).valueOf).toBe('function');
  });

  it('treats a parameter named like an Object.prototype member as absent until given', () => {
    const [params] = parseExtensionHeader('foo; a').get('foo')!;
    expect(params!['toString']).toBeUndefined();
    expect(params!['__proto__']).toBeUndefined();
  });
});

describe('repeated parameters (needed by RFC 7692 §7 to decline an offer)', () => {
  it('keeps the first value and reports each repeated name once', () => {
    const [params] = parseExtensionHeader('foo; a=1; b; a=2; b; a; c').get('foo')!;
    expect({ ...params }).toEqual({ a: '1', b: true, c: true });
    expect(repeatedParamNames(params!)).toEqual(['a', 'b']);
  });

  it('reports nothing for an offer without repeats, even when another offer repeats', () => {
    const offers = parseExtensionHeader('foo; a; a, foo; a').get('foo')!;
    expect(repeatedParamNames(offers[0]!)).toEqual(['a']);
    expect(repeatedParamNames(offers[1]!)).toEqual([]);
  });
});

describe('pathological 100 KB headers run in linear time', () => {
  // A generous bound: a quadratic parser takes minutes on these inputs.
  const BOUND_MS = 5_000;
  const SIZE = 100 * 1024;

  function timed<T>(fn: () => T): { value: T; ms: number } {
    const start = performance.now();
    const value = fn();
    return { value, ms: performance.now() - start };
  }

  it('parses one offer with 50 000 distinct parameters', () => {
    let header = 'foo';
    for (let i = 0; header.length < SIZE; i++) header += `;p${i}`;
    const { value, ms } = timed(() => parseExtensionHeader(header));
    expect(Object.keys(value.get('foo')![0]!).length).toBeGreaterThan(10_000);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('parses 100 KB of one parameter repeated and reports the repeat', () => {
    const header = `foo${'; a=1'.repeat(SIZE / 5)}`;
    const { value, ms } = timed(() => parseExtensionHeader(header));
    expect(repeatedParamNames(value.get('foo')![0]!)).toEqual(['a']);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('parses a 100 KB quoted value made of escapes', () => {
    const header = `foo; a="${'\\x'.repeat(SIZE / 2)}"`;
    const { value, ms } = timed(() => parseExtensionHeader(header));
    expect((value.get('foo')![0]!['a'] as string).length).toBe(SIZE / 2);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('parses 100 KB of empty list elements and offers', () => {
    const header = ', , foo'.repeat(SIZE / 7);
    const { value, ms } = timed(() => parseExtensionHeader(header));
    expect(value.get('foo')).toHaveLength(Math.floor(SIZE / 7));
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('rejects 100 KB of whitespace ending in a bad character at its index', () => {
    const header = `foo;${' \t'.repeat(SIZE / 2)}=`;
    const { value: error, ms } = timed(() => parseError(header));
    expect(error.message).toContain(`index ${header.length - 1}`);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('rejects a 100 KB unterminated quoted value', () => {
    const header = `foo; a="${'x'.repeat(SIZE)}`;
    const { value: error, ms } = timed(() => parseError(header));
    expect(error.message).toMatch(/end of header/);
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

describe('formatExtensionHeader', () => {
  function params(entries: Record<string, string | true>): ExtensionParams {
    return Object.assign(Object.create(null) as ExtensionParams, entries);
  }

  it('formats a map of offers with "; " between parameters and ", " between offers', () => {
    const map = new Map([
      ['permessage-deflate', [params({ server_no_context_takeover: true, client_max_window_bits: '10' }), params({})]],
      ['foo', [params({ a: '1' })]],
    ]);
    expect(formatExtensionHeader(map)).toBe(
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=10, permessage-deflate, foo; a=1',
    );
  });

  it('formats a record whose values are one params object or a list', () => {
    expect(formatExtensionHeader({ 'permessage-deflate': params({ client_max_window_bits: true }), foo: [params({}), params({ b: 'x' })] })).toBe(
      'permessage-deflate; client_max_window_bits, foo, foo; b=x',
    );
  });

  it('formats prototype-named parameters as plain names', () => {
    expect(formatExtensionHeader({ foo: params({ ['__proto__']: '1', constructor: true as const }) })).toBe('foo; __proto__=1; constructor');
  });

  it('round-trips through parseExtensionHeader', () => {
    const header = 'a; b; c=1, d, a; e=x';
    expect(formatExtensionHeader(parseExtensionHeader(header))).toBe('a; b; c=1, a; e=x, d');
  });

  it('formats a number value as its decimal text (window bits are numbers at the call site)', () => {
    expect(formatExtensionHeader({ 'permessage-deflate': params({ client_max_window_bits: 10 as unknown as string }) })).toBe(
      'permessage-deflate; client_max_window_bits=10',
    );
  });

  it.each([
    ['an extension name that is not a token', { 'foo;': params({}) }, 'Extension name "foo;" is not a token'],
    ['a parameter name that is not a token', { foo: params({ 'a b': true }) }, 'Extension parameter "a b" is not a token'],
    ['a value that is not a token', { foo: params({ a: '1 2' }) }, 'Extension parameter a has value "1 2", which is not a token (RFC 6455 §9.1)'],
    ['a value that is neither a string, a number nor true', { foo: params({ a: false as unknown as string }) }, 'Extension parameter a has value false, which is not a token (RFC 6455 §9.1)'],
  ])('names what it cannot format: %s', (_label, input, message) => {
    expect(expectThrowsWsgError(() => formatExtensionHeader(input), 'WSG_ERR_INVALID_ARGUMENT').message).toBe(message);
  });

  it.each([
    ['a value with a space', { foo: params({ a: '1 2' }) }],
    ['an empty value', { foo: params({ a: '' }) }],
    ['a parameter name with a comma', { foo: params({ 'a,b': true }) }],
    ['an extension name with a semicolon', { 'foo;': params({}) }],
  ])('throws WSG_ERR_INVALID_ARGUMENT for %s', (_label, input) => {
    const error = expectThrowsWsgError(() => formatExtensionHeader(input), 'WSG_ERR_INVALID_ARGUMENT');
    expect(error).toBeInstanceOf(InvalidArgumentError);
  });
});
