import { folderEntries, IntegrityError, InvalidArgumentError, parseJson, SourceFileError, sourceFileError, UnsafeArchiveError, type ArchiveEntry, type FolderEntry } from '@modelstore/core';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { OnnxFormatError, readOnnxExternalData, resolveOnnxLocation, type OnnxExternalTensor } from '@modelstore/adapter-onnx';

/**
 * The pipeline tasks of transformers.js 4.x (`SUPPORTED_TASKS` and `TASK_ALIASES` in
 * https://github.com/huggingface/transformers.js/blob/main/src/pipelines/index.js).
 */
export const transformersTasks = [
  'text-classification',
  'token-classification',
  'question-answering',
  'fill-mask',
  'summarization',
  'translation',
  'text2text-generation',
  'text-generation',
  'zero-shot-classification',
  'audio-classification',
  'zero-shot-audio-classification',
  'automatic-speech-recognition',
  'text-to-audio',
  'image-to-text',
  'image-classification',
  'image-segmentation',
  'background-removal',
  'zero-shot-image-classification',
  'object-detection',
  'zero-shot-object-detection',
  'document-question-answering',
  'image-to-image',
  'depth-estimation',
  'feature-extraction',
  'image-feature-extraction',
  // Aliases transformers.js accepts for the tasks above.
  'sentiment-analysis',
  'ner',
  'asr',
  'text-to-speech',
  'embeddings',
] as const;

/** A pipeline task transformers.js knows, e.g. `feature-extraction` (see {@link transformersTasks}). */
export type TransformersTask = (typeof transformersTasks)[number];

/**
 * The file-name suffix of each ONNX variant, as transformers.js names them
 * (`DEFAULT_DTYPE_SUFFIX_MAPPING` in src/utils/dtypes.js): `model.onnx` is fp32,
 * `model_quantized.onnx` q8, `model_fp16.onnx` fp16, ... Longest suffixes first.
 */
const dtypeSuffixes: Array<[string, string]> = [
  ['_quantized', 'q8'],
  ['_q4f16', 'q4f16'],
  ['_q2f16', 'q2f16'],
  ['_q1f16', 'q1f16'],
  ['_uint8', 'uint8'],
  ['_int8', 'int8'],
  ['_fp16', 'fp16'],
  ['_bnb4', 'bnb4'],
  ['_q4', 'q4'],
  ['_q2', 'q2'],
  ['_q1', 'q1'],
];

/** One file an ONNX model keeps its weights in (ONNX external data), as recorded in the metadata. */
export interface TransformersExternalDataFile {
  /** Path inside the model folder, `/`-separated, e.g. `onnx/model.onnx_data`. */
  file: string;
  /** Size in bytes. */
  size: number;
}

/** One ONNX file of the folder, as recorded in the metadata (`model.parameters.onnx`). */
export interface TransformersOnnxVariant {
  /** Path inside the model folder, `/`-separated, e.g. `onnx/model_quantized.onnx`. */
  file: string;
  /** The session's base name without the dtype suffix: `model`, `encoder_model`, `decoder_model_merged`, ... */
  model: string;
  /** The transformers.js dtype the file name stands for: `fp32` (no suffix), `q8` (`_quantized`), `fp16`, `int8`, `uint8`, `q4`, `q4f16`, `bnb4`, ... */
  dtype: string;
  /** Size of the `.onnx` file in bytes. */
  size: number;
  /** The files its tensors' data lives in (ONNX external data), each once, in the order first named. */
  external_data: TransformersExternalDataFile[];
  /** `size` plus the sizes of `external_data`, in bytes: what loading this variant reads. */
  total_size: number;
}

/**
 * The facts recorded about a Hugging Face-layout folder, stored as the model's
 * `model.parameters` (snake_case, as stored). Python modelstore 0.0.82 keeps
 * `model.parameters` as it is and returns it from `get_model_info`.
 */
export interface TransformersFolderFacts {
  /** `config.json`'s `model_type`, e.g. `bert`. */
  model_type: string;
  /** `config.json`'s `architectures` (e.g. `["BertModel"]`); `[]` when it has none. */
  architectures: string[];
  /** The pipeline task `load` uses by default: given at upload, else inferred from `architectures`; `null` when unknown. */
  task: string | null;
  /** Where `task` came from: `given` (the upload named it), `architectures` (inferred from config.json), or `null`. */
  task_source: 'given' | 'architectures' | null;
  /** Every `.onnx` file in the folder (any depth; transformers.js reads `onnx/`), sorted by path. */
  onnx: TransformersOnnxVariant[];
  /** The tokenizer files present at the top of the folder (`tokenizer.json`, `tokenizer_config.json`, `vocab.txt`, ...). */
  tokenizer_files: string[];
  /** How many files the folder holds (what the archive stores, `model-info.json` aside). */
  files: number;
  /** Their total size in bytes. */
  size: number;
}

