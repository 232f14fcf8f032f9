import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The vitest run of the conformance suites: proves they register with a runner other
// than jest. Workspace packages resolve to their sources, as in the jest runs.
const packages = path.resolve(import.meta.dirname, '..');

export default defineConfig({
  resolve: {
    alias: [{ find: /^@modelstore\/([a-z-]+)$/, replacement: `${packages}/$1/src/index.ts` }],
  },
  test: {
    include: ['test/**/*.vitest.ts'],
    testTimeout: 120_000,
  },
});
