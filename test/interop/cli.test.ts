import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { CloseCode, WsServer, type WebSocketConnection, type WsServerOptions } from '../../lib/index.js';
import { CONNECTION_OPTION_KEYS } from '../../lib/frames/connection-options.js';
import { Opcode } from '../../lib/frames/opcodes.js';
import { EventQueue, queueEvents } from '../support/interop-event-queue.js';
import { RawPeer } from '../support/raw-peer.js';
import { CLI, ROOT, ensureBuilt } from '../support/built-cli.js';
import { noiseBytes } from '../support/interop-payloads.js';

const children = new Set<ChildProcess>();

function runCli(args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: [stdin, 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Runs the CLI to completion and returns its exit code and output. */
async function runToExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runCli(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Starts `wsgate echo` and resolves with the URL from its first stdout line. */
async function startEcho(args: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = runCli(['echo', '--port', '0', '-q', ...args]);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code, signal) => reject(new Error(`wsgate echo exited (${code ?? signal}) before printing its URL:\n${stderr}`)));
  });
  const match = /^wsgate echo listening on (ws:\/\/127\.0\.0\.1:\d+\/)$/.exec(line);
  if (match === null) throw new Error(`unexpected first line: ${line}`);
  return { child, url: match[1]! };
}

async function openWs(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, options);
  await once(ws, 'open');
  return ws;
}

beforeAll(() => ensureBuilt(), 60_000);

afterAll(async () => {
  await Promise.all(
    [...children].map((child) => {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      return exited;
    }),
  );
});