/** What {@link inspectTransformersFolder} found: the facts, and the archive entries that keep the folder's layout. */
export interface TransformersFolder {
  /** The folder, as given. */
  directory: string;
  /** What `upload` stores as `model.parameters`. */
  facts: TransformersFolderFacts;
  /** Every file and folder, relative to `directory` (sorted), ready for `SavedModel.files`. */
  entries: ArchiveEntry[];
  /** Bytes of `.onnx` files read to find their external data (weights are skipped), summed. */
  onnxBytesRead: number;
}

const tokenizerFiles = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json', 'vocab.txt', 'vocab.json', 'merges.txt', 'tokenizer.model', 'spiece.model', 'sentencepiece.bpe.model'];
/** Top-level folders that are not part of the model: a git clone's and the Hugging Face CLI's bookkeeping. */
const skippedTopLevel = new Set(['.git', '.cache']);
/** config.json is small (kilobytes); a larger one is refused rather than read into memory. */
const maxConfigBytes = 16 * 1024 * 1024;

/**
 * The task a transformers.js pipeline runs for a model of this architecture, when the
 * class name says it (the conventions of Hugging Face transformers' model classes):
 * `...ForSequenceClassification` → `text-classification`, `...ForTokenClassification` →
 * `token-classification`, `...ForQuestionAnswering` → `question-answering`,
 * `...ForMaskedLM` → `fill-mask`, `...ForCausalLM`/`...LMHeadModel` → `text-generation`,
 * `...ForImageClassification`, `...ForAudioClassification`, `...ForObjectDetection`,
 * `...ForDepthEstimation`, Whisper → `automatic-speech-recognition`, T5/BART-like
 * `...ForConditionalGeneration` → `text2text-generation`, and the bare encoders
 * (`BertModel`, `RobertaModel`, `MPNetModel`, ...) → `feature-extraction`.
 *
 * @param architectures `config.json`'s `architectures`, e.g. `["BertModel"]`; the first that names a task wins
 * @param modelType `config.json`'s `model_type`, e.g. `bert` (tells Whisper and T5-like models apart)
 * @returns the task, or `null` when no name says it (then pass the task yourself)
 */
export function taskFromArchitectures(architectures: readonly string[], modelType: string): TransformersTask | null {
  const encoderDecoderText = new Set(['t5', 'mt5', 'longt5', 'bart', 'mbart', 'marian', 'm2m_100', 'pegasus', 'blenderbot', 'blenderbot-small', 'flan-t5']);
  for (const name of architectures) {
    if (/ForSequenceClassification$/.test(name)) return 'text-classification';
    if (/ForTokenClassification$/.test(name)) return 'token-classification';
    if (/ForQuestionAnswering$/.test(name)) return 'question-answering';
    if (/ForMaskedLM$/.test(name)) return 'fill-mask';
    if (/(ForCausalLM|LMHeadModel)$/.test(name)) return 'text-generation';
    if (/ForImageClassification$/.test(name)) return 'image-classification';
    if (/ForAudioClassification$/.test(name)) return 'audio-classification';
    if (/ForObjectDetection$/.test(name)) return 'object-detection';
    if (/ForDepthEstimation$/.test(name)) return 'depth-estimation';
    if (/ForSpeechSeq2Seq$/.test(name) || (modelType === 'whisper' && /ForConditionalGeneration$/.test(name))) return 'automatic-speech-recognition';
    if (/ForConditionalGeneration$/.test(name) && encoderDecoderText.has(modelType)) return 'text2text-generation';
    if (/^(Bert|DistilBert|Roberta|XLMRoberta|MPNet|Albert|Electra|DebertaV2|Deberta|NomicBert|ModernBert|Camembert|E5|BGE|Gte|Jina\w*)Model$/.test(name)) return 'feature-extraction';
  }
  return null;
}

export interface WalkedFile {
  /** Path inside the folder, `/`-separated. */
  relative: string;
  /** What to read: the file itself, or where its link leads. */
  source: string;
  size: number;
}

