import { once } from 'node:events';
import { createSecureServer, type ClientHttp2Session, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Http2Error } from '../../lib/http2/errors.js';
import { PushService, type PushOutcome } from '../../lib/http2/push-service.js';
import type { PushedResponse } from '../../lib/http2/pushed-response.js';
import { RstCode } from '../../lib/http2/rst-codes.js';
import { expectThrowsWsgError, expectWsgError } from '../support/expect-wsg-error.js';
import { clientSession, fetchWithPushes, startPushServer, type PushTestServer } from './support/push-test-server.js';
import { TLS_CERT, TLS_KEY } from './support/tls-fixture.js';

let site: PushTestServer;
const sessions: ClientHttp2Session[] = [];
beforeAll(async () => {
  site = await startPushServer();
});
afterAll(() => site.close());
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.close(() => resolve())))));
  expect(site.errors).toEqual([]);
});

async function session(settings = {}): Promise<ClientHttp2Session> {
  const s = await clientSession(site.port, settings);
  sessions.push(s);
  return s;
}

/** Runs `body` inside the server's handler for a fresh path and returns what it resolved with. */
function onRequest<T>(body: (stream: ServerHttp2Stream) => Promise<T> | T): { path: string; result: Promise<T> } {
  const path = `/t${Math.random().toString(36).slice(2)}`;
  const result = new Promise<T>((resolve, reject) => {
    site.route(path, async (stream) => {
      try {
        resolve(await body(stream));
      } catch (error) {
        reject(error);
      }
    });
  });
  return { path, result };
}

function respondParent(stream: ServerHttp2Stream, body = 'parent'): void {
  stream.respond({ ':status': 200 });
  stream.end(body);
}

