export { FileSystemStorage } from './file-system-storage.js';
export type { FileSystemStorageOptions } from './file-system-storage.js';
