import { type ArchiveEntry, InvalidArgumentError, type ModelAdapter, type ModelMetadata, ModelStoreError, type SavedModel, SourceFileError } from '@modelstore/core';
import { readdirSync, statSync, type Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readSafetensorsHeader, SafetensorsFormatError, type SafetensorsHeader, type SafetensorsTensor } from './header.js';
import { readSafetensorsIndex, type SafetensorsIndex } from './index-file.js';

/**
 * What `SafetensorsAdapter` uploads: a path to a `.safetensors` file; a path to a
 * `*.safetensors.index.json` (the index and the shards it names, beside it); a path to a
 * folder (every file at its top: its `.safetensors` files, at most one index, and any
 * other file such as `config.json`, stored as is); or a list of file paths (each stored
 * under its base name).
 */
export type SafetensorsModel = string | string[];

/** Options of {@link SafetensorsAdapter}. */
export interface SafetensorsAdapterOptions {
  /**
   * How many tensors `model.parameters.tensors` lists (default 256, at most 10,000): the first
   * ones by file name, then tensor name, and no more than 64 KiB of JSON. Counts, dtypes and
   * parameters always cover every tensor; `load` returns the full headers.
   */
  maxListedTensors?: number;
}

/** One `.safetensors` file of a loaded model. */
export interface SafetensorsFile {
  /** Its name in the model (the file name at the top of the archive). */
  name: string;
  /** Its absolute path on disk, in the folder `load` was given. */
  path: string;
  /** Its header, read and validated again at load. */
  header: SafetensorsHeader;
}

/** Where a tensor is: its header entry and the file that holds it. */
export interface SafetensorsTensorLocation extends SafetensorsTensor {
  /** Absolute path of the `.safetensors` file holding the tensor; its bytes are `fileOffsets` of this file. */
  file: string;
}

/** What `SafetensorsAdapter.load` returns: the folder and every file's parsed header. */
export interface LoadedSafetensors {
  /** The folder the model was extracted into (its files at the top, extra files under `extras/`). */
  directory: string;
  /** Every `.safetensors` file at the top of `directory`, by name. */
  files: SafetensorsFile[];
  /** The sharded set's index, with its name and path; `null` for unsharded models. */
  index: (SafetensorsIndex & { name: string; path: string }) | null;
  /** Every tensor by name (names are unique across a model's files: upload checks it). */
  tensors: Map<string, SafetensorsTensorLocation>;
  /** Total number of elements of all tensors. */
  parameters: number;
}

/** A dtype's share of a model, in `model.parameters.dtypes`. */
export interface SafetensorsDtypeSummary {
  /** Number of tensors of this dtype. */
  tensors: number;
  /** Their total number of elements. */
  parameters: number;
}

const indexSuffix = '.safetensors.index.json';
const weightsSuffix = '.safetensors';
/** At most this many bytes of JSON for one `__metadata__` (or the index's `metadata`)... */
const metadataBytes = 16 * 1024;
/** ...and this many for all of them together. */
const metadataTotalBytes = 64 * 1024;
/** At most this many bytes of JSON for the tensor list. */
const listedTensorsBytes = 64 * 1024;
/** At most this many files listed. */
const listedFilesBound = 256;

function isWeights(name: string): boolean {
  return name.endsWith(weightsSuffix);
}

