import { HandshakeError, InvalidArgumentError } from './errors.js';
import { isToken, isTokenChar } from './http-token.js';

/** Parameters of one extension offer; a null-prototype object (prototype-safe: "__proto__", "constructor" are just names). */
export type ExtensionParams = Record<string, string | true>;

const HTTP_BAD_REQUEST = 400;

const TAB = 0x09;
const SPACE = 0x20;
const DQUOTE = 0x22;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

// A Record cannot hold a name twice, yet RFC 7692 §7 needs to know when an offer repeated
// one (the offer must be declined). The parser keeps the first value and notes the repeat here.
const repeatedNames = new WeakMap<ExtensionParams, Set<string>>();

/** Names that appeared more than once in this parsed offer (first value kept); empty if none. */
export function repeatedParamNames(params: ExtensionParams): readonly string[] {
  const names = repeatedNames.get(params);
  return names === undefined ? [] : [...names];
}

const enum State {
  BeforeElement,
  ExtensionName,
  AfterExtensionName,
  BeforeParam,
  ParamName,
  AfterParamName,
  BeforeValue,
  TokenValue,
  QuotedValue,
  QuotedEscape,
  AfterValue,
}

function malformed(detail: string): HandshakeError {
  return new HandshakeError(
    'WSG_ERR_HANDSHAKE_EXTENSION',
    `Invalid Sec-WebSocket-Extensions header: ${detail}`,
    HTTP_BAD_REQUEST,
  );
}

function unexpectedChar(code: number, index: number): HandshakeError {
  return malformed(`unexpected character 0x${code.toString(16).padStart(2, '0')} at index ${index}`);
}

/**
 * Parses Sec-WebSocket-Extensions (RFC 6455 §9.1 grammar, RFC 7230 tokens, quoted-strings,
 * optional whitespace and empty list elements) in one linear pass without regexes.
 * Returns name → offers in order. Several header lines may be passed as an array.
 * Throws HandshakeError 'WSG_ERR_HANDSHAKE_EXTENSION', status 400, on malformed input.
 */
