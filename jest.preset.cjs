// Shared jest settings: TypeScript sources are compiled by swc to CommonJS for the
// test run; workspace packages resolve to their sources so tests never see a stale build.
const path = require('node:path');

/** @param {string} packageDir */
module.exports = function jestConfig(packageDir, overrides = {}) {
  return {
    rootDir: packageDir,
    testEnvironment: 'node',
    // Tests start servers and child processes; on a busy 2-core machine (turbo runs packages in
    // parallel) jest's default 5 s per test is too short. Tests that need more say so.
    testTimeout: 30_000,
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    transform: {
      '^.+\\.(t|j)s$': [
        require.resolve('@swc/jest'),
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'commonjs' },
        },
      ],
    },
    // ESM-only dependencies (p-map; string-width and what it imports) are compiled to
    // CommonJS like the sources; the rest of node_modules is not.
    transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm/)?(p-map|string-width|get-east-asian-width|strip-ansi|ansi-regex)[@/])'],
    moduleNameMapper: {
      '^@modelstore/([a-z-]+)$': path.join(__dirname, 'packages/$1/src/index.ts'),
      // Subpath exports (`@modelstore/core/storage-kit`) resolve to the source file of the same name.
      '^@modelstore/([a-z-]+)/([a-z-]+)$': path.join(__dirname, 'packages/$1/src/$2.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    ...overrides,
  };
};
