import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { EventQueue } from './interop-event-queue.js';
import { PYTHON } from './interop-binaries.js';

const FIXTURES = fileURLToPath(new URL('../interop/fixtures/', import.meta.url));

/** Every peer process still running, so afterAll can end what a failed test left behind. */
const live = new Set<ChildProcess>();

function spawnPeer(script: string, args: string[]): ChildProcess {
  const child = spawn(PYTHON, [FIXTURES + script, ...args], {
    cwd: FIXTURES,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    text += chunk;
  });
  return () => text;
}

/**
 * Runs client.py against `url` with one scenario and resolves with the JSON it printed.
 * Rejects with the peer's stderr when it exits non-zero or outlives `timeoutMs`.
 */
export function runPythonClient(url: string, config: Record<string, unknown>, timeoutMs = 10_000): Promise<Record<string, any>> {
  const child = spawnPeer('client.py', [url, JSON.stringify(config)]);
  child.stdin?.end();
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`client.py ${JSON.stringify(config)} still running after ${timeoutMs} ms\n${stderr()}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout().trim().split('\n');
      if (code !== 0) {
        reject(new Error(`client.py exited ${code ?? signal}: ${lines.join('\n')}\n${stderr()}`));
        return;
      }
      resolve(JSON.parse(lines[lines.length - 1]!) as Record<string, any>);
    });
  });
}

export interface PythonEvent {
  event: 'listening' | 'open' | 'pong' | 'closed';
  path?: string;
  [key: string]: unknown;
}

/** server.py running, with its event lines in arrival order. */
export interface PythonServer {
  readonly url: string;
  /** The next event about `path` (events about other paths stay queued for their own test). */
  nextEvent(path: string): Promise<PythonEvent>;
  stop(): Promise<void>;
}

export async function startPythonServer(config: Record<string, unknown>, timeoutMs = 10_000): Promise<PythonServer> {
  const child = spawnPeer('server.py', [JSON.stringify(config)]);
  const stderr = collect(child.stderr);
  const byPath = new Map<string, EventQueue<PythonEvent>>();
  const queueFor = (path: string): EventQueue<PythonEvent> => {
    let queue = byPath.get(path);
    if (queue === undefined) byPath.set(path, (queue = new EventQueue<PythonEvent>()));
    return queue;
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server.py did not listen within ${timeoutMs} ms\n${stderr()}`)), timeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server.py exited before listening\n${stderr()}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as PythonEvent;
      if (event.event === 'listening') {
        clearTimeout(timer);
        resolve(event.port as number);
      } else {
        queueFor(event.path ?? '').push(event);
      }
    });
  });
  let port: number;
  try {
    port = await listening;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: `ws://127.0.0.1:${port}`,
    nextEvent: (path) => queueFor(path).next(),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin?.end();
        child.kill('SIGTERM');
      }
      await exited;
    },
  };
}

/** Kills every peer process still running and waits for each to exit. */
export async function killPythonPeers(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
