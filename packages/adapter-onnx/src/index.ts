export { OnnxAdapter } from './onnx-adapter.js';
export type { OnnxAdapterOptions, OnnxModel } from './onnx-adapter.js';
export { readOnnxGraphInfo } from './onnx-graph-info.js';
export type { OnnxGraphInfo, OnnxValueInfo } from './onnx-graph-info.js';
export { readOnnxExternalData, resolveOnnxLocation } from './onnx-external-data.js';
export type { OnnxExternalDataScan, OnnxExternalTensor } from './onnx-external-data.js';
export { OnnxFormatError } from './protobuf.js';
