import type { ServerHttp2Stream } from 'node:http2';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { PushService, type PushOutcome } from '../../lib/http2/push-service.js';
import { CURL, NGHTTP, curlHttp2, nghttpBinary, requireBinary } from '../support/interop-binaries.js';
import { killChildren, run } from './support/h2-binaries.js';
import { startPushServer, type PushTestServer } from './support/push-test-server.js';
import { FIXTURES_DIR } from './support/tls-fixture.js';

const describeNghttp = requireBinary(NGHTTP, nghttpBinary);
const describeCurl = requireBinary(`${CURL} with HTTP/2`, curlHttp2);
const push = new PushService();

/** The page every client fetches: push (or hint) two assets, answer with trailers. */
async function page(stream: ServerHttp2Stream, outcomes: PushOutcome[][]): Promise<void> {
  const pushing = push.pushResources(stream, [{ path: '/style.css', as: 'style' }, { path: '/app.js', as: 'script' }], (path) => ({
    headers: { 'content-type': path.endsWith('.css') ? 'text/css' : 'text/javascript' },
    body: `/* ${path} */`,
    trailers: { 'x-checksum': `sum-of-${path.slice(1)}` },
  }));
  stream.respond({ ':status': 200, 'content-type': 'text/html' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'x-page': 'done' }));
  stream.write('<!doctype html><title>wsgate</title>');
  outcomes.push((await pushing).map((r) => r.outcome));
  stream.end();
}

let site: PushTestServer;
const outcomes: PushOutcome[][] = [];
beforeAll(async () => {
  site = await startPushServer();
  site.route('/index.html', (stream) => page(stream, outcomes));
});
afterAll(async () => {
  await killChildren();
  await site.close();
});

describeNghttp('nghttp -nv (nghttp2-client) ← PushService', () => {
  it('sees a PUSH_PROMISE frame per asset, the pushed responses with their trailers, and the page trailers', async () => {
    const result = await run(NGHTTP, ['-nv', `${site.origin}/index.html`]);
    expect(result.code).toBe(0);
    const out = result.stdout;
    const promises = [...out.matchAll(/recv PUSH_PROMISE frame <length=\d+, flags=0x04, stream_id=(\d+)>\s*\n\s*; END_HEADERS\s*\n\s*\(padlen=0, promised_stream_id=(\d+)\)/g)];
    expect(promises).toHaveLength(2);
    const parent = promises[0]![1]!;
    expect(promises.map((m) => m[1])).toEqual([parent, parent]);
    const pushedIds = promises.map((m) => m[2]!);
    expect(pushedIds).toEqual(['2', '4']);
    expect(out).toContain(`recv (stream_id=${parent}) :path: /style.css`);
    expect(out).toContain(`recv (stream_id=${parent}) :path: /app.js`);
    for (const [id, name] of [
      ['2', 'style.css'],
      ['4', 'app.js'],
    ] as const) {
      // Trailers: the header field, then a HEADERS frame with END_STREAM | END_HEADERS (0x05).
      expect(out).toMatch(new RegExp(`recv \\(stream_id=${id}\\) x-checksum: sum-of-${name.replace('.', '\\.')}\\n\\[[ .\\d]+\\] recv HEADERS frame <length=\\d+, flags=0x05, stream_id=${id}>`));
    }
    expect(out).toMatch(new RegExp(`recv \\(stream_id=${parent}\\) x-page: done\\n\\[[ .\\d]+\\] recv HEADERS frame <length=\\d+, flags=0x05, stream_id=${parent}>`));
    expect(outcomes.pop()).toEqual(['pushed', 'pushed']);
  });
});

describeCurl('curl --http2 (push disabled, as in browsers) ← PushService', () => {
  it('sees 103 Early Hints with one Link rel=preload field per asset, then the 200 and the page trailers', async () => {
    const result = await run(CURL, ['--http2', '-k', '-sv', '-o', '/dev/null', `${site.origin}/index.html`]);
    expect(result.code).toBe(0);
    const responseLines = result.stderr
      .split(/\r?\n/)
      .filter((line) => line.startsWith('< '))
      .map((line) => line.slice(2).trim());
    const at103 = responseLines.indexOf('HTTP/2 103');
    const at200 = responseLines.indexOf('HTTP/2 200');
    expect(at103).toBeGreaterThanOrEqual(0);
    expect(at200).toBeGreaterThan(at103);
    expect(responseLines.slice(at103 + 1, at200)).toEqual(['link: </style.css>; rel=preload; as=style', 'link: </app.js>; rel=preload; as=script']);
    expect(responseLines).toContain('x-page: done');
    expect(outcomes.pop()).toEqual(['hinted', 'hinted']);
  });

  it('trusts the fixture certificate with --cacert (no -k) over TLS 1.3 and ALPN h2', async () => {
    const result = await run(CURL, ['--http2', '--cacert', `${FIXTURES_DIR}cert.pem`, '-sv', '-o', '/dev/null', `${site.origin}/index.html`]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/ALPN: server accepted h2|ALPN, server accepted to use h2/);
    outcomes.pop();
  });
});
