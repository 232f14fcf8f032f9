export * from './errors.js';
export type * from './storage.js';
export { validateKey, validatePrefix, compareKeys } from './keys.js';
export { bodyToReadable, knownBodySize, abortReason } from './body.js';
export { MemoryStorage } from './memory-storage.js';
