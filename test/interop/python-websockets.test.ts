import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { CloseCode, WsClient, type WebSocketConnection, type WsClientOptions } from '../../lib/index.js';
import { pythonWebsockets, requireBinary } from '../support/interop-binaries.js';
import { startEchoServer, socketOf, type EchoServer } from '../support/interop-echo-server.js';
import { compressibleText, noiseBytes, repeatedNoise } from '../support/interop-payloads.js';
import { killPythonPeers, runPythonClient, startPythonServer, type PythonServer } from '../support/interop-python.js';
import { expectWsgError } from '../support/expect-wsg-error.js';

const MiB = 1024 * 1024;
const describePython = requireBinary('/usr/bin/python3 with websockets', pythonWebsockets);

/** Message specs that client.py rebuilds byte for byte (see fixtures/peer_config.py). */
const text = (t: string) => ({ kind: 'text', text: t, size: 0 });
const noise = (size: number, seed = 1) => ({ kind: 'noise', size, seed });
const compressible = (size: number) => ({ kind: 'compressible', size });

let nextId = 0;
/** A path of its own per client run, so the test can claim its server-side connection. */
const freshPath = (label: string) => `/${label}/${++nextId}`;

afterAll(() => killPythonPeers());

describePython('python websockets 10.4 client → wsgate WsServer', () => {
  let echo: EchoServer;
  let deflating: EchoServer;

  beforeAll(async () => {
    echo = await startEchoServer({ handleProtocols: (offered) => (offered.includes('chat.v1') ? 'chat.v1' : false) });
    deflating = await startEchoServer({ perMessageDeflate: true });
  });
  afterAll(async () => {
    await Promise.all([echo.close(), deflating.close()]);
  });

  it('echoes text and binary of 0, 125, 64 KiB and 1 MiB byte for byte, then closes 1000', async () => {
    const path = freshPath('echo');
    const run = runPythonClient(echo.url + path, {
      scenario: 'echo',
      deflate: 'off',
      messages: [text('héllo wsgate ✓ 🚀'), text(''), noise(0), noise(125), noise(65536), noise(MiB)],
    });
    const conn = await echo.connectionAt(path);
    const result = await run;
    expect(result.echoes).toEqual([
      { type: 'str', size: 16, equal: true },
      { type: 'str', size: 0, equal: true },
      { type: 'bytes', size: 0, equal: true },
      { type: 'bytes', size: 125, equal: true },
      { type: 'bytes', size: 65536, equal: true },
      { type: 'bytes', size: MiB, equal: true },
    ]);
    // python reports the close frame it received: our echo of its code.
    expect(result.close.code).toBe(CloseCode.Normal);
    expect(await conn.closed).toEqual({ code: CloseCode.Normal, reason: 'done', wasClean: true });
  });

  it('reassembles a message python sends in fragments', async () => {
    const result = await runPythonClient(echo.url + freshPath('fragments'), {
      scenario: 'echo',
      deflate: 'off',
      messages: [{ ...compressible(10_000), fragments: 3 }, { ...noise(70_000, 4), fragments: 4 }],
    });
    expect(result.echoes).toEqual([
      { type: 'str', size: 10_000, equal: true },
      { type: 'bytes', size: 70_000, equal: true },
    ]);
  });

  it('answers a python ping with the same payload and emits ping', async () => {
    const path = freshPath('ping');
    const run = runPythonClient(echo.url + path, { scenario: 'ping', deflate: 'off', ping: 'py-ping' });
    const conn = await echo.connectionAt(path);
    const [payload] = (await once(conn, 'ping')) as [Buffer];
    expect(payload.toString()).toBe('py-ping');
    expect((await run).pong).toBe(true);
  });

  it('gets our ping answered (pong event), then sees our close 4000 "bye" with code and reason', async () => {
    const path = freshPath('await-close');
    const run = runPythonClient(echo.url + path, { scenario: 'await-close', deflate: 'off' });
    const conn = await echo.connectionAt(path);
    const ponged = once(conn, 'pong');
    conn.ping('srv-ping');
    expect(((await ponged)[0] as Buffer).toString()).toBe('srv-ping');
    conn.close(4000, 'bye');
    expect((await run).close).toEqual({ code: 4000, reason: 'bye' });
    const info = await conn.closed;
    expect(info.code).toBe(4000);
    expect(info.wasClean).toBe(true);
  });

  it('python closes 4002 with a reason: our CloseInfo has both and is clean; python sees 4002 echoed', async () => {
    const path = freshPath('close');
    const run = runPythonClient(echo.url + path, { scenario: 'close', deflate: 'off', code: 4002, reason: 'python bye ✓' });
    const conn = await echo.connectionAt(path);
    expect(await conn.closed).toEqual({ code: 4002, reason: 'python bye ✓', wasClean: true });
    expect((await run).close.code).toBe(4002);
  });

  it('python fails the connection 1009 when our echo exceeds its max_size: our CloseInfo shows a clean 1009', async () => {
    const path = freshPath('max-size');
    const run = runPythonClient(echo.url + path, { scenario: 'echo', deflate: 'off', max_size: 1000, messages: [noise(1000), noise(1001)] });
    const conn = await echo.connectionAt(path);
    const result = await run;
    expect(result.echoes).toEqual([{ type: 'bytes', size: 1000, equal: true }, { closed: true }]);
    // websockets 10 stops reading once it fails a connection, so it never sees our echo (1006 there).
    const info = await conn.closed;
    expect(info.code).toBe(CloseCode.MessageTooBig);
    expect(info.wasClean).toBe(true);
  });

  it('closes 1009 WSG_ERR_MESSAGE_TOO_LARGE at maxMessageSize + 1 B from python; python sees 1009', async () => {
    const path = freshPath('too-big');
    const run = runPythonClient(echo.url + path, { scenario: 'echo', deflate: 'off', max_size: 2 * MiB, messages: [noise(MiB + 1)] });
    const conn = await echo.connectionAt(path);
    const result = await run;
    expect(result.echoes).toEqual([{ closed: true }]);
    expect(result.close.code).toBe(CloseCode.MessageTooBig);
    const info = await conn.closed;
    expect(info.code).toBe(CloseCode.MessageTooBig);
    expectWsgError(info.error, 'WSG_ERR_MESSAGE_TOO_LARGE', CloseCode.MessageTooBig);
  });

  it('selects chat.v1 from ["chat.v2", "chat.v1"]; both sides report it', async () => {
    const path = freshPath('protocol');
    const run = runPythonClient(echo.url + path, { scenario: 'echo', deflate: 'off', subprotocols: ['chat.v2', 'chat.v1'], messages: [text('x')] });
    const conn = await echo.connectionAt(path);
    expect((await run).protocol).toBe('chat.v1');
    expect(conn.protocol).toBe('chat.v1');
  });

  it('declines python\'s default permessage-deflate offer while ours is off', async () => {
    const path = freshPath('no-deflate');
    const run = runPythonClient(echo.url + path, { scenario: 'echo', messages: [compressible(4096)] });
    const conn = await echo.connectionAt(path);
    const result = await run;
    expect(result.extensions).toBeNull();
    expect(result.echoes[0].equal).toBe(true);
    expect(conn.extensions).toBe('');
  });

  it('negotiates python\'s default offer and inflates/deflates tiny, 64 KiB, noise and 1 MiB messages', async () => {
    const path = freshPath('deflate');
    const run = runPythonClient(deflating.url + path, {
      scenario: 'echo',
      messages: [text('a'), text(''), compressible(1023), compressible(65536), noise(65536, 8), compressible(MiB)],
    });
    const conn = await deflating.connectionAt(path);
    const result = await run;
    expect(result.extensions).toMatch(/^permessage-deflate\b/);
    expect(conn.extensions).toBe(result.extensions);
    expect(result.echoes.map((e: { equal: boolean }) => e.equal)).toEqual([true, true, true, true, true, true]);
    await conn.closed;
    // About 1.2 MiB of text crossed each way; compressed, the wire carried far less.
    const socket = socketOf(conn);
    expect(socket.bytesRead).toBeLessThan(65536 + 200_000);
    expect(socket.bytesWritten).toBeLessThan(65536 + 200_000);
  });

  it('inflates compressed messages python sends in fragments', async () => {
    const result = await runPythonClient(deflating.url + freshPath('deflate-fragments'), {
      scenario: 'echo',
      messages: [{ ...compressible(100_000), fragments: 5 }, { ...noise(30_000, 6), fragments: 3 }],
    });
    expect(result.extensions).toMatch(/^permessage-deflate\b/);
    expect(result.echoes).toEqual([
      { type: 'str', size: 100_000, equal: true },
      { type: 'bytes', size: 30_000, equal: true },
    ]);
  });

  it('python without compression talks to our deflate-enabled server uncompressed', async () => {
    const path = freshPath('py-off');
    const run = runPythonClient(deflating.url + path, { scenario: 'echo', deflate: 'off', messages: [compressible(4096)] });
    const conn = await deflating.connectionAt(path);
    const result = await run;
    expect(result.extensions).toBeNull();
    expect(conn.extensions).toBe('');
    expect(result.echoes[0].equal).toBe(true);
  });

  it('python inflates with a 256 B window what we deflate under server_max_window_bits=8', async () => {
    const result = await runPythonClient(deflating.url + freshPath('window-8'), {
      scenario: 'echo',
      deflate: { server_max_window_bits: 8 },
      messages: [
        { kind: 'repeated-noise', size: 4096, block: 300, seed: 5 },
        { kind: 'repeated-noise', size: 4096, block: 200, seed: 6 },
        compressible(100_000),
        text('wsgate '.repeat(2000)),
      ],
    });
    expect(result.extensions).toMatch(/server_max_window_bits=8/);
    expect(result.echoes.map((e: { equal: boolean }) => e.equal)).toEqual([true, true, true, true]);
  });

  it('honours window bits 10 and no context takeover both ways, as python offers them', async () => {
    const path = freshPath('deflate-params');
    const run = runPythonClient(deflating.url + path, {
      scenario: 'echo',
      deflate: { server_max_window_bits: 10, client_max_window_bits: 10, server_no_context_takeover: true, client_no_context_takeover: true },
      // A 4 KiB block repeated: a back-reference beyond python's 1 KiB window breaks its inflater.
      messages: [{ kind: 'repeated-noise', size: 16384, block: 4096, seed: 3 }, { kind: 'repeated-noise', size: 16384, block: 4096, seed: 3 }, compressible(50_000)],
    });
    const conn = await deflating.connectionAt(path);
    const result = await run;
    expect(result.extensions).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10',
    );
    expect(result.echoes.map((e: { equal: boolean }) => e.equal)).toEqual([true, true, true]);
    expect(conn.extensions).toBe(result.extensions);
  });
});

