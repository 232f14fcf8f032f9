export { RawAdapter } from './raw-adapter.js';
export type { RawModel } from './raw-adapter.js';
