import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelAdapter } from './adapter.js';
import { InvalidArgumentError, MissingDependencyError, ModelStoreError, StoreConfigurationError } from './errors.js';
import { ModelStore } from './model-store.js';
import type { Storage } from './storage.js';

/** Variables: names to values, as `process.env`. */
export type Environment = Record<string, string | undefined>;

/** One query option a backend reads from its store URIs (`s3://bucket/prefix?region=eu-west-1`). */
export interface StoreUriOption {
  /** The query parameter, exactly as written in the URI: `region`, `forcePathStyle`. */
  name: string;
  /**
   * How the value is read: `string` as given; `boolean` from `true`/`1` or `false`/`0`;
   * `number` a finite decimal number (units in `description`); `url` an absolute
   * `http://` or `https://` URL.
   */
  type: 'string' | 'boolean' | 'number' | 'url';
  /** One line for users: what it sets, with units. */
  description: string;
}

/**
 * What a storage backend package exports (as named exports of its main module) so that
 * `openModelStore` can open it from a store URI or from Python modelstore's variables.
 * The four `@modelstore/storage-*` packages export it from their `options.ts`; a custom
 * backend exports the same names and is made known through `OpenModelStoreOptions.backends`.
 */
export interface StoreBackend<TOptions = Record<string, unknown>> {
  /** URI schemes it opens, lower case and without `://`: `['s3']`. */
  readonly uriSchemes: readonly string[];
  /** Values of Python's `MODEL_STORE_STORAGE` it reads: `['aws-s3', 'minio', 'backblaze-b2']` (may be empty). */
  readonly pythonStorageNames: readonly string[];
  /** The query options its URIs accept; any other is refused with an `InvalidArgumentError` listing these. */
  readonly describeOptions: readonly StoreUriOption[];
  /**
   * The options of its storage class for a URI of one of its schemes.
   * @throws InvalidArgumentError for an unknown option, a bad value or a malformed URI.
   */
  fromStoreUri(url: URL): TOptions;
  /**
   * The options for Python modelstore's variables (`MODEL_STORE_STORAGE` and those of that
   * storage), or `undefined` when `MODEL_STORE_STORAGE` names another backend.
   * @throws StoreConfigurationError when a variable it needs is unset or empty.
   */
  fromEnvironment(env: Environment): TOptions | undefined;
  /** The `Storage` for options returned by `fromStoreUri` or `fromEnvironment`. */
  createStorage(options: TOptions): Storage;
}

/** Which package opens which URI schemes and which `MODEL_STORE_STORAGE` values. */
export interface StoreBackendPackage {
  /** The npm package, imported on demand: `@modelstore/storage-s3`. */
  package: string;
  /** URI schemes, lower case, without `://`. */
  uriSchemes: readonly string[];
  /** Python's `MODEL_STORE_STORAGE` values (default none). */
  pythonStorageNames?: readonly string[];
}

/**
 * The backends `openModelStore` knows: scheme and `MODEL_STORE_STORAGE` value to package.
 * Everything else (query options, variables, defaults) is the backend's own `StoreBackend`.
 */
export const storeBackendPackages: readonly StoreBackendPackage[] = [
  { package: '@modelstore/storage-fs', uriSchemes: ['file'], pythonStorageNames: ['filesystem'] },
  { package: '@modelstore/storage-s3', uriSchemes: ['s3'], pythonStorageNames: ['aws-s3', 'minio', 'backblaze-b2'] },
  { package: '@modelstore/storage-gcs', uriSchemes: ['gs', 'gcs'], pythonStorageNames: ['google-cloud-storage'] },
  { package: '@modelstore/storage-azure', uriSchemes: ['azure'], pythonStorageNames: ['azure-container'] },
];

