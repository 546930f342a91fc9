import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = process.cwd();
/** The CLI as users run it: built JavaScript in dist/. */
export const CLI = join(ROOT, 'dist/bin/wsgate.js');

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
 * Tests of the CLI and the package entries run dist/: rebuild when dist is missing or older than
 * bin/, lib/ or sample/. tsc still emits when an unrelated file has type errors, so success is "the
 * file is fresh".
 */
export function ensureBuilt(): void {
  const sources = Math.max(...['bin', 'lib', 'sample'].map((dir) => newestSource(join(ROOT, dir))));
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= sources) return;
  const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (!existsSync(CLI) || statSync(CLI).mtimeMs < sources) {
    throw new Error(`tsc -p tsconfig.build.json did not produce a fresh ${CLI}:\n${build.stdout}${build.stderr}`);
  }
}
