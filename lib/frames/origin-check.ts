import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { WsgErrorCode } from './errors.js';
import type { HandshakeDeny } from './handshake-decision.js';
import { quoteHeaderValue } from './header-quote.js';

const FORBIDDEN = 403;

/**
 * characters: the longest Origin looked at. An RFC 6454 serialization is a scheme, a DNS name
 * (≤ 253 characters) or an IP literal, and a port: a longer value is not a browser's, and
 * an 8 KiB one must cost no more than a short one.
 */
export const MAX_ORIGIN_LENGTH = 512;

/**
 * Which origins a front door admits: `null` any (`'*'` on purpose), else the listed ones
 * (normalized) and, always, the host the request was sent to.
 */
export type OriginAllowList = ReadonlySet<string> | null;

/** What the origin screen reads of one handshake request, the same on both roads. */
export interface OriginRequest {
  /** The Origin header as received (Node joins repeated ones with ", ", which never parses). */
  readonly origin: string | string[] | undefined;
  /** Where the request was sent: `Host` (HTTP/1.1) or `:authority` (RFC 8441). */
  readonly authority: string | undefined;
  /** The request came over TLS (wss). */
  readonly secure: boolean;
}

/** An origin or authority split as RFC 6454 §6.2 serializes it, host lowercased. */
interface Authority {
  readonly host: string;
  /** null: the scheme's default port. */
  readonly port: number | null;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = Object.freeze({ http: 80, https: 443 });
// RFC 3986 reg-name and IPv4 characters; an IP literal is checked apart.
const REG_NAME = /^[a-z0-9\-._~!$&'()*+,;=%]+$/;
const IP_LITERAL = /^\[[0-9a-f:.]+\]$/;
const PORT = /^[0-9]{1,5}$/;

/** `host[:port]` as Host, `:authority` and an origin carry it; null when it is not one. */
function parseAuthority(text: string): Authority | null {
  const value = text.toLowerCase();
  const close = value.lastIndexOf(']');
  const colon = value.lastIndexOf(':');
  const hasPort = colon > close;
  const host = hasPort ? value.slice(0, colon) : value;
  if (host.length === 0 || !(REG_NAME.test(host) || IP_LITERAL.test(host))) return null;
  if (!hasPort) return { host, port: null };
  const digits = value.slice(colon + 1);
  // `host:` (empty port) is allowed by RFC 3986 and means the default.
  if (digits.length === 0) return { host, port: null };
  if (!PORT.test(digits) || Number(digits) > 65535) return null;
  return { host, port: Number(digits) };
}

/** An Origin header as RFC 6454 serializes it: `http(s)://host[:port]`, nothing after. */
function parseOrigin(origin: string): { readonly scheme: string; readonly authority: Authority } | null {
  const sep = origin.indexOf('://');
  if (sep <= 0) return null;
  const scheme = origin.slice(0, sep).toLowerCase();
  if (DEFAULT_PORTS[scheme] === undefined) return null;
  const authority = parseAuthority(origin.slice(sep + 3));
  return authority === null ? null : { scheme, authority };
}

/**
 * Origins compare case-insensitively and without a trailing slash (RFC 6454 §6.2 has none; a
 * configuration may write one).
 */
export function normalizeOrigin(origin: string): string {
  return (origin.endsWith('/') ? origin.slice(0, -1) : origin).toLowerCase();
}

/**
 * What is wrong with an `allowedOrigins` value, or null. `'null'` is refused: sandboxed
 * frames and `file:` pages of every site send it, so allowing it allows them all.
 */
export function originListProblem(list: unknown): string | null {
  if (list === undefined) return null;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v.length === 0)) return 'must be an array of non-empty strings';
  if (list.some((v: string) => v.toLowerCase() === 'null')) return "cannot list 'null': every sandboxed frame and file: page sends it";
  if (list.some((v: string) => v.length > MAX_ORIGIN_LENGTH)) return `lists an origin longer than ${MAX_ORIGIN_LENGTH} characters`;
  return null;
}

/** `allowedOrigins` as a front door checks it: undefined → the same host only; `'*'` → any. */
export function originAllowList(list: readonly string[] | undefined): OriginAllowList {
  if (list?.includes('*') === true) return null;
  return Object.freeze(new Set((list ?? []).map(normalizeOrigin)));
}

/**
 * Scheme-aware same-host check: the page's host and port (its scheme's default when absent)
 * equal the ones the request was sent to. An `http:` page may not reach a TLS socket (a
 * network attacker writes http pages); an `https:` Origin on a plain socket means a proxy
 * ended TLS in front (browsers do not let https pages open ws:), so its ports count as https.
 */
function sameHost(origin: string, authority: string | undefined, secure: boolean): boolean {
  const page = parseOrigin(origin);
  if (page === null || authority === undefined || authority.length > MAX_ORIGIN_LENGTH) return false;
  if (secure && page.scheme !== 'https') return false;
  const target = parseAuthority(authority);
  if (target === null) return false;
  const defaultPort = DEFAULT_PORTS[page.scheme]!;
  return page.authority.host === target.host && (page.authority.port ?? defaultPort) === (target.port ?? defaultPort);
}

/**
 * The origin screen (RFC 6455 §10.2), one decision for every front door: a request without
 * Origin (not a browser's) passes; else its Origin must be listed or name the host the
 * request was sent to. `null`, a malformed or an over-long Origin is refused. The refusal is
 * a 403 whose body starts with `[code]`.
 */
export function screenOrigin(allowed: OriginAllowList, request: OriginRequest, code: WsgErrorCode): HandshakeDeny | null {
  const { origin } = request;
  if (origin === undefined || allowed === null) return null;
  if (typeof origin === 'string' && origin.length <= MAX_ORIGIN_LENGTH) {
    if (allowed.has(normalizeOrigin(origin)) || sameHost(origin, request.authority, request.secure)) return null;
  }
  const shown = typeof origin === 'string' ? origin : origin.join(', ');
  return { accept: false, status: FORBIDDEN, body: `[${code}] Origin ${quoteHeaderValue(shown)} is not allowed` };
}

/** An HTTP/1.1 upgrade request as the origin screen reads it. */
export function upgradeOriginRequest(req: IncomingMessage): OriginRequest {
  return { origin: req.headers.origin, authority: req.headers.host, secure: (req.socket as Partial<TLSSocket>).encrypted === true };
}