export interface OpenModelStoreOptions {
  adapters?: ModelAdapter[];
  /** Passed to `ModelStore`. */
  cacheDir?: string;
  /** Passed to `ModelStore`: a size limit for `cacheDir` in bytes, kept by `load`. */
  cacheMaxBytes?: number;
  /** Passed to `ModelStore` (default `true`): check once, before the first write, that a store claiming conditional writes honours them. */
  checkConditionalWrites?: boolean;
  /** Variables to read when `target` is omitted (default `process.env`): `MODELSTORE_STORE`, else Python's `MODEL_STORE_*`. */
  env?: Environment;
  /**
   * Imports a backend package by name. By default it is resolved from this package
   * and then from the current directory; a tool that bundles its own backends (the
   * CLI) passes `(name) => import(name)` so they resolve from it.
   */
  importer?: (name: string) => Promise<unknown>;
  /**
   * More backends, looked up before the built-in ones: a package exporting `StoreBackend`
   * and the URI schemes (and `MODEL_STORE_STORAGE` values) it opens, e.g.
   * `[{ package: '@acme/modelstore-r2', uriSchemes: ['r2'] }]`.
   */
  backends?: readonly StoreBackendPackage[];
}

/** What a target names: the backend package, and the URI or the variables it reads. */
export type StorageTarget = { package: string; uri: URL } | { package: string; pythonStorageName: string; env: Environment };

const secretOption = /secret|key|token|password|credential|connectionstring|sas|signature/i;

/**
 * Reads the query options of a store URI against the options a backend knows
 * (its `describeOptions`), for backends' `fromStoreUri`.
 * @returns option name to value: strings, booleans and numbers as `type` says.
 * @throws InvalidArgumentError for a secret in the URI, an unknown or repeated option
 *   (listing the known ones), or a value of the wrong type.
 */
export function readStoreUriOptions(url: URL, known: readonly StoreUriOption[]): Record<string, unknown> {
  const scheme = url.protocol;
  const byName = new Map(known.map((option) => [option.name, option]));
  const options: Record<string, unknown> = {};
  for (const [name, value] of url.searchParams) {
    const option = byName.get(name);
    if (!option && secretOption.test(name)) {
      throw new InvalidArgumentError(`Store URIs do not carry secrets ("${name}"): use the backend's environment variables or credential chain`, { argument: name });
    }
    if (!option) {
      const names = known.map((entry) => entry.name);
      throw new InvalidArgumentError(`unknown option "${name}" for ${scheme}// URIs (known: ${names.length ? names.join(', ') : 'none'})`, { argument: name });
    }
    if (name in options) throw new InvalidArgumentError(`option "${name}" is given twice in a ${scheme}// URI`, { argument: name });
    options[name] = readValue(scheme, option, value);
  }
  return options;
}

function readValue(scheme: string, option: StoreUriOption, value: string): unknown {
  switch (option.type) {
    case 'boolean':
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw new InvalidArgumentError(`option "${option.name}" of ${scheme}// URIs takes true or false, got "${value}"`, { argument: option.name });
    case 'number': {
      const number = value.trim() === '' ? Number.NaN : Number(value);
      if (!Number.isFinite(number)) throw new InvalidArgumentError(`option "${option.name}" of ${scheme}// URIs takes a number (${option.description}), got "${value}"`, { argument: option.name });
      return number;
    }
    case 'url':
      return requireHttpUrl(option.name, value);
    default:
      return value;
  }
}

const optionTypes = new Set<string>(['string', 'boolean', 'number', 'url']);

/**
 * A backend's `describeOptions` from a table of option name to `"<type>: <description>"`,
 * in the table's order: `{ region: "string: the bucket's region" }` is
 * `[{ name: 'region', type: 'string', description: "the bucket's region" }]`. The type
 * before the first `: ` is one of `StoreUriOption['type']` (checked by the compiler).
 * @throws InvalidArgumentError for an entry whose type is not `string`, `boolean`, `number` or `url`.
 */
export function storeUriOptions(table: Record<string, `${StoreUriOption['type']}: ${string}`>): readonly StoreUriOption[] {
  return Object.entries(table).map(([name, entry]) => {
    const split = entry.indexOf(': ');
    const type = entry.slice(0, split);
    if (split < 0 || !optionTypes.has(type)) {
      throw new InvalidArgumentError(`store URI option "${name}" must be described as "<type>: <description>" with a type of ${[...optionTypes].join(', ')}, got "${entry}"`, { argument: name });
    }
    return { name, type: type as StoreUriOption['type'], description: entry.slice(split + 2) };
  });
}

