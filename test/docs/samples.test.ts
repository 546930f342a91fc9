import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const SAMPLES = fileURLToPath(new URL('../../sample/', import.meta.url));
const TESTS = fileURLToPath(new URL('../gateway/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The runnable samples: `sample/NN-name/` with a main.ts (00-readme is the README's example, not an app). */
const RUNNABLE = readdirSync(SAMPLES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && /^\d\d-/.test(entry.name) && entry.name !== '00-readme')
  .map((entry) => entry.name);

// Samples are what users copy: they reach wsgate by its package name, never by a path into lib/,
// and another sample's files are not theirs to import (the shared bootstrap is the one exception).
describe('samples import wsgate as users do', () => {
  it.each(sources(SAMPLES).map((file) => [file.slice(SAMPLES.length)]))('%s imports no path into lib/ or another sample', (file) => {
    const text = readFileSync(join(SAMPLES, file), 'utf8');
    const specifiers = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    expect(specifiers.filter((s) => s.includes('/lib/') || (s.startsWith('../') && !s.startsWith('../shared/')))).toEqual([]);
  });
});

describe('each runnable sample starts through the shared bootstrap and has its e2e test', () => {
  it('lists 01-echo, 02-chat and 03-migrate', () => {
    expect(RUNNABLE).toEqual(['01-echo', '02-chat', '03-migrate']);
  });

  it.each(RUNNABLE.map((name) => [name]))('%s/main.ts calls runSample from sample/shared/bootstrap', (name) => {
    const main = readFileSync(join(SAMPLES, name, 'main.ts'), 'utf8');
    expect(main).toContain("from '../shared/bootstrap.js'");
    expect(main).toMatch(/await runSample\(/);
  });

  it.each(RUNNABLE.map((name) => [name]))('%s has test/gateway/sample-<name>.e2e.test.ts', (name) => {
    expect(existsSync(join(TESTS, `sample-${name.slice(3)}.e2e.test.ts`))).toBe(true);
  });
});
