export { describeStorageConformance, invalidKeys } from './describe-storage-conformance.js';
export type { ConformanceGroup, StorageConformanceOptions } from './describe-storage-conformance.js';
export { describeRegistryConformance } from './describe-registry-conformance.js';
export { CountingStorage } from './counting-storage.js';
export type { RegistryConformanceOptions } from './describe-registry-conformance.js';
