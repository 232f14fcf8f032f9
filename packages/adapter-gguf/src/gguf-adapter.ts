import { InvalidArgumentError, InvalidOptionError, MissingDependencyError, type ModelAdapter, type ModelMetadata, ModelStoreError, type SavedModel } from '@modelstore/core';
import { importOptional, isFileWithExtension } from '@modelstore/core/internal';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Llama, LlamaModel, LlamaModelOptions, LlamaOptions } from 'node-llama-cpp';
import { ggufFacts } from './gguf-facts.js';
import { parseSplitName, resolveGgufParts } from './gguf-files.js';

/**
 * What {@link GgufAdapter} saves: a path to a `.gguf` file; a path to any part of a split
 * set (`<prefix>-00001-of-00003.gguf`: every part is stored, from the same folder); the
 * list of every part's path; or the bytes of one GGUF file (stored as `model.gguf`).
 */
export type GgufModel = string | readonly string[] | Uint8Array;

/** Options of {@link GgufAdapter}; they apply to `load` only. */
export interface GgufAdapterOptions {
  /**
   * Layers to offload to the GPU: a number of layers, `'max'` (all), or `'auto'`
   * (node-llama-cpp's default: as many as fit beside a context of `contextSize`).
   * Ignored (0) when the `Llama` instance has no GPU (`llamaOptions.gpu: false`).
   */
  gpuLayers?: number | 'auto' | 'max';
  /**
   * The context size (tokens) you will create contexts with, so that `gpuLayers: 'auto'`
   * leaves room for one on the GPU (node-llama-cpp's `gpuLayers.fitContext.contextSize`).
   * Must be a positive integer, at most the model's trained `context_length` when the
   * metadata records one. Create the context itself with `model.createContext({ contextSize })`.
   */
  contextSize?: number;
  /** A `Llama` instance to load with (from node-llama-cpp's `getLlama`); default: one made by the adapter with `llamaOptions`, shared by its loads. */
  llama?: Llama;
  /**
   * Options of `getLlama` when the adapter makes the instance. Defaults that never build
   * or download anything: `{ build: 'never', usePrebuiltBinaries: true, skipDownload: true,
   * progressLogs: false }` (node-llama-cpp's prebuilt binaries ship in its optional
   * `@node-llama-cpp/<platform>` packages); yours are applied over them (`gpu: false`
   * for CPU only).
   */
  llamaOptions?: LlamaOptions;
  /** More options of `llama.loadModel` (`useMmap`, `defaultContextFlashAttention`, ...); `modelPath` and `gpuLayers` are the adapter's. */
  modelOptions?: Omit<LlamaModelOptions, 'modelPath' | 'gpuLayers'>;
}

type NodeLlamaCpp = typeof import('node-llama-cpp');

function runtime(): Promise<NodeLlamaCpp> {
  return importOptional(() => import('node-llama-cpp'), 'node-llama-cpp', 'GgufAdapter.load');
}

const isGgufPath = (model: unknown): model is string => isFileWithExtension(model, '.gguf');

const magic = [0x47, 0x47, 0x55, 0x46]; // "GGUF"

/**
 * A GGUF model written big-endian (gguf-py's `--bigendian`, for s390x and other
 * big-endian machines): llama.cpp on a little-endian machine reads little-endian GGUF
 * only, and node-llama-cpp fails on such a file with a misleading message ("Unsupported
 * GGUF version 50331648"). `GgufAdapter.load` throws this before calling node-llama-cpp;
 * the model stays stored (its `model.parameters.byte_order` is `big`). A kind of
 * `InvalidArgumentError` (code `INVALID_ARGUMENT`, `argument` `'model'`).
 */
export class GgufByteOrderError extends InvalidArgumentError {
  constructor(
    /** The `.gguf` file that was about to be loaded. */
    readonly file: string,
  ) {
    super(
      `${path.basename(file)} is a big-endian GGUF file, and llama.cpp on this machine reads little-endian GGUF only: it was not loaded. Convert it to little-endian with gguf-py (pip install gguf; gguf-convert-endian ${path.basename(file)} little, which converts it in place), upload the converted file, and load that.`,
      { argument: 'model' },
    );
  }
}