/**
 * The options of a bucket store URI, `<scheme>://<name>/<prefix>?<options>`, for backends'
 * `fromStoreUri`: the query options read by {@link readStoreUriOptions}, the name (host
 * part) under the key `what`, and the prefix as `rootPrefix` when there is one.
 * `readBucketStoreUri(new URL('s3://models/team?region=eu-west-1'), 'bucket', describeOptions)`
 * is `{ region: 'eu-west-1', bucket: 'models', rootPrefix: 'team' }`.
 * @param what the option the host part names: `bucket`, `container`.
 * @throws InvalidArgumentError as {@link storeUriLocation} and {@link readStoreUriOptions} do.
 */
export function readBucketStoreUri<K extends string>(url: URL, what: K, known: readonly StoreUriOption[]): Record<string, unknown> & Record<K, string> & { rootPrefix?: string } {
  const { name, prefix } = storeUriLocation(url, what);
  const options = readStoreUriOptions(url, known);
  return { ...options, [what]: name, ...(prefix ? { rootPrefix: prefix } : {}) } as Record<string, unknown> & Record<K, string> & { rootPrefix?: string };
}

/**
 * Checks that `value` is an absolute `http://` or `https://` URL (an endpoint), for backends.
 * @returns `value` unchanged.
 * @throws InvalidArgumentError saying to add `http://` or `https://` when the scheme is missing.
 */
export function requireHttpUrl(name: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url && (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '') return value;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new InvalidArgumentError(`${name} "${value}" has no scheme: add http:// or https:// (http://${value} for a local emulator)`, { argument: name });
  }
  throw new InvalidArgumentError(`${name} "${value}" is not an http:// or https:// URL`, { argument: name });
}

/**
 * The bucket (or container) and prefix of a store URI, `<scheme>://<name>/<prefix>`, for
 * backends' `fromStoreUri`. The prefix has no leading or trailing `/` and is left out when empty.
 * @param what what the host part names, for the message: `bucket`, `container`.
 * @throws InvalidArgumentError when the name is missing or the URI carries a user or password.
 */
export function storeUriLocation(url: URL, what: string): { name: string; prefix?: string } {
  if (url.username !== '' || url.password !== '') {
    throw new InvalidArgumentError(`Store URIs do not carry credentials (user or password before "@"): use the backend's environment variables or credential chain`, { argument: 'uri' });
  }
  const name = safeDecode(url.hostname || url.host);
  if (name === '') throw new InvalidArgumentError(`${url.protocol}// URIs name a ${what}: ${url.protocol}//<${what}>/<prefix>`, { argument: what });
  const prefix = safeDecode(url.pathname).replace(/^\/+|\/+$/g, '');
  return prefix === '' ? { name } : { name, prefix };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw new InvalidArgumentError(`Store URI part "${text}" is not valid percent-encoding`, { argument: 'uri', cause: error });
  }
}

/**
 * A variable Python modelstore's storage needs, for backends' `fromEnvironment`.
 * @throws StoreConfigurationError naming the variable when it is unset or empty.
 */
export function requireVariable(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new StoreConfigurationError(`MODEL_STORE_STORAGE=${env.MODEL_STORE_STORAGE ?? ''} needs ${name} to be set`, [name]);
  }
  return value;
}

/**
 * The optional variables of Python modelstore's storage that are set, for backends'
 * `fromEnvironment`: each key of `names` whose variable is set and not empty, with its
 * value. `optionalVariables({ MODEL_STORE_GCP_PROJECT: 'p' }, { projectId: 'MODEL_STORE_GCP_PROJECT', rootPrefix: 'MODEL_STORE_GCP_ROOT_PREFIX' })`
 * is `{ projectId: 'p' }`.
 */
