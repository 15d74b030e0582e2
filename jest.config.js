// ESM + TypeScript: ts-jest only strips types (isolatedModules); `npm test` runs tsc for the type check.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/providers/**/*.test.ts'],
  testTimeout: 30000,
  // Jest runs the files in its own process when it has one worker (a 2-core machine), and every file's module
  // graph stays on that heap: 2.6 GB by the last of them, with GC pauses longer than the store's 2 s command
  // timeout. A worker is replaced once it holds more than this after a file; and a handle a failed test
  // left open ends with the worker instead of keeping the run alive.
  workerIdleMemoryLimit: '800MB',
  setupFiles: ['<rootDir>/test/support/realm.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
