export { describeStorageConformance, invalidKeys } from './describe-storage-conformance.js';
export type { ConformanceGroup, StorageConformanceOptions } from './describe-storage-conformance.js';
