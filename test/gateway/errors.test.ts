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

// A consistency check of the table in lib/gateway/errors.ts against the source text. It does
// not prove that any code is raised: the behavioural tests do that through expectWsgError(),
// and the error ledger (test/support/error-ledger.mjs) fails a full run on a code none raised.
describe('gateway error table (lib/gateway/errors.ts): consistency with the source text', () => {
  it('lists only WSG_ERR_DECORATOR_* or WSG_ERR_GATEWAY_* codes, each with a one-line meaning', () => {
    for (const [code, meaning] of Object.entries(GatewayErrorCode)) {
      expect(code).toMatch(/^WSG_ERR_(DECORATOR|GATEWAY)_[A-Z0-9_]+$/);
      expect(meaning.length).toBeGreaterThan(10);
      expect(meaning).not.toContain('\n');
    }
  });

  it('names every code somewhere in the lib/gateway source, and the source names no code the table lacks (text only)', () => {
    const text = sources(libDir).join('\n');
    const used = new Set(text.match(/WSG_ERR_(?:DECORATOR|GATEWAY)_[A-Z0-9_]+/g));
    expect([...used].sort()).toEqual(Object.keys(GatewayErrorCode).sort());
  });

  it('DecoratorError and GatewayError are WsgErrors that keep their code', () => {
    const error = new DecoratorError('WSG_ERR_DECORATOR_PATH', 'x');
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toBeInstanceOf(WsgError);
    expect(error.name).toBe('DecoratorError');
    expect(error.code).toBe('WSG_ERR_DECORATOR_PATH');
  });
});
