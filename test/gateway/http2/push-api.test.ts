import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileLoader, push, PushResources } from '../../../lib/gateway/index.js';
import { resolveModuleOptions } from '../../../lib/gateway/module-options.js';
import { TLS_CERT, TLS_KEY } from '../../http2/support/tls-fixture.js';
import { expectThrowsWsgError } from '../../support/expect-wsg-error.js';

describe('push(path, headers, body) command', () => {
  it('keeps path, headers and body, frozen', () => {
    const command = push('/a.css', { 'content-type': 'text/css', 'content-length': 3 }, 'a{}');
    expect(command).toMatchObject({ path: '/a.css', headers: { 'content-type': 'text/css', 'content-length': 3 }, body: 'a{}' });
    expect(Object.isFrozen(command)).toBe(true);
    expect(Object.isFrozen(command.headers)).toBe(true);
  });

  it.each([
    ['a path that is not origin-form', () => push('a.css')],
    ['an upper-case header name (HTTP/2 forbids it)', () => push('/a', { 'Content-Type': 'x' })],
    ['a header value with a control character', () => push('/a', { 'x-a': 'nul\u0000' })],
    ['a header value with CR LF', () => push('/a', { 'x-a': 'a\r\nb: c' })],
    ['a body that is neither string nor bytes', () => push('/a', {}, 42 as unknown as string)],
  ])('refuses %s with WSG_ERR_GATEWAY_INVALID_COMMAND', (_name, make) => {
    expectThrowsWsgError(make, 'WSG_ERR_GATEWAY_INVALID_COMMAND');
  });
});

describe('@PushResources', () => {
  it.each([
    ['an empty list', []],
    ['a relative path', ['a.css']],
    ['a link without a path', [{ as: 'style' }]],
    ['a link with a bad as', [{ path: '/a', as: 'style; x=1' }]],
    ['no array', '/a.css'],
  ])('refuses %s with WSG_ERR_DECORATOR_PUSH_PATHS when the class is defined', (_name, links) => {
    expectThrowsWsgError(() => PushResources(links as never), 'WSG_ERR_DECORATOR_PUSH_PATHS');
  });
});

describe('WsGateModule options http2 and push', () => {
  it('accepts http2 { key, cert, port, host } and push { root, maxConcurrentPushes, earlyHints }, frozen', () => {
    const resolved = resolveModuleOptions({ http2: { key: TLS_KEY, cert: TLS_CERT, port: 0, host: '127.0.0.1' }, push: { root: '/srv', maxConcurrentPushes: 0, earlyHints: false } });
    expect(resolved.http2).toMatchObject({ port: 0, host: '127.0.0.1' });
    expect(resolved.push).toEqual({ root: '/srv', maxConcurrentPushes: 0, earlyHints: false });
    expect(Object.isFrozen(resolved.http2)).toBe(true);
    expect(Object.isFrozen(resolved.push)).toBe(true);
    expect(resolveModuleOptions({}).http2).toBeNull();
  });

  it.each([
    ['http2 without a certificate', { http2: { key: TLS_KEY, port: 0 } }],
    ['http2 port out of range', { http2: { key: TLS_KEY, cert: TLS_CERT, port: 65_536 } }],
    ['an unknown http2 option', { http2: { key: TLS_KEY, cert: TLS_CERT, port: 0, allowHTTP1: false } }],
    ['push.loader that is not a function', { push: { loader: '/x' } }],
    ['push.maxConcurrentPushes below 0', { push: { maxConcurrentPushes: -1 } }],
    ['an unknown push option', { push: { rootDir: '/x' } }],
  ])('refuses %s with WSG_ERR_GATEWAY_INVALID_OPTION', (_name, options) => {
    expectThrowsWsgError(() => resolveModuleOptions(options), 'WSG_ERR_GATEWAY_INVALID_OPTION');
  });
});

describe('fileLoader(root)', () => {
  const root = mkdtempSync(join(tmpdir(), 'wsgate-push-'));
  writeFileSync(join(root, 'a.css'), 'a{}');
  const load = fileLoader(root);

  it('loads a file with its content type and length', async () => {
    expect(await load('/a.css?v=1')).toEqual({ headers: { 'content-type': 'text/css; charset=utf-8', 'content-length': 3 }, body: Buffer.from('a{}') });
  });

  it.each(['/../etc/passwd', '/%2e%2e/etc/passwd', '/missing.css', '/', '/%E0%A4%A'])('has no resource for %s (null, not an error)', async (path) => {
    expect(await load(path)).toBeNull();
  });

  it('cleans up', () => {
    rmSync(root, { recursive: true });
  });
});
