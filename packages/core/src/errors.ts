/**
 * Errors thrown by modelstore packages.
 *
 * Every error is a `ModelStoreError` with a stable `code`. Use the static
 * `isInstance()` checks rather than `instanceof`: they also recognise errors
 * created by another copy of `@modelstore/core` (duplicate installs, bundlers).
 */

const marker = Symbol.for('modelstore.error');

/** Stable machine-readable codes, one per error class. */
export type ModelStoreErrorCode =
  | 'MODELSTORE_ERROR'
  | 'INVALID_NAME'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_DELETED'
  | 'DOMAIN_NOT_FOUND'
  | 'STATE_NOT_FOUND'
  | 'MODEL_EXISTS'
  | 'INTEGRITY'
  | 'UNSAFE_ARCHIVE'
  | 'PRECONDITION_FAILED'
  | 'STORAGE'
  | 'ADAPTER_NOT_FOUND'
  | 'DESTINATION_EXISTS'
  | 'INVALID_OPTION'
  | 'LOCAL_FILE'
  | 'COMMITTED_WITH_ERRORS'
  | 'SOURCE_FILE'
  | 'STORAGE_CAPABILITY'
  | 'INVALID_ARGUMENT'
  | 'STORE_CONFIGURATION'
  | 'MISSING_DEPENDENCY'
  | 'INCOMPATIBLE_CONTRACT'
  | 'SIGNATURE';

export interface ModelStoreErrorOptions {
  /** The underlying error, if any (an SDK or file system error). */
  cause?: unknown;
}

/** Base class of every error thrown by modelstore. */
export class ModelStoreError extends Error {
  /** Stable code: compare this, not the message. */
  readonly code: ModelStoreErrorCode;
  private readonly [marker] = true;

