import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { WebSocketConnection } from '../../lib/frames/websocket-connection.js';
import { WsClient } from '../../lib/http2/ws-client.js';
import { CLI, ROOT, ensureBuilt } from '../support/built-cli.js';

// `wsgate echo` at its defaults, as a public conformance run drives it: 16 MiB single-frame
// echoes come back whole, and an echo the send queue refuses is never lost in silence.
const MiB = 1024 * 1024;
let child: ChildProcess | null = null;
let stderr = '';
const clients: WebSocketConnection[] = [];

beforeAll(() => ensureBuilt(), 120_000);
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  if (child !== null && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  child = null;
});

async function startEcho(args: string[] = []): Promise<string> {
  stderr = '';
  const started = spawn(process.execPath, [CLI, 'echo', '--port', '0', '--quiet', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child = started;
  started.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines = createInterface({ input: started.stdout! });
  for await (const line of lines) {
    const match = /(ws:\/\/\S+)/.exec(line);
    if (match !== null) return match[1]!;
  }
  throw new Error(`wsgate echo printed no URL; stderr: ${stderr}`);
}

describe('wsgate echo at its defaults: 16 MiB single-frame messages', () => {
  it('echoes a 16 MiB binary message whole', async () => {
    const url = await startEcho();
    const client = await WsClient.connect(url, { maxMessageSize: 64 * MiB });
    clients.push(client);
    const payload = Buffer.alloc(16 * MiB);
    for (let i = 0; i < payload.length; i += 4096) payload[i] = i % 251;
    client.send(payload);
    const echo = await client.receive();
    expect(echo.isBinary).toBe(true);
    expect(Buffer.compare(echo.data as Buffer, payload)).toBe(0);
  }, 60_000);

  it('echoes a 16 MiB text message whole', async () => {
    const url = await startEcho();
    const client = await WsClient.connect(url, { maxMessageSize: 64 * MiB });
    clients.push(client);
    const text = 'ü€'.repeat((16 * MiB) / 5) + 'x'.repeat((16 * MiB) % 5);
    expect(Buffer.byteLength(text)).toBe(16 * MiB);
    client.send(text);
    const echo = await client.receive();
    expect(echo.isBinary).toBe(false);
    expect(echo.data === text).toBe(true);
  }, 60_000);
});

describe('wsgate echo never drops an echo: a reader that stops reading is held back, not cut', () => {
  it('pauses reading from a client that stops reading; once it reads again, every echo arrives, in order', async () => {
    const url = await startEcho(['--max-send-queue', String(256 * 1024), '--send-low-water-mark', String(64 * 1024)]);
    const client = await WsClient.connect(url, { maxMessageSize: 64 * MiB });
    clients.push(client);
    const echoes: Buffer[] = [];
    client.on('message', (data: string | Buffer) => echoes.push(data as Buffer));
    // Stop reading our socket: the echoes pile up behind the server's socket, the server
    // stops reading us, and our own queue grows instead. 10 MiB is 40 times maxSendQueue.
    client.transport.pause();
    const count = 160;
    for (let i = 0; i < count; i++) {
      const chunk = Buffer.alloc(64 * 1024, i);
      client.send(chunk);
      if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.isOpen).toBe(true);
    expect(echoes).toEqual([]);
    client.transport.resume();
    const deadline = Date.now() + 20_000;
    while (echoes.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(echoes.map((e) => [e.length, e[0]])).toEqual(Array.from({ length: count }, (_, i) => [64 * 1024, i]));
    expect(client.isOpen).toBe(true);
    // The default policy closes 1013 at maxSendQueue: the echo never got there, so it never
    // dropped or closed, and printed no send-queue warning.
    expect(stderr).toBe('');
  }, 30_000);
});
