import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  closeAllTestClients,
  connectTestClient,
  expectUpgradeDenied,
  resolveWebSocketUrl,
  TestClientError,
} from '../../lib/testing/index.js';
import { createServer as createNetServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { HandshakeError } from '../../lib/frames/errors.js';
import type { TestingErrorCode } from '../../lib/testing/index.js';
import { expectRejectsWsgError, expectThrowsWsgError } from '../support/expect-wsg-error.js';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { JsonEventServer } from './json-event-server.js';

let server: JsonEventServer;
let port: number;

beforeAll(async () => {
  server = new JsonEventServer();
  port = (await server.listen()).port;
});

afterEach(closeAllTestClients);

afterAll(async () => {
  await server.close();
});

/**
 * Expects `promise` to reject with a TestClientError of `code`. Testing errors report a failed
 * expectation and close nothing (docs/errors.md: "—"), so closeCode is undefined.
 */
async function rejection(promise: Promise<unknown>, code: TestingErrorCode): Promise<TestClientError> {
  const error = await expectRejectsWsgError(promise, code, undefined);
  expect(error).toBeInstanceOf(TestClientError);
  return error as TestClientError;
}

/** A wait's timeout in ms, long enough that timer slack is small beside it. */
const WAIT_MS = 300;

/** A timeout fired neither early (before 0.9 × timeout) nor late (after timeout + 1 s). */
function expectWaited(started: number, timeout: number): void {
  const elapsed = performance.now() - started;
  expect(elapsed).toBeGreaterThanOrEqual(timeout * 0.9);
  expect(elapsed).toBeLessThan(timeout + 1_000);
}

function thrown(fn: () => unknown, code: TestingErrorCode): TestClientError {
  const error = expectThrowsWsgError(fn, code, undefined);
  expect(error).toBeInstanceOf(TestClientError);
  return error as TestClientError;
}

describe('connectTestClient: where to connect', () => {
  it('connects to a listening http.Server with path, query, headers and protocols', async () => {
    const client = await connectTestClient(server.http, '/chat', {
      headers: { authorization: 'Bearer x' },
      protocols: ['chat.v1', 'chat.v0'],
      query: { room: 'a b', tag: ['x', 'y'] },
    });
    expect(await client.expect('welcome')).toEqual({
      url: '/chat?room=a+b&tag=x&tag=y',
      authorization: 'Bearer x',
      protocol: 'chat.v1',
    });
    expect(client.protocol).toBe('chat.v1');
  });

  it('connects through getHttpServer(), as on a Nest app', async () => {
    const app = { getHttpServer: () => server.http };
    const client = await connectTestClient(app, '/chat');
    expect(await client.expect<{ url: string }>('welcome')).toMatchObject({ url: '/chat' });
  });

  it('connects by port number and by URL', async () => {
    const byPort = await connectTestClient(port, '/chat?x=1');
    expect(await byPort.expect('welcome')).toMatchObject({ url: '/chat?x=1' });
    const byUrl = await connectTestClient(`http://127.0.0.1:${port}/chat?y=2`);
    expect(await byUrl.expect('welcome')).toMatchObject({ url: '/chat?y=2' });
  });

  it('refuses a server that is not listening with WSG_ERR_TESTING_NOT_LISTENING', async () => {
    const idle = createServer();
    const error = await rejection(connectTestClient({ getHttpServer: () => idle }, '/chat'), 'WSG_ERR_TESTING_NOT_LISTENING');
    expect(error.message).toContain('app.listen(0)');
  });

  it('refuses a path without a leading slash with WSG_ERR_TESTING_INVALID_ARGUMENT', async () => {
    const error = await rejection(connectTestClient(port, 'chat'), 'WSG_ERR_TESTING_INVALID_ARGUMENT');
    expect(error.message).toBe(`A path must start with '/', got "chat"`);
  });

  it("passes the engine's HandshakeError through when the upgrade is refused", async () => {
    const error = await expectRejectsWsgError(connectTestClient(port, '/private'), 'WSG_ERR_HANDSHAKE_STATUS', undefined);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).status).toBe(401);
  });
});

