import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
// @ts-expect-error: a plain .mjs module shared with Jest's global setup and teardown
import { ledgerProblems } from '../support/error-ledger.mjs';

// The ledger is what makes "every documented code is raised by a behavioural test" a check
// rather than a claim: these tests keep its reading of docs/errors.md honest.
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A docs/errors.md and a ledger holding `recorded` lines ("CODE close"), in a temp folder. */
function fixture(doc: string, recorded: string[]): { ledger: string; docs: string } {
  const root = mkdtempSync(join(tmpdir(), 'wsgate-ledger-test-'));
  dirs.push(root);
  const ledger = mkdtempSync(join(root, 'ledger-'));
  const docs = join(root, 'errors.md');
  writeFileSync(docs, doc);
  if (recorded.length > 0) writeFileSync(join(ledger, 'codes-1'), recorded.map((r) => `${r}\n`).join(''));
  return { ledger, docs };
}

const DOC = [
  '| code | layer | close | meaning |',
  '|---|---|---|---|',
  '| `WSG_ERR_A` | frames | 1002 | a |',
  '| `WSG_ERR_B` | frames | — / 1013 | b |',
  '| `WSG_ERR_C` | gateway | — | c |',
  '',
  '## Codes no test can raise',
  '',
  '| code | why no test raises it |',
  '|---|---|',
  '| `WSG_ERR_C` | a dependency that cannot be made to fail here |',
].join('\n');

describe('the error ledger (test/support/error-ledger.mjs)', () => {
  it('is satisfied when every documented code was recorded with a documented close code', () => {
    const { ledger, docs } = fixture(DOC, ['WSG_ERR_A 1002', 'WSG_ERR_B none', 'WSG_ERR_B 1013']);
    expect(ledgerProblems(ledger, docs)).toEqual([]);
  });

  it('names a documented code that no test recorded', () => {
    const { ledger, docs } = fixture(DOC, ['WSG_ERR_A 1002']);
    expect(ledgerProblems(ledger, docs)).toEqual(['WSG_ERR_B: no behavioural test raised it through expectWsgError()']);
  });

  it('names a close code the doc does not give', () => {
    const { ledger, docs } = fixture(DOC, ['WSG_ERR_A 1011', 'WSG_ERR_B 1013']);
    expect(ledgerProblems(ledger, docs)).toEqual(['WSG_ERR_A: raised with close code 1011, docs/errors.md says 1002']);
  });

  it('exempts only the codes listed under "Codes no test can raise"', () => {
    const { ledger, docs } = fixture(DOC.replace('| `WSG_ERR_C` | a dependency', '| `WSG_ERR_Z` | a dependency'), ['WSG_ERR_A 1002', 'WSG_ERR_B 1013']);
    expect(ledgerProblems(ledger, docs)).toEqual(['WSG_ERR_C: no behavioural test raised it through expectWsgError()']);
  });
});
