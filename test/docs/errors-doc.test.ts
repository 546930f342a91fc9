import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { FrameErrorCode } from '../../lib/frames/errors.js';
import { H2ClientErrorCode, Http2ErrorCode } from '../../lib/http2/errors.js';
import { GatewayErrorCode } from '../../lib/gateway/errors.js';
import { HubErrorCode } from '../../lib/hub/errors.js';
import { TestingErrorCode } from '../../lib/testing/errors.js';

const tables: Record<string, Record<string, string>> = {
  frames: FrameErrorCode,
  http2: { ...Http2ErrorCode, ...H2ClientErrorCode },
  hub: HubErrorCode,
  gateway: GatewayErrorCode,
  testing: TestingErrorCode,
};

function documented(): Map<string, string> {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const match of doc.matchAll(/^\| `(WSG_ERR_[A-Z0-9_]+)` \| (\w+) \|/gm)) rows.set(match[1]!, match[2]!);
  return rows;
}

describe('docs/errors.md', () => {
  it('documents every code that a layer defines, under that layer', () => {
    const rows = documented();
    for (const [layer, table] of Object.entries(tables)) {
      for (const code of Object.keys(table)) expect([code, rows.get(code)]).toEqual([code, layer]);
    }
  });

  it('documents no code that no layer defines', () => {
    const defined = new Set(Object.values(tables).flatMap((t) => Object.keys(t)));
    for (const code of documented().keys()) expect([code, defined.has(code)]).toEqual([code, true]);
  });

  it('gives every code a stable WSG_ERR_ prefix and one owner', () => {
    const all = Object.values(tables).flatMap((t) => Object.keys(t));
    expect(new Set(all).size).toBe(all.length);
    for (const code of all) expect(code).toMatch(/^WSG_ERR_[A-Z0-9_]+$/);
  });
});
