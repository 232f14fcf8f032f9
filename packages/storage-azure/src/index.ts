export { AzureBlobStorage } from './azure-blob-storage.js';
export type { AzureBlobStorageOptions } from './azure-blob-storage.js';
export { uriSchemes, pythonStorageNames, describeOptions, fromStoreUri, fromEnvironment, createStorage } from './options.js';
