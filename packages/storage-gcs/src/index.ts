export { GcsStorage } from './gcs-storage.js';
export type { GcsStorageOptions } from './gcs-storage.js';
