import { InvalidArgumentError, InvalidOptionError, LocalFileError, ModelStoreError, parseJson, type ModelAdapter, type ModelMetadata, type SavedModel } from '@modelstore/core';
import { importOptional } from '@modelstore/core/internal';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runInThisContext } from 'node:vm';
import {
  checkExternalDataFormat,
  checkOnnxFiles,
  inspectTransformersFolder,
  listExtractedFiles,
  readConfig,
  sessionFolder,
  taskFromArchitectures,
  transformersTasks,
  type TransformersFolderFacts,
  type TransformersOnnxVariant,
  type TransformersTask,
} from './hf-folder.js';

/**
 * What `TransformersAdapter` uploads: the path of a Hugging Face-layout model folder, or
 * `{ directory, task }` to record the pipeline task `load` creates by default (otherwise
 * it is inferred from `config.json`'s `architectures` where the name says it, e.g.
 * `BertForSequenceClassification` → `text-classification`, `BertModel` → `feature-extraction`).
 */
export type TransformersModel = string | { directory: string; task?: TransformersTask };

/**
 * A transformers.js dtype: which ONNX variant of each session is loaded
 * (`fp32` → `model.onnx`, `q8` → `model_quantized.onnx`, `fp16` → `model_fp16.onnx`, ...;
 * `DATA_TYPES` in transformers.js src/utils/dtypes.js).
 */
export type TransformersDtype = 'auto' | 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'bnb4' | 'q4f16' | 'q2' | 'q2f16' | 'q1' | 'q1f16';

/**
 * A transformers.js device (`DEVICE_TYPES` in src/utils/devices.js). In Node, `cpu` (the
 * default) always works; `cuda`, `dml`, `coreml`, `webgpu` need an onnxruntime-node built with them.
 */
export type TransformersDevice = 'auto' | 'gpu' | 'cpu' | 'wasm' | 'webgpu' | 'cuda' | 'dml' | 'coreml' | 'webnn' | 'webnn-npu' | 'webnn-gpu' | 'webnn-cpu';

/** How `TransformersAdapter.load` and {@link loadTransformersFolder} build the model. */
export interface TransformersLoadOptions {
  /**
   * The pipeline task. Default: the task recorded at upload (given, or inferred from
   * `config.json`). A model with neither fails `load` with `InvalidOptionError` (`task`).
   */
  task?: TransformersTask;
  /**
   * Which ONNX variant to load, one dtype for every session or one per session base name
   * (`{ encoder_model: 'fp32', decoder_model_merged: 'q4' }`). Default: `fp32` when the
   * folder has `model.onnx`-style files, else the dtype `config.json`'s
   * `transformers.js_config.dtype` names, else the first variant present in the order
   * fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4, q2, q2f16, q1, q1f16. A dtype (given as
   * one string) that no file of the folder stands for fails with `InvalidOptionError`
   * (`dtype`) listing the variants there are.
   */
  dtype?: TransformersDtype | Record<string, TransformersDtype>;
  /** Where the sessions run (default: transformers.js's choice, `cpu` in Node). */
  device?: TransformersDevice | Record<string, TransformersDevice>;
  /** onnxruntime `InferenceSession.SessionOptions`, passed through as transformers.js's `session_options`. */
  sessionOptions?: Record<string, unknown>;
  /**
   * `'pipeline'` (default): the transformers.js pipeline for `task`.
   * `'parts'`: `{ model, tokenizer, config, directory }` ({@link TransformersParts}) from
   * `AutoModel`, `AutoTokenizer` and `AutoConfig`, with no task needed.
   */
  output?: 'pipeline' | 'parts';
}

/** Options of {@link TransformersAdapter}: how `load` builds the model (see {@link TransformersLoadOptions}). */
export type TransformersAdapterOptions = TransformersLoadOptions;

/**
 * What `load` returns with `output: 'parts'`. The types are transformers.js's own
 * (`PreTrainedModel`, `PreTrainedTokenizer`, `PretrainedConfig`): pass them as type
 * arguments, e.g. `TransformersParts<PreTrainedModel, PreTrainedTokenizer>`.
 */
