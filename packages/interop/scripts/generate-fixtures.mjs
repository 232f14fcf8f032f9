// Regenerates python/fixtures/python-modelstore with the real Python modelstore, in the
// pinned environment (built first if needed): `pnpm --filter @modelstore/interop fixtures:python`.
import { ensurePythonEnv, repoRoot } from '@modelstore/test-servers';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = repoRoot();
const { python } = await ensurePythonEnv();
const out = path.join(root, 'python', 'fixtures', 'python-modelstore');
execFileSync(python, [path.join(root, 'python', 'generate_fixtures.py'), out], { stdio: 'inherit', env: { ...process.env, TZ: 'UTC' } });
console.log(`wrote ${path.relative(root, out)}`);
