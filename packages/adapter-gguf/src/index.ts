export { GgufAdapter, GgufByteOrderError } from './gguf-adapter.js';
export type { GgufAdapterOptions, GgufModel } from './gguf-adapter.js';
export { readGgufHeader, GgufHeaderError, maxKeptArrayLength } from './gguf-header.js';
export type { GgufArray, GgufHeader, GgufReadOptions, GgufTensorInfo, GgufValue, GgufValueType } from './gguf-header.js';
export { ggufFacts } from './gguf-facts.js';
export type { GgufFacts } from './gguf-facts.js';
export { ggmlTypes, llamaFileTypes } from './ggml-types.js';
export type { GgmlType } from './ggml-types.js';
