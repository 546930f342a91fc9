import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { connect } from 'node:net';
import { WsServer } from '../../lib/frames/websocket-server.js';
import { SAMPLE_KEY } from '../support/upgrade-request-text.js';

// The accept road under fuzzed handshake requests: raw request text, built from a valid
// upgrade with methods, versions, paths, header names and values, keys, subprotocols,
// extensions and Origins mutated, written by a TCP client to a real WsServer (permessage-
// deflate on, a subprotocol picker, the origin screen). Whatever arrives, nothing escapes
// the server (no 'error', no uncaught exception), each answer is a 101 or a 4xx/5xx with a body, or the
// socket is closed, and the server's memory stays bounded.

/** ms: one request's answer (or close). */
const ANSWER_MS = 1000;
/** bytes: the server's growth over the whole run. */
const MEMORY_BOUND = 32 * 1024 * 1024;

let server: WsServer;
let port: number;
const serverErrors: unknown[] = [];

beforeAll(async () => {
  server = new WsServer({ port: 0, perMessageDeflate: true, handleProtocols: (offered) => offered[0] ?? false });
  server.on('error', (error) => serverErrors.push(error));
  server.on('connection', (conn) => conn.on('error', () => undefined));
  port = (await server.listen()).port;
});

afterAll(async () => {
  await server.close();
});

const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-.^_`|~'.split(''));
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
/** Header values: printable, tabs, obs-text, NUL and stray separators (never CR or LF, which would end the line). */
const valueChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...' abcXYZ019=;,"/\\:@[]{}()<>?\t'.split('')) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\u0001', '\u007f', 'é', 'ÿ', '\u0080') },
);
const value = fc.string({ unit: valueChar, maxLength: 80 });

const method = fc.oneof({ weight: 12, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('get', 'POST', 'HEAD', 'CONNECT', 'OPTIONS', 'G ET') }, { weight: 1, arbitrary: token });
const version = fc.oneof({ weight: 12, arbitrary: fc.constant('HTTP/1.1') }, { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.10', 'HTTP/9.9', 'http/1.1', 'HTTP/1', '') });
const path = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('/', '/x?y=1', '/%00', '//a/../b', '/' + 'a'.repeat(300)) }, { weight: 1, arbitrary: fc.string({ unit: tokenChar, maxLength: 40 }).map((p) => `/${p}`) }, { weight: 1, arbitrary: fc.constantFrom('*', 'http://a.example/', '') });

const key = fc.oneof(
  { weight: 4, arbitrary: fc.constant(SAMPLE_KEY) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 24 }).map((b) => Buffer.from(b).toString('base64')) },
  { weight: 1, arbitrary: value },
);
const protocols = fc.oneof({ weight: 6, arbitrary: fc.array(token, { minLength: 1, maxLength: 6 }).map((t) => t.join(', ')) }, { weight: 1, arbitrary: value });
const extensionParam = fc.oneof(
  fc.constantFrom('client_max_window_bits', 'server_no_context_takeover', 'client_no_context_takeover', '__proto__=1', 'constructor', 'server_max_window_bits=8', 'server_max_window_bits=16', 'client_max_window_bits="15"', 'x=""'),
  fc.tuple(token, value).map(([n, v]) => `${n}=${v}`),
);
const extensions = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('permessage-deflate', 'permessage-deflate; client_max_window_bits', 'permessage-deflate; server_no_context_takeover, permessage-deflate') },
  fc.array(fc.tuple(fc.constantFrom('permessage-deflate', 'x-webkit-deflate-frame', 'permessage-deflate '), fc.array(extensionParam, { maxLength: 4 })), { maxLength: 3 }).map((offers) =>
    offers.map(([name, params]) => [name, ...params].join('; ')).join(', '),
  ),
  value,
);
const origin = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('http://127.0.0.1', 'https://127.0.0.1', 'HTTP://127.0.0.1:80') },
  { weight: 2, arbitrary: fc.constantFrom('null', 'http://evil.example', `http://${'a'.repeat(8192)}`, 'http://127.0.0.1/', 'http://u@127.0.0.1') },
  { weight: 1, arbitrary: value },
);

