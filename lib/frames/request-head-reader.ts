import { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Limits } from './limits.js';

/** The cap node:http applies by default (`--max-http-header-size`): request line + headers. */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024;
/** ms: the whole head must be in by then; the handshake deadline (`handshakeTimeout`) by default. */
export const REQUEST_HEAD_TIMEOUT_MS = Limits.handshakeTimeout.default;

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/(\d)\.(\d)$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible ASCII, space, tab and obs-text; no other control character. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Repeats of these keep the first value, as node:http does (`IncomingMessage#headers`). */
const FIRST_WINS = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);

/** A request head parsed from its bytes: what `IncomingMessage` carries for an upgrade. */
export interface RequestHead {
  method: string;
  url: string;
  httpVersionMajor: number;
  httpVersionMinor: number;
  /** Names as sent and values, alternating (node:http's `rawHeaders`). */
  rawHeaders: string[];
  /** Lower-case names; repeats joined as node:http joins them. */
  headers: Record<string, string | string[]>;
}

/** Why a head is refused: the HTTP status to answer with, and a line for the body. */
export interface HeadRefusal {
  status: 400 | 408 | 431 | 505;
  reason: string;
}

function refusal(status: HeadRefusal['status'], reason: string): HeadRefusal {
  return { status, reason };
}

function addHeader(headers: Record<string, string | string[]>, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) {
    headers[name] = name === 'set-cookie' ? [value] : value;
  } else if (name === 'set-cookie') {
    (existing as string[]).push(value);
  } else if (name === 'cookie') {
    headers[name] = `${existing as string}; ${value}`;
  } else if (!FIRST_WINS.has(name)) {
    headers[name] = `${existing as string}, ${value}`;
  }
}

/**
 * Parses a request head (without its closing empty line) in one linear pass over its lines.
 * Strict where RFC 9112 allows a server to be: CRLF only, no line folding, no space before a
 * field's colon, token names, HTTP/1.x only.
 */
export function parseRequestHead(text: string): RequestHead | HeadRefusal {
  const lines = text.split('\r\n');
  const requestLine = REQUEST_LINE.exec(lines[0]!);
  if (requestLine === null) return refusal(400, 'Malformed request line');
  if (requestLine[3] !== '1') return refusal(505, 'Only HTTP/1.x is served here');
  const rawHeaders: string[] = [];
  const headers: Record<string, string | string[]> = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon);
    if (!TOKEN.test(name)) return refusal(400, 'Malformed header line');
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) return refusal(400, 'Invalid character in a header value');
    rawHeaders.push(name, value);
    addHeader(headers, name.toLowerCase(), value);
  }
  return {
    method: requestLine[1]!,
    url: requestLine[2]!,
    httpVersionMajor: 1,
    httpVersionMinor: Number(requestLine[4]),
    rawHeaders,
    headers,
  };
}

/** The head as node:http would hand it to an 'upgrade' or 'request' listener. */
export function toIncomingMessage(head: RequestHead, socket: Socket): IncomingMessage {
  const req = new IncomingMessage(socket);
  req.method = head.method;
  req.url = head.url;
  req.httpVersionMajor = head.httpVersionMajor;
  req.httpVersionMinor = head.httpVersionMinor;
  req.httpVersion = `${head.httpVersionMajor}.${head.httpVersionMinor}`;
  req.rawHeaders = head.rawHeaders;
  req.headers = head.headers as IncomingMessage['headers'];
  req.complete = true;
  return req;
}

/** Whether node:http would treat this request as an upgrade (`Connection: upgrade` + `Upgrade`). */
export function asksForUpgrade(head: RequestHead): boolean {
  const connection = head.headers['connection'];
  if (head.headers['upgrade'] === undefined || typeof connection !== 'string') return false;
  return connection.split(',').some((token) => token.trim().toLowerCase() === 'upgrade');
}

export interface RequestHeadLimits {
  /** @defaultValue MAX_REQUEST_HEAD_BYTES */
  maxBytes?: number;
  /** 0: no deadline. @defaultValue REQUEST_HEAD_TIMEOUT_MS */
  timeoutMs?: number;
}

/** Where a read head goes: exactly one of the three is called, once. */
export interface RequestHeadSink {
  /** The head, and the bytes read past it (the start of the WebSocket stream, or a body). */
  onHead(head: RequestHead, socket: Socket, rest: Buffer): void;
  /** Too big, malformed, or not complete in time: answer `status` and close. */
  onRefused(refusal: HeadRefusal, socket: Socket): void;
  /** The peer ended or reset before its head was complete; the socket is destroyed. */
  onAbandoned(socket: Socket): void;
}

/**
 * Reads one HTTP/1.1 request head off a fresh socket: bytes up to the first CRLFCRLF, at most
 * `maxBytes` of them, within `timeoutMs`. Replaces node:http's parser for a server that only
 * upgrades: what node:http leaves on every socket it ever parsed (listener wrappers, parser
 * bookkeeping) is never made, and the head has a size cap and a deadline of its own.
 */
export function readRequestHead(socket: Socket, sink: RequestHeadSink, limits: RequestHeadLimits = {}): void {
  const maxBytes = limits.maxBytes ?? MAX_REQUEST_HEAD_BYTES;
  let buffered: Buffer | null = null;
  const finish = (): void => {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('error', onError);
    socket.removeListener('close', onError);
  };
  const refuse = (status: HeadRefusal['status'], reason: string): void => {
    finish();
    sink.onRefused(refusal(status, reason), socket);
  };
  const onData = (chunk: Buffer): void => {
    const searchFrom = buffered === null ? 0 : Math.max(0, buffered.length - (HEAD_END.length - 1));
    buffered = buffered === null ? chunk : Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf(HEAD_END, searchFrom);
    if (end === -1) {
      if (buffered.length > maxBytes) refuse(431, 'Request head too large');
      return;
    }
    if (end > maxBytes) return refuse(431, 'Request head too large');
    // The sink takes the socket synchronously, within this 'data' event: no byte is lost.
    finish();
    const parsed = parseRequestHead(buffered.toString('latin1', 0, end));
    // A copy, so the rest does not pin the whole read buffer for the connection's life.
    const rest = Buffer.from(buffered.subarray(end + HEAD_END.length));
    buffered = null;
    if ('status' in parsed) sink.onRefused(parsed, socket);
    else sink.onHead(parsed, socket, rest);
  };
  // The peer finished sending before its head was complete: nothing to answer.
  // The peer ended or reset before its head was complete: there is no one to answer.
  const abandon = (): void => {
    finish();
    socket.destroy();
    sink.onAbandoned(socket);
  };
  const onEnd = abandon;
  const onError = abandon;
  const timeoutMs = limits.timeoutMs ?? REQUEST_HEAD_TIMEOUT_MS;
  const timer = timeoutMs === 0 ? undefined : setTimeout(() => refuse(408, `[WSG_ERR_HANDSHAKE_TIMEOUT] Request head not complete within handshakeTimeout (${timeoutMs} ms)`), timeoutMs);
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  // Destroyed from our side (the server's close()) emits neither 'end' nor 'error'; the
  // deadline timer must not outlive the socket.
  socket.on('close', onError);
}