export interface TransformersParts<TModel = unknown, TTokenizer = unknown, TConfig = unknown> {
  /** `AutoModel.from_pretrained(directory)`: the model class of `config.json`'s `model_type`. */
  model: TModel;
  /** `AutoTokenizer.from_pretrained(directory)`, or `null` when the folder has no `tokenizer.json`. */
  tokenizer: TTokenizer | null;
  /** `AutoConfig.from_pretrained(directory)`. */
  config: TConfig;
  /** The folder the parts were loaded from (absolute). */
  directory: string;
}

/** The library name stored in `model.model_type.library`. Not Python modelstore's `transformers` (PyTorch `save_pretrained` output). */
export const transformersLibrary = 'transformers.js';

const dtypePreference = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4', 'q2', 'q2f16', 'q1', 'q1f16'];
const loadOptionNames = new Set(['task', 'dtype', 'device', 'sessionOptions', 'output']);

type Transformers = typeof import('@huggingface/transformers');

function runtime(neededBy: string): Promise<Transformers> {
  return importOptional(() => import('@huggingface/transformers'), '@huggingface/transformers', neededBy);
}

function checkLoadOptions(options: unknown, where: string): TransformersLoadOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(`${where}: options must be an object`, { argument: 'options' });
  const record = options as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!loadOptionNames.has(key)) throw new InvalidOptionError(key, `${where}: unknown option ${JSON.stringify(key)} (known: ${[...loadOptionNames].join(', ')})`);
  }
  if (record.task !== undefined && !(transformersTasks as readonly string[]).includes(record.task as string)) {
    throw new InvalidOptionError('task', `${where}: unknown task ${JSON.stringify(record.task)}; transformers.js knows ${transformersTasks.join(', ')}`);
  }
  if (record.output !== undefined && record.output !== 'pipeline' && record.output !== 'parts') throw new InvalidOptionError('output', `${where}: output is 'pipeline' or 'parts', not ${JSON.stringify(record.output)}`);
  for (const name of ['dtype', 'device'] as const) {
    const value = record[name];
    const valid = value === undefined || typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string'));
    if (!valid) throw new InvalidOptionError(name, `${where}: ${name} is a string, or an object of strings by session name`);
  }
  if (record.sessionOptions !== undefined && (typeof record.sessionOptions !== 'object' || record.sessionOptions === null))
    throw new InvalidOptionError('sessionOptions', `${where}: sessionOptions is an object (onnxruntime SessionOptions)`);
  return record as TransformersLoadOptions;
}

/** A model folder's `dtype` default: fp32 when there, else config's, else the first variant present. */
function defaultDtype(variants: readonly TransformersOnnxVariant[], configDtype: unknown): TransformersDtype | undefined {
  const present = new Set(variants.map((variant) => variant.dtype));
  if (present.has('fp32')) return 'fp32';
  if (configDtype !== undefined) return undefined; // transformers.js applies config.json's own choice
  return dtypePreference.find((dtype) => present.has(dtype)) as TransformersDtype | undefined;
}

function describeVariants(variants: readonly TransformersOnnxVariant[]): string {
  return variants.map((variant) => `${variant.dtype} (${variant.file}, ${variant.total_size} bytes)`).join(', ');
}

/**
 * transformers.js keeps process-wide settings in `env`. Loading a folder needs
 * `env.allowLocalModels` and `env.useFS` (both `true` by default in Node): when a caller
 * turned one off, it is switched on for the duration of the load(s) running and then set
 * back. Nothing else in `env` is read or written (`allowRemoteModels`, `localModelPath`,
 * `cacheDir`, `remoteHost` are left as they are): the folder is passed as an absolute
 * path, which transformers.js never treats as a Hub model id, with `local_files_only: true`.
 */
let localHolders = 0;
let restore: Array<() => void> = [];