describe('CLI wsgate echo (dist/bin/wsgate.js) with a ws 8 client', () => {
  it('prints its URL for --port 0 and echoes text as text and binary as binary', async () => {
    const { child, url } = await startEcho();
    const ws = await openWs(url);
    const replies: Array<{ data: Buffer; isBinary: boolean }> = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => replies.push({ data, isBinary }));
    const bytes = noiseBytes(200_000, 42);
    ws.send('héllo cli ✓');
    ws.send(bytes);
    while (replies.length < 2) await once(ws, 'message');
    expect(replies[0]!.isBinary).toBe(false);
    expect(replies[0]!.data.toString()).toBe('héllo cli ✓');
    expect(replies[1]!.isBinary).toBe(true);
    expect(replies[1]!.data.equals(bytes)).toBe(true);
    ws.close(4000, 'done');
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(4000);
    child.kill('SIGTERM');
    expect(await once(child, 'exit')).toEqual([0, null]);
  });

  it('--deflate negotiates permessage-deflate', async () => {
    const { child, url } = await startEcho(['--deflate']);
    const ws = new WebSocket(url, { perMessageDeflate: true });
    let extensions: string | undefined;
    ws.once('upgrade', (res: IncomingMessage) => (extensions = res.headers['sec-websocket-extensions']));
    await once(ws, 'open');
    expect(extensions).toMatch(/^permessage-deflate\b/);
    ws.send('x'.repeat(10_000));
    const [data] = (await once(ws, 'message')) as [Buffer];
    expect(data.toString()).toBe('x'.repeat(10_000));
    ws.terminate();
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('SIGTERM closes open clients with 1001 and exits 0', async () => {
    const { child, url } = await startEcho();
    const ws = await openWs(url);
    const closed = once(ws, 'close');
    // The process may exit before ws reports its close: listen for both before the signal.
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code, reason] = (await closed) as [number, Buffer];
    expect(code).toBe(CloseCode.GoingAway);
    expect(reason.toString()).toBe('server shutting down');
    expect(await exited).toEqual([0, null]);
  });

  it('--max-message-size is enforced: 1 B over closes 1009', async () => {
    const { child, url } = await startEcho(['--max-message-size', '1000']);
    const ws = await openWs(url);
    ws.send(Buffer.alloc(1000));
    const [atLimit] = (await once(ws, 'message')) as [Buffer];
    expect(atLimit.length).toBe(1000);
    ws.send(Buffer.alloc(1001));
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(CloseCode.MessageTooBig);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('echo --help prints the options and exits 0', async () => {
    const { code, stdout } = await runToExit(['echo', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: wsgate echo \[options\]/);
    expect(stdout).toMatch(/--deflate/);
    expect(stdout).toMatch(/--max-message-size/);
    // A reader that falls maxSendQueue behind is closed 1013, never silently starved.
    expect(stdout).toMatch(/--send-queue-policy <p>\s+close \| drop \| error \(default close: 1013/);
  });

  it('--help lists the commands and exits 0', async () => {
    const { code, stdout } = await runToExit(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: wsgate <command>/);
    expect(stdout).toMatch(/echo/);
    expect(stdout).toMatch(/connect/);
  });

  it.each([
    [['echo', '--no-such-flag']],
    [['echo', '--port', 'abc']],
    [['frobnicate']],
  ])('exits 2 with a usage message for %j', async (args) => {
    const { code, stderr } = await runToExit(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^wsgate: /);
    expect(stderr).toMatch(/Run 'wsgate --help'/);
  });
});

interface Accepted {
  conn: WebSocketConnection;
  req: IncomingMessage;
}

const peerServers = new Set<WsServer>();

afterEach(async () => {
  await Promise.all([...peerServers].map((server) => server.close()));
  peerServers.clear();
});

/**
 * Our engine server in this process, for `wsgate connect` to talk to: it hands each accepted
 * connection to the test and, with `echo`, sends every message back as it came.
 */
async function startPeerServer(
  options: Omit<WsServerOptions, 'port' | 'host' | 'server'> & { echo?: boolean } = {},
): Promise<{ url: string; accepted: EventQueue<Accepted> }> {
  const { echo = true, ...serverOptions } = options;
  const server = new WsServer({ ...serverOptions, port: 0, host: '127.0.0.1' });
  peerServers.add(server);
  const accepted = new EventQueue<Accepted>();
  server.on('connection', (conn: WebSocketConnection, req: IncomingMessage) => {
    if (echo) conn.on('message', (data: string | Buffer, isBinary: boolean) => conn.send(data, { binary: isBinary }));
    accepted.push({ conn, req });
  });
  const { port } = await server.listen();
  return { url: `ws://127.0.0.1:${port}/`, accepted };
}

interface ConnectCli {
  /** stdout lines in order, without the '> ' prompts readline writes before them. */
  lines: EventQueue<string>;
  /** Writes one line to the CLI's stdin, as if typed. */
  type(line: string): void;
  exited: Promise<unknown[]>;
  child: ChildProcess;
}

function startConnect(args: string[]): ConnectCli {
  const child = runCli(['connect', ...args], 'pipe');
  const lines = new EventQueue<string>();
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line.replace(/^(> )+/, '')));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  // A test still waiting for a line when the CLI dies gets this one, with the reason, at once.
  child.once('close', (code, signal) => lines.push(`[wsgate exited ${code ?? signal}] ${stderr}`));
  return {
    lines,
    type: (line) => child.stdin!.write(`${line}\n`),
    exited: once(child, 'exit'),
    child,
  };
}

describe('CLI wsgate connect (dist/bin/wsgate.js) against our WsServer', () => {
  it('sends typed lines as text, /binary as bytes and /ping as a ping, and prints what comes back', async () => {
    const { url, accepted } = await startPeerServer();
    const cli = startConnect([url]);
    expect(await cli.lines.next()).toBe('connected');
    const { conn } = await accepted.next();
    const messages = queueEvents(conn, 'message', (data: string | Buffer, isBinary: boolean) => ({ data, isBinary }));
    const pings = queueEvents(conn, 'ping', (payload: Buffer) => payload.toString('utf8'));

    cli.type('héllo wsgate ✓');
    expect(await messages.next()).toEqual({ data: 'héllo wsgate ✓', isBinary: false });
    expect(await cli.lines.next()).toBe('< héllo wsgate ✓');

    cli.type('/binary 01 02 ff');
    expect(await messages.next()).toEqual({ data: Buffer.from([1, 2, 255]), isBinary: true });
    expect(await cli.lines.next()).toBe('< <binary 3 bytes> 0102ff');

    cli.type('/ping are you there');
    expect(await pings.next()).toBe('are you there');
    expect(await cli.lines.next()).toBe('< pong are you there');

    cli.type('/close 4001 bye now');
    expect(await conn.closed).toEqual({ code: 4001, reason: 'bye now', wasClean: true });
    expect(await cli.lines.next()).toMatch(/^closed 4001 /);
    expect(await cli.exited).toEqual([0, null]);
  });

  it('reports a close code the engine refuses to send and stays connected', async () => {
    const { url, accepted } = await startPeerServer();
    const cli = startConnect([url]);
    expect(await cli.lines.next()).toBe('connected');
    const { conn } = await accepted.next();
    cli.type(`/close ${CloseCode.NoStatus}`);
    expect(await cli.lines.next()).toBe(`! Close code ${CloseCode.NoStatus} may not be sent (RFC 6455 §7.4)`);
    cli.type('still here');
    expect(await cli.lines.next()).toBe('< still here');
    expect(conn.isOpen).toBe(true);
    cli.type('/quit');
    expect((await conn.closed).code).toBe(CloseCode.Normal);
    expect(await cli.exited).toEqual([0, null]);
  });

  it('closes with 1000 and exits 0 when stdin ends', async () => {
    const { url, accepted } = await startPeerServer();
    const cli = startConnect([url]);
    expect(await cli.lines.next()).toBe('connected');
    const { conn } = await accepted.next();
    cli.child.stdin!.end();
    expect(await within(conn.closed, 5_000, 'still open')).toEqual({ code: CloseCode.Normal, reason: '', wasClean: true });
    expect(await cli.lines.next()).toBe(`closed ${CloseCode.Normal} `);
    expect(await cli.exited).toEqual([0, null]);
  });

  it("prints the server's close code and reason and exits 0 when the server closes", async () => {
    const { url, accepted } = await startPeerServer();
    const cli = startConnect([url]);
    expect(await cli.lines.next()).toBe('connected');
    const { conn } = await accepted.next();
    conn.close(4002, 'go away');
    expect(await cli.lines.next()).toBe('closed 4002 go away');
    expect(await cli.exited).toEqual([0, null]);
    // The CLI answers with the code alone; the server's CloseInfo reports that answer.
    expect(await conn.closed).toMatchObject({ code: 4002, wasClean: true });
  });

  it('-p offers subprotocols in order and prints the one chosen; -H adds a request header', async () => {
    let offered: string[] = [];
    const { url, accepted } = await startPeerServer({
      handleProtocols: (protocols) => {
        offered = protocols;
        return protocols.includes('chat.v2') ? 'chat.v2' : false;
      },
    });
    const cli = startConnect([url, '-p', 'chat.v1', '--protocol', 'chat.v2', '-H', 'X-Token: abc:def']);
    expect(await cli.lines.next()).toBe('connected (protocol chat.v2)');
    const { conn, req } = await accepted.next();
    expect(offered).toEqual(['chat.v1', 'chat.v2']);
    expect(conn.protocol).toBe('chat.v2');
    expect(req.headers['x-token']).toBe('abc:def');
    cli.type('/quit');
    expect(await cli.exited).toEqual([0, null]);
  });

  it('--max-message-size N prints a message of N bytes and closes 1009 at N + 1', async () => {
    const { url, accepted } = await startPeerServer({ echo: false });
    const cli = startConnect([url, '--max-message-size', '1000']);
    expect(await cli.lines.next()).toBe('connected');
    const { conn } = await accepted.next();
    conn.send(Buffer.alloc(1000, 0xab));
    expect(await cli.lines.next()).toBe(`< <binary 1000 bytes> ${'ab'.repeat(32)}`);
    conn.send(Buffer.alloc(1001, 0xab));
    expect((await conn.closed).code).toBe(CloseCode.MessageTooBig);
    expect(await cli.lines.next()).toMatch(new RegExp(`^closed ${CloseCode.MessageTooBig} `));
    expect(await cli.exited).toEqual([0, null]);
  });

  it('exits 1 with "wsgate: Connection failed" when nothing listens', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { code, stdout, stderr } = await runToExit(['connect', `ws://127.0.0.1:${port}/`]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`wsgate: Connection failed: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });

  it('without a URL prints its usage and exits 2', async () => {
    const { code, stdout } = await runToExit(['connect']);
    expect(code).toBe(2);
    expect(stdout).toMatch(/^Usage: wsgate connect <ws:\/\/host:port\/path> \[options\]/);
  });
});

/** `maxFrameSize` → `max-frame-size`: the CLI spells each engine option in kebab case. */
function flagOf(optionKey: string): string {
  return `--${optionKey.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** A RawPeer client (masks, parses what the echo sends independently) on `wsgate echo`'s port. */
function rawPeerTo(url: string): Promise<RawPeer> {
  return RawPeer.connect(Number(new URL(url).port));
}

const ECHO_DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

/**
 * `promise`, or `what` once `ms` have passed: bounds how long a broken build makes a test wait
 * (the assertion on the value then fails with `what`). The timer does not hold the process.
 */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T | string> {
  return Promise.race([promise, delay(ms, `${what} within ${ms} ms`, { ref: false })]);
}

/** The code of the next close frame, or a message naming what did not come in time. */
async function closeCodeWithin(peer: RawPeer, ms: number): Promise<number | undefined | string> {
  const close = await within(peer.closeFrame(), ms, 'no close frame');
  return typeof close === 'string' ? close : close.code;
}

/** A client frame header (FIN, masked) declaring `length` payload bytes, with no payload after it. */
function maskedHeaderDeclaring(opcode: number, length: number): Buffer {
  const header = Buffer.alloc(2 + 8 + 4);
  header[0] = 0x80 | opcode;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header; // mask key 0,0,0,0: legal, and the payload would go out unchanged
}

describe('wsgate echo: every engine limit is a flag (README "npx wsgate echo --help")', () => {
  it('echo --help lists a flag for every engine option in CONNECTION_OPTION_KEYS', async () => {
    const { code, stdout } = await runToExit(['echo', '--help']);
    expect(code).toBe(0);
    const listed = (flag: string): boolean => new RegExp(`^\\s+${flag}(\\s|$)`, 'm').test(stdout);
    const missing = CONNECTION_OPTION_KEYS.filter((key) => !listed(flagOf(key))).map(flagOf);
    expect(missing).toEqual([]);
  });

  it('accepts every engine flag at once and still serves', async () => {
    const values: Record<string, string | null> = {
      maxMessageSize: '2048',
      maxFrameSize: '1024',
      maxSendQueue: '1048576',
      sendQueuePolicy: 'drop',
      sendLowWaterMark: '1024',
      maxPendingPongs: '8',
      maxReceiveQueue: '8',
      acceptUnmaskedFrames: null,
      closeTimeout: '1000',
      pingInterval: '60000',
      pongTimeout: '60000',
      idleTimeout: '60000',
      decodeText: null,
    };
    expect(Object.keys(values).sort()).toEqual([...CONNECTION_OPTION_KEYS].sort());
    const args = Object.entries(values).flatMap(([key, value]) => (value === null ? [flagOf(key)] : [flagOf(key), value]));
    const { child, url } = await startEcho(args);
    const ws = await openWs(url);
    ws.send('all flags');
    const [data] = (await once(ws, 'message')) as [Buffer];
    expect(data.toString()).toBe('all flags');
    ws.terminate();
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('--max-frame-size N: a message in N-byte frames is echoed, a frame of N + 1 bytes closes 1009', async () => {
    const { child, url } = await startEcho(['--max-frame-size', '100', '--max-message-size', '1000']);
    const peer = await rawPeerTo(url);
    await peer.sendBinary(Buffer.alloc(100, 1), { fin: false });
    await peer.sendFrame(Opcode.Continuation, Buffer.alloc(100, 2), { fin: false });
    await peer.sendFrame(Opcode.Continuation, Buffer.alloc(100, 3));
    const echoed = await peer.nextMessage();
    expect(echoed.payload).toEqual(Buffer.concat([Buffer.alloc(100, 1), Buffer.alloc(100, 2), Buffer.alloc(100, 3)]));
    await peer.sendBinary(Buffer.alloc(101));
    expect(await closeCodeWithin(peer, 5_000)).toBe(CloseCode.MessageTooBig);
    peer.destroy();
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  // The server's timers start before this process sees the 101 or the frame that armed them,
  // so lower bounds count from before the connect and upper bounds from what this peer saw.
  // Upper bounds leave 2 s for a loaded machine running a child process.

  it('--idle-timeout T closes a silent client with 1001 "idle timeout", not before 0.9 T and by T + 2 s', async () => {
    const { child, url } = await startEcho(['--idle-timeout', '500']);
    const beforeConnect = performance.now();
    const peer = await rawPeerTo(url);
    const connected = performance.now();
    const close = await within(peer.closeFrame(), 5_000, 'no close frame');
    const closedAt = performance.now();
    expect(typeof close === 'string' ? close : { code: close.code, reason: close.reason.toString() }).toEqual({
      code: CloseCode.GoingAway,
      reason: 'idle timeout',
    });
    expect(closedAt - beforeConnect).toBeGreaterThanOrEqual(450);
    expect(closedAt - connected).toBeLessThan(2_500);
    peer.destroy();
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('--ping-interval P --pong-timeout T: pings after P; a client that stays silent is cut T after the ping', async () => {
    const { child, url } = await startEcho(['--ping-interval', '200', '--pong-timeout', '400']);
    const beforeConnect = performance.now();
    const peer = await rawPeerTo(url);
    const connected = performance.now();
    const ping = await within(peer.nextFrame(), 5_000, 'no ping');
    if (typeof ping === 'string') throw new Error(ping);
    const pingAt = performance.now();
    expect(ping.opcode).toBe(Opcode.Ping);
    expect(pingAt - beforeConnect).toBeGreaterThanOrEqual(180);
    expect(pingAt - connected).toBeLessThan(2_200);
    expect(await within(peer.closed, 5_000, 'TCP still open')).toBeUndefined();
    const cutAt = performance.now();
    expect(cutAt - beforeConnect).toBeGreaterThanOrEqual(0.9 * (200 + 400));
    expect(cutAt - pingAt).toBeLessThan(2_400);
    // Abnormal closure (1006): the TCP connection is dropped without a close frame.
    expect(peer.frames.filter((f) => f.opcode === Opcode.Close)).toEqual([]);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('--close-timeout T: the echo drops a client that never answers its close frame, not before I + T from connecting and by T + 2 s', async () => {
    // The idle timeout (I) starts a close handshake (a protocol error would drop TCP at once instead).
    const { child, url } = await startEcho(['--close-timeout', '400', '--idle-timeout', '200']);
    const beforeConnect = performance.now();
    const peer = await rawPeerTo(url);
    expect(await closeCodeWithin(peer, 5_000)).toBe(CloseCode.GoingAway);
    const closeFrameAt = performance.now();
    // This peer never sends its close frame back.
    expect(await within(peer.closed, 5_000, 'TCP still open')).toBeUndefined();
    const droppedAt = performance.now();
    expect(droppedAt - beforeConnect).toBeGreaterThanOrEqual(0.9 * (200 + 400));
    expect(droppedAt - closeFrameAt).toBeLessThan(2_400);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('--max-pending-pongs N: a reading peer gets every pong, N + 1 pongs owed behind a full socket close 1008', async () => {
    // The echo stops reading a client whose echoes queue past the low-water mark (then pings
    // wait unread); a high mark keeps it reading while its socket is full.
    const { child, url } = await startEcho(['--max-pending-pongs', '4', '--send-low-water-mark', String(16 * 1024 * 1024)]);
    const reading = await rawPeerTo(url);
    // Pongs owed while the socket drains do not count, however many pings one read holds.
    await reading.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => reading.frame(Opcode.Ping, `p${i}`))));
    const pongs: string[] = [];
    while (pongs.length < 20) {
      const frame = await reading.nextFrame();
      expect(frame.opcode).toBe(Opcode.Pong);
      pongs.push(frame.payload.toString());
    }
    expect(pongs).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`));
    reading.destroy();
    const over = await rawPeerTo(url);
    over.pause();
    // 12 MiB echoed to a peer that does not read, 5 pings after each MiB: once the kernel
    // buffers are full (4 MiB send buffer at most; an unread receive buffer stays small) the
    // echo's socket stays over its high-water mark, and the next 5 pongs owed cross the limit.
    const megabyte = Buffer.alloc(1024 * 1024, 0x2a);
    const pings = Buffer.concat([1, 2, 3, 4, 5].map((i) => over.frame(Opcode.Ping, `p${i}`)));
    for (let i = 0; i < 12; i++) await over.write(Buffer.concat([over.frame(Opcode.Binary, megabyte), pings]));
    over.resume();
    expect(await closeCodeWithin(over, 10_000)).toBe(CloseCode.PolicyViolation);
    over.destroy();
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('--accept-unmasked-frames: an unmasked client frame is echoed; without the flag it closes 1002', async () => {
    const strict = await startEcho();
    const refused = await rawPeerTo(strict.url);
    await refused.sendText('bare', { mask: false });
    expect(await closeCodeWithin(refused, 5_000)).toBe(CloseCode.ProtocolError);
    refused.destroy();
    strict.child.kill('SIGTERM');
    await once(strict.child, 'exit');

    const lax = await startEcho(['--accept-unmasked-frames']);
    const accepted = await rawPeerTo(lax.url);
    await accepted.sendText('bare', { mask: false });
    const echoed = await accepted.nextMessage();
    expect({ opcode: echoed.opcode, text: echoed.payload.toString() }).toEqual({ opcode: Opcode.Text, text: 'bare' });
    accepted.destroy();
    lax.child.kill('SIGTERM');
    await once(lax.child, 'exit');
  });

  // Without the flag the echo hands text over as bytes (decodeText: false) and must send it back
  // as text, not binary; with it, a decode and an encode must give back the same bytes.
  it.each([
    ['without --decode-text (bytes as they came)', []],
    ['with --decode-text (decoded and encoded again)', ['--decode-text']],
  ])('echoes text as text, byte for byte, and binary as binary %s', async (_name, flags) => {
    const { child, url } = await startEcho(flags as string[]);
    const peer = await rawPeerTo(url);
    const text = Buffer.from('zoë κόσμε ✓ 你好 🙂 '.repeat(3000));
    await peer.chop(peer.frame(Opcode.Text, text), 4099);
    const echoedText = await peer.nextMessage();
    expect(echoedText.opcode).toBe(Opcode.Text);
    expect(echoedText.payload.equals(text)).toBe(true);
    await peer.sendBinary(Buffer.from([0xff, 0x00, 0xed, 0xa0, 0x80]));
    const echoedBinary = await peer.nextMessage();
    expect({ opcode: echoedBinary.opcode, bytes: [...echoedBinary.payload] }).toEqual({ opcode: Opcode.Binary, bytes: [0xff, 0x00, 0xed, 0xa0, 0x80] });
    peer.destroy();
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  // The echo never meets its send-queue policy (it pauses reading while its queue is over the
  // low-water mark), so these flags show that they reach the engine through its validation.
  it('--max-send-queue and --send-low-water-mark reach the engine: a low-water mark over the queue limit is refused at start', async () => {
    const refused = await runToExit(['echo', '--port', '0', '--max-send-queue', '1000', '--send-low-water-mark', '1001']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('wsgate: Option sendLowWaterMark (1001) must not exceed maxSendQueue (1000)\n');
  });

  it('--send-queue-policy reaches the engine: an unknown policy is refused at start', async () => {
    const refused = await runToExit(['echo', '--port', '0', '--send-queue-policy', 'bogus']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("wsgate: Option sendQueuePolicy must be 'error', 'drop' or 'close', got bogus\n");
  });
});

describe('wsgate echo: maxMessageSize defaults to 64 MiB (README "messages up to 64 MiB")', () => {
  it('reads a single frame declaring exactly 64 MiB without closing: the ping behind it is answered', async () => {
    const { child, url } = await startEcho();
    const ws = await openWs(url, { maxPayload: ECHO_DEFAULT_MAX_MESSAGE_SIZE });
    const closes = queueEvents(ws, 'close', (code: number) => code);
    const pongs = queueEvents(ws, 'pong', (data: Buffer) => data.toString());
    ws.send(Buffer.alloc(ECHO_DEFAULT_MAX_MESSAGE_SIZE)); // ws sends one frame: its header declares exactly 64 MiB
    ws.ping('after');
    // Refused at the header, a 1009 close would come instead of the pong.
    expect(await Promise.race([pongs.next(), closes.next().then((code) => `closed ${code}`)])).toBe('after');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.terminate();
    child.kill('SIGTERM');
    await once(child, 'exit');
  }, 60_000);

  it('echoes a single frame of exactly 64 MiB', async () => {
    const { child, url } = await startEcho();
    const ws = await openWs(url, { maxPayload: ECHO_DEFAULT_MAX_MESSAGE_SIZE });
    const messages = queueEvents(ws, 'message', (data: Buffer) => data);
    const closes = queueEvents(ws, 'close', (code: number) => code);
    const payload = Buffer.alloc(ECHO_DEFAULT_MAX_MESSAGE_SIZE, 0x5a);
    ws.send(payload);
    ws.send('after'); // echoed second; it comes first only if the big echo was lost
    const first = await Promise.race([messages.next(), closes.next().then((code) => `closed ${code}`)]);
    expect(first.length).toBe(ECHO_DEFAULT_MAX_MESSAGE_SIZE);
    expect(Buffer.isBuffer(first) && first.equals(payload)).toBe(true);
    expect((await messages.next()).toString()).toBe('after');
    ws.terminate();
    child.kill('SIGTERM');
    await once(child, 'exit');
  }, 60_000);

  it('closes 1009 on a header declaring 64 MiB + 1, before any payload byte is sent', async () => {
    const { child, url } = await startEcho();
    const peer = await rawPeerTo(url);
    await peer.write(maskedHeaderDeclaring(Opcode.Binary, ECHO_DEFAULT_MAX_MESSAGE_SIZE + 1));
    // The answer comes at once; the deadline only bounds the failure (an echo waiting for 64 MiB).
    expect(await closeCodeWithin(peer, 5_000)).toBe(CloseCode.MessageTooBig);
    peer.destroy();
    child.kill('SIGTERM');
    await once(child, 'exit');
  });
});
