import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { describe, it } from '@jest/globals';

/** Debian's interpreter: the `python3` on PATH is pyenv's and lacks the `websockets` module. */
export const PYTHON = '/usr/bin/python3';
export const CHROMIUM = '/usr/bin/chromium';

export type SuiteDeclarer = (name: string, body: () => void) => void;

/** A check returns null when the binary is usable, else why it is not. */
export type BinaryCheck = () => string | null;

/**
 * `describe` when `check` passes. Otherwise the suite is skipped with a one-line notice, except
 * under CI=true, where a missing binary must fail the run instead of silently shrinking it.
 */
export function requireBinary(name: string, check: BinaryCheck): SuiteDeclarer {
  const missing = check();
  if (missing === null) return describe;
  if (process.env.CI === 'true') {
    return (suiteName, _body) => {
      describe(suiteName, () => {
        it(`has ${name} (required when CI=true)`, () => {
          throw new Error(`${name} is missing: ${missing}`);
        });
      });
    };
  }
  process.stderr.write(`[interop] skipping suites that need ${name}: ${missing}\n`);
  return describe.skip;
}

/** Null when `path` is an executable file, else why not (a BinaryCheck's answer). */
export function executable(path: string): string | null {
  try {
    accessSync(path, fsConstants.X_OK);
    return null;
  } catch (error) {
    return `${path} is not executable (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`;
  }
}

/** /usr/bin/python3 exists and imports `websockets`. */
export const pythonWebsockets: BinaryCheck = () => {
  const notExecutable = executable(PYTHON);
  if (notExecutable !== null) return notExecutable;
  const probe = spawnSync(PYTHON, ['-c', 'import websockets'], { timeout: 10_000, encoding: 'utf8' });
  if (probe.status === 0) return null;
  return `${PYTHON} cannot import websockets (${probe.error?.message ?? probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`})`;
};

/** /usr/bin/chromium exists. */
export const chromiumBinary: BinaryCheck = () => executable(CHROMIUM);