export function parseExtensionHeader(header: string | readonly string[] | undefined): Map<string, ExtensionParams[]> {
  const offers = new Map<string, ExtensionParams[]>();
  if (header === undefined) return offers;
  if (typeof header !== 'string') {
    if (header.length === 0) return offers;
    header = header.join(',');
  }

  let state: State = State.BeforeElement;
  let elements = 0;
  // Stryker disable UnaryOperator,StringLiteral: equivalent, these initial values are overwritten before any read
  let start = -1;
  let extensionName = '';
  let params: ExtensionParams = Object.create(null) as ExtensionParams;
  let paramName = '';
  // Quoted values are rebuilt from the runs between escapes: each char is copied once.
  let quoted = '';
  // Stryker restore UnaryOperator,StringLiteral

  const setParam = (value: string | true): void => {
    if (params[paramName] === undefined) {
      params[paramName] = value;
      return;
    }
    const repeated = repeatedNames.get(params);
    if (repeated === undefined) repeatedNames.set(params, new Set([paramName]));
    else repeated.add(paramName);
  };
  const endElement = (): void => {
    const list = offers.get(extensionName);
    if (list === undefined) offers.set(extensionName, [params]);
    else list.push(params);
    // Stryker disable next-line AssignmentOperator: equivalent, only elements === 0 is ever asked
    elements += 1;
    params = Object.create(null) as ExtensionParams;
  };

  const length = header.length;
  for (let i = 0; i < length; i++) {
    const code = header.charCodeAt(i);
    const isSpace = code === SPACE || code === TAB;
    switch (state) {
      case State.BeforeElement:
        // RFC 7230 §7: empty list elements (", ,") are legal and ignored.
        if (isSpace || code === COMMA) continue;
        if (!isTokenChar(code)) throw unexpectedChar(code, i);
        start = i;
        state = State.ExtensionName;
        continue;
      case State.ExtensionName:
      case State.AfterExtensionName:
        if (state === State.ExtensionName && isTokenChar(code)) continue;
        if (state === State.ExtensionName) extensionName = header.slice(start, i);
        if (isSpace) {
          state = State.AfterExtensionName;
        } else if (code === SEMICOLON) {
          state = State.BeforeParam;
        } else if (code === COMMA) {
          endElement();
          state = State.BeforeElement;
        } else {
          throw unexpectedChar(code, i);
        }
        continue;
      case State.BeforeParam:
        if (isSpace) continue;
        if (!isTokenChar(code)) throw unexpectedChar(code, i);
        start = i;
        state = State.ParamName;
        continue;
      case State.ParamName:
      case State.AfterParamName:
        if (state === State.ParamName && isTokenChar(code)) continue;
        if (state === State.ParamName) paramName = header.slice(start, i);
        if (isSpace) {
          state = State.AfterParamName;
        } else if (code === EQUALS) {
          state = State.BeforeValue;
        } else if (code === SEMICOLON) {
          setParam(true);
          state = State.BeforeParam;
        } else if (code === COMMA) {
          setParam(true);
          endElement();
          state = State.BeforeElement;
        } else {
          throw unexpectedChar(code, i);
        }
        continue;
      case State.BeforeValue:
        if (isSpace) continue;
        if (code === DQUOTE) {
          quoted = '';
          start = i + 1;
          state = State.QuotedValue;
        } else if (isTokenChar(code)) {
          start = i;
          state = State.TokenValue;
        } else {
          throw unexpectedChar(code, i);
        }
        continue;
      case State.TokenValue:
        if (isTokenChar(code)) continue;
        setParam(header.slice(start, i));
        if (isSpace) {
          state = State.AfterValue;
        } else if (code === SEMICOLON) {
          state = State.BeforeParam;
        } else if (code === COMMA) {
          endElement();
          state = State.BeforeElement;
        } else {
          throw unexpectedChar(code, i);
        }
        continue;
      case State.QuotedValue:
        // RFC 6455 §9.1: the unescaped quoted-string must itself be a token.
        if (isTokenChar(code)) continue;
        if (code === BACKSLASH) {
          quoted += header.slice(start, i);
          state = State.QuotedEscape;
        } else if (code === DQUOTE) {
          quoted += header.slice(start, i);
          if (quoted.length === 0) throw malformed(`empty quoted value at index ${i}`);
          setParam(quoted);
          state = State.AfterValue;
        } else {
          throw unexpectedChar(code, i);
        }
        continue;
      case State.QuotedEscape:
        if (!isTokenChar(code)) throw unexpectedChar(code, i);
        start = i;
        state = State.QuotedValue;
        continue;
      case State.AfterValue:
        if (isSpace) continue;
        if (code === SEMICOLON) {
          state = State.BeforeParam;
        } else if (code === COMMA) {
          endElement();
          state = State.BeforeElement;
        } else {
          throw unexpectedChar(code, i);
        }
        continue;
    }
  }

  switch (state) {
    case State.BeforeElement:
      break;
    case State.ExtensionName:
      extensionName = header.slice(start);
      endElement();
      break;
    case State.AfterExtensionName:
    case State.AfterValue:
      endElement();
      break;
    case State.ParamName:
    case State.AfterParamName:
      if (state === State.ParamName) paramName = header.slice(start);
      setParam(true);
      endElement();
      break;
    case State.TokenValue:
      setParam(header.slice(start));
      endElement();
      break;
    default:
      throw malformed('unexpected end of header');
  }
  // RFC 6455 §9.1 extension-list is 1#extension: at least one element.
  if (elements === 0) throw malformed('no extension in header');
  return offers;
}

function formatParams(name: string, params: ExtensionParams): string {
  if (!isToken(name)) {
    throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Extension name ${JSON.stringify(name)} is not a token`);
  }
  let out = name;
  for (const key of Object.keys(params)) {
    const value: unknown = params[key];
    if (!isToken(key)) {
      throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Extension parameter ${JSON.stringify(key)} is not a token`);
    }
    if (value === true) {
      out += `; ${key}`;
      continue;
    }
    // Numbers are accepted as a convenience: window bits are numbers at the call site.
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' || !isToken(text)) {
      throw new InvalidArgumentError(
        'WSG_ERR_INVALID_ARGUMENT',
        `Extension parameter ${key} has value ${JSON.stringify(value)}, which is not a token (RFC 6455 §9.1)`,
      );
    }
    out += `; ${key}=${text}`;
  }
  return out;
}

/** Formats name → params list back into a header value, e.g. 'permessage-deflate; client_max_window_bits=10'. */
export function formatExtensionHeader(
  extensions:
    | ReadonlyMap<string, readonly ExtensionParams[]>
    | Readonly<Record<string, ExtensionParams | readonly ExtensionParams[]>>,
): string {
  const parts: string[] = [];
  const add = (name: string, value: ExtensionParams | readonly ExtensionParams[]): void => {
    if (Array.isArray(value)) {
      for (const params of value as readonly ExtensionParams[]) parts.push(formatParams(name, params));
    } else {
      parts.push(formatParams(name, value as ExtensionParams));
    }
  };
  if (extensions instanceof Map) {
    for (const [name, list] of extensions as ReadonlyMap<string, readonly ExtensionParams[]>) add(name, list);
  } else {
    const record = extensions as Readonly<Record<string, ExtensionParams | readonly ExtensionParams[]>>;
    for (const name of Object.keys(record)) add(name, record[name] as ExtensionParams | readonly ExtensionParams[]);
  }
  return parts.join(', ');
}
