import { InvalidNameError, type NameKind } from './errors.js';

/** Domains Python modelstore reserves, plus `model_states`, whose folder the registry uses. */
export const reservedDomains: ReadonlySet<string> = new Set(['versions', 'domains', 'modelstore', 'operatorai-model-store', 'model_states']);

/** The state Python modelstore uses for soft-deleted models; users cannot set it. */
export const deletedState = 'modelstore-deleted';

// Python modelstore's reserved model-id characters, plus whitespace.
const reservedIdCharacters = /[\s<>:"/\\|?*#^`%~{}[\]]/;
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;

function common(kind: NameKind, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidNameError(kind, String(value ?? ''), 'must be a non-empty string');
  if (value.includes('/') || value.includes('\\')) throw new InvalidNameError(kind, value, 'path separators ("/" and "\\") are not allowed');
  if (value.includes('..')) throw new InvalidNameError(kind, value, '".." is not allowed');
  if (value === '.') throw new InvalidNameError(kind, value, '"." is not allowed');
  if (controlCharacters.test(value)) throw new InvalidNameError(kind, value, 'control characters are not allowed');
  if (value.length > 200) throw new InvalidNameError(kind, value, 'at most 200 characters');
  return value;
}

/** Checks a domain name. @throws InvalidNameError for an empty, reserved or path-like name. */
export function validateDomain(domain: string): string {
  common('domain', domain);
  if (reservedDomains.has(domain)) throw new InvalidNameError('domain', domain, `"${domain}" is reserved by the registry layout; choose another domain name`);
  if (/\s/.test(domain)) throw new InvalidNameError('domain', domain, 'whitespace is not allowed');
  return domain;
}

/** Checks a model id with Python modelstore's rules. @throws InvalidNameError. */
export function validateModelId(modelId: string): string {
  common('model id', modelId);
  const bad = reservedIdCharacters.exec(modelId);
  if (bad) throw new InvalidNameError('model id', modelId, `the character ${JSON.stringify(bad[0])} is not allowed (no whitespace or <>:"/\\|?*#^\`%~{}[])`);
  return modelId;
}

/** Checks a model state name: at least 3 characters, not a path, not the reserved deleted state. @throws InvalidNameError. */
export function validateStateName(state: string, options: { allowReserved?: boolean } = {}): string {
  common('state', state);
  if (state.length < 3) throw new InvalidNameError('state', state, 'must be at least 3 characters long');
  if (/\s/.test(state)) throw new InvalidNameError('state', state, 'whitespace is not allowed');
  if (!options.allowReserved && state === deletedState) throw new InvalidNameError('state', state, `"${deletedState}" is reserved for deleted models: use deleteModel()`);
  return state;
}
