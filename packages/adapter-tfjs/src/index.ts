export { TfjsAdapter } from './tfjs-adapter.js';
export type { TfjsModel, TfjsModelFiles } from './tfjs-adapter.js';
