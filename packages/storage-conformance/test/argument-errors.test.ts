import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, MemoryStorage } from '@modelstore/core';
import { describeStorageConformance } from '../src/index.js';

describe('describeStorageConformance: options it cannot use', () => {
  it('an asynchronous createStorage without capabilities is an InvalidArgumentError naming the capabilities option', () => {
    let error: unknown;
    try {
      describeStorageConformance({ name: 'async store', createStorage: (async () => new MemoryStorage()) as never });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('capabilities');
    expect((error as Error).message).toBe('createStorage() of async store is asynchronous: pass its capabilities to describeStorageConformance({ capabilities })');
  });
});
