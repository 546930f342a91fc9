import { afterEach, describe, expect, it } from '@jest/globals';
import { MAX_ORIGIN_LENGTH, originAllowList, originListProblem, screenOrigin, type OriginRequest } from '../../lib/frames/origin-check.js';
import { WsServer } from '../../lib/frames/websocket-server.js';
import { expectCodeInText, expectThrowsWsgError } from '../support/expect-wsg-error.js';
import { rawHttpExchange, RawPeer } from '../support/raw-peer.js';
import { upgradeRequestText } from '../support/upgrade-request-text.js';

const SAME_HOST_ONLY = originAllowList(undefined);

function verdict(origin: string | string[] | undefined, authority: string | undefined, secure = false, allowed = SAME_HOST_ONLY): 'pass' | 403 {
  const request: OriginRequest = { origin, authority, secure };
  const deny = screenOrigin(allowed, request, 'WSG_ERR_HANDSHAKE_ORIGIN');
  return deny === null ? 'pass' : (deny.status as 403);
}

describe('RFC 6455 §10.2 origin screen: the same host by default', () => {
  it.each([
    ['a page of the same host and port (http ↔ ws)', 'http://127.0.0.1:8080', '127.0.0.1:8080', false],
    ['a page of the same host, default port elided on both sides', 'http://chat.example', 'chat.example', false],
    ['an explicit default port against an elided one', 'http://chat.example:80', 'chat.example', false],
    ['host names compare case-insensitively', 'http://Chat.Example:8080', 'chat.example:8080', false],
    ['an IPv6 literal', 'http://[::1]:8080', '[::1]:8080', false],
    ['https ↔ wss on TLS', 'https://chat.example', 'chat.example', true],
    ['an https page behind a proxy that ended TLS (browsers let no https page open ws:)', 'https://chat.example', 'chat.example', false],
    ['https with its port behind a TLS-ending proxy', 'https://chat.example:8443', 'chat.example:8443', false],
  ])('passes %s', (_what, origin, authority, secure) => {
    expect(verdict(origin, authority, secure)).toBe('pass');
  });

  it.each([
    ['another host', 'http://evil.example', 'chat.example'],
    ['the same host on another port', 'http://chat.example:8081', 'chat.example:8080'],
    ['a suffix of the host', 'http://evil-chat.example', 'chat.example'],
    ['the https default port against a plain one (443 ≠ 80)', 'https://chat.example', 'chat.example:80'],
    ['the null origin (sandboxed frames, file: pages)', 'null', '127.0.0.1'],
    ['a non-http scheme', 'chrome-extension://abcdef', 'abcdef'],
    ['an origin with a path (not an RFC 6454 serialization)', 'http://chat.example/page', 'chat.example'],
    ['an origin with userinfo', 'http://user@chat.example', 'chat.example'],
    ['an origin with a port out of range', 'http://chat.example:99999', 'chat.example:99999'],
    ['an empty origin', '', 'chat.example'],
    ['a request without Host', 'http://chat.example', undefined],
    ['two Origin values joined by Node', 'http://chat.example, http://evil.example', 'chat.example'],
  ])('refuses %s', (_what, origin, authority) => {
    expect(verdict(origin, authority)).toBe(403);
  });

  it('refuses an http page reaching a TLS socket on the same host (a network attacker writes http pages)', () => {
    expect(verdict('http://chat.example:8443', 'chat.example:8443', true)).toBe(403);
  });

  it('lets a request without Origin through: it is not a browser\'s', () => {
    expect(verdict(undefined, 'chat.example')).toBe('pass');
  });

  it(`looks at no Origin longer than MAX_ORIGIN_LENGTH (${MAX_ORIGIN_LENGTH}) characters, listed or not, and quotes at most 64 of them`, () => {
    const host = 'a'.repeat(MAX_ORIGIN_LENGTH - 'http://'.length);
    expect(verdict(`http://${host}`, host)).toBe('pass');
    expect(verdict(`http://${host}a`, `${host}a`)).toBe(403);
    const huge = `http://${'a'.repeat(8192)}`;
    const deny = screenOrigin(originAllowList([huge.slice(0, 100)]), { origin: huge, authority: huge.slice(7), secure: false }, 'WSG_ERR_HANDSHAKE_ORIGIN');
    expect(deny?.status).toBe(403);
    expect(deny?.body!.length).toBeLessThan(200);
    expectCodeInText(deny?.body, 'WSG_ERR_HANDSHAKE_ORIGIN');
  });

  it('an array Origin (repeated header) is refused', () => {
    expect(verdict(['http://chat.example', 'http://chat.example'], 'chat.example')).toBe(403);
  });
});

