// Tests are transpiled only (ts-jest with isolatedModules): type errors are caught by
// `tsc --noEmit` in `make test`, which is faster than checking every file again here.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }],
  },
  // Starts Temporal + the database for the run (skipped with TEST_UNIT_ONLY=1).
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  // Temporal's SDK logs every worker state change at INFO; keep test output to warnings.
  setupFiles: ['<rootDir>/test/support/quietRuntime.ts'],
  testTimeout: 60_000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summaryReporter.js'],
  // The fault tests (Temporal, the database and a receiver stopped mid-burst: five minutes of
  // real outages) run with `make test-faults`; they are flaky under the full run's load on 2 cores.
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/dist/',
    '<rootDir>/\\.tools/',
    '<rootDir>/\\.data/',
    '<rootDir>/\\.test-data/',
    ...(process.env.FAULT_TESTS === '1' ? [] : ['<rootDir>/test/e2e/faults\\.test\\.ts']),
  ],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/\\.tools/', '<rootDir>/\\.data/', '<rootDir>/\\.test-data/'],
  // On CI a handle left open by a test must not hang the run until the CI time limit; locally
  // jest's "did not exit" warning points at the leak instead.
  forceExit: process.env.CI === 'true',
};
