/** Jest 30 + ts-jest in ESM mode, as in Nest 12's own app template. */
export default {
  testEnvironment: 'node',
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
};