async function withLocalFiles<T>(env: Transformers['env'], run: () => Promise<T>): Promise<T> {
  if (localHolders++ === 0) {
    restore = [];
    if (env.allowLocalModels !== true) {
      const before = env.allowLocalModels;
      env.allowLocalModels = true;
      restore.push(() => (env.allowLocalModels = before));
    }
    if (env.useFS !== true) {
      const before = env.useFS;
      env.useFS = true;
      restore.push(() => (env.useFS = before));
    }
  }
  try {
    return await run();
  } finally {
    if (--localHolders === 0) for (const undo of restore.splice(0)) undo();
  }
}

/**
 * transformers.js 4.3.1 starts promises it never handles while it builds a session: the
 * `.onnx` file's read is started before the external data is awaited, and each
 * external-data file is awaited inside a `new Promise(async ...)`. When one of those files
 * is missing (a session the model type needs but the folder lacks, a file removed while
 * loading), its rejection is unhandled: Node ends the process (exit 1), and the load's own
 * promise may never settle, so the caller's try/catch never sees it.
 *
 * While loads run, and for {@link rejectionGraceMs} after the last one ends (such
 * rejections can come after transformers.js has already failed the load), rejections
 * whose stack is transformers.js's or onnxruntime's are handled here: the promise is
 * marked handled and every load in flight fails with a `ModelStoreError` that has the
 * error as `cause`. Any other unhandled rejection keeps Node's default behaviour (it is
 * thrown again when no other listener is registered). The listener goes on the process
 * of Node's main realm, which is `process` itself except in sandboxes (jest's `process`
 * is a copy that Node never emits on).
 */
const rejectionGraceMs = 5_000;
const runningLoads = new Set<(error: unknown) => void>();
let lastLoadEnded = 0;
let guardTimer: ReturnType<typeof setTimeout> | undefined;
let guardedProcess: NodeJS.Process | undefined;

function fromRuntime(reason: unknown): boolean {
  const stack = typeof reason === 'object' && reason !== null ? String((reason as { stack?: unknown }).stack ?? '') : '';
  return (reason as { name?: unknown } | null)?.name === 'ModelFileNotFoundError' || /[\\/]@huggingface[\\/+]transformers|onnxruntime-(node|common|web)/.test(stack);
}

function onUnhandledRejection(reason: unknown, promise: Promise<unknown>): void {
  const ours = fromRuntime(reason) && (runningLoads.size > 0 || Date.now() - lastLoadEnded < rejectionGraceMs);
  if (!ours) {
    // Keep Node's default (an uncaught exception) when this listener is the only one.
    if (guardedProcess && guardedProcess.listenerCount('unhandledRejection') === 1)
      guardedProcess.nextTick(() => {
        throw reason;
      });
    return;
  }
  promise.catch(() => undefined); // handled now ('rejectionHandled' is emitted)
  for (const fail of runningLoads) fail(reason);
}

function mainProcess(): NodeJS.Process {
  try {
    return runInThisContext('process') as NodeJS.Process;
  } catch {
    return process;
  }
}

async function guardRejections<T>(run: () => Promise<T>): Promise<T> {
  if (guardTimer) clearTimeout(guardTimer);
  guardTimer = undefined;
  if (!guardedProcess) {
    guardedProcess = mainProcess();
    guardedProcess.on('unhandledRejection', onUnhandledRejection);
  }
  let fail!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => {
    fail = (error) => reject(error);
  });
  failed.catch(() => undefined);
  runningLoads.add(fail);
  const loading = run();
  loading.catch(() => undefined); // when `failed` wins, a later rejection of the load is expected
  try {
    return await Promise.race([loading, failed]);
  } finally {
    runningLoads.delete(fail);
    lastLoadEnded = Date.now();
    if (runningLoads.size === 0) {
      guardTimer = setTimeout(() => {
        if (runningLoads.size > 0 || !guardedProcess) return;
        guardedProcess.removeListener('unhandledRejection', onUnhandledRejection);
        guardedProcess = undefined;
        guardTimer = undefined;
      }, rejectionGraceMs);
      guardTimer.unref();
    }
  }
}

