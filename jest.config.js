/** Jest 30 + ts-jest in ESM mode, as in Nest 12's own app template. */
export default {
  // The node environment, failing a file that leaves a server, socket, child or timer running.
  testEnvironment: '<rootDir>/test/support/no-leftovers-environment.mjs',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  // Samples import the package by name, as users do; in tests the name is the source, so a test
  // and the sample it runs share one instance of every class and metadata key.
  moduleNameMapper: {
    '^wsgate$': '<rootDir>/lib/index.ts',
    '^wsgate/engine$': '<rootDir>/lib/engine.ts',
    '^wsgate/testing$': '<rootDir>/lib/testing/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true, tsconfig: 'tsconfig.json' }],
  },
  // Every documented WSG_ERR_* must be raised by a behavioural test: see test/support/error-ledger.mjs.
  globalSetup: '<rootDir>/test/support/error-ledger-setup.mjs',
  globalTeardown: '<rootDir>/test/support/error-ledger-teardown.mjs',
  testTimeout: 20000,
  maxWorkers: 2,
  // Under --experimental-vm-modules every test file's module graph stays in its worker's heap
  // (jestjs/jest#14605, a Node vm leak), so a worker ends the run with 300-900 MB of heap, and
  // V8 takes longer than Jest's default 500 ms to unmap it at exit (Heap::TearDown, measured with
  // perf; longer on a loaded machine). Recycling a worker past 512 MB keeps its heap, and so its
  // exit, small; the longer grace lets a clean worker finish exiting instead of being killed
  // with "A worker process has failed to exit gracefully". A file that leaves work behind fails
  // in the environment above; it no longer has to be guessed from that warning.
  workerIdleMemoryLimit: '512MB',
  workerGracefulExitTimeout: 5000,
};