function caught(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const service = new PushService();

describe('PushService.promise() → PushedResponse (the Rust h2 SendPushedResponse contract)', () => {
  it('sendResponse(headers, false) → write() → sendTrailers(): the client gets PUSH_PROMISE, response, body and trailers', async () => {
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/style.css' });
      expect(pushed.state).toBe('promised');
      const send = pushed.sendResponse({ 'content-type': 'text/css' }, false);
      expect(pushed.state).toBe('responding');
      send.write('body { color: red }');
      send.sendTrailers({ 'x-checksum': 'abc123' });
      respondParent(stream);
      return pushed.closed;
    });
    const seen = await fetchWithPushes(await session(), path);
    expect(seen.pushes).toHaveLength(1);
    const push = seen.pushes[0]!;
    expect(push.requestHeaders[':path']).toBe('/style.css');
    expect(push.requestHeaders[':method']).toBe('GET');
    expect((await push.response)[':status']).toBe(200);
    expect((await push.response)['content-type']).toBe('text/css');
    expect(await push.body).toBe('body { color: red }');
    expect((await push.trailers)!['x-checksum']).toBe('abc123');
    expect(await push.closed).toBe(RstCode.NoError);
    expect(await result).toEqual({ rstCode: RstCode.NoError, resetBy: null });
    expect(seen.body).toBe('parent');
  });

  it('sendResponse(headers, true) sends a response without body (END_STREAM on its HEADERS); the send stream is ended', async () => {
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/empty' });
      const send = pushed.sendResponse({ ':status': 204 }, true);
      respondParent(stream);
      return { ended: send.ended, error: caught(() => send.write('x')) };
    });
    const seen = await fetchWithPushes(await session(), path);
    expect((await seen.pushes[0]!.response)[':status']).toBe(204);
    expect(await seen.pushes[0]!.body).toBe('');
    const { ended, error } = await result;
    expect(ended).toBe(true);
    expect(error).toBeInstanceOf(Http2Error);
    expectWsgError(error, 'WSG_ERR_H2_STREAM_ENDED');
  });

  it('end() without trailers ends the body; no trailers reach the client', async () => {
    const { path } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/a.js' });
      const send = pushed.sendResponse({}, false);
      send.write('part1 ');
      send.end('part2');
      respondParent(stream);
    });
    const seen = await fetchWithPushes(await session(), path);
    expect(await seen.pushes[0]!.body).toBe('part1 part2');
    expect(await seen.pushes[0]!.trailers).toBeNull();
    expect(await seen.pushes[0]!.closed).toBe(RstCode.NoError);
  });

  it('a second sendResponse() fails WSG_ERR_H2_PUSH_RESPONDED', async () => {
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/once' });
      pushed.sendResponse({}, true);
      const error = caught(() => pushed.sendResponse({}, true));
      respondParent(stream);
      return error;
    });
    await fetchWithPushes(await session(), path);
    expectWsgError(await result, 'WSG_ERR_H2_PUSH_RESPONDED');
  });

  it('sendReset(CANCEL): the client sees RST_STREAM 8; sendResponse() afterwards fails WSG_ERR_H2_PUSH_RESET', async () => {
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/gone' });
      pushed.sendReset(RstCode.Cancel);
      const error = caught(() => pushed.sendResponse({}, true));
      respondParent(stream);
      return { error, closed: await pushed.closed, state: pushed.state };
    });
    const seen = await fetchWithPushes(await session(), path);
    expect(await seen.pushes[0]!.closed).toBe(RstCode.Cancel);
    const { error, closed, state } = await result;
    expect(error).toBeInstanceOf(Http2Error);
    expectWsgError(error, 'WSG_ERR_H2_PUSH_RESET');
    expect(closed).toEqual({ rstCode: RstCode.Cancel, resetBy: 'server' });
    expect(state).toBe('reset');
  });

  it("the client's RST_STREAM REFUSED_STREAM is a stream failure: closed carries WSG_ERR_H2_STREAM with Node's ERR_HTTP2_STREAM_ERROR as cause", async () => {
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/refused-by-client' });
      const code = await pushed.reset;
      respondParent(stream);
      return { code, closed: await pushed.closed };
    });
    await fetchWithPushes(await session(), path, (push) => push.stream.close(RstCode.RefusedStream));
    const { code, closed } = await result;
    expect(code).toBe(RstCode.RefusedStream);
    expect({ rstCode: closed.rstCode, resetBy: closed.resetBy }).toEqual({ rstCode: RstCode.RefusedStream, resetBy: 'client' });
    expectWsgError(closed.error, 'WSG_ERR_H2_STREAM');
    expect((closed.error!.cause as NodeJS.ErrnoException).code).toBe('ERR_HTTP2_STREAM_ERROR');
  });

  it('a write after sendReset(REFUSED_STREAM) fails WSG_ERR_H2_PUSH_RESET; our own reset is not reported as an error', async () => {
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/refused' });
      const send = pushed.sendResponse({}, false);
      send.sendReset(RstCode.RefusedStream);
      const error = caught(() => send.write('late'));
      respondParent(stream);
      return { error, closed: await pushed.closed };
    });
    const seen = await fetchWithPushes(await session(), path);
    expect(await seen.pushes[0]!.closed).toBe(RstCode.RefusedStream);
    const { error, closed } = await result;
    expectWsgError(error, 'WSG_ERR_H2_PUSH_RESET');
    expect(closed).toEqual({ rstCode: RstCode.RefusedStream, resetBy: 'server' });
  });

  it("the client's RST_STREAM CANCEL resolves `reset` with 8; sendResponse() then fails WSG_ERR_H2_PUSH_RESET", async () => {
    let pushedOnServer: PushedResponse | null = null;
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/cached.css' });
      pushedOnServer = pushed;
      const code = await pushed.reset;
      const error = caught(() => pushed.sendResponse({}, true));
      respondParent(stream);
      return { code, error, closed: await pushed.closed };
    });
    await fetchWithPushes(await session(), path, (push) => push.stream.close(RstCode.Cancel));
    const { code, error, closed } = await result;
    expect(code).toBe(RstCode.Cancel);
    expectWsgError(error, 'WSG_ERR_H2_PUSH_RESET');
    expect(error.message).toMatch(/reset by the client \(Cancel\)/);
    expect(closed).toEqual({ rstCode: RstCode.Cancel, resetBy: 'client' });
    expect(pushedOnServer!.state).toBe('closed');
  });

  it('abandon() resets an unanswered push with CANCEL; once responding it does nothing', async () => {
    const { path, result } = onRequest(async (stream) => {
      const [dropped, kept] = await Promise.all([service.promise(stream, { ':path': '/dropped' }), service.promise(stream, { ':path': '/kept' })]);
      dropped.abandon();
      const send = kept.sendResponse({}, false);
      kept.abandon();
      send.end('kept');
      respondParent(stream);
      return Promise.all([dropped.closed, kept.closed]);
    });
    const seen = await fetchWithPushes(await session(), path);
    const byPath = new Map(seen.pushes.map((p) => [p.requestHeaders[':path'], p]));
    expect(await byPath.get('/dropped')!.closed).toBe(RstCode.Cancel);
    expect(await byPath.get('/kept')!.body).toBe('kept');
    expect((await result).map((c) => c.resetBy)).toEqual(['server', null]);
  });

  it('a push still unanswered when its parent closes is reset with CANCEL for you', async () => {
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/forgotten' });
      respondParent(stream);
      return pushed.closed;
    });
    const seen = await fetchWithPushes(await session(), path);
    expect(await seen.pushes[0]!.closed).toBe(RstCode.Cancel);
    expect(await result).toEqual({ rstCode: RstCode.Cancel, resetBy: 'server' });
  });

  it('rejects WSG_ERR_H2_PUSH_DISABLED when the client sent SETTINGS_ENABLE_PUSH = 0', async () => {
    const { path, result } = onRequest(async (stream) => {
      const error = await rejection(service.promise(stream, { ':path': '/x' }));
      respondParent(stream);
      return error;
    });
    await fetchWithPushes(await session({ enablePush: false }), path);
    const error = await result;
    expect(error).toBeInstanceOf(Http2Error);
    expectWsgError(error, 'WSG_ERR_H2_PUSH_DISABLED');
  });

  it('rejects WSG_ERR_H2_PUSH_NESTED on a pushed stream (RFC 9113 §8.4)', async () => {
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/outer' });
      const error = await rejection(service.promise(pushed.stream, { ':path': '/inner' }));
      pushed.sendResponse({}, true);
      respondParent(stream);
      return error;
    });
    await fetchWithPushes(await session(), path);
    expectWsgError(await result, 'WSG_ERR_H2_PUSH_NESTED');
  });

  it('rejects WSG_ERR_H2_PUSH_REFUSED once the parent has ended (a PUSH_PROMISE must precede its END_STREAM)', async () => {
    const { path, result } = onRequest(async (stream) => {
      respondParent(stream);
      return rejection(service.promise(stream, { ':path': '/late' }));
    });
    await fetchWithPushes(await session(), path);
    expectWsgError(await result, 'WSG_ERR_H2_PUSH_REFUSED');
  });

  it('rejects WSG_ERR_H2_INVALID_ARGUMENT for a :path that is not origin-form, and for an RST code out of range', async () => {
    const { path, result } = onRequest(async (stream) => {
      const badPath = await rejection(service.promise(stream, { ':path': 'style.css' }));
      const pushed = await service.promise(stream, { ':path': '/ok' });
      const badCode = caught(() => pushed.sendReset(2 ** 32));
      pushed.sendResponse({}, true);
      respondParent(stream);
      return [badPath, badCode];
    });
    await fetchWithPushes(await session(), path);
    const [badPath, badCode] = await result;
    expect(expectWsgError(badPath, 'WSG_ERR_H2_INVALID_ARGUMENT').message).toMatch(/origin-form/);
    expect(expectWsgError(badCode, 'WSG_ERR_H2_INVALID_ARGUMENT').message).toMatch(/32-bit/);
  });

  it('headers HTTP/2 cannot carry fail WSG_ERR_H2_INVALID_HEADERS with Node\'s error as cause; the push stays promised', async () => {
    const { path, result } = onRequest(async (stream) => {
      const pushed = await service.promise(stream, { ':path': '/bad-headers' });
      const error = caught(() => pushed.sendResponse({ connection: 'keep-alive' }, true));
      const state = pushed.state;
      const send = pushed.sendResponse({}, false);
      const trailerError = caught(() => send.sendTrailers({ ':status': '200' }));
      send.end();
      respondParent(stream);
      return { error, state, trailerError };
    });
    await fetchWithPushes(await session(), path);
    const { error, state, trailerError } = await result;
    expectWsgError(error, 'WSG_ERR_H2_INVALID_HEADERS');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ERR_HTTP2_INVALID_CONNECTION_HEADERS');
    expect(state).toBe('promised');
    expectWsgError(trailerError, 'WSG_ERR_H2_INVALID_HEADERS');
  });
});

