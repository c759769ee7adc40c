// Two projects so CI and humans can run the fast, mocked unit tests apart
// from the end-to-end tests that need the real kube-apiserver.
const common = {
  preset: 'ts-jest',
  resolver: 'ts-jest-resolver',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { useESM: true, tsconfig: '__tests__/tsconfig.json' }
    ]
  },
  clearMocks: true
}

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/__fixtures__/action-host.ts']
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/__tests__/e2e/global-setup.mjs',
      globalTeardown: '<rootDir>/__tests__/e2e/global-teardown.mjs'
    }
  ],
  collectCoverageFrom: ['./src/**'],
  testTimeout: 60000
}
