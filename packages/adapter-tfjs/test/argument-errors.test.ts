import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@modelstore/core';
import { TfjsAdapter } from '../src/index.js';

describe('TfjsAdapter: a model it cannot save is an InvalidArgumentError', () => {
  it('a value that is not a tf model nor { modelJson }', async () => {
    const error = await new TfjsAdapter().save({ weights: [] } as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toBe('TfjsAdapter saves a tf.LayersModel, a tf.GraphModel, or { modelJson: "path/to/model.json" }');
  });
});