function configDtypeOf(config: unknown): unknown {
  const custom = (config as Record<string, unknown> | null)?.['transformers.js_config'];
  return typeof custom === 'object' && custom !== null ? (custom as Record<string, unknown>).dtype : undefined;
}

/**
 * Loads a Hugging Face-layout model folder with transformers.js, offline: the folder
 * `modelstore download` wrote, the one `ModelStore.load` extracted, or any such folder
 * on disk. `TransformersAdapter.load` is this function with the adapter's options and
 * the task recorded in the model's metadata.
 *
 * Before the runtime opens anything, the folder is checked as at upload: `config.json`
 * with a `model_type`, at least one `.onnx` file, and every ONNX external-data location
 * inside the folder (a tampered archive could otherwise make onnxruntime read any file
 * on this machine).
 *
 * No network, ever: the folder is passed to transformers.js as an absolute path (never
 * taken for a Hub model id) with `local_files_only: true`; a file missing from the folder
 * is an error, not a download. What is touched in transformers.js's process-wide `env`:
 * only `allowLocalModels` and `useFS`, and only when a caller had turned them off (they
 * are switched on while loads run, then set back).
 *
 * @param directory the model folder
 * @param options task, dtype, device, session options, output (see {@link TransformersLoadOptions})
 * @param recorded the facts recorded at upload (`model.parameters`), for the default task
 * @returns a transformers.js pipeline (`output: 'pipeline'`, the default) or {@link TransformersParts}
 * @throws MissingDependencyError when `@huggingface/transformers` is not installed
 * @throws InvalidOptionError for an unknown option, no task to run (`task`), or a `dtype` no file stands for
 * @throws InvalidArgumentError when the folder has no config.json (the message says so) or no `.onnx` file
 * @throws UnsafeArchiveError when an ONNX file names external data outside the folder
 * @throws IntegrityError when an ONNX file is not a readable protobuf or its external data is missing or short
 * @throws LocalFileError when the folder cannot be read
 * @throws ModelStoreError (code `MODELSTORE_ERROR`, the runtime's error as `cause`) when transformers.js or onnxruntime refuses the model
 */
