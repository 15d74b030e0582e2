// ESM + TypeScript: ts-jest only strips types (isolatedModules); `npm test` runs tsc for the type check.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/providers/**/*.test.ts'],
  testTimeout: 30000,
  setupFiles: ['<rootDir>/test/support/realm.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