/** Mostly the valid value, sometimes a mutated one, sometimes none: most requests reach the application's decision. */
function field(valid: string, mutated: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> {
  return fc.oneof({ weight: 12, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: mutated }, { weight: 1, arbitrary: fc.constant(undefined) });
}

/** The header lines of one request: a valid set, each line kept, dropped, given a fuzzed value, repeated; random headers added. */
const headerLines = fc
  .record({
    host: field('127.0.0.1', value),
    upgrade: field('websocket', fc.oneof(fc.constantFrom('WebSocket', 'websocket, h2c', 'h2c'), value)),
    connection: field('Upgrade', fc.oneof(fc.constantFrom('keep-alive, Upgrade', 'upgrade', 'close'), value)),
    key: field(SAMPLE_KEY, key),
    version: field('13', fc.oneof(fc.constantFrom('8', '13, 8', '0013', ' 13 '), value)),
    protocol: fc.option(protocols, { nil: undefined, freq: 2 }),
    extensions: fc.option(extensions, { nil: undefined, freq: 2 }),
    origin: fc.option(origin, { nil: undefined, freq: 2 }),
    extra: fc.array(
      fc.tuple(fc.oneof({ weight: 4, arbitrary: token }, { weight: 1, arbitrary: fc.constantFrom('Sec-WebSocket-Key', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions', 'Origin', 'Host', 'Upgrade') }), value),
      { maxLength: 4 },
    ),
  })
  .map((h) => {
    const lines: string[] = [];
    const add = (name: string, v: string | undefined): void => {
      if (v !== undefined) lines.push(`${name}: ${v}`);
    };
    add('Host', h.host);
    add('Upgrade', h.upgrade);
    add('Connection', h.connection);
    add('Sec-WebSocket-Key', h.key);
    add('Sec-WebSocket-Version', h.version);
    add('Sec-WebSocket-Protocol', h.protocol);
    add('Sec-WebSocket-Extensions', h.extensions);
    add('Origin', h.origin);
    for (const [name, v] of h.extra) add(name, v);
    return lines;
  });

const requestText = fc.record({ method, path, version, lines: headerLines, space: fc.oneof({ weight: 12, arbitrary: fc.constant(' ') }, { weight: 1, arbitrary: fc.constantFrom('  ', '\t') }) }).map((r) => `${r.method}${r.space}${r.path} ${r.version}`.trimEnd() + '\r\n' + r.lines.map((l) => `${l}\r\n`).join('') + '\r\n');

interface Answer {
  /** The status line's code, or null when the server closed without answering. */
  readonly status: number | null;
  readonly body: string;
  readonly raw: string;
}

/** Writes one request and reads the answer: a 101 head (then hangs up), a refusal until the server closes, or a close. */
function exchange(text: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(raw);
      const end = raw.indexOf('\r\n\r\n');
      resolve({ status: match === null ? null : Number(match[1]), body: end === -1 ? '' : raw.slice(end + 4), raw });
    };
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(new Error(`no answer and no close within ${ANSWER_MS} ms to:\n${JSON.stringify(text.slice(0, 400))}\ngot: ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`));
    }, ANSWER_MS);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const raw = Buffer.concat(chunks).toString('latin1');
      if (raw.startsWith('HTTP/1.1 101 ') && raw.includes('\r\n\r\n')) finish();
    });
    socket.on('close', finish);
    socket.write(text, 'latin1');
  });
}

describe('fuzzed handshake requests into the accept road (WsServer over TCP)', () => {
  it('never lets an error escape, answers 101 or a 4xx/5xx with a body (or closes), and keeps its memory bounded', async () => {
    const before = process.memoryUsage();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(requestText, async (text) => {
        const answer = await exchange(text);
        if (answer.status === null) {
          // A closed socket without an answer is allowed; a half-written status line is not.
          expect(answer.raw.startsWith('HTTP/')).toBe(false);
          return;
        }
        expect(answer.status === 101 || (answer.status >= 400 && answer.status <= 599)).toBe(true);
        // A refusal says why: every 4xx/5xx carries a body (none to HEAD, RFC 9110 §9.3.2).
        if (answer.status !== 101 && !text.startsWith('HEAD ')) expect(answer.body.length).toBeGreaterThan(0);
        expect(serverErrors).toEqual([]);
      }),
      { numRuns: 400, interruptAfterTimeLimit: 4000 },
    );
    expect(performance.now() - started).toBeLessThan(5000);
    const after = process.memoryUsage();
    expect(after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)).toBeLessThan(MEMORY_BOUND);
    expect(serverErrors).toEqual([]);
    // The server still serves a plain, valid upgrade.
    const valid = await exchange(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${SAMPLE_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    expect(valid.status).toBe(101);
  });
});
