import { createHash } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions, ResolvedConnectionOptions } from './connection-options.js';
import { DeflateCodec } from './deflate-codec.js';
import { PERMESSAGE_DEFLATE, acceptDeflateOffer, type DeflateAgreement, type DeflateConfig } from './deflate-negotiation.js';
import { HandshakeError, InvalidArgumentError } from './errors.js';
import { formatExtensionHeader, parseExtensionHeader, type ExtensionParams } from './extension-header.js';
import { Limits } from './limits.js';
import { quoteHeaderValue } from './header-quote.js';
import { parseProtocolHeader } from './protocol-header.js';
import { WebSocketConnection } from './websocket-connection.js';

// Callers (client, RFC 8441 intake, the package index) import it from here.

/** RFC 6455 §1.3: the GUID appended to the key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The only protocol version this engine speaks (§4.1). */
export const WEBSOCKET_VERSION = '13';

/** `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (§4.2.2 step 5.4). */
export function computeAcceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/** What a valid upgrade request offers: the server's decisions are taken from this. */
export interface UpgradeOffer {
  key: string;
  /** Subprotocols offered, in the client's order of preference. */
  protocols: string[];
  /** Extensions offered, name → offers in order (null-prototype params). */
  extensions: Map<string, ExtensionParams[]>;
}

/** 16 random bytes in base64 are always 22 characters plus `==` (§4.1). */
const KEY_PATTERN = /^[A-Za-z0-9+/]{22}==$/;
/** RFC 7230 token characters. */
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE_PATTERN = /^[\t\x20-\x7e\x80-\xff]*$/;

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  // Stryker disable next-line StringLiteral: unreachable here, node:http joins repeated headers into one string (only set-cookie is an array)
  return Array.isArray(value) ? value.join(',') : value;
}

function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of value.split(',')) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

/**
 * Checks an HTTP/1.1 upgrade request against RFC 6455 §4.2.1. Throws `HandshakeError` whose
 * `status` (and `headers`) are the response to send: 405, 400, or 426 for a version mismatch.
 */
export function validateUpgradeRequest(req: IncomingMessage): UpgradeOffer {
  if (req.method !== 'GET') {
    throw new HandshakeError('WSG_ERR_HANDSHAKE_METHOD', `WebSocket upgrades must use GET, not ${req.method}`, 405, { Allow: 'GET' });
  }
  if (!hasToken(headerValue(req, 'upgrade'), 'websocket')) {
    throw new HandshakeError('WSG_ERR_HANDSHAKE_UPGRADE', 'Missing or invalid Upgrade: websocket header', 400);
  }
  if (!hasToken(headerValue(req, 'connection'), 'upgrade')) {
    throw new HandshakeError('WSG_ERR_HANDSHAKE_UPGRADE', 'Missing Connection: Upgrade header', 400);
  }
  // Stryker disable next-line MethodExpression: equivalent over node:http, which strips a header value's surrounding whitespace
  const key = headerValue(req, 'sec-websocket-key')?.trim();
  // Stryker disable next-line ConditionalExpression: equivalent, KEY_PATTERN.test(undefined) tests "undefined", which fails; the check narrows the type
  if (key === undefined || !KEY_PATTERN.test(key)) {
    throw new HandshakeError('WSG_ERR_HANDSHAKE_KEY', 'Missing or invalid Sec-WebSocket-Key header (16 bytes, base64)', 400);
  }
  // Stryker disable next-line MethodExpression: equivalent over node:http, which strips a header value's surrounding whitespace
  const version = headerValue(req, 'sec-websocket-version')?.trim();
  if (version !== WEBSOCKET_VERSION) {
    throw new HandshakeError(
      'WSG_ERR_HANDSHAKE_VERSION',
      `Unsupported Sec-WebSocket-Version ${quoteHeaderValue(version)}; this server speaks 13`,
      426,
      { 'Sec-WebSocket-Version': WEBSOCKET_VERSION },
    );
  }
  const protocols = parseProtocolHeader(headerValue(req, 'sec-websocket-protocol'));
  const extensions = parseExtensionHeader(req.headers['sec-websocket-extensions']);
  return { key, protocols, extensions };
}

/**
 * `validateUpgradeRequest()` for a router: on a refusal it writes the HTTP response the error
 * names (status, headers such as `Sec-WebSocket-Version: 13`) and returns null.
 */
export function validateOrRefuseUpgrade(req: IncomingMessage, socket: Duplex): UpgradeOffer | null {
  try {
    return validateUpgradeRequest(req);
  } catch (error) {
    if (!(error instanceof HandshakeError)) throw error;
    rejectUpgrade(socket, error.status, error.headers, error.message);
    return null;
  }
}

/** What the server agreed to for permessage-deflate: the response header and the codec's inputs. */
export interface NegotiatedDeflate {
  /** The `Sec-WebSocket-Extensions` value of the response. */
  readonly header: string;
  readonly config: DeflateConfig;
  readonly agreement: DeflateAgreement;
}

