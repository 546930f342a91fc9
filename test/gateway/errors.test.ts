import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WsgError } from '../../lib/frames/errors.js';
import { GatewayErrorCode, GatewayError, DecoratorError } from '../../lib/gateway/index.js';

const libDir = join(dirname(fileURLToPath(import.meta.url)), '../../lib/gateway');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') && entry.name !== 'errors.ts' ? [readFileSync(join(dir, entry.name), 'utf8')] : [],
  );
}

describe('gateway error codes', () => {
  it('are WSG_ERR_DECORATOR_* or WSG_ERR_GATEWAY_*, each with a one-line meaning', () => {
    for (const [code, meaning] of Object.entries(GatewayErrorCode)) {
      expect(code).toMatch(/^WSG_ERR_(DECORATOR|GATEWAY)_[A-Z0-9_]+$/);
      expect(meaning.length).toBeGreaterThan(10);
      expect(meaning).not.toContain('\n');
    }
  });

  it('are all raised somewhere in lib/gateway, and every code raised there is in the table', () => {
    const text = sources(libDir).join('\n');
    const used = new Set(text.match(/WSG_ERR_(?:DECORATOR|GATEWAY)_[A-Z0-9_]+/g));
    expect([...used].sort()).toEqual(Object.keys(GatewayErrorCode).sort());
  });

  it('are WsgErrors with their code', () => {
    const error = new DecoratorError('WSG_ERR_DECORATOR_PATH', 'x');
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toBeInstanceOf(WsgError);
    expect(error.name).toBe('DecoratorError');
    expect(error.code).toBe('WSG_ERR_DECORATOR_PATH');
  });
});
