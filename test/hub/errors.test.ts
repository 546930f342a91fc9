import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubErrorCode, HubError } from '../../lib/hub/index.js';
import { WsgError } from '../../lib/frames/errors.js';

function codesUsedIn(dir: string, prefix: string): Set<string> {
  const used = new Set<string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.ts') || file === 'errors.ts') continue;
    for (const match of readFileSync(join(dir, file), 'utf8').matchAll(new RegExp(`'(${prefix}[A-Z0-9_]+)'`, 'g'))) {
      used.add(match[1]!);
    }
  }
  return used;
}

describe('hub error codes', () => {
  it('lists every code lib/hub raises, and raises every code it lists', () => {
    const used = codesUsedIn(join(process.cwd(), 'lib/hub'), 'WSG_ERR_HUB_');
    expect([...used].sort()).toEqual(Object.keys(HubErrorCode).sort());
  });

  it('HubError is a WsgError carrying its code', () => {
    const error = new HubError('WSG_ERR_HUB_CLOSED', 'closed');
    expect(error).toBeInstanceOf(WsgError);
    expect(error.code).toBe('WSG_ERR_HUB_CLOSED');
    expect(error.name).toBe('HubError');
  });
});