function isIndex(name: string): boolean {
  return name.endsWith(indexSuffix);
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

const errnoReasons: Record<string, [SourceFileError['reason'], string]> = {
  ENOENT: ['missing', 'it does not exist'],
  ENOTDIR: ['missing', 'it does not exist (a folder on its path is a file)'],
  ELOOP: ['link-cycle', 'it is a link that leads into a loop of links'],
  EACCES: ['unreadable', 'permission denied'],
  EPERM: ['unreadable', 'the operation is not permitted'],
};

/** A failed system call on `file` as a `SourceFileError` naming it; modelstore errors pass through. */
function sourceError(file: string, error: unknown): ModelStoreError {
  if (ModelStoreError.isInstance(error)) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const [reason, why] = (typeof code === 'string' && errnoReasons[code]) || ['unreadable', `it could not be read (${typeof code === 'string' ? code : String((error as Error)?.message ?? error)})`];
  return new SourceFileError(file, reason, `Cannot store ${JSON.stringify(file)} in the model: ${why}. Nothing was uploaded.`, { cause: error });
}

async function regularFile(file: string): Promise<void> {
  const info = await stat(file).catch((error: unknown) => Promise.reject(sourceError(file, error)));
  if (info.isDirectory()) throw new InvalidArgumentError(`${file} is a folder: SafetensorsAdapter stores the files at the top of one folder, not nested folders (store nested trees with RawAdapter)`, { argument: 'model' });
  if (!info.isFile()) throw new SourceFileError(file, 'special', `Cannot store ${JSON.stringify(file)} in the model: it is not a regular file. Nothing was uploaded.`);
}

/** The files a model is made of: name in the archive → path on disk. */
async function listFiles(model: SafetensorsModel): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const add = (name: string, source: string) => {
    if (files.has(name)) throw new InvalidArgumentError(`Two files are named ${JSON.stringify(name)} (${files.get(name)} and ${source}): the model's files are stored by base name`, { argument: 'model' });
    files.set(name, source);
  };
  if (Array.isArray(model)) {
    for (const file of model) {
      await regularFile(file);
      add(path.basename(file), file);
    }
    return files;
  }
  const info = await stat(model).catch((error: unknown) => Promise.reject(sourceError(model, error)));
  if (info.isDirectory()) {
    const entries = await readdir(model).catch((error: unknown) => Promise.reject(sourceError(model, error)));
    for (const name of entries.sort()) {
      const file = path.join(model, name);
      await regularFile(file);
      add(name, file);
    }
    return files;
  }
  await regularFile(model);
  if (isIndex(model)) {
    const index = await readSafetensorsIndex(model).catch((error: unknown) => Promise.reject(sourceError(model, error)));
    add(path.basename(model), model);
    for (const shard of [...new Set(Object.values(index.weightMap))].sort()) {
      const file = path.join(path.dirname(model), shard);
      const shardInfo = statOrUndefined(file);
      if (!shardInfo?.isFile()) throw new SafetensorsFormatError(model, 'index-mismatch', `its weight_map names the shard ${JSON.stringify(shard)}, which is not a file beside the index`);
      add(shard, file);
    }
    return files;
  }
  add(path.basename(model), model);
  return files;
}

interface Inspected {
  files: Array<{ name: string; path: string; header: SafetensorsHeader }>;
  index: (SafetensorsIndex & { name: string; path: string }) | null;
}

/**
 * Reads every `.safetensors` header and the index among `files`, and checks that they agree:
 * the index's shards are exactly the `.safetensors` files present, and each tensor is in the
 * shard the index names (and nowhere else).
 */