describe('resolveWebSocketUrl', () => {
  const at = (address: string, family: string) => ({ address: () => ({ address, family, port: 4321 }) });

  it('reaches a server bound to every interface on IPv4 loopback', () => {
    expect(resolveWebSocketUrl(at('::', 'IPv6'), '/chat')).toBe('ws://127.0.0.1:4321/chat');
    expect(resolveWebSocketUrl(at('0.0.0.0', 'IPv4'), '/chat')).toBe('ws://127.0.0.1:4321/chat');
  });

  it('brackets an IPv6 address', () => {
    expect(resolveWebSocketUrl(at('::1', 'IPv6'), '/')).toBe('ws://[::1]:4321/');
  });

  it('appends query values, repeating arrays', () => {
    expect(resolveWebSocketUrl(4321, '/c?a=1', { b: 2, c: [true, false] })).toBe('ws://127.0.0.1:4321/c?a=1&b=2&c=true&c=false');
  });

  it('refuses a bad port with WSG_ERR_TESTING_INVALID_ARGUMENT', () => {
    expect(resolveWebSocketUrl(65535, '/')).toBe('ws://127.0.0.1:65535/');
    thrown(() => resolveWebSocketUrl(65536, '/'), 'WSG_ERR_TESTING_INVALID_ARGUMENT');
    thrown(() => resolveWebSocketUrl(0, '/'), 'WSG_ERR_TESTING_INVALID_ARGUMENT');
  });
});

describe('emit and expect (json codec)', () => {
  it('emits {event, data} and resolves with the data of the answer', async () => {
    const client = await connectTestClient(port, '/chat');
    client.emit('say', { text: 'hi' });
    expect(await client.expect('said')).toEqual({ text: 'hi' });
  });

  it('resolves with a message that arrived before expect() was called, and keeps the others in order', async () => {
    const client = await connectTestClient(port, '/chat');
    await client.expect('welcome');
    client.emit('burst', ['a', 'b', 'c']);
    expect(await client.expect('c')).toBe('c');
    expect(await client.expect('a')).toBe('a');
    const next = await client.next();
    expect(JSON.parse(next.data as string)).toEqual({ event: 'b', data: 'b' });
    expect(client.unconsumed).toEqual([]);
  });

  it('serves concurrent expects each with its own event', async () => {
    const client = await connectTestClient(port, '/chat');
    const second = client.expect('second');
    const first = client.expect('first');
    client.emit('burst', ['first', 'second']);
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
  });

  it('skips text that is not json and binary messages, leaving them for next()', async () => {
    const client = await connectTestClient(port, '/chat');
    await client.expect('welcome');
    client.emit('noise');
    await client.expect('after-noise');
    const text = await client.next();
    expect(text).toEqual({ data: 'not json', isBinary: false });
    const bytes = await client.next();
    expect(bytes.isBinary).toBe(true);
    expect([...(bytes.data as Buffer)]).toEqual([1, 2, 3]);
  });

  it('rejects with WSG_ERR_TESTING_TIMEOUT naming the event and showing what arrived instead', async () => {
    const client = await connectTestClient(port, '/chat');
    client.emit('burst', ['other']);
    await client.expect('other');
    client.emit('say', 'x');
    const started = performance.now();
    const error = await rejection(client.expect('never', { timeout: WAIT_MS }), 'WSG_ERR_TESTING_TIMEOUT');
    expectWaited(started, WAIT_MS);
    expect(error.message).toContain(`Timed out after ${WAIT_MS} ms`);
    expect(error.message).toContain('"never"');
    expect(error.message).toContain('welcome');
    expect(error.unconsumed.length).toBeGreaterThanOrEqual(1);
    expect(client.isOpen).toBe(true);
  });

  it('rejects a pending expect with WSG_ERR_TESTING_CLOSED and the close info when the server closes', async () => {
    const client = await connectTestClient(port, '/chat');
    const pending = client.expect('never');
    client.emit('kick');
    const error = await rejection(pending, 'WSG_ERR_TESTING_CLOSED');
    expect(error.close?.code).toBe(4001);
    expect(error.message).toContain('4001');
  });

  it('after close, still hands out messages that had arrived, then rejects at once', async () => {
    const client = await connectTestClient(port, '/chat');
    client.emit('kick');
    await client.closed;
    expect(await client.expect('welcome')).toMatchObject({ url: '/chat' });
    await rejection(client.next(), 'WSG_ERR_TESTING_CLOSED');
  });

  it('refuses a non-positive timeout and an empty event with WSG_ERR_TESTING_INVALID_ARGUMENT', async () => {
    const client = await connectTestClient(port, '/chat');
    await rejection(client.expect('x', { timeout: 0 }), 'WSG_ERR_TESTING_INVALID_ARGUMENT');
    await rejection(client.expect(''), 'WSG_ERR_TESTING_INVALID_ARGUMENT');
    thrown(() => client.emit(''), 'WSG_ERR_TESTING_INVALID_ARGUMENT');
  });
});

describe('sendRaw and next', () => {
  it('sends text and bytes unchanged', async () => {
    const client = await connectTestClient(port, '/chat');
    await client.expect('welcome');
    client.sendRaw('plain');
    expect(await client.next()).toEqual({ data: 'echo:plain', isBinary: false });
    client.sendRaw(new Uint8Array([9, 8]));
    const echoed = await client.next();
    expect(echoed.isBinary).toBe(true);
    expect([...(echoed.data as Buffer)]).toEqual([9, 8]);
  });
});

