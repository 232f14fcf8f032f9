export { FileSystemStorage } from './file-system-storage.js';
export type { FileSystemStorageOptions } from './file-system-storage.js';
export { uriSchemes, pythonStorageNames, describeOptions, fromStoreUri, fromEnvironment, createStorage } from './options.js';
