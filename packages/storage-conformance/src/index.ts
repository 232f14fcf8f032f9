export { describeStorageConformance, invalidKeys } from './describe-storage-conformance.js';
export type { ConformanceGroup, StorageConformanceOptions } from './describe-storage-conformance.js';
export { describeRegistryConformance, CountingStorage } from './describe-registry-conformance.js';
export type { RegistryConformanceOptions } from './describe-registry-conformance.js';