async function inspect(files: Map<string, string>, where: string): Promise<Inspected> {
  const weights = [...files].filter(([name]) => isWeights(name));
  const indexes = [...files].filter(([name]) => isIndex(name));
  if (weights.length === 0) throw new InvalidArgumentError(`${where} holds no .safetensors file: SafetensorsAdapter stores .safetensors weights (a file, a sharded set's index, or a folder of them)`, { argument: 'model' });
  if (indexes.length > 1) throw new InvalidArgumentError(`${where} holds ${indexes.length} indexes (${indexes.map(([name]) => name).join(', ')}): store one sharded set per model`, { argument: 'model' });
  const inspected: Inspected = { files: [], index: null };
  for (const [name, file] of weights) {
    const header = await readSafetensorsHeader(file).catch((error: unknown) => Promise.reject(sourceError(file, error)));
    inspected.files.push({ name, path: file, header });
  }
  const owner = new Map<string, string>();
  for (const { name, header } of inspected.files) {
    for (const tensor of header.tensors) {
      const other = owner.get(tensor.name);
      if (other !== undefined) {
        if (indexes.length) throw new SafetensorsFormatError(indexes[0]![1], 'index-mismatch', `tensor ${JSON.stringify(tensor.name)} is in two shards, ${other} and ${name}`);
        throw new InvalidArgumentError(`Tensor ${JSON.stringify(tensor.name)} is in two files, ${other} and ${name}: tensor names must be unique across a model's files (upload them as separate models)`, { argument: 'model' });
      }
      owner.set(tensor.name, name);
    }
  }
  if (indexes.length) {
    const [indexName, indexPath] = indexes[0]!;
    const index = await readSafetensorsIndex(indexPath).catch((error: unknown) => Promise.reject(sourceError(indexPath, error)));
    const mismatch = (why: string) => new SafetensorsFormatError(indexPath, 'index-mismatch', why);
    const named = new Set(Object.values(index.weightMap));
    for (const [name] of weights) if (!named.has(name)) throw mismatch(`the shard ${JSON.stringify(name)} is present but its weight_map names no tensor in it`);
    for (const shard of named) if (!files.has(shard)) throw mismatch(`its weight_map names the shard ${JSON.stringify(shard)}, which is not part of the model`);
    for (const [tensor, shard] of Object.entries(index.weightMap)) {
      const actual = owner.get(tensor);
      if (actual === undefined) throw mismatch(`its weight_map puts tensor ${JSON.stringify(tensor)} in ${shard}, but no shard's header has it`);
      if (actual !== shard) throw mismatch(`its weight_map puts tensor ${JSON.stringify(tensor)} in ${shard}, but it is in ${actual}`);
    }
    for (const [tensor, shard] of owner) if (!Object.hasOwn(index.weightMap, tensor)) throw mismatch(`tensor ${JSON.stringify(tensor)} of ${shard} is missing from its weight_map`);
    inspected.index = { ...index, name: indexName, path: indexPath };
  }
  return inspected;
}

/** Bytes of `value` as JSON (UTF-8). */
function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null');
}

