import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestingErrorCode } from '../../lib/testing/index.js';

describe('testing error codes', () => {
  it('lists every code lib/testing raises, and raises every code it lists', () => {
    const dir = join(process.cwd(), 'lib/testing');
    const used = new Set<string>();
    for (const file of readdirSync(dir)) {
      if (!file.endsWith('.ts') || file === 'errors.ts') continue;
      for (const match of readFileSync(join(dir, file), 'utf8').matchAll(/'(WSG_ERR_TESTING_[A-Z0-9_]+)'/g)) used.add(match[1]!);
    }
    expect([...used].sort()).toEqual(Object.keys(TestingErrorCode).sort());
  });
});