/** The byte order of a GGUF file, from its magic and version (8 bytes); `undefined` when it is not GGUF or cannot be read. */
async function byteOrderOf(file: string): Promise<'little' | 'big' | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
    const bytes = Buffer.alloc(8);
    const { bytesRead } = await handle.read(bytes, 0, 8, 0);
    if (bytesRead < 8 || !magic.every((byte, i) => bytes[i] === byte)) return undefined;
    // The version is 1 to 3: read in the wrong order, it is 2^24 or more.
    return bytes.readUInt32LE(4) > 0xffff && bytes.readUInt32BE(4) <= 0xffff ? 'big' : 'little';
  } catch {
    return undefined; // node-llama-cpp reports what is wrong with the file
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * The version of `name` installed where the process runs (resolved from the current
 * directory, as the application's own imports are), or null when it is not installed.
 * Reads its package.json; never imports it (node-llama-cpp loads native code).
 */
function installedVersion(name: string): string | null {
  try {
    let directory = path.dirname(createRequire(path.join(process.cwd(), 'package.json')).resolve(name));
    for (;;) {
      const manifest = path.join(directory, 'package.json');
      if (existsSync(manifest)) {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
        if (parsed.name === name) return typeof parsed.version === 'string' ? parsed.version : null;
      }
      if (path.dirname(directory) === directory) return null;
      directory = path.dirname(directory);
    }
  } catch {
    return null;
  }
}

/**
 * Stores GGUF models (llama.cpp's format, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
 * one `.gguf` file or a split set, under its own names at the top of the archive, with
 * what the headers say in the metadata's `model.parameters` ({@link GgufFacts}:
 * architecture, parameter count, context length, file type, tokenizer, chat template...),
 * read from the headers only; and loads them as node-llama-cpp `LlamaModel`s.
 *
 * Library name `gguf` (Python modelstore has no manager of that name, so it lists,
 * downloads and keeps such models as they are); type: the architecture (`llama`, ...).
 * `node-llama-cpp` is an optional peer dependency: `save` (upload) works without it.
 */
export class GgufAdapter implements ModelAdapter<GgufModel, LlamaModel> {
  /** The `ModelAdapter` contract this adapter implements. */
  readonly specificationVersion = 'v1' as const;
  /** `model.model_type.library` of the models it stores: `gguf`. */
  readonly library = 'gguf';
  private readonly options: GgufAdapterOptions;
  private llama: Promise<Llama> | undefined;

  /**
   * @throws InvalidOptionError when `gpuLayers` is not a non-negative integer, `'auto'` or
   *   `'max'`, or `contextSize` is not a positive integer
   */
  constructor(options: GgufAdapterOptions = {}) {
    const { gpuLayers, contextSize } = options;
    if (gpuLayers !== undefined && gpuLayers !== 'auto' && gpuLayers !== 'max' && !(Number.isSafeInteger(gpuLayers) && gpuLayers >= 0)) {
      throw new InvalidOptionError('gpuLayers', `gpuLayers must be a number of layers (an integer, 0 or more), 'auto' or 'max'; got ${JSON.stringify(gpuLayers)}`);
    }
    if (contextSize !== undefined && !(Number.isSafeInteger(contextSize) && contextSize > 0)) {
      throw new InvalidOptionError('contextSize', `contextSize must be a number of tokens (a positive integer); got ${JSON.stringify(contextSize)}`);
    }
    this.options = options;
    if (options.llama) this.llama = Promise.resolve(options.llama);
  }

  /**
   * Accepts a path to an existing `.gguf` file, a non-empty list of such paths, or bytes
   * that start with the GGUF magic. Reads no more than a `stat` per path.
   */
  matches(model: unknown): boolean {
    if (model instanceof Uint8Array) return model.length >= 4 && magic.every((byte, i) => model[i] === byte);
    if (Array.isArray(model)) return model.length > 0 && model.every(isGgufPath);
    return isGgufPath(model);
  }

  /**
   * Lists the model's files (streamed from disk by `ModelStore`, never read whole here)
   * after reading and checking each header; records {@link GgufFacts} as `parameters`.
   *
   * @throws GgufHeaderError (an `InvalidArgumentError`) when a header is not GGUF, is
   *   truncated, declares counts or lengths its file cannot hold, or the parts of a split
   *   set disagree
   * @throws SourceFileError when a path (or a part of a split set) is missing, unreadable or not a file
   * @throws InvalidArgumentError when `model` is none of the accepted shapes, or a list mixes split sets
   */
  async save(model: GgufModel): Promise<SavedModel> {
    const parts = await resolveGgufParts(model);
    const facts = ggufFacts(
      parts.map((part) => part.header),
      parts.map((part) => part.name),
    );
    return {
      files: parts.map((part) => ({ path: part.name, source: part.source })),
      type: facts.architecture ?? 'gguf',
      parameters: { ...facts },
      dependencies: { 'node-llama-cpp': installedVersion('node-llama-cpp') },
    };
  }

  /**
   * Loads the model with node-llama-cpp: the first (or only) `.gguf` file of the folder;
   * llama.cpp finds the other parts of a split set beside it.
   *
   * @returns a `LlamaModel`; create contexts with `model.createContext({ contextSize })`, and
   *   call `model.dispose()` when done (the `Llama` instance stays shared by this adapter's loads)
   * @throws MissingDependencyError when node-llama-cpp is not installed, or has no prebuilt
   *   binary for this platform (the adapter never builds llama.cpp unless `llamaOptions.build` says so)
   * @throws InvalidOptionError when `contextSize` exceeds the model's recorded `context_length`
   * @throws InvalidArgumentError when the folder holds no `.gguf` file
   * @throws GgufByteOrderError (an `InvalidArgumentError`) when the file is big-endian GGUF, which llama.cpp on a little-endian machine cannot read
   * @throws ModelStoreError (code `MODELSTORE_ERROR`, node-llama-cpp's error as `cause`) when llama.cpp cannot load the model
   */
  async load(directory: string, metadata: ModelMetadata): Promise<LlamaModel> {
    const parameters = (metadata.model.parameters ?? {}) as Record<string, unknown>;
    const trained = parameters.context_length;
    if (this.options.contextSize !== undefined && typeof trained === 'number' && this.options.contextSize > trained) {
      throw new InvalidOptionError('contextSize', `contextSize ${this.options.contextSize} exceeds the ${trained} tokens the model was trained with (its context_length)`);
    }
    const modelPath = path.join(directory, firstGgufFile(directory, parameters.files));
    // The file itself decides: the metadata's byte_order is missing for a model stored by an older version or another tool.
    if ((await byteOrderOf(modelPath)) === 'big') throw new GgufByteOrderError(modelPath);
    const llama = await this.getLlama();
    const { gpuLayers, contextSize } = this.options;
    const layers: LlamaModelOptions['gpuLayers'] = contextSize !== undefined && (gpuLayers === undefined || gpuLayers === 'auto') ? { fitContext: { contextSize } } : gpuLayers;
    try {
      return await llama.loadModel({ ...this.options.modelOptions, modelPath, ...(layers === undefined ? {} : { gpuLayers: layers }) });
    } catch (error) {
      throw new ModelStoreError(`node-llama-cpp could not load ${JSON.stringify(path.basename(modelPath))}: ${(error as Error)?.message ?? String(error)}`, 'MODELSTORE_ERROR', { cause: error });
    }
  }

  private getLlama(): Promise<Llama> {
    if (!this.llama) {
      const attempt = (async () => {
        const { getLlama } = await runtime();
        try {
          return await getLlama({ build: 'never', usePrebuiltBinaries: true, skipDownload: true, progressLogs: false, ...this.options.llamaOptions });
        } catch (error) {
          throw new MissingDependencyError(
            'node-llama-cpp',
            `GgufAdapter.load: node-llama-cpp found no usable llama.cpp binary (${(error as Error)?.message ?? String(error)}); install node-llama-cpp with its optional @node-llama-cpp/<platform> package, or pass llamaOptions: { build: 'auto' } to let it build one`,
            { cause: error },
          );
        }
      })();
      this.llama = attempt;
      attempt.catch(() => {
        if (this.llama === attempt) this.llama = undefined;
      });
    }
    return this.llama;
  }
}

/** The `.gguf` file to hand to llama.cpp: the first of `files` recorded in the metadata, else the only file or the first split part in the folder. */
function firstGgufFile(directory: string, files: unknown): string {
  if (Array.isArray(files) && typeof files[0] === 'string') {
    const name = files[0];
    if (name === path.basename(name) && !name.includes('\\') && name.toLowerCase().endsWith('.gguf') && existsSync(path.join(directory, name))) return name;
  }
  let names: string[];
  try {
    names = readdirSync(directory).filter((name) => name.toLowerCase().endsWith('.gguf'));
  } catch (error) {
    throw new InvalidArgumentError(`GgufAdapter.load: cannot list ${JSON.stringify(directory)} (${(error as Error).message})`, { argument: 'directory', cause: error });
  }
  const first = names.find((name) => parseSplitName(name)?.index === 1) ?? (names.length === 1 ? names[0] : undefined);
  if (!first) throw new InvalidArgumentError(`GgufAdapter.load: the model's folder holds ${names.length === 0 ? 'no .gguf file' : `${names.length} .gguf files and no first split part`}`, { argument: 'directory' });
  return first;
}
