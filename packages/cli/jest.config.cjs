// Each CLI test runs the built command in child processes, several per test: on a busy
// machine one test takes well over jest's default 5 s.
module.exports = require('../../jest.preset.cjs')(__dirname, {
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  testTimeout: 120_000,
});
