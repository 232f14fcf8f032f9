module.exports = require('../../jest.preset.cjs')(__dirname, {
  testEnvironment: require.resolve('../../jest.environment.cjs'),
});
