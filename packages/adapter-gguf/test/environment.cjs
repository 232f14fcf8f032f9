// The repository's environment (typed arrays shared with Node's realm), plus `Array`:
// node-llama-cpp tells its native addon's results apart with `instanceof Array`, and the
// addon's arrays come from Node's realm, not from the realm jest gives each test file.
const SharedTypedArraysEnvironment = require('../../../jest.environment.cjs');

class GgufTestEnvironment extends SharedTypedArraysEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.Array = globalThis.Array;
  }
}

module.exports = GgufTestEnvironment;
