module.exports = require('../../jest.preset.cjs')(__dirname, {
  testEnvironment: require.resolve('../../jest.environment.cjs'),
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  testTimeout: 120_000,
});
