export { S3Storage } from './s3-storage.js';
export type { S3StorageOptions } from './s3-storage.js';
export { uriSchemes, pythonStorageNames, describeOptions, fromStoreUri, fromEnvironment, createStorage, b2Endpoint, defaultB2Region } from './options.js';
