import { InvalidArgumentError, type ModelAdapter, type ModelMetadata, type SavedModel } from '@modelstore/core';
import { importOptional, isFileWithExtension } from '@modelstore/core/internal';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { readOnnxGraphInfo } from './onnx-graph-info.js';

/** An ONNX model: its serialised bytes, or a path to a `.onnx` file. */
export type OnnxModel = Uint8Array | string;

export interface OnnxAdapterOptions {
  /** Passed to `InferenceSession.create` by `load` (execution providers, threads, ...). */
  sessionOptions?: InferenceSession.SessionOptions;
}

type OnnxRuntime = typeof import('onnxruntime-node');

function runtime(): Promise<OnnxRuntime> {
  return importOptional(() => import('onnxruntime-node'), 'onnxruntime-node', 'OnnxAdapter');
}

const isOnnxPath = (model: unknown): model is string => isFileWithExtension(model, '.onnx');

/**
 * Stores ONNX models as Python modelstore does (library `onnx`, type `ModelProto`,
 * the model as `model.onnx` at the top of the archive), so either side loads the
 * other's models, and loads them as onnxruntime `InferenceSession`s.
 */
export class OnnxAdapter implements ModelAdapter<OnnxModel, InferenceSession> {
  readonly specificationVersion = 'v1' as const;
  readonly library = 'onnx';
  private readonly sessionOptions: InferenceSession.SessionOptions | undefined;

  constructor(options: OnnxAdapterOptions = {}) {
    this.sessionOptions = options.sessionOptions;
  }

  /**
   * Accepts a path to an existing `.onnx` file, or bytes that start like an ONNX
   * ModelProto (field 1, `ir_version`, as every exporter writes first).
   */
  matches(model: unknown): boolean {
    if (model instanceof Uint8Array) return model.length > 2 && model[0] === 0x08;
    return isOnnxPath(model);
  }

  async save(model: OnnxModel): Promise<SavedModel> {
    if (!(model instanceof Uint8Array) && typeof model !== 'string') throw new InvalidArgumentError('OnnxAdapter saves ONNX bytes or a path to a .onnx file', { argument: 'model' });
    let graph;
    try {
      graph = await readOnnxGraphInfo(model);
    } catch (error) {
      throw new InvalidArgumentError(`This is not a readable ONNX model (${(error as Error).message}): pass the bytes of a ModelProto or a path to a .onnx file`, { argument: 'model', cause: error });
    }
    const ort = await runtime().catch(() => undefined);
    return {
      files: [{ path: 'model.onnx', source: model }],
      type: 'ModelProto',
      parameters: { inputs: graph.inputs, outputs: graph.outputs, ir_version: graph.irVersion ?? null, opsets: graph.opsets },
      dependencies: { 'onnxruntime-node': ort?.env.versions?.node ?? ort?.env.versions?.common ?? null },
    };
  }

  /** An `InferenceSession` on the extracted `model.onnx`. */
  async load(directory: string, _metadata: ModelMetadata): Promise<InferenceSession> {
    const ort = await runtime();
    return ort.InferenceSession.create(path.join(directory, 'model.onnx'), this.sessionOptions ?? {});
  }
}