export async function loadTransformersFolder<T = unknown>(directory: string, options: TransformersLoadOptions = {}, recorded?: Partial<TransformersFolderFacts>): Promise<T> {
  if (typeof directory !== 'string' || directory === '') throw new InvalidArgumentError('loadTransformersFolder: directory must be the path of a model folder', { argument: 'directory' });
  const checked = checkLoadOptions(options, 'loadTransformersFolder');
  const folder = path.resolve(directory);
  let files;
  try {
    files = await listExtractedFiles(folder);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new LocalFileError(`Cannot read the model folder ${folder} (${code ?? (error as Error).message})`, folder, { cause: error, ...(code ? { errno: code } : {}) });
  }
  const { modelType, architectures, externalDataFormat } = await readConfig(
    folder,
    files.find((file) => file.relative === 'config.json'),
    'load',
  );
  const { variants } = await checkOnnxFiles(folder, files, 'load');
  if (variants.length === 0) throw new InvalidArgumentError(`${folder} holds no .onnx file: transformers.js runs ONNX models (onnx/model.onnx or a variant of it)`, { argument: 'directory' });
  // transformers.js fails on a missing external-data file with a rejection no caller can catch: check first.
  checkExternalDataFormat(folder, files, variants, externalDataFormat, 'load');

  const output = checked.output ?? 'pipeline';
  const task = checked.task ?? (recorded?.task as TransformersTask | null | undefined) ?? taskFromArchitectures(architectures, modelType);
  if (output === 'pipeline' && !task) {
    throw new InvalidOptionError(
      'task',
      `The model in ${folder} records no pipeline task and config.json's architectures (${architectures.join(', ') || 'none'}) do not name one: pass { task } (e.g. new TransformersAdapter({ task: 'feature-extraction' })), or { output: 'parts' } for the model and tokenizer`,
    );
  }
  const transformers = await runtime('TransformersAdapter');
  let dtype = checked.dtype;
  if (typeof dtype === 'string' && dtype !== 'auto' && !variants.some((variant) => variant.dtype === dtype)) {
    throw new InvalidOptionError('dtype', `No ONNX file of ${folder} is the ${dtype} variant; the folder has ${describeVariants(variants)}`);
  }
  if (typeof dtype === 'object' && dtype !== null) {
    // One dtype per session: a session the folder has files of must have the file of that dtype.
    for (const [session, wanted] of Object.entries(dtype)) {
      const ofSession = variants.filter((variant) => variant.model === session);
      if (wanted !== 'auto' && ofSession.length > 0 && !ofSession.some((variant) => variant.dtype === wanted)) {
        throw new InvalidOptionError('dtype', `No ONNX file of ${folder} is the ${wanted} variant of session ${JSON.stringify(session)}; it has ${describeVariants(ofSession)}`);
      }
    }
  }
  if (dtype === undefined) {
    const config = parseJson(await readFile(path.join(folder, 'config.json'), 'utf8'));
    dtype = defaultDtype(variants, configDtypeOf(config));
  }
  // transformers.js reads sessions from `onnx/` unless told otherwise; a folder with its .onnx files at the top reads them there.
  const subfolder = sessionFolder(variants);
  const pretrained = {
    local_files_only: true,
    subfolder,
    ...(dtype === undefined ? {} : { dtype }),
    ...(checked.device === undefined ? {} : { device: checked.device }),
    ...(checked.sessionOptions === undefined ? {} : { session_options: checked.sessionOptions }),
  };
  try {
    return await guardRejections(() =>
      withLocalFiles(transformers.env, async () => {
        if (output === 'parts') {
          const config = await transformers.AutoConfig.from_pretrained(folder, { local_files_only: true });
          const tokenizer = files.some((file) => file.relative === 'tokenizer.json') ? await transformers.AutoTokenizer.from_pretrained(folder, { local_files_only: true }) : null;
          const model = await transformers.AutoModel.from_pretrained(folder, { ...(pretrained as object), config } as Parameters<typeof transformers.AutoModel.from_pretrained>[1]);
          return { model, tokenizer, config, directory: folder } as T;
        }
        return (await transformers.pipeline(task as Parameters<typeof transformers.pipeline>[0], folder, pretrained as Parameters<typeof transformers.pipeline>[2])) as T;
      }),
    );
  } catch (error) {
    if (ModelStoreError.isInstance(error)) throw error;
    const what = output === 'parts' ? 'its model and tokenizer' : `a ${task} pipeline`;
    throw new ModelStoreError(
      `transformers.js could not load ${folder} as ${what} (model_type ${JSON.stringify(modelType)}${dtype === undefined ? '' : `, dtype ${JSON.stringify(dtype)}`}): ${(error as Error)?.message ?? String(error)}`,
      'MODELSTORE_ERROR',
      { cause: error },
    );
  }
}

function isFolderWithConfig(candidate: string): boolean {
  try {
    if (!statSync(candidate).isDirectory() || !existsSync(path.join(candidate, 'config.json'))) return false;
    const onnx = path.join(candidate, 'onnx');
    const names = existsSync(onnx) && statSync(onnx).isDirectory() ? readdirSync(onnx) : readdirSync(candidate);
    return names.some((name) => name.toLowerCase().endsWith('.onnx'));
  } catch {
    return false;
  }
}

/**
 * Stores Hugging Face-layout model folders — `config.json`, tokenizer files,
 * `onnx/*.onnx` (external-data files and quantised variants included),
 * `generation_config.json`, ... — kept as that layout in the archive (library
 * `transformers.js`), and loads them as transformers.js pipelines, offline.
 *
 * Upload records, as the model's `model.parameters` ({@link TransformersFolderFacts}):
 * `model_type`, `architectures`, the task, every ONNX variant with its dtype, size and
 * external-data files, the tokenizer files, and the folder's file count and size. The
 * folder is checked first ({@link inspectTransformersFolder}): a folder without
 * `config.json`, without an `.onnx` file, or whose ONNX external data points outside it
 * is refused and nothing is written.
 *
 * `load` returns `pipeline(task, folder)` (or the model and tokenizer with
 * `output: 'parts'`) created from the extracted folder with no network access (see
 * {@link loadTransformersFolder}). The folder `modelstore download` writes loads the same
 * way, or with transformers.js alone: `env.localModelPath = <its parent>`,
 * `env.allowRemoteModels = false`, `pipeline(task, <its name>)`.
 *
 * Python modelstore lists, downloads and deletes these models; it has no manager for
 * library `transformers.js` so it cannot `load` them (its `transformers` manager expects
 * PyTorch `save_pretrained` output).
 */
