export { AzureBlobStorage, defaultAzureCredential } from './azure-blob-storage.js';
export type { AzureBlobStorageOptions, AzureCredential, AzureTokenCredential } from './azure-blob-storage.js';
export { uriSchemes, pythonStorageNames, describeOptions, fromStoreUri, fromEnvironment, createStorage } from './options.js';
