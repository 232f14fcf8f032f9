import { IntegrityError } from './errors.js';
import type { StorageLocation } from './storage.js';

/** `model.model_type`: which adapter wrote the model, and the model's class. */
export interface ModelType {
  library: string;
  type?: string;
  [key: string]: unknown;
}

/** Size and sha256 of the archive or of one file in it. */
export interface FileDigest {
  sha256: string;
  size: number;
}

/**
 * A model's metadata document, exactly as stored (snake_case keys, Python
 * modelstore compatible). Documents written by Python modelstore lack `archive`
 * and `code.created_at`; everything else may also be missing in old documents.
 */
export interface ModelMetadata {
  model: {
    domain: string;
    model_id: string;
    model_type: ModelType;
    parameters?: Record<string, unknown> | null;
    data?: Record<string, unknown> | null;
    [key: string]: unknown;
  };
  storage: StorageLocation;
  modelstore?: string;
  code?: {
    runtime?: string;
    user?: string;
    /** `YYYY/MM/DD/HH:MM:SS`: local time for Python writers, UTC for this library. */
    created?: string;
    /** ISO-8601 UTC with milliseconds (this library; ignored by Python modelstore). */
    created_at?: string;
    dependencies?: Record<string, string | null>;
    git?: { repository?: string; sha?: string; branch?: string; local_changes?: boolean };
    [key: string]: unknown;
  };
  /** The user's own metadata (`extraMetadata` of `upload`). */
  extra?: Record<string, unknown> | null;
  /** Digests of the archive and of every file in it (this library; ignored by Python modelstore). */
  archive?: FileDigest & {
    files: Record<string, FileDigest>;
    /** Every directory of the archive, empty ones included, sorted (absent before this was recorded); a download checks the same ones come back. */
    directories?: string[];
    /** A random id of the upload that wrote this document, so a writer can recognise its own write after a lost answer. */
    upload_id?: string;
  };
  [key: string]: unknown;
}

/** `model_states/<state>.json`. */
export interface ModelStateDocument {
  created: string;
  state_name: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether `value` has the shape every reader relies on: `model.domain`, `model.model_id`, `model.model_type.library`, a `storage` object. */
export function isModelMetadata(value: unknown): value is ModelMetadata {
  if (!isObject(value) || !isObject(value.model) || !isObject(value.storage)) return false;
  const { model } = value;
  if (typeof model.domain !== 'string' || typeof model.model_id !== 'string' || !isObject(model.model_type) || typeof model.model_type.library !== 'string') return false;
  return value.code === undefined || value.code === null || isObject(value.code);
}

/** `value` as model metadata, or an `IntegrityError` naming the document. */
export function checkModelMetadata(value: unknown, key: string): ModelMetadata {
  if (!isModelMetadata(value)) {
    throw new IntegrityError(`"${key}" is not model metadata (it needs model.domain, model.model_id, model.model_type.library and storage): it was damaged or written by something else`);
  }
  return value;
}