describe('allowedOrigins', () => {
  it('lists origins besides the same host, case-insensitively, with or without a trailing slash', () => {
    const allowed = originAllowList(['https://Good.example/']);
    expect(verdict('https://good.example', 'chat.example', true, allowed)).toBe('pass');
    expect(verdict('https://GOOD.example', 'chat.example', true, allowed)).toBe('pass');
    expect(verdict('http://chat.example', 'chat.example', false, allowed)).toBe('pass');
    expect(verdict('https://evil.example', 'chat.example', true, allowed)).toBe(403);
  });

  it("['*'] allows any origin, the null origin included", () => {
    expect(verdict('https://evil.example', 'chat.example', true, originAllowList(['*']))).toBe('pass');
    expect(verdict('null', 'chat.example', false, originAllowList(['*']))).toBe('pass');
  });

  it.each([
    ['not an array', 'https://good.example', 'must be an array of non-empty strings'],
    ['an empty entry', [''], 'must be an array of non-empty strings'],
    ["'null'", ['https://good.example', 'null'], "cannot list 'null'"],
    ['an over-long origin', [`https://${'a'.repeat(MAX_ORIGIN_LENGTH)}`], 'longer than'],
  ])('refuses %s', (_what, list, problem) => {
    expect(originListProblem(list)).toContain(problem);
  });
});

describe('WsServer origin screen (RFC 6455 §10.2)', () => {
  let server: WsServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it('answers 403 WSG_ERR_HANDSHAKE_ORIGIN to a page of another host, by default', async () => {
    server = new WsServer({ port: 0 });
    const { port } = await server.listen();
    const answer = await rawHttpExchange(port, upgradeRequestText({ Host: `127.0.0.1:${port}`, Origin: 'http://evil.example' }));
    expect(answer.status).toBe(403);
    expectCodeInText(answer.body, 'WSG_ERR_HANDSHAKE_ORIGIN');
  });

  it('opens for a page of its own host, and for a client without Origin', async () => {
    server = new WsServer({ port: 0 });
    const { port } = await server.listen();
    const own = await RawPeer.connect(port, { headers: { Origin: `http://127.0.0.1:${port}` } });
    const bare = await RawPeer.connect(port);
    own.socket.destroy();
    bare.socket.destroy();
    await Promise.all([own.closed, bare.closed]);
  });

  it("opens for a listed origin, and for any with ['*']", async () => {
    server = new WsServer({ port: 0, allowedOrigins: ['https://good.example'] });
    const { port } = await server.listen();
    const listed = await RawPeer.connect(port, { headers: { Origin: 'https://good.example' } });
    listed.socket.destroy();
    await listed.closed;
    await server.close();
    server = new WsServer({ port: 0, allowedOrigins: ['*'] });
    const any = await RawPeer.connect((await server.listen()).port, { headers: { Origin: 'http://evil.example' } });
    any.socket.destroy();
    await any.closed;
  });

  it("throws WSG_ERR_INVALID_OPTION for allowedOrigins ['null']", () => {
    expectThrowsWsgError(() => new WsServer({ port: 0, allowedOrigins: ['null'] }), 'WSG_ERR_INVALID_OPTION');
  });
});
