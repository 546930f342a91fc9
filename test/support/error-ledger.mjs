// The error ledger: which WSG_ERR_* codes the suite has seen raised through the public API.
// Tests record into it only through expectWsgError() (test/support/expect-wsg-error.ts), after
// asserting the error's class, code and close code. Jest's global teardown then checks that
// every code documented in docs/errors.md was recorded, with the close code the doc gives it.
// Reading source text proves nothing: only a raised, asserted error counts.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LEDGER_ENV = 'WSGATE_ERROR_LEDGER';
export const SKIPPED_FILE = 'skipped-suites';

export function createLedger() {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-error-ledger-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** code → Set of close codes seen ('none' when the error carried no close code). */
export function readLedger(dir) {
  const seen = new Map();
  const skipped = [];
  for (const name of readdirSync(dir)) {
    const text = readFileSync(join(dir, name), 'utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (name.startsWith(SKIPPED_FILE)) {
        skipped.push(line);
        continue;
      }
      const [code, close] = line.split(' ');
      if (!seen.has(code)) seen.set(code, new Set());
      seen.get(code).add(close);
    }
  }
  return { seen, skipped };
}

/** The rows of docs/errors.md: code → close code column ('none', or a number as text, or several joined by '/'). */
export function documentedCodes(docsPath) {
  const rows = new Map();
  const doc = readFileSync(docsPath, 'utf8');
  for (const match of doc.matchAll(/^\| `(WSG_ERR_[A-Z0-9_]+)` \| \w+ \| ([^|]+) \|/gm)) {
    const close = match[2].trim();
    rows.set(match[1], close.split('/').map((c) => (c.trim() === '—' ? 'none' : c.trim())));
  }
  return rows;
}

/** The codes docs/errors.md lists under "Codes no test can raise", each with its reason. */
export function exemptCodes(docsPath) {
  const doc = readFileSync(docsPath, 'utf8');
  const at = doc.indexOf('## Codes no test can raise');
  const exempt = new Map();
  if (at < 0) return exempt;
  for (const match of doc.slice(at).matchAll(/^\| `(WSG_ERR_[A-Z0-9_]+)` \| ([^|]+) \|/gm)) exempt.set(match[1], match[2].trim());
  return exempt;
}

/** What is wrong with the ledger against the doc: one line per problem. */
export function ledgerProblems(dir, docsPath) {
  const { seen } = readLedger(dir);
  const exempt = exemptCodes(docsPath);
  const problems = [];
  for (const [code, closes] of documentedCodes(docsPath)) {
    if (exempt.has(code)) continue;
    const observed = seen.get(code);
    if (observed === undefined) {
      problems.push(`${code}: no behavioural test raised it through expectWsgError()`);
      continue;
    }
    for (const close of observed) {
      if (!closes.includes(close)) problems.push(`${code}: raised with close code ${close}, docs/errors.md says ${closes.join('/')}`);
    }
  }
  return problems;
}

export function removeLedger(dir) {
  rmSync(dir, { recursive: true, force: true });
}
