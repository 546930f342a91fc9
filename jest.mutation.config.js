/**
 * Jest config for `npm run mutation` (StrykerJS, stryker.config.mjs): the suite's own config,
 * narrowed to the tests that exercise the mutated files, without the error ledger's global
 * setup/teardown (a mutation run is never the whole suite, so the ledger would prove nothing).
 */
import base from './jest.config.js';

const { globalSetup: _setup, globalTeardown: _teardown, ...config } = base;

export default {
  ...config,
  // The tests written for the four mutated files. The conformance suites and the fast-check
  // properties drive the same code through many sockets or hundreds of runs per mutant; they are
  // left out to keep a run short (npm test runs them).
  testMatch: [
    '<rootDir>/test/frames/frame-parser.test.ts',
    '<rootDir>/test/frames/handshake-steps.test.ts',
    '<rootDir>/test/frames/extension-header.test.ts',
    '<rootDir>/test/gateway/plan-compiler.test.ts',
    '<rootDir>/test/gateway/decorators.test.ts',
  ],
  maxWorkers: 1,
  // A mutant that makes a test wait forever fails it here (killed) instead of timing out the
  // whole run, which would cost Stryker a test-runner restart.
  testTimeout: 4000,
};