export class TransformersAdapter implements ModelAdapter<TransformersModel, unknown> {
  /** The adapter contract this implements (`v1`, checked by `ModelStore`). */
  readonly specificationVersion = 'v1' as const;
  /** `model.model_type.library` of the models it stores and loads: `transformers.js`. */
  readonly library = transformersLibrary;
  private readonly options: TransformersLoadOptions;

  /**
   * @param options how `load` builds the model (task, dtype, device, session options, output)
   * @throws InvalidOptionError for an unknown option or a value of the wrong kind
   */
  constructor(options: TransformersAdapterOptions = {}) {
    this.options = checkLoadOptions(options, 'new TransformersAdapter');
  }

  /**
   * Accepts `{ directory }` (whatever the folder holds: `save` says what is wrong with it),
   * or the path of a folder that has `config.json` and `.onnx` files in `onnx/` (or at its
   * top). A few `stat`/`readdir` calls, no file is read.
   */
  matches(model: unknown): boolean {
    if (typeof model === 'object' && model !== null && !Array.isArray(model)) return typeof (model as { directory?: unknown }).directory === 'string';
    return typeof model === 'string' && isFolderWithConfig(model);
  }

  /**
   * Checks the folder and lists its files (see {@link inspectTransformersFolder}); the
   * weights are streamed into the archive by `ModelStore`, never read here.
   *
   * @returns the folder's entries, `type` = `config.json`'s first architecture (else its
   *   `model_type`), `parameters` = {@link TransformersFolderFacts}, and the installed
   *   `@huggingface/transformers` version (or `null`) in `dependencies`
   * @throws InvalidArgumentError for a model that is not a folder path or `{ directory }`,
   *   an unknown `task`, a folder without `config.json` (the message says what is missing),
   *   without `model_type`, or without an `.onnx` file
   * @throws SourceFileError (`link-outside`) when an ONNX file names external data outside
   *   the folder or at an absolute path; (`dangling-link`) when it names a file the folder
   *   lacks; other reasons for files that cannot be read
   * @throws IntegrityError when external data runs past the end of its file
   */
  async save(model: TransformersModel): Promise<SavedModel> {
    const directory = typeof model === 'string' ? model : typeof model === 'object' && model !== null ? (model as { directory?: unknown }).directory : undefined;
    if (typeof directory !== 'string' || directory === '') {
      throw new InvalidArgumentError('TransformersAdapter saves the path of a Hugging Face-layout model folder, or { directory, task? }', { argument: 'model' });
    }
    const task = typeof model === 'object' ? model.task : undefined;
    const folder = await inspectTransformersFolder(directory, task);
    const transformers = await runtime('TransformersAdapter').catch(() => undefined);
    return {
      files: folder.entries,
      type: folder.facts.architectures[0] ?? folder.facts.model_type,
      parameters: folder.facts as unknown as Record<string, unknown>,
      dependencies: { '@huggingface/transformers': transformers?.env.version ?? null },
    };
  }

  /**
   * Builds the pipeline (or the parts) from the extracted folder, offline: see
   * {@link loadTransformersFolder} for the checks, defaults and errors. The task defaults
   * to the adapter's `task` option, then the one recorded at upload.
   */
  async load(directory: string, metadata: ModelMetadata): Promise<unknown> {
    const recorded = metadata?.model?.parameters as Partial<TransformersFolderFacts> | undefined;
    return loadTransformersFolder(directory, this.options, recorded);
  }
}