/** Spends one budget of bytes across the recorded metadata objects. */
class Budget {
  constructor(private left: number) {}
  /** `metadata` whole when its JSON fits `each` bytes and the budget, else the entries that fit (by key). */
  take(metadata: Record<string, unknown> | null, each: number): { metadata: Record<string, unknown> | null; truncated: boolean } {
    if (metadata === null) return { metadata: null, truncated: false };
    const limit = Math.min(each, this.left);
    const whole = jsonBytes(metadata);
    if (whole <= limit) {
      this.left -= whole;
      return { metadata: { ...metadata }, truncated: false };
    }
    const kept: Record<string, unknown> = {};
    let used = 2;
    for (const key of Object.keys(metadata).sort()) {
      const cost = jsonBytes(key) + jsonBytes(metadata[key]) + 2;
      if (used + cost > limit) continue;
      kept[key] = metadata[key];
      used += cost;
    }
    this.left -= used;
    return { metadata: kept, truncated: true };
  }
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function describe(inspected: Inspected, maxListedTensors: number): Record<string, unknown> {
  const dtypes: Record<string, SafetensorsDtypeSummary> = {};
  let tensorCount = 0;
  let parameters = 0;
  let dataBytes = 0;
  const listed: Array<Record<string, unknown>> = [];
  let listBytes = 2;
  let listFull = false;
  const files = [...inspected.files].sort(byName);
  for (const { name, header } of files) {
    tensorCount += header.tensors.length;
    parameters += header.parameters;
    dataBytes += header.fileSize - header.dataStart;
    for (const tensor of header.tensors) {
      dtypes[tensor.dtype] ??= { tensors: 0, parameters: 0 };
      const summary = dtypes[tensor.dtype]!;
      summary.tensors++;
      summary.parameters += tensor.parameters;
    }
    for (const tensor of listFull ? [] : [...header.tensors].sort(byName)) {
      const entry = { name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, file: name };
      const cost = jsonBytes(entry) + 1;
      if (listed.length >= maxListedTensors || listBytes + cost > listedTensorsBytes) {
        listFull = true;
        break;
      }
      listed.push(entry);
      listBytes += cost;
    }
  }
  const sortedDtypes = Object.fromEntries(Object.entries(dtypes).sort(([a], [b]) => (a < b ? -1 : 1)));
  const budget = new Budget(metadataTotalBytes);
  const index = inspected.index && budget.take(inspected.index.metadata, metadataBytes);
  return {
    format: 'safetensors',
    sharded: inspected.index !== null,
    file_count: files.length,
    tensor_count: tensorCount,
    total_parameters: parameters,
    data_bytes: dataBytes,
    dtypes: sortedDtypes,
    files: files.slice(0, listedFilesBound).map(({ name, header }) => {
      const { metadata, truncated } = budget.take(header.metadata, metadataBytes);
      return {
        name,
        size: header.fileSize,
        header_size: header.headerSize,
        tensor_count: header.tensors.length,
        parameters: header.parameters,
        metadata,
        ...(truncated ? { metadata_truncated: true } : {}),
      };
    }),
    ...(files.length > listedFilesBound ? { files_truncated: true } : {}),
    index: inspected.index && { name: inspected.index.name, metadata: index!.metadata, ...(index!.truncated ? { metadata_truncated: true } : {}) },
    tensors: listed,
    tensors_truncated: listed.length < tensorCount,
  };
}

/**
 * A format error found while loading: the same file and reason, with the message of a
 * damaged download (download again) rather than the upload's (nothing was uploaded).
 */
function atLoad(error: unknown): unknown {
  if (!(error instanceof SafetensorsFormatError)) return error;
  const text = error.message.replace(/\. Nothing was uploaded\.$/, '');
  const prefix = `${error.file} is not a valid safetensors ${error.reason === 'index-mismatch' ? 'set' : 'file'}: `;
  return new SafetensorsFormatError(error.file, error.reason, text.startsWith(prefix) ? text.slice(prefix.length) : text, { stage: 'load', cause: error.cause });
}

/**
 * Stores safetensors weights (https://github.com/huggingface/safetensors) — a file, several,
 * or a sharded set with its `*.safetensors.index.json` — as library `safetensors`, a name
 * Python modelstore has no manager for (its `transformers` manager expects a whole
 * `save_pretrained` folder), so Python lists, downloads and copies these models and
 * refuses to `load` them rather than misread them.
 *
 * `save` reads only the headers (the first `8 + N` bytes of each file) and refuses, with a
 * `SafetensorsFormatError` (an `IntegrityError`), any file that breaks the format's rules
 * (see `readSafetensorsHeader`) and any index whose `weight_map` does not name exactly the
 * shards present or puts a tensor in a shard whose header lacks it; the upload then stops
 * before anything is written to storage. `model.parameters` records the facts (see the
 * package README for the shape): counts, dtypes, total parameters, each file's
 * `__metadata__`, and the first `maxListedTensors` tensors. `load` returns the folder, every
 * file's header (read and validated again) and where each tensor's bytes are.
 */
export class SafetensorsAdapter implements ModelAdapter<SafetensorsModel, LoadedSafetensors> {
  readonly specificationVersion = 'v1' as const;
  readonly library = 'safetensors';
  private readonly maxListedTensors: number;

  /** @throws InvalidArgumentError when `maxListedTensors` is not a whole number from 0 to 10,000. */
  constructor(options: SafetensorsAdapterOptions = {}) {
    const bound = options.maxListedTensors ?? 256;
    if (!Number.isSafeInteger(bound) || bound < 0 || bound > 10_000) throw new InvalidArgumentError(`maxListedTensors must be a whole number from 0 to 10000 (got ${String(bound)})`, { argument: 'maxListedTensors' });
    this.maxListedTensors = bound;
  }