/** The session base name and dtype a `.onnx` file name stands for. */
function variantOf(fileName: string): { model: string; dtype: string } {
  const stem = fileName.slice(0, -'.onnx'.length);
  for (const [suffix, dtype] of dtypeSuffixes) if (stem.endsWith(suffix) && stem.length > suffix.length) return { model: stem.slice(0, -suffix.length), dtype };
  return { model: stem, dtype: 'fp32' };
}

/** How a hostile or broken ONNX file is reported: at upload (`SourceFileError`/`InvalidArgumentError`) or after a download (`IntegrityError`). */
export type FolderCheckStage = 'upload' | 'load';

/**
 * Checks the external data of every `.onnx` file and builds the variants' facts.
 * @throws (upload) SourceFileError `link-outside` for a location outside the folder (or absolute),
 *   `dangling-link` for a location that names no file of the folder; IntegrityError for a range
 *   past the end of its file; InvalidArgumentError for a file that is not an ONNX protobuf.
 *   (load) UnsafeArchiveError for a location outside the folder; IntegrityError otherwise.
 */
export async function checkOnnxFiles(directory: string, files: ReadonlyArray<{ relative: string; source: string; size: number }>, stage: FolderCheckStage): Promise<{ variants: TransformersOnnxVariant[]; bytesRead: number }> {
  const byPath = new Map(files.map((file) => [file.relative, file]));
  const variants: TransformersOnnxVariant[] = [];
  let bytesRead = 0;
  for (const file of files) {
    if (!file.relative.toLowerCase().endsWith('.onnx')) continue;
    let tensors: OnnxExternalTensor[];
    try {
      const scan = await readOnnxExternalData(file.source);
      tensors = scan.tensors;
      bytesRead += scan.bytesRead;
    } catch (error) {
      if (error instanceof OnnxFormatError) {
        const message = `${file.relative} in ${directory} is not a readable ONNX model: ${error.message}`;
        if (stage === 'load') throw new IntegrityError(`${message}. It was not loaded.`, { cause: error });
        throw new InvalidArgumentError(`${message}. Nothing was uploaded: re-export it (e.g. optimum-cli export onnx) or remove it from the folder.`, { argument: 'model', cause: error });
      }
      throw sourceFileError(file.source, error);
    }
    const external: TransformersExternalDataFile[] = [];
    for (const item of tensors) {
      const resolved = resolveOnnxLocation(file.relative, item.location);
      const what = `${file.relative} keeps tensor ${JSON.stringify(item.tensor)} as external data at ${JSON.stringify(item.location)}`;
      if ('refused' in resolved) {
        if (stage === 'load') {
          const error = new UnsafeArchiveError(file.relative, `${what}, ${resolved.refused}`);
          // The class's own message speaks of extracting; here the files are on disk already and nothing was opened.
          error.message = `Refusing to load ${directory}: ${what}, ${resolved.refused}. onnxruntime would read a file outside the model folder; nothing was loaded.`;
          throw error;
        }
        throw new SourceFileError(
          path.join(directory, file.relative),
          'link-outside',
          `Cannot store ${file.relative} in the model: it ${what.slice(file.relative.length + 1)}, ${resolved.refused} (ONNX external data must be a relative path inside the model's folder). Nothing was uploaded: re-save the model with its external data beside it (onnx.save_model(..., save_as_external_data=True, location="model.onnx_data")).`,
        );
      }
      const target = byPath.get(resolved.inside);
      if (!target) {
        const message = `${what}, but the folder holds no file ${resolved.inside}`;
        if (stage === 'load') throw new IntegrityError(`${message}. It was not loaded.`);
        throw new SourceFileError(path.join(directory, file.relative), 'dangling-link', `Cannot store ${file.relative} in the model: ${message}. Nothing was uploaded: put the data file beside the model, or re-save it.`);
      }
      if (item.offset === undefined || item.length === undefined || item.offset + (item.length ?? 0) > target.size) {
        const range = item.offset === undefined || item.length === undefined ? 'a malformed offset or length' : `bytes ${item.offset} to ${item.offset + (item.length ?? 0)}, past the end of its ${target.size} bytes`;
        throw new IntegrityError(`${what} (${resolved.inside}), ${range}: the data file is truncated or does not belong to this model. ${stage === 'load' ? 'It was not loaded.' : 'Nothing was uploaded.'}`);
      }
      if (!external.some((entry) => entry.file === resolved.inside)) external.push({ file: resolved.inside, size: target.size });
    }
    const { model, dtype } = variantOf(path.posix.basename(file.relative));
    variants.push({ file: file.relative, model, dtype, size: file.size, external_data: external, total_size: file.size + external.reduce((sum, entry) => sum + entry.size, 0) });
  }
  variants.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { variants, bytesRead };
}