export function optionalVariables<K extends string>(env: Environment, names: Record<K, string>): Partial<Record<K, string>> {
  const values: Partial<Record<K, string>> = {};
  for (const [key, name] of Object.entries(names) as [K, string][]) {
    const value = env[name];
    if (value !== undefined && value !== '') values[key] = value;
  }
  return values;
}

/**
 * How a backend reads one value of Python's `MODEL_STORE_STORAGE`: a table of option name
 * to variable (`required`: set and not empty, else a `StoreConfigurationError` naming it;
 * `optional`: read when set and not empty), or a function for what a table cannot say
 * (defaults, values built from several variables).
 */
export type PythonStorageVariables<TOptions> = { required: Record<string, string>; optional?: Record<string, string> } | ((env: Environment) => TOptions);

/** What is particular to a bucket backend; {@link bucketBackend} makes its `StoreBackend` from it. */
export interface BucketBackendSpec<TOptions, TStorage extends Storage> {
  /** Its URI schemes, lower case and without `://`: `['gs', 'gcs']`. */
  schemes: readonly string[];
  /** The option the host part of its URIs names: `bucket`, `container`. */
  location: string;
  /** Its URI query options, as {@link storeUriOptions} takes them: `{ region: "string: the bucket's region" }`. */
  options: Parameters<typeof storeUriOptions>[0];
  /** Python's `MODEL_STORE_STORAGE` values it reads (the keys, in order) and how it reads their variables. */
  environment: Record<string, PythonStorageVariables<TOptions>>;
  /** Checks what the URI or the variables cannot (an endpoint's scheme, a missing credential) and makes the storage. */
  create(options: TOptions): TStorage;
}

/**
 * The `StoreBackend` exports of a backend whose URIs are `<scheme>://<bucket>/<prefix>?<options>`
 * (S3, GCS, Azure): `uriSchemes` and `pythonStorageNames` from `spec`, `describeOptions` from
 * its option table, `fromStoreUri` through {@link readBucketStoreUri} (the bucket under the key
 * `location`, the prefix as `rootPrefix`), `fromEnvironment` from its variables (`undefined` for
 * another `MODEL_STORE_STORAGE`), and `createStorage` = `spec.create`. A backend package
 * exports each member under its own name.
 * @throws InvalidArgumentError when an option's table entry has no valid type (see {@link storeUriOptions}).
 */
export function bucketBackend<TOptions, TStorage extends Storage>(spec: BucketBackendSpec<TOptions, TStorage>): StoreBackend<TOptions> & { createStorage(options: TOptions): TStorage } {
  const describeOptions = storeUriOptions(spec.options);
  return {
    uriSchemes: spec.schemes,
    pythonStorageNames: Object.keys(spec.environment),
    describeOptions,
    fromStoreUri: (url) => readBucketStoreUri(url, spec.location, describeOptions) as TOptions,
    fromEnvironment(env) {
      const name = env.MODEL_STORE_STORAGE;
      const variables = name !== undefined && Object.hasOwn(spec.environment, name) ? spec.environment[name] : undefined;
      if (variables === undefined || typeof variables === 'function') return variables?.(env);
      const required = Object.fromEntries(Object.entries(variables.required).map(([key, variable]) => [key, requireVariable(env, variable)]));
      return { ...required, ...optionalVariables(env, variables.optional ?? {}) } as TOptions;
    },
    createStorage: (options) => spec.create(options),
  };
}

function allBackends(extra: readonly StoreBackendPackage[] = []): readonly StoreBackendPackage[] {
  return [...extra, ...storeBackendPackages];
}

/**
 * Reads a store URI: `file:///abs/path` or a plain path, `s3://bucket/prefix`,
 * `gs://bucket/prefix`, `azure://container/prefix` (or a scheme of `backends`). Only the
 * scheme is read here; the backend reads the rest (its `fromStoreUri`) when it is opened.
 * @returns the package that opens it and the URI (a plain path as a `file://` URL).
 * @throws InvalidArgumentError for an unknown scheme or a URI that does not parse.
 */
