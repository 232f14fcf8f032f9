import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, InvalidOptionError, MissingDependencyError, ModelStoreError, StoreConfigurationError } from './errors.js';

const foreign = (code: string) => Object.assign(new Error('from another copy'), { code, [Symbol.for('modelstore.error')]: true });

describe('InvalidArgumentError, StoreConfigurationError, MissingDependencyError', () => {
  it('InvalidOptionError is an InvalidArgumentError that keeps its INVALID_OPTION code', () => {
    const error = new InvalidOptionError('olderThan', 'olderThan must be at least 15 minutes');
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toBeInstanceOf(ModelStoreError);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.option).toBe('olderThan');
    expect(error.argument).toBe('olderThan');
    expect(error.name).toBe('InvalidOptionError');
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(InvalidOptionError.isInstance(error)).toBe(true);
  });

  it('isInstance recognises both codes across copies of the package, and nothing else', () => {
    expect(InvalidArgumentError.isInstance(foreign('INVALID_ARGUMENT'))).toBe(true);
    expect(InvalidArgumentError.isInstance(foreign('INVALID_OPTION'))).toBe(true);
    expect(InvalidOptionError.isInstance(foreign('INVALID_ARGUMENT'))).toBe(false);
    expect(InvalidArgumentError.isInstance(foreign('INVALID_NAME'))).toBe(false);
    expect(InvalidArgumentError.isInstance(new TypeError('x'))).toBe(false);
    expect(StoreConfigurationError.isInstance(foreign('STORE_CONFIGURATION'))).toBe(true);
    expect(MissingDependencyError.isInstance(foreign('MISSING_DEPENDENCY'))).toBe(true);
    expect(MissingDependencyError.isInstance(foreign('STORE_CONFIGURATION'))).toBe(false);
  });

  it('carry their codes and what to do', () => {
    const argument = new InvalidArgumentError('unknown option "regoin"', { argument: 'regoin' });
    expect([argument.code, argument.argument, argument.name]).toEqual(['INVALID_ARGUMENT', 'regoin', 'InvalidArgumentError']);
    const configuration = new StoreConfigurationError('MODEL_STORE_STORAGE=filesystem needs MODEL_STORE_ROOT_PREFIX to be set', ['MODEL_STORE_ROOT_PREFIX']);
    expect([configuration.code, configuration.settings, configuration.name]).toEqual(['STORE_CONFIGURATION', ['MODEL_STORE_ROOT_PREFIX'], 'StoreConfigurationError']);
    const cause = new Error('Cannot find package');
    const missing = new MissingDependencyError('@modelstore/storage-s3', undefined, { cause });
    expect([missing.code, missing.packageName, missing.message, missing.cause]).toEqual(['MISSING_DEPENDENCY', '@modelstore/storage-s3', 'This needs @modelstore/storage-s3: npm install @modelstore/storage-s3', cause]);
  });
});