describePython('python websockets 10.4 client ↔ wsgate timers', () => {
  let timed: EchoServer;
  let idle: EchoServer;

  beforeAll(async () => {
    [timed, idle] = await Promise.all([startEchoServer({ pingInterval: 100, pongTimeout: 2000 }), startEchoServer({ idleTimeout: 300 })]);
  });
  afterAll(async () => {
    await Promise.all([timed.close(), idle.close()]);
  });

  it('gets a heartbeat ping every pingInterval (100 ms) even though pongTimeout is longer (2000 ms); python answers each', async () => {
    const path = freshPath('heartbeat');
    const run = runPythonClient(timed.url + path, { scenario: 'await-close', deflate: 'off' });
    const conn = await timed.connectionAt(path);
    const pongAt: number[] = [];
    conn.on('pong', () => pongAt.push(Date.now()));
    // Three pings 100 ms apart take ~300 ms; give them one whole pongTimeout before failing.
    let timer: NodeJS.Timeout | undefined;
    const threePongs = new Promise<void>((resolve) => conn.on('pong', () => pongAt.length >= 3 && resolve()));
    const outOfTime = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
    await Promise.race([threePongs, outOfTime]);
    clearTimeout(timer);
    expect(pongAt.length).toBeGreaterThanOrEqual(3);
    expect(conn.isOpen).toBe(true);
    conn.close(CloseCode.Normal, 'enough');
    expect((await run).close).toEqual({ code: CloseCode.Normal, reason: 'enough' });
  });

  it('idleTimeout closes a silent python client with 1001 "idle timeout"', async () => {
    const path = freshPath('idle');
    const run = runPythonClient(idle.url + path, { scenario: 'await-close', deflate: 'off' });
    const conn = await idle.connectionAt(path);
    expect((await run).close).toEqual({ code: CloseCode.GoingAway, reason: 'idle timeout' });
    const info = await conn.closed;
    expect(info.code).toBe(CloseCode.GoingAway);
    expectWsgError(info.error, 'WSG_ERR_IDLE_TIMEOUT', CloseCode.GoingAway);
  });
});

