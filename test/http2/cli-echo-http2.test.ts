import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CloseCode } from '../../lib/frames/close-codes.js';
import { WsClient } from '../../lib/http2/ws-client.js';
import { CLI, ROOT, ensureBuilt } from '../support/built-cli.js';
import { OPENSSL, opensslBinary, requireBinary } from '../support/interop-binaries.js';
import { FIXTURES_DIR, TLS_CERT } from './support/tls-fixture.js';

const children = new Set<ChildProcess>();

function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function runToExit(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Starts `wsgate echo --http2` and resolves with the wss:// URL of its first stdout line and its stderr so far. */
async function startEcho(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = runCli(['echo', '--http2', '--port', '0', '-q', ...args]);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const match = /^wsgate echo listening on (wss:\/\/127\.0\.0\.1:\d+\/)$/.exec(line);
  if (match === null) throw new Error(`unexpected first line: ${line}\n${stderr}`);
  return { child, url: match[1]!, stderr: () => stderr };
}

/** SIGTERM, then the exit code and signal once its output pipes are drained too ('close'). */
async function stop(child: ChildProcess): Promise<unknown[]> {
  const exited = once(child, 'close');
  child.kill('SIGTERM');
  return exited;
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

describe('CLI wsgate echo --http2 --cert --key', () => {
  it('echoes over an RFC 8441 extended CONNECT and over an HTTP/1.1 upgrade on the same wss:// port', async () => {
    const { child, url, stderr } = await startEcho(['--cert', `${FIXTURES_DIR}cert.pem`, '--key', `${FIXTURES_DIR}key.pem`]);
    for (const http2 of [true, false]) {
      const conn = await WsClient.connect(url, { http2, ca: TLS_CERT });
      conn.send(`héllo ${http2 ? 'h2' : 'http/1.1'}`);
      expect(await conn.receive()).toEqual({ data: `héllo ${http2 ? 'h2' : 'http/1.1'}`, isBinary: false });
      conn.close(4000, 'done');
      expect((await conn.closed).code).toBe(4000);
    }
    expect(await stop(child)).toEqual([0, null]);
    expect(stderr()).not.toMatch(/self-signed/);
  });

  it('SIGTERM closes an open h2 client with 1001 and exits 0', async () => {
    const { child, url } = await startEcho(['--cert', `${FIXTURES_DIR}cert.pem`, '--key', `${FIXTURES_DIR}key.pem`]);
    const conn = await WsClient.connect(url, { http2: true, ca: TLS_CERT });
    const exited = stop(child);
    expect((await conn.closed).code).toBe(CloseCode.GoingAway);
    expect(await exited).toEqual([0, null]);
  });

  it('exits 2 when --cert comes without --key, or without --http2', async () => {
    const half = await runToExit(['echo', '--http2', '--port', '0', '--cert', `${FIXTURES_DIR}cert.pem`]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--cert and --key go together/);
    const noHttp2 = await runToExit(['echo', '--port', '0', '--cert', `${FIXTURES_DIR}cert.pem`, '--key', `${FIXTURES_DIR}key.pem`]);
    expect(noHttp2.code).toBe(2);
    expect(noHttp2.stderr).toMatch(/need --http2/);
  });

  it('without --cert, exits 1 with a clear message when openssl is not on PATH', async () => {
    const result = await runToExit(['echo', '--http2', '--port', '0'], { ...process.env, PATH: '/nonexistent' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/openssl not found; install openssl or pass a certificate and key/);
  });
});

requireBinary(OPENSSL, opensslBinary)('CLI wsgate echo --http2 with a certificate made at start', () => {
  it('makes a self-signed certificate with openssl, says so on stderr, and serves both roads', async () => {
    const { child, url, stderr } = await startEcho([]);
    for (const http2 of [true, false]) {
      const conn = await WsClient.connect(url, { http2, rejectUnauthorized: false });
      conn.send(Buffer.from([1, 2, 3]));
      expect(await conn.receiveBytes()).toEqual(Buffer.from([1, 2, 3]));
      conn.close();
      await conn.closed;
    }
    expect(await stop(child)).toEqual([0, null]);
    // Read after exit: stdout and stderr are separate pipes, in no fixed order.
    expect(stderr()).toMatch(/self-signed certificate made at start/);
  });
});