export function parseStoreUri(target: string, backends?: readonly StoreBackendPackage[]): StorageTarget & { uri: URL } {
  const known = allBackends(backends);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    // `s3:bucket` or `s3:/bucket` would otherwise become a folder named "s3:bucket" in the current directory.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1]?.toLowerCase();
    if (scheme !== undefined && known.some((backend) => backend.uriSchemes.includes(scheme))) {
      const rest = target.slice(scheme.length + 1).replace(/^\/+/, '');
      const hint = scheme === 'file' ? `file:///absolute/path, or the path alone (${rest})` : `${scheme}://${rest}`;
      throw new InvalidArgumentError(`"${target}" is missing the // after ${scheme}: write ${hint}`, { argument: 'uri' });
    }
    return { package: packageForScheme('file', known), uri: pathToFileURL(path.resolve(target)) };
  }
  let uri: URL;
  try {
    uri = new URL(target);
  } catch (error) {
    throw new InvalidArgumentError(`"${target}" is not a store URI that parses: check its punctuation and percent-encoding`, { argument: 'uri', cause: error });
  }
  return { package: packageForScheme(uri.protocol.slice(0, -1).toLowerCase(), known), uri };
}

function packageForScheme(scheme: string, known: readonly StoreBackendPackage[]): string {
  const found = known.find((backend) => backend.uriSchemes.includes(scheme));
  if (found) return found.package;
  const schemes = [...new Set(known.flatMap((backend) => backend.uriSchemes))].map((name) => `${name}://`);
  throw new InvalidArgumentError(`Unknown store URI scheme "${scheme}://": use ${schemes.join(', ')} (or a plain path)`, { argument: 'uri' });
}

/**
 * Reads Python modelstore's `MODEL_STORE_STORAGE` (as `modelstore.utils.cli.model_store_from_env`
 * does in 0.0.82) to find the backend package; the backend reads the variables of that
 * storage (its `fromEnvironment`) when it is opened.
 *
 * | `MODEL_STORE_STORAGE` | package |
 * |---|---|
 * | `filesystem` | `@modelstore/storage-fs` |
 * | `aws-s3`, `minio`, `backblaze-b2` | `@modelstore/storage-s3` |
 * | `google-cloud-storage` | `@modelstore/storage-gcs` |
 * | `azure-container` | `@modelstore/storage-azure` |
 *
 * @throws StoreConfigurationError when `MODEL_STORE_STORAGE` is unset, empty or unknown.
 */
export function storeTargetFromEnv(env: Environment = process.env, backends?: readonly StoreBackendPackage[]): StorageTarget {
  const name = env.MODEL_STORE_STORAGE;
  const known = allBackends(backends);
  if (name === undefined || name === '') {
    throw new StoreConfigurationError(
      "No store given: pass a store URI (the CLI's --store), set MODELSTORE_STORE to one (file:///path, s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix), or set MODEL_STORE_STORAGE and its MODEL_STORE_* variables as for Python modelstore",
      ['--store', 'MODELSTORE_STORE', 'MODEL_STORE_STORAGE'],
    );
  }
  const found = known.find((backend) => (backend.pythonStorageNames ?? []).includes(name));
  if (!found) {
    const names = [...new Set(known.flatMap((backend) => backend.pythonStorageNames ?? []))];
    throw new StoreConfigurationError(`MODEL_STORE_STORAGE="${name}" is not one of ${names.join(', ')}`, ['MODEL_STORE_STORAGE']);
  }
  return { package: found.package, pythonStorageName: name, env };
}

async function defaultImporter(name: string): Promise<unknown> {
  try {
    return await import(name);
  } catch (first) {
    // Installed in the application rather than beside this package (workspaces, global installs).
    try {
      const resolved = createRequire(path.join(process.cwd(), 'package.json')).resolve(name);
      return await import(pathToFileURL(resolved).href);
    } catch {
      throw first;
    }
  }
}

