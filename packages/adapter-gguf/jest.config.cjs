// node-llama-cpp is ESM only: dynamic `import()` stays a real import (swc's ignoreDynamic)
// and jest runs under `node --experimental-vm-modules` (see the test script), so the
// adapter loads the runtime exactly as it does outside jest.
const config = require('../../jest.preset.cjs')(__dirname, {
  testEnvironment: '<rootDir>/test/environment.cjs',
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  testTimeout: 120_000,
});
config.transform['^.+\\.(t|j)s$'][1].module.ignoreDynamic = true;
module.exports = config;