  constructor(message: string, code: ModelStoreErrorCode = 'MODELSTORE_ERROR', options: ModelStoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * True when `error` is an error of this class, from this or another copy of the package
   * (checked by a marker and the `code`, not by `instanceof`): on `ModelStoreError` any
   * modelstore error, on a subclass one with its code. Works unbound
   * (`errors.filter(StorageError.isInstance)` is a `StorageError[]`) and narrows its argument.
   */
  static isInstance(error: unknown): error is ModelStoreError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

/**
 * The `static isInstance` of an error class: a function, not a method, so it works unbound,
 * true for a modelstore error (of any copy of the package) whose `code` is one of `codes`.
 */
function isErrorWithCode<T extends ModelStoreError>(...codes: ModelStoreErrorCode[]): (error: unknown) => error is T {
  return (error: unknown): error is T => ModelStoreError.isInstance(error) && codes.includes(error.code);
}

/** What kind of name failed validation. */
export type NameKind = 'key' | 'prefix' | 'domain' | 'model id' | 'state' | 'path';

/** A storage key, domain, model id, state name or archive path is not allowed. Thrown before any I/O. */
export class InvalidNameError extends ModelStoreError {
  constructor(
    readonly kind: NameKind,
    readonly value: string,
    reason: string,
  ) {
    super(`Invalid ${kind} ${JSON.stringify(value)}: ${reason}`, 'INVALID_NAME');
  }
  static override readonly isInstance = isErrorWithCode<InvalidNameError>('INVALID_NAME');
}

/** The domain has no models (no `domains/<domain>.json`). */
export class DomainNotFoundError extends ModelStoreError {
  constructor(readonly domain: string) {
    super(`Domain "${domain}" does not exist: upload a model to it first, or check the name with listDomains()`, 'DOMAIN_NOT_FOUND');
  }
  static override readonly isInstance = isErrorWithCode<DomainNotFoundError>('DOMAIN_NOT_FOUND');
}

/** No model with this id in the domain. */
export class ModelNotFoundError extends ModelStoreError {
  constructor(
    readonly domain: string,
    readonly modelId: string,
  ) {
    super(`Model "${modelId}" does not exist in domain "${domain}": check the id with listModels("${domain}")`, 'MODEL_NOT_FOUND');
  }
  static override readonly isInstance = isErrorWithCode<ModelNotFoundError>('MODEL_NOT_FOUND');
}

/** The model was soft-deleted (Python modelstore: ModelDeletedException). */
export class ModelDeletedError extends ModelStoreError {
  constructor(
    readonly domain: string,
    readonly modelId: string,
  ) {
    super(`Model "${modelId}" has been deleted from domain "${domain}"`, 'MODEL_DELETED');
  }
  static override readonly isInstance = isErrorWithCode<ModelDeletedError>('MODEL_DELETED');
}

/** The model state was never created. */
export class StateNotFoundError extends ModelStoreError {
  constructor(readonly state: string) {
    super(`Model state "${state}" does not exist: create it first with createModelState("${state}")`, 'STATE_NOT_FOUND');
  }
  static override readonly isInstance = isErrorWithCode<StateNotFoundError>('STATE_NOT_FOUND');
}

/** A model with this id already exists in the domain (ids are never overwritten). */
export class ModelExistsError extends ModelStoreError {
  /** True when the id belonged to a model that was deleted (its record stays under `versions/modelstore-deleted/`). */
  readonly deleted: boolean;
  constructor(
    readonly domain: string,
    readonly modelId: string,
    options: ModelStoreErrorOptions & { deleted?: boolean } = {},
  ) {
    const { deleted = false, ...rest } = options;
    super(
      deleted
        ? `Model "${modelId}" of domain "${domain}" was deleted, and model ids are never reused (the deleted model's record stays, so its id keeps naming it): choose another id or omit it`
        : `Model "${modelId}" already exists in domain "${domain}": model ids are never reused, choose another id or omit it`,
      'MODEL_EXISTS',
      rest,
    );
    this.deleted = deleted;
  }
  static override readonly isInstance = isErrorWithCode<ModelExistsError>('MODEL_EXISTS');
}

/** Bytes read do not match what was recorded: a hash or size mismatch, a truncated or corrupt stream. */
export class IntegrityError extends ModelStoreError {
  constructor(message: string, options: ModelStoreErrorOptions = {}) {
    super(message, 'INTEGRITY', options);
  }
  static override readonly isInstance = isErrorWithCode<IntegrityError>('INTEGRITY');
}

/** An archive entry would escape the target directory or is a link or device. Nothing was written. */
export class UnsafeArchiveError extends ModelStoreError {
  constructor(
    readonly entry: string,
    reason: string,
  ) {
    super(`Refusing archive entry ${JSON.stringify(entry)}: ${reason}. The archive was not extracted.`, 'UNSAFE_ARCHIVE');
  }
  static override readonly isInstance = isErrorWithCode<UnsafeArchiveError>('UNSAFE_ARCHIVE');
}

/** A conditional write lost: the object exists (`ifNoneMatch: '*'`) or changed since it was read (`ifMatch`). */
export class PreconditionFailedError extends ModelStoreError {
  constructor(
    readonly key: string,
    message?: string,
    options: ModelStoreErrorOptions = {},
  ) {
    super(message ?? `Conditional write of "${key}" failed: the object was created or changed by another writer`, 'PRECONDITION_FAILED', options);
  }
  static override readonly isInstance = isErrorWithCode<PreconditionFailedError>('PRECONDITION_FAILED');
}

export interface StorageErrorOptions extends ModelStoreErrorOptions {
  /** True when the same call may succeed if tried again (timeouts, throttling, 5xx). */
  retryable?: boolean;
}

/** A storage backend failed for a reason other than a missing object or a lost condition. */
export class StorageError extends ModelStoreError {
  /** True when the same call may succeed if tried again. */
  readonly retryable: boolean;
  constructor(message: string, options: StorageErrorOptions = {}) {
    super(message, 'STORAGE', options);
    this.retryable = options.retryable ?? false;
  }
  static override readonly isInstance = isErrorWithCode<StorageError>('STORAGE');
}

/** No registered adapter can save this model, or load this library. */
export class AdapterNotFoundError extends ModelStoreError {
  constructor(message: string) {
    super(message, 'ADAPTER_NOT_FOUND');
  }
  static override readonly isInstance = isErrorWithCode<AdapterNotFoundError>('ADAPTER_NOT_FOUND');
}

/** `download` would replace a non-empty directory; pass `overwrite: true` to replace it. */
export class DestinationExistsError extends ModelStoreError {
  constructor(
    readonly path: string,
    reason = 'exists and is not empty: choose a new directory or pass overwrite: true',
  ) {
    super(`Download destination ${JSON.stringify(path)} ${reason}`, 'DESTINATION_EXISTS');
  }
  static override readonly isInstance = isErrorWithCode<DestinationExistsError>('DESTINATION_EXISTS');
}

export interface InvalidArgumentErrorOptions extends ModelStoreErrorOptions {
  /** The argument, option or URI part at fault (`region`, `apiEndpoint`, `target`...), when there is one. */
  argument?: string;
}

/**
 * A value the caller passed is wrong: an unknown or malformed option, a store URI that
 * cannot be read (unknown scheme, unknown query option, `file://relative`), a metadata
 * value that cannot be stored. The message says what was given and what is accepted.
 * Thrown before any I/O; nothing was changed. `InvalidArgumentError.isInstance` is also
 * true for `InvalidOptionError` (code `INVALID_OPTION`), its subclass.
 */
export class InvalidArgumentError extends ModelStoreError {
  /** The argument, option or URI part at fault, when there is one. */
  readonly argument: string | undefined;
  constructor(message: string, options: InvalidArgumentErrorOptions = {}, code: 'INVALID_ARGUMENT' | 'INVALID_OPTION' = 'INVALID_ARGUMENT') {
    super(message, code, options);
    this.argument = options.argument;
  }
  /** True for `INVALID_ARGUMENT` and `INVALID_OPTION` errors, from this or another copy of the package. */
  static override readonly isInstance = isErrorWithCode<InvalidArgumentError>('INVALID_ARGUMENT', 'INVALID_OPTION');
}

/**
 * An option is outside what the operation allows (the message says which and why). Nothing was changed.
 * A kind of `InvalidArgumentError` (its code stays `INVALID_OPTION`).
 */
export class InvalidOptionError extends InvalidArgumentError {
  constructor(
    /** The option's name, e.g. `olderThan`. */
    readonly option: string,
    message: string,
  ) {
    super(message, { argument: option }, 'INVALID_OPTION');
  }
  static override readonly isInstance = isErrorWithCode<InvalidOptionError>('INVALID_OPTION');
}

/**
 * The settings that choose or configure a store are missing or contradict each other:
 * no store given, `MODEL_STORE_STORAGE` unknown, a variable it needs unset or empty.
 * `settings` names what to set (environment variables, URI options or CLI flags); the
 * message says the same in words. Thrown before any I/O.
 */
export class StoreConfigurationError extends ModelStoreError {
  constructor(
    message: string,
    /** What to set, e.g. `['MODEL_STORE_ROOT_PREFIX']` or `['--store', 'MODELSTORE_STORE', 'MODEL_STORE_STORAGE']`. */
    readonly settings: string[] = [],
    options: ModelStoreErrorOptions = {},
  ) {
    super(message, 'STORE_CONFIGURATION', options);
  }
  static override readonly isInstance = isErrorWithCode<StoreConfigurationError>('STORE_CONFIGURATION');
}

/**
 * An optional package this call needs is not installed (a storage backend such as
 * `@modelstore/storage-s3`, or a framework runtime such as `onnxruntime-node`), or the
 * installed version does not provide what this version of modelstore needs.
 * `packageName` is what to install; the message gives the command.
 */
export class MissingDependencyError extends ModelStoreError {
  constructor(
    /** The npm package to install, e.g. `@modelstore/storage-s3`. */
    readonly packageName: string,
    message = `This needs ${packageName}: npm install ${packageName}`,
    options: ModelStoreErrorOptions = {},
  ) {
    super(message, 'MISSING_DEPENDENCY', options);
  }
  static override readonly isInstance = isErrorWithCode<MissingDependencyError>('MISSING_DEPENDENCY');
}

/**
 * A local file operation of `download` or `load` failed (no space left, no permission,
 * a read-only folder...): `path` is the file or folder, `errno` the system's code
 * (`ENOSPC`, `EACCES`...). Nothing was left half-written at the destination.
 */
export class LocalFileError extends ModelStoreError {
  readonly errno: string | undefined;
  constructor(
    message: string,
    readonly path: string,
    options: ModelStoreErrorOptions & { errno?: string } = {},
  ) {
    super(message, 'LOCAL_FILE', options);
    this.errno = options.errno;
  }
  static override readonly isInstance = isErrorWithCode<LocalFileError>('LOCAL_FILE');
}

/**
 * The upload committed its model — it is listed and can be downloaded by id — but a
 * step after the commit failed (moving the domain's latest pointer). Do not upload
 * it again: `metadata` is the committed model. The message says what to do.
 */
export class CommittedWithErrorsError extends ModelStoreError {
  constructor(
    message: string,
    readonly metadata: unknown,
    options: ModelStoreErrorOptions = {},
  ) {
    super(message, 'COMMITTED_WITH_ERRORS', options);
  }
  static override readonly isInstance = isErrorWithCode<CommittedWithErrorsError>('COMMITTED_WITH_ERRORS');
}

/** Why a model's source file could not be stored (see `SourceFileError`). */
export type SourceFileReason = 'missing' | 'unreadable' | 'changed' | 'special' | 'dangling-link' | 'link-outside' | 'link-cycle';

/**
 * A file to be stored in a model's archive cannot be read as it was listed: it is
 * missing or vanished (`missing`), cannot be opened (`unreadable`: EACCES, EPERM, an
 * I/O error), changed size or modification time while it was read, or yielded more or
 * fewer bytes than its size (`changed`), is not a regular file or directory (`special`:
 * a FIFO, socket or device), or is a link that points nowhere (`dangling-link`), out
 * of the model's folder (`link-outside`) or into a loop (`link-cycle`). The upload
 * fails and nothing is committed. Never retryable as is: fix the file (or wait until
 * whatever writes it has finished) and upload again.
 */
export class SourceFileError extends ModelStoreError {
  /** Always false: the same upload fails again until the file is fixed. */
  readonly retryable = false;
  constructor(
    /** The file on disk, as given or as found in the model's folder. */
    readonly path: string,
    readonly reason: SourceFileReason,
    message: string,
    options: ModelStoreErrorOptions = {},
  ) {
    super(message, 'SOURCE_FILE', options);
  }
  static override readonly isInstance = isErrorWithCode<SourceFileError>('SOURCE_FILE');
}

/**
 * A store does not do what its `capabilities` claim: it accepted a second create-only
 * write of one key (`If-None-Match: *` ignored) or a compare-and-swap against a stale
 * etag (`If-Match` ignored). `ModelStore` refuses to write to it, since concurrent
 * writers could then overwrite each other's models without an error. The message says
 * what to set (`advice`). Nothing of the registry was written.
 */
export class StorageCapabilityError extends ModelStoreError {
  constructor(
    /** The capability that does not hold. */
    readonly capability: 'conditionalWrites' | 'rangeReads',
    message: string,
    /** What to do about it, in one sentence (also the end of the message). */
    readonly advice: string,
  ) {
    super(`${message}. ${advice}`, 'STORAGE_CAPABILITY');
  }
  static override readonly isInstance = isErrorWithCode<StorageCapabilityError>('STORAGE_CAPABILITY');
}

/**
 * A storage or adapter implements another version of its contract than this
 * `@modelstore/core` does (`specificationVersion`), or declares none. The message names
 * the package to upgrade. Nothing was read or written.
 */
export class IncompatibleContractError extends ModelStoreError {
  constructor(
    /** `'Storage'` or `'ModelAdapter'`. */
    readonly contract: 'Storage' | 'ModelAdapter',
    /** The version core implements. */
    readonly expected: string,
    /** The version the plugin declares (`undefined`: none). */
    readonly found: string | undefined,
    message: string,
  ) {
    super(message, 'INCOMPATIBLE_CONTRACT');
  }
  static override readonly isInstance = isErrorWithCode<IncompatibleContractError>('INCOMPATIBLE_CONTRACT');
}

/**
 * A model's signature (OpenSSF Model Signing) is missing or does not hold. `reason`:
 * `unsigned` (no bundle), `unbound` (a bundle without this library's `<domain>/<model id>`
 * binding, e.g. made by `model_signing sign` on a folder, and `allowUnbound` not set),
 * `tampered` (a file is missing, added or changed against the signed manifest, a `.git/`
 * or `.github/` entry the signature cannot cover is present, or the bundle is bound to
 * another model: `files` names them),
 * `wrong-key` (signed by another key), `untrusted-certificate` (the chain does not lead
 * to a trusted root, was not valid when signed, or the certificate may not sign),
 * `identity` (the certificate names another identity), `malformed` (a bundle, key or
 * certificate that cannot be read), `unsupported` (a format or algorithm this version
 * does not handle), `signing-failed` (a `sign` callback threw: `cause` holds its error).
 * Nothing was written to the destination or the cache.
 */
export class SignatureError extends ModelStoreError {
  constructor(
    readonly reason: 'unsigned' | 'unbound' | 'tampered' | 'wrong-key' | 'untrusted-certificate' | 'identity' | 'malformed' | 'unsupported' | 'signing-failed',
    message: string,
    /** With `tampered`: the files (posix paths in the model's folder) that are missing, added or changed. */
    readonly files: string[] = [],
    options: ModelStoreErrorOptions = {},
  ) {
    super(message, 'SIGNATURE', options);
  }
  static override readonly isInstance = isErrorWithCode<SignatureError>('SIGNATURE');
}
