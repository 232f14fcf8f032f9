// globalSetup builds the test models with Python's safetensors package (the locked
// `models` venv) and starts one MinIO for the run; tests read both from MODELSTORE_SAFETENSORS_TEST.
module.exports = require('../../jest.preset.cjs')(__dirname, {
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  testTimeout: 120_000,
});
