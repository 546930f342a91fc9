// Issue [D]: pushes per second through PushService vs raw stream.pushStream + respond on the
// same HTTP/2 server (target: PushService ≥ 0.9× raw), and WebSocket echo over RFC 8441 vs
// HTTP/1.1 upgrade on the same engine and TLS port (Http2WsServer).
//
//   npm run build && node bench/http2-push-rate.js [--duration=S] [--rounds=N]
//
// One process: server and client share an event loop, so the figures are for comparing the
// two rows of each table with each other, not with bench/run.js. Rounds are interleaved and
// the best round of each row is shown.
import { connect } from 'node:http2';
import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';

const dist = new URL(process.env.WSGATE_DIST ?? '../dist/lib/index.js', import.meta.url);
const { PushService, Http2WsServer, WsClient } = await import(dist.href);

const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const DURATION_MS = arg('duration', 3) * 1000;
const ROUNDS = arg('rounds', 3);
const PUSHES_PER_REQUEST = 10;
const REQUESTS_IN_FLIGHT = 8;
const BODY = Buffer.alloc(256, 0x61);
const ECHO_CONNECTIONS = 10;
const ECHO_IN_FLIGHT = 10;
const ECHO_PAYLOAD = 'x'.repeat(32);

const fixtures = new URL('../test/http2/fixtures/', import.meta.url);
const key = readFileSync(new URL('key.pem', fixtures));
const cert = readFileSync(new URL('cert.pem', fixtures));

const service = new PushService({ maxConcurrentPushes: 100_000 });

function pushRaw(stream, i) {
  stream.pushStream({ ':path': `/r/${i}` }, (error, pushed) => {
    if (error) throw error;
    pushed.respond({ ':status': 200, 'content-type': 'text/plain' });
    pushed.end(BODY);
  });
}

function pushService(stream, i) {
  void service.push(stream, `/r/${i}`, { headers: { 'content-type': 'text/plain' }, body: BODY });
}

async function pushRound(mode) {
  const server = createSecureServer({ key, cert });
  server.on('stream', (stream) => {
    for (let i = 0; i < PUSHES_PER_REQUEST; i++) (mode === 'raw' ? pushRaw : pushService)(stream, i);
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const session = connect(`https://127.0.0.1:${server.address().port}`, { ca: cert, settings: { initialWindowSize: 1 << 24 } });
  let pushes = 0;
  let counting = false;
  session.on('stream', (pushed) => {
    pushed.on('end', () => {
      if (counting) pushes++;
    });
    pushed.resume();
  });
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  let stop = false;
  const loop = async () => {
    while (!stop) {
      await new Promise((resolve) => {
        const req = session.request({ ':path': '/' });
        req.resume();
        req.on('close', resolve);
      });
    }
  };
  const loops = Array.from({ length: REQUESTS_IN_FLIGHT }, loop);
  await new Promise((r) => setTimeout(r, 500));
  counting = true;
  const started = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  counting = false;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  stop = true;
  await Promise.all(loops);
  session.close();
  await new Promise((resolve) => server.close(resolve));
  return pushes / seconds;
}

async function echoRound(road) {
  const server = new Http2WsServer({ key, cert, perMessageDeflate: false });
  server.on('connection', (conn) => conn.on('message', (data) => conn.isOpen && conn.send(data)));
  const { port } = await server.listen();
  const conns = await Promise.all(
    Array.from({ length: ECHO_CONNECTIONS }, () => WsClient.connect(`wss://127.0.0.1:${port}/`, { ca: cert, http2: road === 'h2' })),
  );
  let echoes = 0;
  let counting = false;
  for (const conn of conns) {
    conn.on('message', () => {
      if (counting) echoes++;
      if (conn.isOpen) conn.send(ECHO_PAYLOAD);
    });
    for (let i = 0; i < ECHO_IN_FLIGHT; i++) conn.send(ECHO_PAYLOAD);
  }
  await new Promise((r) => setTimeout(r, 500));
  counting = true;
  const started = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  counting = false;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const conn of conns) conn.close(1000);
  await Promise.all(conns.map((c) => c.closed));
  await server.close();
  return echoes / seconds;
}

function table(title, rows, base) {
  console.log(`\n${title}`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(28)} ${Math.round(value).toString().padStart(9)} /s   ${(value / base).toFixed(2)}×`);
}

const best = { raw: 0, service: 0, 'http/1.1': 0, h2: 0 };
for (let round = 0; round < ROUNDS; round++) {
  best.raw = Math.max(best.raw, await pushRound('raw'));
  best.service = Math.max(best.service, await pushRound('service'));
  best['http/1.1'] = Math.max(best['http/1.1'], await echoRound('http/1.1'));
  best.h2 = Math.max(best.h2, await echoRound('h2'));
}
table(`pushes (${PUSHES_PER_REQUEST} × ${BODY.length} B per request, ${REQUESTS_IN_FLIGHT} requests in flight, best of ${ROUNDS})`, [
  ['raw pushStream + respond', best.raw],
  ['PushService.push', best.service],
], best.raw);
console.log(`  target: PushService ≥ 0.90× raw — ${best.service / best.raw >= 0.9 ? 'met' : 'NOT met'}`);
table(`WebSocket echo (${ECHO_CONNECTIONS} connections × ${ECHO_IN_FLIGHT} in flight × ${ECHO_PAYLOAD.length} B, TLS, best of ${ROUNDS})`, [
  ['HTTP/1.1 upgrade', best['http/1.1']],
  ['RFC 8441 extended CONNECT', best.h2],
], best['http/1.1']);