/**
 * Server side of extension negotiation (today permessage-deflate only), pure: `config` was
 * resolved once with the server's options (`resolveDeflateConfig()`; null: off). No zlib
 * stream exists until the connection opens with the result.
 */
export function negotiateDeflate(offer: UpgradeOffer, config: DeflateConfig | null): NegotiatedDeflate | null {
  if (config === null) return null;
  const offers = offer.extensions.get(PERMESSAGE_DEFLATE);
  if (offers === undefined) return null;
  const accepted = acceptDeflateOffer(config, offers);
  if (accepted === null) return null;
  return { header: formatExtensionHeader(new Map([[PERMESSAGE_DEFLATE, [accepted.response]]])), config, agreement: accepted.agreement };
}

/** The connection's codec for what `negotiateDeflate()` agreed (a server's role). */
export function serverDeflateCodec(deflate: NegotiatedDeflate | null | undefined, maxMessageSize: number): DeflateCodec | null {
  return deflate ? new DeflateCodec(deflate.config, deflate.agreement, 'server', maxMessageSize) : null;
}

function checkHeaders(headers: Readonly<Record<string, string>> | undefined): void {
  if (headers === undefined) return;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN_PATTERN.test(name) || !HEADER_VALUE_PATTERN.test(String(value))) {
      throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Invalid response header ${JSON.stringify(name)}`);
    }
  }
}

function formatHeaders(headers: Readonly<Record<string, string>> | undefined): string {
  let out = '';
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) out += `${name}: ${value}\r\n`;
  return out;
}

export interface AcceptUpgrade extends ConnectionOptions {
  /** Options resolved once for many connections; when given, the limit fields are ignored. */
  resolvedOptions?: ResolvedConnectionOptions;
  key: string;
  /** The chosen subprotocol; must be one the client offered. */
  protocol?: string;
  /** Extra response headers. */
  headers?: Readonly<Record<string, string>>;
  /** From `negotiateDeflate()`. */
  deflate?: NegotiatedDeflate | null;
}

/** The status line and headers of the 101 (§4.2.2), before any extra headers. */
export function upgradeResponseLines(key: string, protocol: string | undefined, deflate: NegotiatedDeflate | null | undefined): string[] {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${computeAcceptKey(key)}`];
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  if (deflate) lines.push(`Sec-WebSocket-Extensions: ${deflate.header}`);
  return lines;
}

/** Writes the 101 response (§4.2.2) and returns the open connection over `socket`. */
export function completeUpgrade(socket: Duplex, head: Buffer | null | undefined, accept: AcceptUpgrade): WebSocketConnection {
  checkHeaders(accept.headers);
  // Stryker disable next-line ConditionalExpression: equivalent, TOKEN_PATTERN.test(undefined) tests "undefined", a token; the check narrows the type
  if (accept.protocol !== undefined && accept.protocol !== '' && !TOKEN_PATTERN.test(accept.protocol)) {
    throw new InvalidArgumentError('WSG_ERR_INVALID_ARGUMENT', `Invalid subprotocol ${JSON.stringify(accept.protocol)}`);
  }
  // Made before the 101 goes out: a codec that cannot be made answers 500, not a dead socket.
  const maxMessageSize = accept.resolvedOptions?.maxMessageSize ?? accept.maxMessageSize ?? Limits.maxMessageSize.default;
  const deflate = serverDeflateCodec(accept.deflate, maxMessageSize);
  let response = '';
  for (const line of upgradeResponseLines(accept.key, accept.protocol, accept.deflate)) response += `${line}\r\n`;
  response += formatHeaders(accept.headers) + '\r\n';
  socket.write(response);
  return WebSocketConnection.fromPartiallyRead(socket, head, {
    ...accept,
    role: 'server',
    protocol: accept.protocol ?? '',
    extensions: accept.deflate?.header ?? '',
    deflate,
  });
}

/**
 * Refuses an upgrade with a real HTTP response (never a 101), then closes the socket.
 * The body is plain text; `Connection: close` tells the client not to reuse the socket.
 */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  headers?: Readonly<Record<string, string>>,
  body?: string,
): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  checkHeaders(headers);
  const text = body ?? STATUS_CODES[status] ?? '';
  // Stryker disable next-line StringLiteral: equivalent, Buffer.from() takes an empty encoding as its default, UTF-8
  const payload = Buffer.from(text, 'utf8');
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${payload.length}\r\n` +
      formatHeaders(headers) +
      '\r\n' +
      text,
  );
}

/**
 * Between Node's `upgrade` event and our 101 the socket has no error listener (Node removed
 * its own); an async accept phase must not let a reset crash the process.
 */
export function guardUpgradeSocket(socket: Duplex): () => void {
  const onError = (): void => {
    socket.destroy();
  };
  socket.on('error', onError);
  return () => socket.off('error', onError);
}
