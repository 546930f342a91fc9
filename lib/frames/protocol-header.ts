import { HandshakeError } from './errors.js';
import { quoteHeaderValue } from './header-quote.js';
import { isToken } from './http-token.js';

const HTTP_BAD_REQUEST = 400;

function invalid(value: string): HandshakeError {
  return new HandshakeError('WSG_ERR_HANDSHAKE_PROTOCOL', `Invalid Sec-WebSocket-Protocol header: ${quoteHeaderValue(value)}`, HTTP_BAD_REQUEST);
}

/**
 * Parses `Sec-WebSocket-Protocol` (RFC 6455 §4.1: tokens, comma separated, no repeats) in time
 * linear in the header: repeats are found with a Set, never by searching the list so far (a
 * list search makes 50 000 distinct tokens cost seconds, the shape of ws's CVE-2021-32640).
 * Throws HandshakeError 'WSG_ERR_HANDSHAKE_PROTOCOL', status 400, on malformed input.
 */
export function parseProtocolHeader(value: string | undefined): string[] {
  if (value === undefined) return [];
  const protocols: string[] = [];
  const seen = new Set<string>();
  for (const part of value.split(',')) {
    const protocol = part.trim();
    if (!isToken(protocol) || seen.has(protocol)) throw invalid(value);
    seen.add(protocol);
    protocols.push(protocol);
  }
  return protocols;
}
