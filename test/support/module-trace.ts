import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REGISTER = fileURLToPath(new URL('./module-trace-register.mjs', import.meta.url));

/**
 * Runs Node processes under the module-trace hooks (module-trace-hooks.mjs) and reports every
 * module URL each one resolved, so a test sees what code really loads instead of reading it.
 */
export class ModuleTracer {
  readonly #dir = mkdtempSync(join(tmpdir(), 'wsgate-module-trace-'));
  #runs = 0;

  /** Every module URL a Node process resolved while running `args` (cwd: the repository). */
  run(args: string[]): { modules: string[]; stdout: string; stderr: string; status: number | null } {
    const trace = join(this.#dir, `trace-${this.#runs++}.txt`);
    const run = spawnSync(process.execPath, ['--import', REGISTER, ...args], {
      cwd: ROOT,
      env: { ...process.env, WSGATE_MODULE_TRACE: trace },
      encoding: 'utf8',
      timeout: 15_000,
    });
    let modules: string[] = [];
    try {
      modules = readFileSync(trace, 'utf8').split('\n').filter((line) => line !== '');
    } catch {
      // No trace file: the process resolved nothing (it failed first); status says why.
      modules = [];
    }
    return { modules, stdout: run.stdout, stderr: run.stderr, status: run.status };
  }

  /** For a live process the test spawns itself: the flag and env that trace it into `file`. */
  traceFile(name: string): string {
    return join(this.#dir, name);
  }

  dispose(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export const MODULE_TRACE_REGISTER = REGISTER;