// ---------------------------------------------------------------------------------------

describePython('wsgate WsClient → python websockets 10.4 server', () => {
  let plain: PythonServer;
  let deflating: PythonServer;
  const open = new Set<WebSocketConnection>();

  async function connect(server: PythonServer, path: string, options: WsClientOptions = {}): Promise<WebSocketConnection> {
    const conn = await WsClient.connect(server.url + path, options);
    open.add(conn);
    void conn.closed.then(() => open.delete(conn));
    return conn;
  }

  async function echoOnce(conn: WebSocketConnection, data: string | Buffer): Promise<string | Buffer> {
    conn.send(data);
    return (await conn.receive()).data;
  }

  beforeAll(async () => {
    [plain, deflating] = await Promise.all([
      startPythonServer({ deflate: 'off', subprotocols: ['chat.v1'] }),
      // websockets' default server offer: window bits 12 both ways.
      startPythonServer({ deflate: 'default' }),
    ]);
  });
  afterEach(async () => {
    await Promise.all(
      [...open].map((conn) => {
        conn.terminate();
        return conn.closed;
      }),
    );
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), deflating?.stop()]);
  });

  it('echoes text and binary of 0, 125, 64 KiB and 1 MiB byte for byte', async () => {
    const conn = await connect(plain, freshPath('echo'));
    expect(await echoOnce(conn, 'héllo python ✓ 🚀')).toBe('héllo python ✓ 🚀');
    for (const size of [0, 125, 65536, MiB]) {
      const bytes = noiseBytes(size, size + 5);
      const reply = await echoOnce(conn, bytes);
      expect(Buffer.isBuffer(reply)).toBe(true);
      expect((reply as Buffer).equals(bytes)).toBe(true);
    }
  });

  it('python answers our ping with the same payload; we emit pong', async () => {
    const conn = await connect(plain, freshPath('echo'));
    const ponged = once(conn, 'pong');
    conn.ping('from wsgate');
    expect(((await ponged)[0] as Buffer).toString()).toBe('from wsgate');
  });

  it('we answer a python ping with the same payload and emit ping', async () => {
    const path = freshPath('ping');
    const conn = await connect(plain, path);
    const pings: string[] = [];
    conn.on('ping', (payload: Buffer) => pings.push(payload.toString()));
    expect((await plain.nextEvent(path)).event).toBe('open');
    conn.send('ping me');
    // python got our pong, so our side has handled its ping.
    expect(await plain.nextEvent(path)).toEqual({ event: 'pong', path });
    expect(pings).toEqual(['py-srv']);
  });

  it('python closes 4001 with a reason: our CloseInfo shows both and is clean', async () => {
    const path = freshPath('close4001');
    const conn = await connect(plain, path);
    conn.send('close me');
    expect(await conn.closed).toEqual({ code: 4001, reason: 'python says bye', wasClean: true });
    expect((await plain.nextEvent(path)).event).toBe('open');
    // python reports the close frame it received: our echo of its code.
    expect(await plain.nextEvent(path)).toMatchObject({ event: 'closed', code: 4001 });
  });

  it('we close 4000 with a reason: python sees both; our CloseInfo is clean', async () => {
    const path = freshPath('echo');
    const conn = await connect(plain, path);
    conn.close(4000, 'client bye ✓');
    const info = await conn.closed;
    expect(info.code).toBe(4000);
    expect(info.wasClean).toBe(true);
    expect((await plain.nextEvent(path)).event).toBe('open');
    expect(await plain.nextEvent(path)).toMatchObject({ event: 'closed', code: 4000, reason: 'client bye ✓' });
  });

  it('offers ["chat.v2", "chat.v1"]; python picks chat.v1 and our connection reports it', async () => {
    const path = freshPath('echo');
    const conn = await connect(plain, path, { protocols: ['chat.v2', 'chat.v1'] });
    expect(conn.protocol).toBe('chat.v1');
    expect(await plain.nextEvent(path)).toMatchObject({ event: 'open', subprotocol: 'chat.v1' });
  });

  it('without our perMessageDeflate, python (deflate on) answers without the extension', async () => {
    const path = freshPath('echo');
    const conn = await connect(deflating, path);
    expect(conn.extensions).toBe('');
    expect(await deflating.nextEvent(path)).toMatchObject({ event: 'open', request_extensions: null, response_extensions: null });
    expect(await echoOnce(conn, 'plain')).toBe('plain');
  });

  it('with our perMessageDeflate against python with compression off: no extension', async () => {
    const conn = await connect(plain, freshPath('echo'), { perMessageDeflate: true });
    expect(conn.extensions).toBe('');
    expect(await echoOnce(conn, compressibleText(4096))).toBe(compressibleText(4096));
  });

  it('negotiates window bits 12 as python answers, and deflates within them', async () => {
    const path = freshPath('echo');
    const conn = await connect(deflating, path, { perMessageDeflate: true });
    expect(conn.extensions).toBe('permessage-deflate; server_max_window_bits=12; client_max_window_bits=12');
    expect(await deflating.nextEvent(path)).toMatchObject({ event: 'open', request_extensions: 'permessage-deflate; client_max_window_bits' });
    // An 8 KiB block repeated: a back-reference beyond python's 4 KiB window breaks its inflater.
    const repeated = repeatedNoise(8192, 4);
    for (let round = 0; round < 2; round++) expect((await echoOnce(conn, repeated) as Buffer).equals(repeated)).toBe(true);
    for (const message of ['', 'a', compressibleText(1023), compressibleText(65536), compressibleText(MiB)]) {
      expect(await echoOnce(conn, message)).toBe(message);
    }
    const bytes = noiseBytes(65536, 12);
    expect((await echoOnce(conn, bytes) as Buffer).equals(bytes)).toBe(true);
  });

  it('offers no context takeover and window bits 9 both ways; python accepts and both sides honour them', async () => {
    const conn = await connect(deflating, freshPath('echo'), {
      perMessageDeflate: { clientNoContextTakeover: true, serverNoContextTakeover: true, clientMaxWindowBits: 9, serverMaxWindowBits: 9 },
    });
    expect(conn.extensions).toMatch(/server_no_context_takeover/);
    expect(conn.extensions).toMatch(/client_no_context_takeover/);
    expect(conn.extensions).toMatch(/server_max_window_bits=9/);
    expect(conn.extensions).toMatch(/client_max_window_bits=9/);
    const repeated = repeatedNoise(4096, 4);
    for (let round = 0; round < 3; round++) expect((await echoOnce(conn, repeated) as Buffer).equals(repeated)).toBe(true);
    const big = compressibleText(200_000);
    expect(await echoOnce(conn, big)).toBe(big);
    conn.close();
    expect((await conn.closed).code).toBe(CloseCode.Normal);
  });
});
