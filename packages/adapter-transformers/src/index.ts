export { TransformersAdapter, loadTransformersFolder, transformersLibrary } from './transformers-adapter.js';
export type { TransformersAdapterOptions, TransformersDevice, TransformersDtype, TransformersLoadOptions, TransformersModel, TransformersParts } from './transformers-adapter.js';
export { inspectTransformersFolder, taskFromArchitectures, transformersTasks } from './hf-folder.js';
export type { TransformersExternalDataFile, TransformersFolder, TransformersFolderFacts, TransformersOnnxVariant, TransformersTask } from './hf-folder.js';
