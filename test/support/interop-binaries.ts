import { spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';

/** Debian's interpreter: the `python3` on PATH is pyenv's and lacks the `websockets` module. */
export const PYTHON = '/usr/bin/python3';
export const CHROMIUM = '/usr/bin/chromium';
export const NGHTTP = '/usr/bin/nghttp';
export const CURL = '/usr/bin/curl';
export const OPENSSL = '/usr/bin/openssl';

export type SuiteDeclarer = (name: string, body: () => void) => void;

/** A check returns null when the binary is usable, else why it is not. */
export type BinaryCheck = () => string | null;

/** CI is on when the variable holds anything but '', '0' or 'false' (CI=1, CI=true, CI=yes …). */
export function underCi(): boolean {
  const value = (process.env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}

/**
 * `describe` when `check` passes. Otherwise the suite is skipped with a one-line notice, except
 * under CI, where a missing binary must fail the run instead of silently shrinking it. This is
 * the only way a suite may skip itself: never on the source text or anything but a binary.
 */
export function requireBinary(name: string, check: BinaryCheck): SuiteDeclarer {
  const missing = check();
  if (missing === null) return describe;
  if (underCi()) {
    return (suiteName, _body) => {
      describe(suiteName, () => {
        it(`has ${name} (required when CI=true)`, () => {
          throw new Error(`${name} is missing: ${missing}`);
        });
      });
    };
  }
  process.stderr.write(`[interop] skipping suites that need ${name}: ${missing}\n`);
  // The error ledger's teardown must know the run was partial (test/support/error-ledger.mjs).
  const ledger = process.env.WSGATE_ERROR_LEDGER;
  if (ledger !== undefined && ledger !== '') appendFileSync(join(ledger, `skipped-suites-${process.pid}`), `${name}\n`);
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

/** Null when /usr/bin/python3 runs `code` (an import probe), else why not. */
function pythonImports(code: string, what: string): string | null {
  const notExecutable = executable(PYTHON);
  if (notExecutable !== null) return notExecutable;
  const probe = spawnSync(PYTHON, ['-c', code], { timeout: 10_000, encoding: 'utf8' });
  if (probe.status === 0) return null;
  return `${PYTHON} cannot import ${what} (${probe.error?.message ?? probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`})`;
}

/** /usr/bin/python3 exists and imports `websockets`. */
export const pythonWebsockets: BinaryCheck = () => pythonImports('import websockets', 'websockets');

/** /usr/bin/python3 exists and imports `h2` (Debian python3-h2) with RFC 8441's ENABLE_CONNECT_PROTOCOL. */
export const pythonH2: BinaryCheck = () =>
  pythonImports('import h2.connection, h2.settings; h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL', 'h2 with ENABLE_CONNECT_PROTOCOL');

/** /usr/bin/chromium exists. */
export const chromiumBinary: BinaryCheck = () => executable(CHROMIUM);

/** Debian nghttp2-client's nghttp. */
export const nghttpBinary: BinaryCheck = () => executable(NGHTTP);

/** curl built with nghttp2 (HTTP2 among its features). */
export const curlHttp2: BinaryCheck = () => {
  const notExecutable = executable(CURL);
  if (notExecutable !== null) return notExecutable;
  const probe = spawnSync(CURL, ['--version'], { timeout: 10_000, encoding: 'utf8' });
  return /\bHTTP2\b/.test(probe.stdout) ? null : `${CURL} has no HTTP2 feature`;
};

/** /usr/bin/openssl exists (createSelfSignedCertificate() and the CLI shell out to it). */
export const opensslBinary: BinaryCheck = () => executable(OPENSSL);