describe('limit maxConcurrentPushes (per session, default 100)', () => {
  it('promises exactly maxConcurrentPushes; one more is hinted (103) and promise() rejects WSG_ERR_H2_PUSH_REFUSED', async () => {
    const limited = new PushService({ maxConcurrentPushes: 2 });
    const { path, result } = onRequest(async (stream) => {
      const first = await limited.promise(stream, { ':path': '/1' });
      const second = await limited.promise(stream, { ':path': '/2' });
      const refusal = limited.refusal(stream);
      const error = await rejection(limited.promise(stream, { ':path': '/3' }));
      const outcome = await limited.push(stream, '/3', { body: 'x' });
      for (const p of [first, second]) p.sendResponse({}, true);
      respondParent(stream);
      await Promise.all([first.closed, second.closed]);
      return { refusal, error, outcome, after: PushService.openPushes(stream.session!) };
    });
    const seen = await fetchWithPushes(await session(), path);
    const { refusal, error, outcome, after } = await result;
    expect(seen.pushes.map((p) => p.requestHeaders[':path'])).toEqual(['/1', '/2']);
    expect(refusal).toBe('concurrency');
    expectWsgError(error, 'WSG_ERR_H2_PUSH_REFUSED');
    expect(outcome).toBe('hinted');
    expect(seen.informational.map((h) => [h[':status'], h.link])).toEqual([[103, '</3>; rel=preload']]);
    expect(after).toBe(0);
  });

  it("respects the client's SETTINGS_MAX_CONCURRENT_STREAMS = 1: the second push is hinted", async () => {
    const { path, result } = onRequest(async (stream) => {
      const limit = stream.session!.remoteSettings.maxConcurrentStreams;
      const outcomes: PushOutcome[] = [await service.push(stream, '/one.css', { body: 'a' }), await service.push(stream, '/two.css', { body: 'b' })];
      respondParent(stream);
      return { limit, outcomes };
    });
    // Node's client (nghttp2) refuses a pushed response once its own stream count reaches the
    // limit, so only the server's side and the hint are asserted here.
    const seen = await fetchWithPushes(await session({ maxConcurrentStreams: 1 }), path);
    expect(await result).toEqual({ limit: 1, outcomes: ['pushed', 'hinted'] });
    expect(seen.informational.map((h) => [h[':status'], h.link])).toEqual([[103, '</two.css>; rel=preload']]);
  });

  it('throws WSG_ERR_H2_INVALID_OPTION for a negative or fractional limit', () => {
    expectThrowsWsgError(() => new PushService({ maxConcurrentPushes: -1 }), 'WSG_ERR_H2_INVALID_OPTION');
    expectThrowsWsgError(() => new PushService({ maxConcurrentPushes: 1.5 }), 'WSG_ERR_H2_INVALID_OPTION');
    // The limit's edge: 0 is allowed (never push, hints only).
    expect(new PushService({ maxConcurrentPushes: 0 }).maxConcurrentPushes).toBe(0);
  });
});

