import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { CloseCode } from '../../lib/index.js';
import { noiseBytes } from '../support/interop-payloads.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist/bin/wsgate.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The CLI runs from dist: rebuild when dist is missing or older than bin/ or lib/frames/.
 * tsc still emits when an unrelated layer has type errors, so success is "the file is fresh".
 */
function ensureBuilt(): void {
  const sources = Math.max(newestSource(join(ROOT, 'bin')), newestSource(join(ROOT, 'lib/frames')), statSync(join(ROOT, 'lib/index.ts')).mtimeMs);
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= sources) return;
  const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (!existsSync(CLI) || statSync(CLI).mtimeMs < sources) {
    throw new Error(`tsc -p tsconfig.build.json did not produce a fresh ${CLI}:\n${build.stdout}${build.stderr}`);
  }
}

const children = new Set<ChildProcess>();

function runCli(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