  /**
   * Accepts a path to an existing `.safetensors` or `*.safetensors.index.json` file, a folder
   * holding a `.safetensors` file at its top, or a non-empty list of existing files at least one
   * of which is a `.safetensors` file. Reads no file's content.
   */
  matches(model: unknown): boolean {
    if (Array.isArray(model)) return model.length > 0 && model.every((item) => typeof item === 'string' && statOrUndefined(item)?.isFile()) && model.some((item: string) => isWeights(item));
    if (typeof model !== 'string') return false;
    const info = statOrUndefined(model);
    if (info?.isFile()) return isWeights(model) || isIndex(model);
    if (!info?.isDirectory()) return false;
    try {
      return readdirSync(model).some(isWeights);
    } catch {
      return false;
    }
  }

  /**
   * Lists the model's files (streamed into the archive by core) after validating every
   * header and the index.
   * @throws InvalidArgumentError for a model that is not a path or list of paths, holds no
   *   `.safetensors` file, more than one index, a nested folder, two files of one name, or one
   *   tensor name in two unsharded files.
   * @throws SafetensorsFormatError (an `IntegrityError`) for a file or index that breaks the format.
   * @throws SourceFileError for a file that is missing, unreadable or not a regular file.
   */
  async save(model: SafetensorsModel): Promise<SavedModel> {
    const valid = typeof model === 'string' ? model.length > 0 : Array.isArray(model) && model.length > 0 && model.every((item) => typeof item === 'string' && item.length > 0);
    if (!valid) throw new InvalidArgumentError('SafetensorsAdapter saves a path to a .safetensors file, a *.safetensors.index.json file or a folder, or a non-empty list of file paths', { argument: 'model' });
    const files = await listFiles(model);
    const inspected = await inspect(files, Array.isArray(model) ? 'The list of files' : model);
    const entries: ArchiveEntry[] = [...files].map(([name, source]) => ({ path: name, source }));
    return {
      files: entries,
      type: inspected.index ? 'safetensors-sharded' : 'safetensors',
      parameters: describe(inspected, this.maxListedTensors),
    };
  }

  /**
   * The folder, every `.safetensors` file's header (validated again) and the index, if any.
   * @throws SafetensorsFormatError (an `IntegrityError`) when a file no longer passes the checks `save` made:
   *   the message says the downloaded copy is damaged and to download it again (or prune load's cache).
   * @throws InvalidArgumentError when the folder holds no `.safetensors` file.
   */
  async load(directory: string, _metadata: ModelMetadata): Promise<LoadedSafetensors> {
    const names = (await readdir(directory, { withFileTypes: true })).filter((entry) => entry.isFile() && (isWeights(entry.name) || isIndex(entry.name))).map((entry) => entry.name);
    const files = new Map(names.sort().map((name) => [name, path.join(directory, name)]));
    const inspected = await inspect(files, directory).catch((error: unknown) => Promise.reject(atLoad(error)));
    const tensors = new Map<string, SafetensorsTensorLocation>();
    let parameters = 0;
    for (const file of inspected.files) {
      parameters += file.header.parameters;
      for (const tensor of file.header.tensors) tensors.set(tensor.name, { ...tensor, file: file.path });
    }
    return { directory, files: inspected.files, index: inspected.index, tensors, parameters };
  }
}

/**
 * Reads one tensor's bytes (`fileOffsets` of `tensor.file`): little-endian, row-major, as
 * the file stores them. Read them as a typed array of the tensor's dtype (for example
 * `new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)` for `F32`).
 * @throws IntegrityError when the file is shorter than the tensor's offsets; the file system's errors otherwise.
 */
export async function readTensorBytes(tensor: Pick<SafetensorsTensorLocation, 'file' | 'fileOffsets' | 'name'>): Promise<Buffer> {
  const [start, end] = tensor.fileOffsets;
  const handle = await open(tensor.file, 'r');
  try {
    const bytes = Buffer.alloc(end - start);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
      if (bytesRead === 0) throw new SafetensorsFormatError(tensor.file, 'past-buffer', `the file ended before the end of tensor ${JSON.stringify(tensor.name)} (byte ${end})`, { stage: 'load' });
      done += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}