describe("push() outcomes: 'pushed' | 'hinted' | 'refused'", () => {
  it("'pushed' when the client accepts pushes: body and trailers arrive", async () => {
    const { path, result } = onRequest(async (stream) => {
      const outcome = service.push(stream, { path: '/app.js', as: 'script' }, { headers: { 'content-type': 'text/javascript' }, body: 'go()', trailers: { 'x-done': '1' } });
      respondParent(stream);
      return outcome;
    });
    const seen = await fetchWithPushes(await session(), path);
    expect(await result).toBe('pushed');
    expect(await seen.pushes[0]!.body).toBe('go()');
    expect((await seen.pushes[0]!.trailers)!['x-done']).toBe('1');
  });

  it("'hinted' when the client disabled push: 103 Early Hints with Link rel=preload, then the 200", async () => {
    const { path, result } = onRequest(async (stream) => {
      const outcome = service.push(stream, { path: '/app.css', as: 'style' }, { body: 'x' });
      respondParent(stream);
      return outcome;
    });
    const seen = await fetchWithPushes(await session({ enablePush: false }), path);
    expect(await result).toBe('hinted');
    expect(seen.informational).toHaveLength(1);
    expect(seen.informational[0]![':status']).toBe(103);
    expect(seen.informational[0]!.link).toBe('</app.css>; rel=preload; as=style');
    expect(seen.response[':status']).toBe(200);
    expect(seen.pushes).toHaveLength(0);
  });

  it("'refused' when push is disabled and the parent already sent its response headers", async () => {
    const { path, result } = onRequest(async (stream) => {
      stream.respond({ ':status': 200 });
      const outcome = await service.push(stream, '/late.css', { body: 'x' });
      stream.end('parent');
      return outcome;
    });
    const seen = await fetchWithPushes(await session({ enablePush: false }), path);
    expect(await result).toBe('refused');
    expect(seen.informational).toHaveLength(0);
  });

  it("'refused' instead of a hint when earlyHints is false", async () => {
    const noHints = new PushService({ earlyHints: false });
    const { path, result } = onRequest(async (stream) => {
      const outcome = noHints.push(stream, '/x.css', { body: 'x' });
      respondParent(stream);
      return outcome;
    });
    const seen = await fetchWithPushes(await session({ enablePush: false }), path);
    expect(await result).toBe('refused');
    expect(seen.informational).toHaveLength(0);
  });
});

