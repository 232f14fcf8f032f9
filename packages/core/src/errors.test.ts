import { describe, expect, it } from '@jest/globals';
import { IntegrityError, InvalidArgumentError, InvalidOptionError, ModelExistsError, ModelStoreError, PreconditionFailedError, StorageError } from './errors.js';

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

  it('isInstance works unbound and narrows (the assignments below fail to compile if narrowing is lost)', () => {
    const errors: unknown[] = [new StorageError('a', { retryable: true }), new IntegrityError('b'), new InvalidOptionError('olderThan', 'c'), new Error('d'), 'e'];
    // Unbound, as a filter callback: the result is typed StorageError[].
    const storage: StorageError[] = errors.filter(StorageError.isInstance);
    expect(storage.map((error) => error.retryable)).toEqual([true]);
    const invalid: InvalidArgumentError[] = errors.filter(InvalidArgumentError.isInstance);
    expect(invalid.map((error) => error.argument)).toEqual(['olderThan']);
    expect(errors.filter(ModelStoreError.isInstance)).toHaveLength(3);
    // Called on a value: narrows it in the branch.
    const error: unknown = errors[0];
    if (StorageError.isInstance(error)) {
      const narrowed: StorageError = error;
      const retryable: boolean = error.retryable;
      expect([narrowed.code, retryable]).toEqual(['STORAGE', true]);
    } else {
      throw new Error('StorageError.isInstance refused a StorageError');
    }
    const isInstance = InvalidOptionError.isInstance;
    expect([isInstance(errors[2]), isInstance(errors[0]), isInstance(undefined)]).toEqual([true, false, false]);
  });
});
