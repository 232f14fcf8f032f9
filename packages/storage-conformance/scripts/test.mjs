// `pnpm test [-- args]` for this package: jest over test/**/*.test.ts, then vitest over
// test/**/*.vitest.ts (the suites registered with vitest's functions). Arguments go to
// jest; when they name a .vitest file (or `vitest`), they go to vitest alone instead.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).filter((arg) => arg !== '--');
const forVitest = args.some((arg) => arg.includes('vitest'));

let status = 0;
if (!forVitest) {
  status = spawnSync(process.execPath, ['--expose-gc', path.join(here, '../../node_modules/jest/bin/jest.js'), ...args], { cwd: here, stdio: 'inherit' }).status ?? 1;
}
if (status === 0 && (forVitest || args.length === 0)) {
  const vitest = path.join(here, 'node_modules/vitest/vitest.mjs');
  status = spawnSync(process.execPath, [vitest, 'run', ...args.filter((arg) => arg !== 'vitest')], { cwd: here, stdio: 'inherit' }).status ?? 1;
}
process.exit(status);