describe('pushResources(): declarative push-or-hint for a list of paths', () => {
  it('calls the loader once with each pushed path, pushes the bytes it returns, and cancels the promise for a path it has none for', async () => {
    const asked: string[] = [];
    const { path, result } = onRequest(async (stream) => {
      const pushing = service.pushResources(stream, ['/a.css', { path: '/b.js', as: 'script' }, '/missing'], async (p) => {
        asked.push(p);
        return p === '/missing' ? null : { headers: { 'content-type': 'text/plain' }, body: Buffer.from(`content of ${p}`, 'utf8') };
      });
      stream.respond({ ':status': 200 });
      const outcomes = await pushing;
      stream.end('parent');
      return outcomes;
    });
    const seen = await fetchWithPushes(await session(), path);
    expect(await result).toEqual([
      { path: '/a.css', outcome: 'pushed' },
      { path: '/b.js', outcome: 'pushed' },
      { path: '/missing', outcome: 'refused' },
    ]);
    const byPath = new Map(seen.pushes.map((p) => [p.requestHeaders[':path'], p]));
    expect(await byPath.get('/a.css')!.body).toBe('content of /a.css');
    expect(await byPath.get('/b.js')!.body).toBe('content of /b.js');
    expect(await byPath.get('/missing')!.closed).toBe(RstCode.Cancel);
    expect(asked.sort()).toEqual(['/a.css', '/b.js', '/missing']);
  });

  it('hints every path in one 103 when the client disabled push, without calling the loader', async () => {
    let loads = 0;
    const { path, result } = onRequest(async (stream) => {
      const pushing = service.pushResources(stream, ['/a.css', { path: '/b.js', as: 'script' }], () => {
        loads++;
        return { body: 'x' };
      });
      respondParent(stream);
      return pushing;
    });
    const seen = await fetchWithPushes(await session({ enablePush: false }), path);
    expect(await result).toEqual([
      { path: '/a.css', outcome: 'hinted' },
      { path: '/b.js', outcome: 'hinted' },
    ]);
    expect(loads).toBe(0);
    expect(seen.informational).toHaveLength(1);
    expect(seen.informational[0]!.link).toBe('</a.css>; rel=preload, </b.js>; rel=preload; as=script');
  });
});

describe("Node's compat API (Express, Fastify reply.raw, Nest): the response object as parent", () => {
  it('pushes to a client that accepts pushes and hints (103) to one that does not', async () => {
    const compat = createSecureServer({ key: TLS_KEY, cert: TLS_CERT });
    const outcomes: PushOutcome[] = [];
    compat.on('request', (_req: Http2ServerRequest, res: Http2ServerResponse) => {
      void service.push(res, { path: '/compat.css', as: 'style' }, { body: 'compat' }).then((outcome) => {
        outcomes.push(outcome);
        res.end('page');
      });
    });
    compat.listen(0, '127.0.0.1');
    await once(compat, 'listening');
    const port = (compat.address() as AddressInfo).port;
    try {
      const pushing = await clientSession(port);
      const hinted = await clientSession(port, { enablePush: false });
      sessions.push(pushing, hinted);
      const withPush = await fetchWithPushes(pushing, '/');
      expect(await withPush.pushes[0]!.body).toBe('compat');
      const withHint = await fetchWithPushes(hinted, '/');
      expect(withHint.informational[0]!.link).toBe('</compat.css>; rel=preload; as=style');
      expect(withHint.body).toBe('page');
      expect(outcomes).toEqual(['pushed', 'hinted']);
    } finally {
      await Promise.all(sessions.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await new Promise<void>((resolve) => compat.close(() => resolve()));
    }
  });
});
