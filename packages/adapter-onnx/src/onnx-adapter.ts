import { type ArchiveEntry, IntegrityError, InvalidArgumentError, type ModelAdapter, type ModelMetadata, type SavedModel, SourceFileError, sourceFileError, UnsafeArchiveError } from '@modelstore/core';
import { importOptional, isFileWithExtension } from '@modelstore/core/internal';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { readOnnxExternalData, resolveOnnxLocation } from './onnx-external-data.js';
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

  /**
   * The model as `model.onnx`, with its graph's inputs, outputs, IR version and opsets as
   * parameters. A `.onnx` file whose tensors keep their data in other files (ONNX external
   * data, https://onnx.ai/onnx/repo-docs/ExternalData.html) is stored with those files, at
   * their `location` beside `model.onnx`, and `parameters.external_data` lists them.
   * @throws InvalidArgumentError for a value that is neither bytes nor a path, a model that is
   *   not an ONNX protobuf, bytes whose tensors name external data (pass the file's path), or a
   *   location that would be stored as `model.onnx`, `model-info.json` or under `extras/`
   * @throws SourceFileError `link-outside` for an absolute location or one outside the model's
   *   folder, `dangling-link` for one that names no file, `special` for one that names a folder,
   *   `unreadable` for a data file that cannot be read
   * @throws IntegrityError for external data whose offset and length run past its file
   */
  async save(model: OnnxModel): Promise<SavedModel> {
    if (!(model instanceof Uint8Array) && typeof model !== 'string') throw new InvalidArgumentError('OnnxAdapter saves ONNX bytes or a path to a .onnx file', { argument: 'model' });
    let graph;
    let scan;
    try {
      graph = await readOnnxGraphInfo(model);
      scan = await readOnnxExternalData(model);
    } catch (error) {
      throw new InvalidArgumentError(`This is not a readable ONNX model (${(error as Error).message}): pass the bytes of a ModelProto or a path to a .onnx file`, { argument: 'model', cause: error });
    }
    const dataFiles = await externalDataFiles(model, scan.tensors);
    const ort = await runtime().catch(() => undefined);
    return {
      files: [{ path: 'model.onnx', source: model }, ...dataFiles],
      type: 'ModelProto',
      parameters: {
        inputs: graph.inputs,
        outputs: graph.outputs,
        ir_version: graph.irVersion ?? null,
        opsets: graph.opsets,
        ...(dataFiles.length > 0 ? { external_data: dataFiles.map((file) => file.path) } : {}),
      },
      dependencies: { 'onnxruntime-node': ort?.env.versions?.node ?? ort?.env.versions?.common ?? null },
    };
  }

  /**
   * An `InferenceSession` on the extracted `model.onnx`. Its external-data locations are
   * checked first, since onnxruntime opens whatever path they name.
   * @throws UnsafeArchiveError for a location outside the model's folder (nothing is opened)
   */
  async load(directory: string, _metadata: ModelMetadata): Promise<InferenceSession> {
    const file = path.join(directory, 'model.onnx');
    const scan = await readOnnxExternalData(file).catch(() => undefined); // an unreadable model is onnxruntime's to report
    for (const tensor of scan?.tensors ?? []) {
      const resolved = resolveOnnxLocation('model.onnx', tensor.location);
      if ('refused' in resolved) {
        const error = new UnsafeArchiveError('model.onnx', `it keeps tensor ${JSON.stringify(tensor.tensor)} as external data at ${JSON.stringify(tensor.location)}, ${resolved.refused}`);
        error.message = `Refusing to load ${directory}: model.onnx keeps tensor ${JSON.stringify(tensor.tensor)} as external data at ${JSON.stringify(tensor.location)}, ${resolved.refused}. onnxruntime would read a file outside the model folder; nothing was loaded.`;
        throw error;
      }
    }
    const ort = await runtime();
    return ort.InferenceSession.create(file, this.sessionOptions ?? {});
  }
}

/** Archive paths the adapter or core already use: a data file must not land on them. */
const takenPaths = (inside: string): boolean => inside === 'model.onnx' || inside === 'model-info.json' || inside === 'extras' || inside.startsWith('extras/');

/**
 * The external-data files a model's tensors name, as archive entries beside `model.onnx`.
 * @throws as {@link OnnxAdapter.save} says
 */
async function externalDataFiles(model: OnnxModel, tensors: ReadonlyArray<{ tensor: string; location: string; offset: number | undefined; length: number | null | undefined }>): Promise<ArchiveEntry[]> {
  if (tensors.length === 0) return [];
  if (typeof model !== 'string') {
    throw new InvalidArgumentError(
      `These ONNX bytes keep tensor ${JSON.stringify(tensors[0]!.tensor)} (and ${tensors.length - 1} more) as external data at ${JSON.stringify(tensors[0]!.location)}: pass the path of the .onnx file, with its data files beside it, so they are stored with it`,
      { argument: 'model' },
    );
  }
  const folder = path.dirname(model);
  const entries = new Map<string, ArchiveEntry>();
  for (const item of tensors) {
    const what = `it keeps tensor ${JSON.stringify(item.tensor)} as external data at ${JSON.stringify(item.location)}`;
    const resolved = resolveOnnxLocation('model.onnx', item.location);
    if ('refused' in resolved) {
      throw new SourceFileError(
        model,
        'link-outside',
        `Cannot store ${model} in the model: ${what}, ${resolved.refused} (ONNX external data must be a relative path inside the model's folder). Nothing was uploaded: re-save the model with its external data beside it (onnx.save_model(..., save_as_external_data=True, location="model.onnx_data")).`,
      );
    }
    if (takenPaths(resolved.inside)) {
      throw new InvalidArgumentError(
        `Cannot store ${model}: ${what}, which would be stored as ${resolved.inside}, a name the archive keeps for itself. Nothing was uploaded: re-save the model with another location (such as model.onnx_data).`,
        { argument: 'model' },
      );
    }
    const source = path.join(folder, ...resolved.inside.split('/'));
    const info = await stat(source).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'ENOENT') {
        throw new SourceFileError(model, 'dangling-link', `Cannot store ${model} in the model: ${what}, but there is no file ${source}. Nothing was uploaded: put the data file beside the model, or re-save it.`, { cause: error });
      }
      throw sourceFileError(source, error);
    });
    if (!info.isFile()) throw new SourceFileError(source, 'special', `Cannot store ${model} in the model: ${what}, and ${source} is not a regular file. Nothing was uploaded.`);
    if (item.offset === undefined || item.length === undefined || item.offset + (item.length ?? 0) > info.size) {
      const range = item.offset === undefined || item.length === undefined ? 'a malformed offset or length' : `bytes ${item.offset} to ${item.offset + (item.length ?? 0)}, past the end of its ${info.size} bytes`;
      throw new IntegrityError(`${model}: ${what} (${source}), ${range}: the data file is truncated or does not belong to this model. Nothing was uploaded.`);
    }
    entries.set(resolved.inside, { path: resolved.inside, source });
  }
  return [...entries.values()];
}
