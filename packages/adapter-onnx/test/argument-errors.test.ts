import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@modelstore/core';
import { OnnxAdapter } from '../src/index.js';

describe('OnnxAdapter: a model it cannot save is an InvalidArgumentError', () => {
  it('a value that is neither bytes nor a path, and bytes that are not an ONNX ModelProto', async () => {
    const adapter = new OnnxAdapter();
    const wrongType = await adapter.save(42 as never).catch((error: unknown) => error);
    expect(wrongType).toBeInstanceOf(InvalidArgumentError);
    expect((wrongType as InvalidArgumentError).argument).toBe('model');
    const notOnnx = await adapter.save(new Uint8Array([0x08, 0x01, 0x3a, 0x7f])).catch((error: unknown) => error);
    expect(notOnnx).toBeInstanceOf(InvalidArgumentError);
    expect((notOnnx as Error).message).toMatch(/^This is not a readable ONNX model \(.+\): pass the bytes of a ModelProto or a path to a \.onnx file$/);
    expect((notOnnx as Error).cause).toBeInstanceOf(Error);
  });
});
