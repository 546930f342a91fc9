/** Jest 30 + ts-jest in ESM mode, as in Nest 12's own app template. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true, tsconfig: 'tsconfig.json' }],
  },
  // Every documented WSG_ERR_* must be raised by a behavioural test: see test/support/error-ledger.mjs.
  globalSetup: '<rootDir>/test/support/error-ledger-setup.mjs',
  globalTeardown: '<rootDir>/test/support/error-ledger-teardown.mjs',
  testTimeout: 20000,
  maxWorkers: 2,
};
