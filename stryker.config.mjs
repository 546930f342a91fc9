// Mutation testing (`npm run mutation`, not part of `npm test`): StrykerJS mutates the four files
// below and runs the Jest tests that cover each mutant; a mutant no test fails on "survives".
// Reports: reports/mutation/mutation.html and the clear-text table printed at the end.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  // Jest runs the suite's ESM through node's VM modules, as `npm test` does.
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.js',
    enableFindRelatedTests: true,
  },
  mutate: [
    'lib/frames/frame-parser.ts',
    'lib/frames/handshake.ts',
    'lib/frames/extension-header.ts',
    'lib/gateway/plan-compiler.ts',
  ],
  coverageAnalysis: 'perTest',
  // The machine is shared: two Jest processes at most.
  concurrency: 2,
  // A mutant that makes a run loop or hang counts as detected (Timeout) after its normal time +
  // this; longer than jest.mutation.config.js's testTimeout, so a hanging test fails first.
  timeoutMS: 5_000,
  thresholds: { high: 90, low: 80, break: 80 },
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'coverage', 'reports', 'bench'],
  cleanTempDir: true,
};