export async function readConfig(directory: string, file: WalkedFile | undefined, stage: FolderCheckStage): Promise<{ modelType: string; architectures: string[]; externalDataFormat: unknown }> {
  const nothing = stage === 'upload' ? 'Nothing was uploaded' : 'It was not loaded';
  if (!file) {
    throw new InvalidArgumentError(
      `${directory} has no config.json: a Hugging Face-layout model folder needs config.json at its top (with "model_type", e.g. "bert"), beside the tokenizer files and onnx/model.onnx. ${nothing}: add the config.json that came with the model (or upload the folder with RawAdapter).`,
      { argument: 'model' },
    );
  }
  if (file.size > maxConfigBytes) throw new InvalidArgumentError(`${directory}/config.json is ${file.size} bytes: a model config is a few kilobytes, this is not one. ${nothing}.`, { argument: 'model' });
  let text: string;
  const handle = await open(file.source, 'r').catch((error: unknown) => Promise.reject(sourceFileError(file.source, error)));
  try {
    text = (await handle.readFile()).toString('utf8');
  } catch (error) {
    throw sourceFileError(file.source, error);
  } finally {
    await handle.close();
  }
  let config: unknown;
  try {
    config = parseJson(text);
  } catch (error) {
    throw new InvalidArgumentError(`${directory}/config.json is not valid JSON (${(error as Error).message}). ${nothing}.`, { argument: 'model', cause: error });
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new InvalidArgumentError(`${directory}/config.json is not a JSON object. ${nothing}.`, { argument: 'model' });
  const { model_type: modelType, architectures } = config as Record<string, unknown>;
  if (typeof modelType !== 'string' || modelType === '')
    throw new InvalidArgumentError(`${directory}/config.json has no "model_type" (a string such as "bert"): transformers.js picks the model class by it. ${nothing}.`, { argument: 'model' });
  const custom = (config as Record<string, unknown>)['transformers.js_config'];
  const externalDataFormat = typeof custom === 'object' && custom !== null && !Array.isArray(custom) ? (custom as Record<string, unknown>).use_external_data_format : undefined;
  return { modelType, architectures: Array.isArray(architectures) ? architectures.filter((name): name is string => typeof name === 'string') : [], externalDataFormat };
}

/**
 * The folder transformers.js reads the sessions' `.onnx` files from, as `loadTransformersFolder`
 * passes it (`subfolder`): `onnx` when the folder has `onnx/*.onnx`, `''` when every `.onnx`
 * file is at its top, else the folder of the first one.
 */
export function sessionFolder(variants: readonly TransformersOnnxVariant[]): string {
  if (variants.some((variant) => variant.file.startsWith('onnx/'))) return 'onnx';
  if (variants.every((variant) => !variant.file.includes('/'))) return '';
  return path.posix.dirname(variants[0]!.file);
}

/**
 * The most external-data chunks transformers.js reads for one `.onnx` file
 * (`MAX_EXTERNAL_DATA_CHUNKS` in src/utils/hub/constants.js); more is an error there.
 */
export const maxExternalDataChunks = 100;

/**
 * How many external-data files transformers.js loads beside `<model><suffix>.onnx`, from
 * `config.json`'s `transformers.js_config.use_external_data_format`
 * (`resolveExternalDataFormat` in transformers.js src/utils/model-loader.js): an object is
 * looked up by the full file name, then by the session's base name (else 0); `true` is 1,
 * `false`/absent 0, a number that many.
 */
export function externalDataChunkCount(config: unknown, fullName: string, model: string): number {
  if (!config) return 0;
  let value: unknown = config;
  if (typeof config === 'object') {
    const record = config as Record<string, unknown>;
    if (Object.hasOwn(record, fullName)) value = record[fullName];
    else if (Object.hasOwn(record, model)) value = record[model];
    else return 0;
  }
  const count = Number(value);
  // transformers.js loops `i < count`: 1.5 chunks are 2 files.
  return count > 0 ? Math.ceil(count) : 0;
}

/**
 * The files transformers.js looks for beside `<name>.onnx` when it expects `count` chunks of
 * external data (`getExternalDataChunkNames`): `<name>.onnx_data`, `<name>.onnx_data_1`, ...
 */
export function externalDataChunkNames(fullName: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${fullName}_data${i === 0 ? '' : `_${i}`}`);
}

/**
 * Checks that every external-data file transformers.js will look for exists: with
 * `use_external_data_format` in `config.json`'s `transformers.js_config`, transformers.js
 * loads `<model>.onnx_data` (and `_1`, `_2`, ... for more chunks) beside each `.onnx` file
 * of its session folder, whatever the ONNX file itself names, and a missing one makes it
 * fail with a rejection nobody can catch (transformers.js 4.3.1 awaits it inside a
 * `new Promise(async ...)`), which kills the process.
 *
 * @throws (upload) SourceFileError `missing` naming the first file the folder lacks;
 *   InvalidArgumentError for more than 100 chunks. (load) IntegrityError for either.
 */
export function checkExternalDataFormat(directory: string, files: ReadonlyArray<{ relative: string }>, variants: readonly TransformersOnnxVariant[], externalDataFormat: unknown, stage: FolderCheckStage): void {
  if (!externalDataFormat) return;
  const present = new Set(files.map((file) => file.relative));
  const folder = sessionFolder(variants);
  const setting = `config.json's "transformers.js_config" sets use_external_data_format ${JSON.stringify(externalDataFormat)}`;
  for (const variant of variants) {
    if (path.posix.dirname(variant.file) !== (folder === '' ? '.' : folder)) continue;
    const fullName = path.posix.basename(variant.file);
    const count = externalDataChunkCount(externalDataFormat, fullName, variant.model);
    if (count === 0) continue;
    if (count > maxExternalDataChunks) {
      const message = `${directory}: ${setting}, so transformers.js would load ${count} external-data files for ${variant.file}; it reads at most ${maxExternalDataChunks}`;
      if (stage === 'load') throw new IntegrityError(`${message}. It was not loaded.`);
      throw new InvalidArgumentError(`${message}. Nothing was uploaded: fix use_external_data_format in config.json.`, { argument: 'model' });
    }
    const expected = externalDataChunkNames(fullName, count).map((name) => (folder === '' ? name : `${folder}/${name}`));
    const missing = expected.filter((name) => !present.has(name));
    if (missing.length === 0) continue;
    const named = variant.external_data.map((entry) => entry.file).filter((file) => !expected.includes(file));
    const own = named.length ? ` (the ONNX file itself names its external data ${named.join(', ')}, which transformers.js does not read)` : '';
    const message = `${directory}: ${setting}, so transformers.js loads ${variant.file} with its weights in ${expected.join(', ')}, and the folder has no ${missing.join(', ')}${own}`;
    if (stage === 'load') {
      throw new IntegrityError(`${message}. It was not loaded: transformers.js would fail on the missing file. The model folder is incomplete: upload it again with ${missing.join(', ')}.`);
    }
    throw new SourceFileError(
      path.join(directory, missing[0]!),
      'missing',
      `Cannot store ${directory}: ${message.slice(directory.length + 2)}. Nothing was uploaded: put ${missing.join(', ')} beside ${variant.file} (onnx.save_model(model, "${fullName}", save_as_external_data=True, location="${fullName}_data") writes it), or remove ${JSON.stringify(fullName)} from use_external_data_format if the model keeps its weights elsewhere.`,
    );
  }
}

/**
 * Reads a Hugging Face-layout model folder (the layout of a Hub repository that
 * transformers.js loads: `config.json`, tokenizer files, `onnx/<model><suffix>.onnx` and
 * their external-data files, `generation_config.json`, ...) without reading any weights:
 * `config.json`, the folder's listing, and the structure of every `.onnx` file.
 *
 * Checks, so that a folder that would not load, or that would make a runtime read files
 * outside it, is refused before anything is uploaded:
 * - `config.json` at the top, a JSON object with a string `model_type`;
 * - at least one `.onnx` file;
 * - every ONNX external-data `location` a relative path that stays inside the folder and
 *   names one of its files, with its `offset`/`length` inside that file;
 * - with `use_external_data_format` in `config.json`'s `transformers.js_config`, the files
 *   transformers.js derives from it beside each `.onnx` file (`<name>.onnx_data`,
 *   `<name>.onnx_data_1`, ...; as transformers.js derives them from `config.json`).
 *
 * Files: every file and folder is kept at its path (top-level `.git/` and `.cache/` are
 * left out). Links to files are followed wherever they lead (a Hugging Face cache
 * snapshot is a folder of links into `blobs/`) and stored as the file; links to folders
 * only inside the folder.
 *
 * @param directory the model folder
 * @param task the pipeline task to record; default: inferred from `config.json`'s `architectures`, else `null`
 * @returns the facts (stored as `model.parameters`), the archive entries and the bytes of ONNX read
 * @throws InvalidArgumentError (`argument: 'model'`) for a path that is not a folder, a missing
 *   or unreadable `config.json` (the message names what is missing), no `.onnx` file, an `.onnx`
 *   file that is not an ONNX protobuf, or an unknown `task`
 * @throws SourceFileError `link-outside` for an external-data location outside the folder or
 *   absolute, `dangling-link` for one that names no file of the folder or a dangling link,
 *   `missing` for an external-data file config.json's `use_external_data_format` makes
 *   transformers.js look for and the folder lacks,
 *   `missing`/`unreadable`/`special`/`link-cycle` for files that cannot be stored
 * @throws IntegrityError for external data whose offset and length run past its file
 */
export async function inspectTransformersFolder(directory: string, task?: string): Promise<TransformersFolder> {
  if (task !== undefined && !(transformersTasks as readonly string[]).includes(task)) {
    throw new InvalidArgumentError(`Unknown transformers.js task ${JSON.stringify(task)}: use one of ${transformersTasks.join(', ')}`, { argument: 'task' });
  }
  const info = await stat(directory).catch((error: unknown) => Promise.reject(sourceFileError(directory, error)));
  if (!info.isDirectory()) throw new InvalidArgumentError(`${directory} is not a folder: TransformersAdapter stores a Hugging Face-layout model folder (config.json, tokenizer files, onnx/*.onnx)`, { argument: 'model' });
  // Links to files are followed wherever they lead (a Hugging Face cache snapshot is a
  // folder of links into blobs/); links to folders only inside the folder.
  const entries: ArchiveEntry[] = await folderEntries(directory, { followFileLinksOutside: true, skipTopLevel: [...skippedTopLevel] });
  const files: WalkedFile[] = (entries as FolderEntry[]).flatMap((entry) => (entry.type === 'directory' ? [] : [{ relative: entry.path, source: entry.source, size: entry.size ?? 0 }]));
  const { modelType, architectures, externalDataFormat } = await readConfig(
    directory,
    files.find((file) => file.relative === 'config.json'),
    'upload',
  );
  const { variants, bytesRead } = await checkOnnxFiles(directory, files, 'upload');
  if (variants.length === 0) {
    throw new InvalidArgumentError(
      `${directory} holds no .onnx file: transformers.js runs ONNX models, looked for as onnx/model.onnx (or a variant such as onnx/model_quantized.onnx). Nothing was uploaded: export one (e.g. optimum-cli export onnx --model <model> <folder>), or upload the folder with RawAdapter.`,
      { argument: 'model' },
    );
  }
  checkExternalDataFormat(directory, files, variants, externalDataFormat, 'upload');
  const inferred = task === undefined ? taskFromArchitectures(architectures, modelType) : null;
  const facts: TransformersFolderFacts = {
    model_type: modelType,
    architectures,
    task: task ?? inferred,
    task_source: task !== undefined ? 'given' : inferred !== null ? 'architectures' : null,
    onnx: variants,
    tokenizer_files: tokenizerFiles.filter((name) => files.some((file) => file.relative === name)),
    files: files.length,
    size: files.reduce((sum, file) => sum + file.size, 0),
  };
  return { directory, facts, entries, onnxBytesRead: bytesRead };
}

/**
 * Lists a model folder's files for the checks `load` repeats on what it is about to hand
 * to the runtime: an extracted archive (where core's extraction allows no links) or a
 * folder of the user's, such as a Hugging Face cache snapshot, whose links are followed
 * as transformers.js follows them (a link to a folder only once on a path: no cycles).
 */
export async function listExtractedFiles(directory: string): Promise<WalkedFile[]> {
  const out: WalkedFile[] = [];
  const visit = async (folder: string, prefix: string, ancestors: Set<string>): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      const info = entry.isSymbolicLink() ? await stat(full).catch(() => undefined) : entry;
      if (!info) continue; // a dangling link: the checks report the file as missing if a model needs it
      if (info.isDirectory()) {
        const real = await realpath(full);
        if (!ancestors.has(real)) await visit(full, `${prefix}${entry.name}/`, new Set(ancestors).add(real));
      } else if (info.isFile()) out.push({ relative: `${prefix}${entry.name}`, source: full, size: (await stat(full)).size });
    }
  };
  await visit(directory, '', new Set([await realpath(directory)]));
  return out;
}
