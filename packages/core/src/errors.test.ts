import { describe, expect, it } from '@jest/globals';
import { IntegrityError, ModelExistsError, ModelStoreError, PreconditionFailedError, StorageError } from './errors.js';

describe('errors', () => {
  it('carry a stable code, a cause and their class name', () => {
    const cause = new Error('socket hang up');
    const error = new StorageError('S3 get failed', { cause, retryable: true });
    expect(error.code).toBe('STORAGE');
    expect(error.cause).toBe(cause);
    expect(error.retryable).toBe(true);
    expect(error.name).toBe('StorageError');
    expect(error).toBeInstanceOf(ModelStoreError);
    expect(new StorageError('x').retryable).toBe(false);
  });

  it('are recognised across copies of the package by isInstance', () => {
    // An error from another copy of @modelstore/core: same marker and code, different class.
    const foreign = Object.assign(new Error('lost race'), { code: 'PRECONDITION_FAILED', [Symbol.for('modelstore.error')]: true });
    expect(foreign).not.toBeInstanceOf(PreconditionFailedError);
    expect(PreconditionFailedError.isInstance(foreign)).toBe(true);
    expect(ModelStoreError.isInstance(foreign)).toBe(true);
    expect(IntegrityError.isInstance(foreign)).toBe(false);
    expect(ModelStoreError.isInstance(new Error('plain'))).toBe(false);
    expect(ModelStoreError.isInstance(undefined)).toBe(false);
  });

  it('say what to do', () => {
    expect(new ModelExistsError('churn', 'v1').message).toMatch(/choose another id or omit it/);
  });
});
