import { describe, expect, it } from '@jest/globals';
import { MissingDependencyError } from './errors.js';
import { importOptional } from './optional-dependency.js';

describe('importOptional', () => {
  it('resolves to the module the loader imports', async () => {
    const module = await importOptional(() => import('node:path'), 'node:path', 'this test');
    expect(module.join('a', 'b')).toBe('a/b');
  });

  it('turns a failed import into MissingDependencyError naming the package and the install command', async () => {
    const failure = new Error("Cannot find module 'not-installed-runtime'");
    const error = await importOptional(() => Promise.reject(failure), 'not-installed-runtime', 'SomeAdapter').catch((caught: unknown) => caught);
    expect(MissingDependencyError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ packageName: 'not-installed-runtime', code: 'MISSING_DEPENDENCY', message: 'SomeAdapter needs not-installed-runtime: npm install not-installed-runtime', cause: failure });
  });

  it('reports a package that is really missing', async () => {
    const specifier = 'modelstore-package-that-does-not-exist';
    const error = await importOptional(() => import(specifier), specifier, 'SomeAdapter').catch((caught: unknown) => caught);
    expect(MissingDependencyError.isInstance(error)).toBe(true);
    expect((error as MissingDependencyError).packageName).toBe(specifier);
  });
});