async function importBackend(name: string, importer: (name: string) => Promise<unknown>): Promise<StoreBackend> {
  let module: Partial<StoreBackend>;
  try {
    module = (await importer(name)) as Partial<StoreBackend>;
  } catch (error) {
    const code = (error as { code?: string } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingDependencyError(name, `This store needs ${name}: npm install ${name}`, { cause: error });
    }
    throw new MissingDependencyError(name, `${name} could not be loaded (${(error as Error)?.message ?? String(error)}): reinstall it`, { cause: error });
  }
  if (typeof module?.fromStoreUri !== 'function' || typeof module.fromEnvironment !== 'function' || typeof module.createStorage !== 'function') {
    throw new MissingDependencyError(name, `${name} does not export fromStoreUri, fromEnvironment and createStorage: install a version of ${name} that matches @modelstore/core`);
  }
  return module as StoreBackend;
}

/** Runs a backend's own code, so that a failure in it is a modelstore error, never a raw one. */
function inBackend<T>(name: string, what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (ModelStoreError.isInstance(error)) throw error;
    throw new StoreConfigurationError(`${name} could not ${what}: ${(error as Error)?.message ?? String(error)}`, [], { cause: error });
  }
}

/**
 * Creates the `Storage` a target names: imports its backend package on demand and
 * passes the URI or the variables to the backend's `fromStoreUri` / `fromEnvironment`.
 * @throws MissingDependencyError when the package is not installed (`packageName`), or is a version without `StoreBackend`.
 * @throws InvalidArgumentError for what the backend refuses in the URI.
 * @throws StoreConfigurationError for what the backend needs from the variables.
 */
export async function openStorage(target: StorageTarget, importer: (name: string) => Promise<unknown> = defaultImporter): Promise<Storage> {
  const backend = await importBackend(target.package, importer);
  const options =
    'uri' in target
      ? inBackend(target.package, `read ${target.uri.protocol}// URIs`, () => backend.fromStoreUri(target.uri))
      : inBackend(target.package, `read MODEL_STORE_STORAGE=${target.pythonStorageName}`, () => backend.fromEnvironment(target.env));
  if (options === undefined) {
    throw new StoreConfigurationError(`${target.package} does not read MODEL_STORE_STORAGE=${'uri' in target ? '' : target.pythonStorageName}: install a version that matches @modelstore/core`, ['MODEL_STORE_STORAGE']);
  }
  return inBackend(target.package, 'create its storage', () => backend.createStorage(options));
}

/**
 * Opens a registry from a store URI (`file:///path` or a path, `s3://bucket/prefix`,
 * `gs://bucket/prefix`, `azure://container/prefix`, with the backend's options as query
 * parameters: `?region=eu-west-1`), or when `target` is omitted or empty from the
 * `MODELSTORE_STORE` variable, else from Python modelstore's `MODEL_STORE_*` variables,
 * so the same code reads a folder on a laptop and a bucket in production.
 *
 * @throws InvalidArgumentError for an unknown scheme, an unknown or malformed URI option, `file://host/path`.
 * @throws StoreConfigurationError when no store is given, or a `MODEL_STORE_*` variable is missing or unknown.
 * @throws MissingDependencyError when the backend package is not installed (`packageName`).
 */
export async function openModelStore(target?: string, options: OpenModelStoreOptions = {}): Promise<ModelStore> {
  if (target !== undefined && typeof target !== 'string')
    throw new InvalidArgumentError(`openModelStore: the store must be a URI or path string (e.g. "s3://bucket/prefix" or "./models"), got ${target === null ? 'null' : typeof target}`, { argument: 'target' });
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`openModelStore: options must be an object, got ${options === null ? 'null' : typeof options}`, { argument: 'options' });
  const env = options.env ?? process.env;
  const uri = target === undefined || target === '' ? env.MODELSTORE_STORE : target;
  const storageTarget = uri === undefined || uri === '' ? storeTargetFromEnv(env, options.backends) : parseStoreUri(uri, options.backends);
  const storage = await openStorage(storageTarget, options.importer);
  return new ModelStore({
    storage,
    adapters: options.adapters ?? [],
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    ...(options.cacheMaxBytes === undefined ? {} : { cacheMaxBytes: options.cacheMaxBytes }),
    ...(options.checkConditionalWrites === undefined ? {} : { checkConditionalWrites: options.checkConditionalWrites }),
  });
}
