export { SafetensorsAdapter, readTensorBytes } from './safetensors-adapter.js';
export type { LoadedSafetensors, SafetensorsAdapterOptions, SafetensorsDtypeSummary, SafetensorsFile, SafetensorsModel, SafetensorsTensorLocation } from './safetensors-adapter.js';
export { readSafetensorsHeader, validateSafetensorsHeader, SafetensorsFormatError, safetensorsDtypeBits, maxSafetensorsHeaderSize } from './header.js';
export type { SafetensorsDtype, SafetensorsFormatReason, SafetensorsHeader, SafetensorsTensor } from './header.js';
export { readSafetensorsIndex, maxSafetensorsIndexSize } from './index-file.js';
export type { SafetensorsIndex } from './index-file.js';
