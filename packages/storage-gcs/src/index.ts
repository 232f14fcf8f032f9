export { GcsStorage } from './gcs-storage.js';
export type { GcsStorageOptions } from './gcs-storage.js';
export { uriSchemes, pythonStorageNames, describeOptions, fromStoreUri, fromEnvironment, createStorage } from './options.js';
