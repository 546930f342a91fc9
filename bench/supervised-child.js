// A bench child process: its own Node, its own CPU, a raised fd limit, a request/reply channel
// over IPC, and a guarantee that it dies with the orchestrator.
import { spawn, execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { GcTraceCount } from './gc-trace-count.js';

const WANTED_FD_LIMIT = 65536;
const OUTPUT_TAIL_BYTES = 8192;
const live = new Set();

// A fork() cannot change rlimits, so children start through bash, raise the soft limit (as far
// as the hard limit allows when we lack CAP_SYS_RESOURCE), then exec node with the same pid.
const LAUNCHER = `ulimit -n ${WANTED_FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`;

/** The fd limit a child will actually get; the idle scenario sizes itself from it. */
export function childFdLimit() {
  const out = execFileSync('bash', ['-c', `${LAUNCHER.replace('exec "$@"', '')} ulimit -n`], { encoding: 'utf8' });
  const value = out.trim();
  return { wanted: WANTED_FD_LIMIT, actual: value === 'unlimited' ? Infinity : Number(value) };
}

let tasksetPath;
function taskset() {
  if (tasksetPath === undefined) {
    try {
      tasksetPath = execFileSync('bash', ['-c', 'command -v taskset'], { encoding: 'utf8' }).trim() || null;
    } catch {
      // No taskset: children float across cores; results get noisier but stay valid.
      tasksetPath = null;
    }
  }
  return tasksetPath;
}

/** Pinning is only meaningful when there is a core for each side. */
export function canPin() {
  return availableParallelism() >= 2 && taskset() !== null;
}

export class SupervisedChild {
  /**
   * @param {string} file  module to run
   * @param {{ name: string, cpu?: number, args?: string[], nodeArgs?: string[], verbose?: boolean, traceGc?: boolean }} options
   *   traceGc: run with --trace-gc and count the collections in `gcTrace` (stdout is read either way)
   */
  constructor(file, { name, cpu, args = [], nodeArgs = [], verbose = false, traceGc = false }) {
    this.name = name;
    this.pending = new Map();
    this.nextId = 1;
    this.listeners = new Set();
    this.output = '';
    this.exited = null;
    /** @type {GcTraceCount | null} */
    this.gcTrace = traceGc ? new GcTraceCount() : null;

    const command = [process.execPath, '--expose-gc', ...(traceGc ? ['--trace-gc'] : []), ...nodeArgs, file, ...args];
    if (cpu !== undefined && canPin()) command.unshift(taskset(), '-c', String(cpu));
    this.proc = spawn('bash', ['-c', LAUNCHER, 'bench-child', ...command], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: process.env,
    });
    live.add(this);

    const keep = (chunk) => {
      if (verbose) process.stderr.write(`[${name}] ${chunk}`);
      this.output = (this.output + chunk).slice(-OUTPUT_TAIL_BYTES);
    };
    this.proc.stdout.setEncoding('utf8').on('data', (chunk) => {
      this.gcTrace?.push(chunk);
      keep(chunk);
    });
    this.proc.stderr.setEncoding('utf8').on('data', keep);

    this.proc.on('message', (msg) => this.onMessage(msg));
    this.proc.on('error', (err) => this.fail(err));
    this.proc.on('exit', (code, signal) => {
      live.delete(this);
      this.exited = { code, signal };
      this.fail(new Error(`${name} exited (code ${code}, signal ${signal})${this.tail()}`));
    });
  }

  tail() {
    const text = this.output.trim();
    return text === '' ? '' : `\n--- ${this.name} output ---\n${text}`;
  }

  onMessage(msg) {
    if (msg.id !== undefined && this.pending.has(msg.id)) {
      const { resolve, reject, timer } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      clearTimeout(timer);
      if (msg.error !== undefined) reject(new Error(`${this.name}: ${msg.error}`));
      else resolve(msg);
      return;
    }
    for (const listener of this.listeners) listener(msg);
  }

  fail(err) {
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(err);
    }
    this.pending.clear();
    for (const listener of this.listeners) listener({ type: 'exit', error: err });
  }

  /** Resolves with the first unsolicited message of `type` (e.g. 'ready'); rejects if the child dies first. */
  waitFor(type, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms${this.tail()}`));
      }, timeoutMs);
      const listener = (msg) => {
        if (msg.type !== type && msg.type !== 'exit' && msg.type !== 'failed') return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        if (msg.type === type) resolve(msg);
        else if (msg.type === 'failed') reject(new Error(`${this.name} failed to start: ${msg.message}`));
        else reject(msg.error);
      };
      this.listeners.add(listener);
    });
  }

  request(command, timeoutMs = 30_000) {
    if (this.exited !== null) {
      const { code, signal } = this.exited;
      return Promise.reject(new Error(`${this.name} had exited (code ${code}, signal ${signal})${this.tail()}`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: '${command.cmd}' got no reply within ${timeoutMs} ms${this.tail()}`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.proc.send({ ...command, id });
    });
  }

  /**
   * Asks the child to exit on its own (so exit-time work such as writing a --cpu-prof profile
   * happens), then kills it if it is still there after `timeoutMs`.
   */
  async exitGracefully(timeoutMs) {
    if (this.exited !== null) return;
    const gone = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.send({ cmd: 'exit' });
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'late');
    });
    const outcome = await Promise.race([gone, late]);
    clearTimeout(timer);
    if (outcome === 'late') await this.kill();
  }

  kill() {
    if (this.exited !== null) return Promise.resolve();
    const gone = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGKILL');
    return gone;
  }
}

function killAllNow() {
  for (const child of live) {
    try {
      child.proc.kill('SIGKILL');
    } catch (err) {
      process.stderr.write(`could not kill ${child.name}: ${err.message}\n`);
    }
  }
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    killAllNow();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}
