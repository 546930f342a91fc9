import { once } from 'node:events';
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ExtendedConnectDecision } from '../../lib/http2/extended-connect.js';
import { expectCodeInText, expectWsgError } from '../support/expect-wsg-error.js';
import { connectHeaders, startH2TestServer, type H2TestServer } from './support/h2-test-server.js';
import { TLS_CERT } from './support/tls-fixture.js';

// Bounds with wide margins: a loaded 2-core box.
const DEADLINE = 300;

let site: H2TestServer | null = null;
const sessions: ClientHttp2Session[] = [];

afterEach(async () => {
  // Destroyed first: the server's WebSockets then end at once instead of waiting out closeTimeout.
  await Promise.all(sessions.splice(0).map((session) => {
    const closed = once(session, 'close');
    session.destroy();
    return closed;
  }));
  await site?.close();
  site = null;
});

async function session(port: number, localAddress = '127.0.0.1'): Promise<ClientHttp2Session> {
  // localAddress reaches net.connect at runtime; the http2 option types do not list it.
  const s = http2Connect(`https://127.0.0.1:${port}`, Object.assign({ ca: TLS_CERT }, { localAddress }));
  sessions.push(s);
  await once(s, 'remoteSettings');
  return s;
}

/** Sends a CONNECT; resolves with the response head (the body when it is a refusal). */
function answerOf(s: ClientHttp2Session, port: number): { stream: ClientHttp2Stream; answer: Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> } {
  const stream = s.request(connectHeaders(port), { endStream: false });
  stream.on('error', () => undefined);
  const answer = new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve) => {
    stream.once('response', (headers: IncomingHttpHeaders) => {
      const status = Number(headers[':status']);
      if (status === 200) {
        resolve({ status, headers, body: '' });
        return;
      }
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.once('end', () => resolve({ status, headers, body }));
    });
  });
  return { stream, answer };
}

/** An accept hook that holds every decision until `release()`. */
function gate(): { hook: () => Promise<ExtendedConnectDecision>; release: () => void; pending: () => number } {
  const waiting: Array<() => void> = [];
  return {
    hook: () => new Promise((resolve) => waiting.push(() => resolve({ accept: true }))),
    release: () => waiting.splice(0).forEach((go) => go()),
    pending: () => waiting.length,
  };
}

describe('limit handshakeTimeout on RFC 8441 streams (the decision)', () => {
  it('answers 503 WSG_ERR_HANDSHAKE_TIMEOUT when the accept hook has not decided at the deadline', async () => {
    site = await startH2TestServer({ intake: { handshakeTimeout: DEADLINE, accept: () => new Promise<never>(() => undefined) } });
    const s = await session(site.port);
    const since = performance.now();
    const { status, body } = await answerOf(s, site.port).answer;
    const elapsed = performance.now() - since;
    expect(status).toBe(503);
    expectCodeInText(body, 'WSG_ERR_HANDSHAKE_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(DEADLINE - 50);
    expect(elapsed).toBeLessThan(DEADLINE + 2_500);
    const { error } = await site.rejections.next();
    expectWsgError(error, 'WSG_ERR_HANDSHAKE_TIMEOUT');
  });
});

describe('limit maxPendingHandshakes and maxPendingHandshakesPerIp (RFC 8441 road)', () => {
  it('answers 503 WSG_ERR_SERVER_BUSY with retry-after while maxPendingHandshakes decisions are pending, from any address', async () => {
    const held = gate();
    site = await startH2TestServer({ intake: { maxPendingHandshakes: 1, accept: held.hook } });
    const first = answerOf(await session(site.port), site.port);
    while (held.pending() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const refused = await answerOf(await session(site.port, '127.0.0.2'), site.port).answer;
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expectCodeInText(refused.body, 'WSG_ERR_SERVER_BUSY');
    held.release();
    expect((await first.answer).status).toBe(200);
  });

  it('answers 429 WSG_ERR_IP_LIMIT with retry-after to the address at maxPendingHandshakesPerIp; another address is decided', async () => {
    const held = gate();
    site = await startH2TestServer({ intake: { maxPendingHandshakesPerIp: 1, accept: held.hook } });
    const s = await session(site.port);
    const first = answerOf(s, site.port);
    while (held.pending() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const refused = await answerOf(s, site.port).answer;
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('5');
    expectCodeInText(refused.body, 'WSG_ERR_IP_LIMIT');
    const other = answerOf(await session(site.port, '127.0.0.2'), site.port);
    while (held.pending() < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    held.release();
    expect((await first.answer).status).toBe(200);
    expect((await other.answer).status).toBe(200);
  });

  it('answers 429 WSG_ERR_IP_LIMIT once maxConnectionsPerIp WebSockets are open from the address', async () => {
    site = await startH2TestServer({ intake: { maxConnectionsPerIp: 1 } });
    const s = await session(site.port);
    expect((await answerOf(s, site.port).answer).status).toBe(200);
    const refused = await answerOf(s, site.port).answer;
    expect(refused.status).toBe(429);
    expectCodeInText(refused.body, 'WSG_ERR_IP_LIMIT');
  });
});
