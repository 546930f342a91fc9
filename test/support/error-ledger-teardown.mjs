// Jest global teardown: on a run of the whole suite, every code of docs/errors.md must have been
// raised by a behavioural test (recorded through expectWsgError) with its documented close code.
// A run narrowed to some files or names checks nothing: it did not run every test.
import { fileURLToPath } from 'node:url';
import { LEDGER_ENV, ledgerProblems, readLedger, removeLedger } from './error-ledger.mjs';

const DOCS = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));

function wholeSuite(globalConfig) {
  const patterns = globalConfig.testPathPatterns?.patterns ?? globalConfig.testPathPatterns ?? [];
  return (
    (Array.isArray(patterns) ? patterns.length === 0 : true) &&
    !globalConfig.testNamePattern &&
    !globalConfig.onlyChanged &&
    !globalConfig.findRelatedTests &&
    !globalConfig.onlyFailures &&
    !globalConfig.lastCommit &&
    !globalConfig.changedSince
  );
}

export default function teardown(globalConfig) {
  const dir = process.env[LEDGER_ENV];
  if (dir === undefined) return;
  try {
    if (!wholeSuite(globalConfig)) return;
    const problems = ledgerProblems(dir, DOCS);
    if (problems.length === 0) return;
    const { skipped } = readLedger(dir);
    if (skipped.length > 0) {
      // A suite skipped for a missing binary (never under CI) may hold the only test of a code.
      process.stderr.write(`[errors] ${problems.length} documented code(s) not raised; suites were skipped (${skipped.join(', ')})\n`);
      return;
    }
    throw new Error(`docs/errors.md codes not raised by any behavioural test:\n  ${problems.join('\n  ')}`);
  } finally {
    removeLedger(dir);
  }
}
