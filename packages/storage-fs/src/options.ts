import { InvalidArgumentError, readStoreUriOptions, requireVariable, storeUriOptions, type Environment, type StoreUriOption } from '@modelstore/core';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSystemStorage, type FileSystemStorageOptions } from './file-system-storage.js';

/** The URI scheme this package opens: `file:///absolute/path` (a plain path works as well). */
export const uriSchemes: readonly string[] = ['file'];

/** Python modelstore's `MODEL_STORE_STORAGE` value this package reads (`FileSystemStorage.NAME`). */
export const pythonStorageNames: readonly string[] = ['filesystem'];

/** The query options of `file://` URIs. */
export const describeOptions: readonly StoreUriOption[] = storeUriOptions({ staleLockMs: 'number: milliseconds after which a per-key lock left by a dead process may be broken (default 10000)' });

/**
 * `file:///absolute/path?staleLockMs=20000` → `{ root: '/absolute/path', staleLockMs: 20000 }`.
 * `file://localhost/path` is accepted as `file:///path`.
 * @throws InvalidArgumentError for a host (`file://relative/path`: relative paths are given without `file://`), an unknown option or a bad value.
 */
export function fromStoreUri(url: URL): FileSystemStorageOptions {
  if (url.protocol !== 'file:') throw new InvalidArgumentError(`@modelstore/storage-fs opens file:// URIs, not ${url.protocol}//`, { argument: 'uri' });
  if (url.host !== '' && url.host !== 'localhost') {
    throw new InvalidArgumentError(`file:// URIs name an absolute local path: file:///absolute/path (got host "${url.host}"); give a relative path without file://, e.g. ./${url.host}${url.pathname === '/' ? '' : url.pathname}`, {
      argument: 'uri',
    });
  }
  const options = readStoreUriOptions(url, describeOptions);
  let root: string;
  try {
    root = fileURLToPath(new URL(url.pathname, 'file:///'));
  } catch (error) {
    throw new InvalidArgumentError(`${url.href} is not a local path: ${(error as Error).message}`, { argument: 'uri', cause: error });
  }
  return { root, ...options };
}

/**
 * Python modelstore's variables for `MODEL_STORE_STORAGE=filesystem` (0.0.82, `FileSystemStorage.BUILD_FROM_ENVIRONMENT`):
 * `MODEL_STORE_ROOT_PREFIX` (required), the registry folder; relative to the current directory when relative.
 * @returns `undefined` when `MODEL_STORE_STORAGE` is not `filesystem`.
 * @throws StoreConfigurationError when `MODEL_STORE_ROOT_PREFIX` is unset or empty.
 */
export function fromEnvironment(env: Environment): FileSystemStorageOptions | undefined {
  if (env.MODEL_STORE_STORAGE !== 'filesystem') return undefined;
  return { root: path.resolve(requireVariable(env, 'MODEL_STORE_ROOT_PREFIX')) };
}

/** The storage for options from `fromStoreUri` or `fromEnvironment`. */
export function createStorage(options: FileSystemStorageOptions): FileSystemStorage {
  return new FileSystemStorage(options);
}