describe('expectClose', () => {
  it('resolves with the CloseInfo when the server closes with that code', async () => {
    const client = await connectTestClient(port, '/chat');
    client.emit('kick');
    const info = await client.expectClose(4001);
    expect(info).toMatchObject({ code: 4001, reason: 'kicked', wasClean: true });
  });

  it('rejects with WSG_ERR_TESTING_CLOSE_CODE when the code differs', async () => {
    const client = await connectTestClient(port, '/chat');
    client.emit('bye');
    const error = await rejection(client.expectClose(4001), 'WSG_ERR_TESTING_CLOSE_CODE');
    expect(error.close?.code).toBe(CloseCode.Normal);
    expect(error.message).toContain('4001');
  });

  it('checks a connection that had already closed', async () => {
    const client = await connectTestClient(port, '/chat');
    client.emit('kick');
    await client.closed;
    expect((await client.expectClose(4001)).code).toBe(4001);
    await rejection(client.expectClose(1000), 'WSG_ERR_TESTING_CLOSE_CODE');
  });

  it('rejects with WSG_ERR_TESTING_TIMEOUT and leaves the connection open when nothing closes it', async () => {
    const client = await connectTestClient(port, '/chat');
    const started = performance.now();
    const error = await rejection(client.expectClose(4001, { timeout: WAIT_MS }), 'WSG_ERR_TESTING_TIMEOUT');
    expectWaited(started, WAIT_MS);
    expect(error.message).toContain(`Connection still open after ${WAIT_MS} ms; expected a close with code 4001`);
    expect(error.close).toBeNull();
    expect(client.isOpen).toBe(true);
    client.emit('say', 'still here');
    expect(await client.expect('said')).toBe('still here');
  });
});

describe('close and closeAllTestClients', () => {
  it('close() runs the close handshake and resolves with a clean 1000; calling it again is harmless', async () => {
    const client = await connectTestClient(port, '/chat');
    const info = await client.close();
    expect(info).toMatchObject({ code: CloseCode.Normal, wasClean: true });
    expect(await client.close()).toBe(info);
    expect(client.closeInfo).toBe(info);
  });

  it('close(code, reason) reaches the server', async () => {
    const client = await connectTestClient(port, '/chat');
    await client.expect('welcome');
    const serverSide = server.connections.at(-1)!;
    await client.close(4100, 'done');
    expect(await serverSide.closed).toMatchObject({ code: 4100, reason: 'done' });
  });

  it('closeAllTestClients closes every client still open', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => connectTestClient(port, '/chat')));
    await closeAllTestClients();
    for (const client of clients) expect(client.closeInfo).toMatchObject({ code: CloseCode.Normal });
  });
});

describe('expectUpgradeDenied', () => {
  it('resolves with the status, headers and body of the refusal', async () => {
    const denied = await expectUpgradeDenied(port, '/private', 401);
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toBe('Bearer');
    expect(denied.body).toBe('token required');
  });

  it('works on a server object and for 404 on an unknown path', async () => {
    expect((await expectUpgradeDenied(server.http, '/nowhere', 404)).status).toBe(404);
  });

  it('rejects with WSG_ERR_TESTING_UPGRADE_STATUS when refused with another status', async () => {
    const error = await rejection(expectUpgradeDenied(port, '/private', 403), 'WSG_ERR_TESTING_UPGRADE_STATUS');
    expect(error.message).toContain('401');
  });

  it('rejects with WSG_ERR_TESTING_UPGRADE_ACCEPTED when the server accepts', async () => {
    const error = await rejection(
      expectUpgradeDenied(port, '/private', 401, { headers: { authorization: 'Bearer ok' } }),
      'WSG_ERR_TESTING_UPGRADE_ACCEPTED',
    );
    expect(error.message).toContain('the server accepted it (101)');
  });

  it('rejects with WSG_ERR_TESTING_UPGRADE_FAILED when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await rejection(expectUpgradeDenied(freePort, '/chat', 401), 'WSG_ERR_TESTING_UPGRADE_FAILED');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('rejects with WSG_ERR_TESTING_UPGRADE_FAILED after its timeout when the server never answers', async () => {
    // Accepts TCP and reads the request, but never writes a byte back.
    const silent = createNetServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = performance.now();
      const error = await rejection(
        expectUpgradeDenied((silent.address() as AddressInfo).port, '/chat', 401, { timeout: WAIT_MS }),
        'WSG_ERR_TESTING_UPGRADE_FAILED',
      );
      expectWaited(started, WAIT_MS);
      expect(error.message).toContain(`within ${WAIT_MS} ms`);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
