import { InvalidArgumentError, type ArchiveEntry, type ModelAdapter, type ModelMetadata, type SavedModel } from '@modelstore/core';
import { importOptional } from '@modelstore/core/internal';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';

/** A model's files already on disk: `model.json` and the weight files its manifest names. */
export interface TfjsModelFiles {
  modelJson: string;
}

/** A `tf.LayersModel`, a `tf.GraphModel`, or the files of a saved model. */
export type TfjsModel = tf.LayersModel | tf.GraphModel | TfjsModelFiles;

type Tfjs = typeof import('@tensorflow/tfjs');

function tfjs(): Promise<Tfjs> {
  return importOptional(() => import('@tensorflow/tfjs'), '@tensorflow/tfjs', 'TfjsAdapter');
}

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  [key: string]: unknown;
}

function isModelFiles(model: unknown): model is TfjsModelFiles {
  return typeof model === 'object' && model !== null && typeof (model as TfjsModelFiles).modelJson === 'string';
}

function isTfjsModel(model: unknown): model is tf.LayersModel | tf.GraphModel {
  return typeof model === 'object' && model !== null && typeof (model as { save?: unknown }).save === 'function' && typeof (model as { predict?: unknown }).predict === 'function';
}

/** The model's class, as `model.model_type.type`: `Sequential`, `Functional`, `GraphModel`, ... */
function classNameOf(model: tf.LayersModel | tf.GraphModel): string {
  const named = model as { getClassName?: () => string; constructor?: { className?: string; name?: string } };
  return named.getClassName?.() ?? named.constructor?.className ?? named.constructor?.name ?? 'LayersModel';
}

function toBuffer(data: ArrayBuffer | ArrayBuffer[] | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return Array.isArray(data) ? Buffer.concat(data.map((part) => Buffer.from(part))) : Buffer.from(data);
}

/**
 * Stores TensorFlow.js models (library `tensorflowjs`) as `model.json` and
 * `weights.bin`, the layout `tf.io` uses on disk, saved and loaded through custom
 * `tf.io` IOHandlers, so no file system or HTTP handler of tfjs is involved.
 */
export class TfjsAdapter implements ModelAdapter<TfjsModel, tf.LayersModel | tf.GraphModel> {
  readonly specificationVersion = 'v1' as const;
  readonly library = 'tensorflowjs';

  /** Accepts a LayersModel or GraphModel (anything with `save` and `predict`), or `{ modelJson }` pointing at an existing file. */
  matches(model: unknown): boolean {
    if (isModelFiles(model)) return model.modelJson.endsWith('.json') && existsSync(model.modelJson);
    return isTfjsModel(model);
  }

  async save(model: TfjsModel): Promise<SavedModel> {
    const tfjsVersion = (await tfjs().catch(() => undefined))?.version.tfjs ?? null;
    if (isModelFiles(model)) return this.saveFiles(model, tfjsVersion);
    if (!isTfjsModel(model)) throw new InvalidArgumentError('TfjsAdapter saves a tf.LayersModel, a tf.GraphModel, or { modelJson: "path/to/model.json" }', { argument: 'model' });
    let captured: tf.io.ModelArtifacts | undefined;
    await model.save({
      save: async (artifacts: tf.io.ModelArtifacts) => {
        captured = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      },
    });
    if (!captured) throw new InvalidArgumentError('The model saved nothing through its IOHandler', { argument: 'model' });
    const { weightData, weightSpecs, ...rest } = captured;
    const modelJson: ModelJson = {
      ...rest,
      weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs ?? [] }],
    };
    const weights = toBuffer(weightData as ArrayBuffer | ArrayBuffer[] | undefined);
    return {
      files: [
        { path: 'model.json', source: Buffer.from(JSON.stringify(modelJson)) },
        { path: 'weights.bin', source: weights },
      ],
      type: classNameOf(model),
      parameters: { format: captured.format ?? null, weights: (weightSpecs ?? []).length, weight_bytes: weights.length },
      dependencies: { '@tensorflow/tfjs': tfjsVersion },
    };
  }

  private async saveFiles(model: TfjsModelFiles, tfjsVersion: string | null): Promise<SavedModel> {
    const json = JSON.parse(await readFile(model.modelJson, 'utf8')) as ModelJson;
    const directory = path.dirname(model.modelJson);
    const files: ArchiveEntry[] = [{ path: 'model.json', source: model.modelJson }];
    for (const group of json.weightsManifest ?? []) {
      for (const weightPath of group.paths) {
        if (path.isAbsolute(weightPath) || weightPath.split(/[\\/]/).includes('..')) throw new InvalidArgumentError(`model.json names a weight file outside its folder: ${weightPath}`, { argument: 'model' });
        files.push({ path: weightPath, source: path.join(directory, weightPath) });
      }
    }
    return {
      files,
      type: json.format === 'graph-model' ? 'GraphModel' : 'LayersModel',
      parameters: { format: json.format ?? null },
      dependencies: { '@tensorflow/tfjs': tfjsVersion },
    };
  }

  /** Rebuilds the model from `model.json` and its weight files: a LayersModel, or a GraphModel for `graph-model` files. */
  async load(directory: string, _metadata: ModelMetadata): Promise<tf.LayersModel | tf.GraphModel> {
    const tf = await tfjs();
    const json = JSON.parse(await readFile(path.join(directory, 'model.json'), 'utf8')) as ModelJson;
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Buffer[] = [];
    for (const group of json.weightsManifest ?? []) {
      weightSpecs.push(...group.weights);
      for (const weightPath of group.paths) buffers.push(await readFile(path.join(directory, weightPath)));
    }
    const weights = Buffer.concat(buffers);
    const { weightsManifest: _manifest, ...rest } = json;
    const artifacts = {
      ...rest,
      weightSpecs,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    } as tf.io.ModelArtifacts;
    const handler: tf.io.IOHandler = { load: async () => artifacts };
    return json.format === 'graph-model' ? tf.loadGraphModel(handler) : tf.loadLayersModel(handler);
  }
}
