import { InvalidNameError, type NameKind } from './errors.js';

/**
 * Domains this library refuses: Python modelstore's reserved names (`versions`,
 * `domains`, `modelstore`, `operatorai-model-store`; modelstore/models/model_manager.py
 * `_validate_domain`), plus `model_states`, whose folder holds the state documents
 * (Python accepts it as a domain; this library's domain index would land among the
 * state files there and break Python's `list_model_states`).
 */
export const reservedDomains: ReadonlySet<string> = new Set(['versions', 'domains', 'modelstore', 'operatorai-model-store', 'model_states']);

/** The state Python modelstore uses for soft-deleted models; users cannot set it. */
export const deletedState = 'modelstore-deleted';

/**
 * Python modelstore's model-id rule (modelstore/ids/model_ids.py `validate`): no ASCII
 * space and none of `<>:"/\|?*#^\`%~{}[]`. Other whitespace (NBSP, em space, U+2028…)
 * is allowed, as in Python.
 */
const reservedIdCharacters = /[ <>:"/\\|?*#^`%~{}[\]]/;

/**
 * C0 control characters and DEL: refused in every name, as in storage keys. Python
 * modelstore writes them, but they are not safe on every backend: Azurite answers 500
 * to a listing that holds U+0001, Google Cloud Storage refuses CR and LF in object
 * names, Azure's naming rules tell to avoid them, and file systems refuse NUL.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what names may not hold
const controlCharacters = /[\u0000-\u001f\u007f]/;

/** A UTF-16 surrogate not part of a pair (in `u` mode a pair is one code point, never `Cs`). */
const loneSurrogate = /\p{Cs}/u;

/**
 * Endings `FileSystemStorage` keeps for its temporary and lock files: a key segment with
 * one is refused there, so a name with one is not safe on every backend.
 */
const fileSystemSuffixes = ['.modelstore-tmp', '.modelstore-lock'];

/** Longest name, in UTF-8 bytes: leaves room in a 255-byte file name for `.json` and a temporary-file suffix. */
export const maxNameBytes = 200;

function common(kind: NameKind, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidNameError(kind, String(value ?? ''), 'must be a non-empty string');
  if (value.includes('/') || value.includes('\\')) throw new InvalidNameError(kind, value, 'path separators ("/" and "\\") are not allowed');
  if (value === '.' || value === '..') throw new InvalidNameError(kind, value, `"${value}" is a path part, not a name`);
  const control = controlCharacters.exec(value);
  if (control) throw new InvalidNameError(kind, value, `control characters are not allowed (found U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`);
  if (loneSurrogate.test(value)) throw new InvalidNameError(kind, value, 'contains a lone UTF-16 surrogate, which has no UTF-8 form');
  const suffix = fileSystemSuffixes.find((ending) => value.endsWith(ending));
  if (suffix) throw new InvalidNameError(kind, value, `names ending in "${suffix}" are kept for the file-system storage's temporary and lock files`);
  if (Buffer.byteLength(value, 'utf8') > maxNameBytes) throw new InvalidNameError(kind, value, `at most ${maxNameBytes} bytes in UTF-8 (this one has ${Buffer.byteLength(value, 'utf8')})`);
  return value;
}

/**
 * Checks a domain name. Python modelstore accepts any non-empty domain but its
 * reserved ones, so this does too as long as the name is one safe storage-key
 * segment: spaces, leading or trailing whitespace, dots and any Unicode are fine.
 * @throws InvalidNameError for an empty or reserved name, `/`, `\`, `.`, `..`, a
 * control character, a lone surrogate, an ending `.modelstore-tmp` or `.modelstore-lock`,
 * or more than 200 UTF-8 bytes.
 */
export function validateDomain(domain: string): string {
  common('domain', domain);
  if (reservedDomains.has(domain)) throw new InvalidNameError('domain', domain, `"${domain}" is reserved by the registry layout; choose another domain name`);
  return domain;
}

/**
 * Checks a model id with Python modelstore's rules: no ASCII space and none of
 * `<>:"/\|?*#^\`%~{}[]`; other whitespace (tab excepted: it is a control character),
 * dots (`a..b`, `v1.`) and any Unicode are accepted.
 * @throws InvalidNameError under those rules and the common ones of `validateDomain`.
 */
export function validateModelId(modelId: string): string {
  common('model id', modelId);
  const bad = reservedIdCharacters.exec(modelId);
  if (bad) throw new InvalidNameError('model id', modelId, `the character ${JSON.stringify(bad[0])} is not allowed (no ASCII space or <>:"/\\|?*#^\`%~{}[])`);
  return modelId;
}

/**
 * Checks a model state name as Python modelstore does (modelstore/storage/states/
 * model_states.py `is_valid_state_name`): at least 3 characters (Unicode code points,
 * as Python counts them), spaces allowed, not the reserved deleted state.
 * @throws InvalidNameError under those rules and the common ones of `validateDomain`.
 */
export function validateStateName(state: string, options: { allowReserved?: boolean } = {}): string {
  common('state', state);
  if ([...state].length < 3) throw new InvalidNameError('state', state, 'must be at least 3 characters long');
  if (!options.allowReserved && state === deletedState) throw new InvalidNameError('state', state, `"${deletedState}" is reserved for deleted models: use deleteModel()`);
  return state;
}
