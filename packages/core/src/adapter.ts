import type { ModelMetadata } from './metadata.js';

/** One file (or directory) of a model's archive. */
export interface ArchiveEntry {
  /** Path inside the archive, `/`-separated and relative (checked like a storage key). */
  path: string;
  /**
   * A file on disk, streamed into the archive (never read whole), or the bytes themselves.
   * For a `directory` entry: the directory on disk whose mode is kept, or empty bytes.
   * A path is read as it is when the upload starts: if it is missing, unreadable, not a
   * regular file, or changes while it is read, the upload fails with `SourceFileError`.
   */
  source: string | Uint8Array;
  /**
   * `'file'` (the default) or `'directory'`: a directory entry, kept even when empty
   * (parent directories of files get entries of their own anyway, mode 0o755).
   */
  type?: 'file' | 'directory';
  /**
   * Unix permission bits to record (an integer, 0 to 0o7777). Default: the source's
   * mode on disk for a path, 0o644 for bytes, 0o755 for a directory given as bytes.
   * What is stored is narrowed, never widened: `mode & 0o755` for files (setuid, setgid,
   * sticky and group/other write are dropped; the owner's bits are kept), and
   * `(mode & 0o755) | 0o700` for directories (always usable and removable by their owner).
   */
  mode?: number;
}

/** What an adapter's `save` returns. */
export interface SavedModel {
  /** The model's files, placed at the top of the archive. */
  files: ArchiveEntry[];
  /** `model.model_type.type`: the model's class, e.g. `LayersModel`. */
  type?: string;
  /** `model.parameters`: JSON-serialisable hyper-parameters or model facts. */
  parameters?: Record<string, unknown>;
  /** `code.dependencies`: runtime packages and their versions (`null` when not installed). */
  dependencies?: Record<string, string | null>;
}

/**
 * Turns a framework's model object into files, and files back into a model.
 * Adapters never touch storage: `ModelStore` packs their files and unpacks them.
 */
export interface ModelAdapter<TModel = unknown, TLoaded = unknown> {
  /**
   * The version of this contract the adapter implements: `'v1'`. `ModelStore` refuses an
   * adapter of another version, or of none, with `IncompatibleContractError` (see
   * ARCHITECTURE.md, "Contracts and their versions").
   */
  readonly specificationVersion: 'v1';
  /** `model.model_type.library`, as Python modelstore names it: `model_file`, `onnx`, `tensorflowjs`, ... */
  readonly library: string;
  /** Whether this adapter can save `model`; `upload` uses the first adapter that matches. Must not do I/O-heavy work. */
  matches(model: unknown): boolean;
  /** Lists the model's files. Return paths to files on disk rather than bytes for large models: they are streamed. */
  save(model: TModel): Promise<SavedModel>;
  /** Rebuilds the model from `directory`, where the archive was extracted (model files at the top, extras under `extras/`). */
  load(directory: string, metadata: ModelMetadata): Promise<TLoaded>;
}
