import { spawn, type ChildProcess } from 'node:child_process';
import { PYTHON } from '../../support/interop-binaries.js';
import { FIXTURES_DIR } from './tls-fixture.js';

// Runs the HTTP/2 binaries (python h2, nghttp, curl). Whether a binary is there is
// test/support/interop-binaries.ts's question, asked through requireBinary().

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every child still running, so afterAll can end what a failed test left behind. */
const live = new Set<ChildProcess>();

/** Runs a binary to completion (killed after `timeoutMs`) and collects its output. */
export function run(file: string, args: string[], timeoutMs = 10_000): Promise<RunResult> {
  const child = spawn(file, args, {
    cwd: FIXTURES_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} still running after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      live.delete(child);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs fixtures/h2_client.py against 127.0.0.1:port and resolves with its JSON report. */
export async function runPythonH2(port: number, config: Record<string, unknown>): Promise<Record<string, any>> {
  const result = await run(PYTHON, [`${FIXTURES_DIR}h2_client.py`, String(port), JSON.stringify(config)]);
  if (result.code !== 0) throw new Error(`h2_client.py ${JSON.stringify(config)} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, any>;
}

export async function killChildren(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
