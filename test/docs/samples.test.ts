import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const SAMPLES = fileURLToPath(new URL('../../sample/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

// Samples are what users copy: they reach wsgate by its package name, never by a path into lib/.
describe('samples import wsgate as users do', () => {
  it.each(sources(SAMPLES).map((file) => [file.slice(SAMPLES.length)]))('%s imports no path into lib/', (file) => {
    const text = readFileSync(join(SAMPLES, file), 'utf8');
    const specifiers = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    expect(specifiers.filter((s) => s.includes('/lib/') || s.startsWith('../'))).toEqual([]);
  });
});
