import { RawAdapter } from '@modelstore/adapter-raw';
import {
  DomainNotFoundError,
  InvalidNameError,
  InvalidOptionError,
  InvalidArgumentError,
  MissingDependencyError,
  StoreConfigurationError,
  ModelDeletedError,
  ModelExistsError,
  ModelNotFoundError,
  ModelStoreError,
  PreconditionFailedError,
  SignatureError,
  StateNotFoundError,
  StorageError,
  stringifyJson,
  DestinationExistsError,
  openModelStore,
  checkStorage,
  cleanModelCache,
  defaultCacheDir,
  minimumGarbageAge,
  ModelStore,
  checkJsonValue,
  createdTime,
  parseJson,
  parseStoreUri,
  validateDomain,
  validateModelId,
  validateStateName,
  type ModelAdapter,
  type ModelMetadata,
  type ModelSummary,
  type Storage,
  type StoredObject,
} from '@modelstore/core';
import { archiveKeyFromLocation, layout, registryRoot } from '@modelstore/core/internal';
import { sha256Of } from '@modelstore/core/storage-kit';
import cliProgress from 'cli-progress';
import { Command, CommanderError, Option } from 'commander';
import ms from 'ms';
import pMap from 'p-map';
import { statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { displayWidth, padDisplay, table } from './columns.js';
import { version } from './version.js';
import { formatStorageReport } from './doctor.js';
import { cliMessage, formatBytes, shellWord, signingOptionFlag, type CommandContext } from './words.js';
import { registerCacheCommands } from './cache-commands.js';
import { adapterSummary } from './adapter-summaries.js';
import { readSigner, readVerification, registerSignCommands, signatureSummary } from './sign-commands.js';

/** Exit codes: what a script can tell apart. */
export const exitCodes = { ok: 0, failure: 1, usage: 2, notFound: 3, conflict: 4, signature: 5 } as const;

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

interface GlobalOptions {
  store?: string;
  json?: boolean;
  cacheDir?: string;
}

/** A bad command line: exit 2, `--json` code `USAGE` (with `argument` when one option or argument is at fault). */
class UsageError extends Error {
  constructor(
    message: string,
    readonly argument?: string,
  ) {
    super(message);
  }
}

/** An error of the CLI's own with its `--json` code and exit code (e.g. `REGISTRY_NOT_FOUND`, 3). */
class CliError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A command that changed the store and then failed: the message says what was done (e.g. the uploaded model's id) before the error. */
class PartialError extends Error {
  constructor(
    readonly done: string,
    readonly inner: unknown,
  ) {
    super(`${done}, but ${inner instanceof Error ? inner.message : String(inner)}`);
  }
}

const examples = `
Examples:
  $ modelstore --store ./models upload churn model.bin --extra README.md --meta git_sha=4e81234 --meta-json accuracy=0.93 --state production
  $ modelstore --store s3://my-bucket/registry?region=eu-west-1 ls churn
  $ modelstore ls churn --state production --json
  $ modelstore download churn --to ./churn-latest
  $ modelstore download churn --state production --to ./serving
  $ modelstore cp churn 1b2c... --to gs://prod-models/registry
  $ modelstore gc --older-than 2h --dry-run
  $ modelstore doctor --store s3://my-bucket/registry?endpoint=http://localhost:9000
  $ modelstore sign churn 1b2c... --key signing-key.pem
  $ modelstore download churn --verify-key signing-pub.pem --to ./churn-verified

The store is --store <uri> (file:///path or a path, s3://bucket/prefix, gs://bucket/prefix,
azure://container/prefix), else MODELSTORE_STORE, else Python modelstore's MODEL_STORE_* variables.

Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found, 4 already exists or lost a race,
5 signature missing or not valid (sign, verify, download --verify-key/--verify-certificate).`;

/** A progress bar on stderr with speed and ETA, only when stderr is a terminal. `update` takes the total too when core reports one. */
function progressBar(io: CliIo, label: string, initialTotal: number): { update(bytes: number, totalBytes?: number): void; stop(): void } {
  let total = initialTotal;
  if (!io.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr as NodeJS.WritableStream,
      format: `${label} {bar} {percentage}% | {done}/{size} | {speed} | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 10,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(Math.max(total, 1), 0, { done: formatBytes(0), size: formatBytes(total), speed: '-' });
  return {
    update(bytes: number, totalBytes?: number) {
      if (totalBytes !== undefined && totalBytes !== total) {
        total = totalBytes;
        bar.setTotal(Math.max(total, 1));
        bar.update({ size: formatBytes(total) });
      }
      const seconds = (Date.now() - started) / 1000;
      bar.update(Math.min(bytes, Math.max(total, 1)), { done: formatBytes(bytes), speed: seconds > 0 ? `${formatBytes(bytes / seconds)}/s` : '-' });
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * What is at a path the user gave: `undefined` when nothing is there; a usage error saying
 * what is wrong when the path cannot be looked at (a part of it is a file, no permission).
 */
function inspectPath(target: string, option: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(target, { throwIfNoEntry: false });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOTDIR' ? 'a part of the path is a file, not a folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENAMETOOLONG' ? 'the path is too long' : (error as Error).message;
    throw new UsageError(`${option} ${target} cannot be used: ${why}`, option);
  }
}

/**
 * `--meta key=value` (values stay strings, exactly as typed) and `--meta-json key=<json>`
 * (typed values: numbers, booleans, null, arrays, objects; refused as core refuses them:
 * NaN, Infinity, integers beyond 2^53...). Checked before any I/O.
 */
function parseMeta(pairs: string[], jsonPairs: string[]): Record<string, unknown> | undefined {
  if (pairs.length === 0 && jsonPairs.length === 0) return undefined;
  const meta: Record<string, unknown> = {};
  const split = (option: string, pair: string): [string, string] => {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`${option} takes key=value, got "${pair}"`, option);
    const key = pair.slice(0, at);
    if (Object.hasOwn(meta, key)) throw new UsageError(`${option}: the key "${key}" is given twice`, option);
    return [key, pair.slice(at + 1)];
  };
  // defineProperty, not assignment: a key "__proto__" is data, never the prototype.
  const set = (key: string, value: unknown) => Object.defineProperty(meta, key, { value, enumerable: true, writable: true, configurable: true });
  for (const pair of pairs) {
    const [key, value] = split('--meta', pair);
    set(key, value);
  }
  for (const pair of jsonPairs) {
    const [key, text] = split('--meta-json', pair);
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (error) {
      throw new UsageError(`--meta-json ${key}: ${JSON.stringify(text)} is not JSON (${(error as Error).message}); a string needs its quotes, e.g. --meta-json '${key}="text"', or use --meta ${key}=text`, '--meta-json');
    }
    set(key, value);
  }
  try {
    checkJsonValue(meta, 'extraMetadata');
  } catch (error) {
    throw new UsageError(`--meta-json: ${(error as Error).message.replace(/^extraMetadata\.?/, '')}`, '--meta-json');
  }
  return meta;
}

function parseDuration(text: string): number {
  const value = ms(text as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new UsageError(`--older-than takes a duration such as 30m, 2h or 7d, got "${text}"`);
  return value;
}

/**
 * `download`'s folder when `--to` is not given: `<domain>-<modelId>`, or when that is over
 * 200 UTF-8 bytes (names run to 200 bytes each, file names stop at 255), the model id
 * alone, else `model-<16 hex characters of sha256(domain/modelId)>`.
 */
export function defaultDownloadFolder(domain: string, modelId: string): string {
  const limit = 200;
  if (Buffer.byteLength(`${domain}-${modelId}`) <= limit) return `${domain}-${modelId}`;
  if (Buffer.byteLength(modelId) <= limit) return modelId;
  return `model-${createHash('sha256').update(`${domain}/${modelId}`).digest('hex').slice(0, 16)}`;
}

/** A model's creation time as ISO 8601 UTC (core's `createdTime`: the precise time, else Python's stamp read against the document's storage time); null when unknown. */
function createdIso(metadata: ModelMetadata, documentTime?: Date): string | null {
  const time = createdTime(metadata, documentTime);
  return time > 0 && Number.isFinite(time) ? new Date(time).toISOString() : null;
}

/**
 * The adapters `modelstore upload` uses when their package is installed beside the CLI,
 * most specific first (package, export, library); RawAdapter (`model_file`) always, last.
 */
const uploadAdapters = [
  ['@modelstore/adapter-gguf', 'GgufAdapter', 'gguf'],
  ['@modelstore/adapter-transformers', 'TransformersAdapter', 'transformers.js'],
  ['@modelstore/adapter-safetensors', 'SafetensorsAdapter', 'safetensors'],
  ['@modelstore/adapter-onnx', 'OnnxAdapter', 'onnx'],
] as const;

/**
 * The installed adapters of {@link uploadAdapters}, then RawAdapter. `wanted` (a library
 * name from `--adapter`) must be one of them and installed.
 * @throws UsageError for an unknown library; MissingDependencyError for one whose package is not installed
 */
async function installedAdapters(importer: (name: string) => Promise<unknown>, wanted?: string): Promise<ModelAdapter[]> {
  const known = uploadAdapters.find(([, , library]) => library === wanted);
  if (wanted !== undefined && wanted !== 'model_file' && !known) {
    throw new UsageError(`--adapter ${wanted}: use one of ${[...uploadAdapters.map(([, , library]) => library), 'model_file'].join(', ')}`, '--adapter');
  }
  const found = await Promise.all(
    uploadAdapters.map(async ([name, exported]) => {
      try {
        const Adapter = ((await importer(name)) as Record<string, unknown>)[exported];
        return typeof Adapter === 'function' ? (new (Adapter as new () => ModelAdapter)() as ModelAdapter) : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  if (known && !found[uploadAdapters.indexOf(known)]) {
    throw new MissingDependencyError(known[0], `--adapter ${wanted} needs ${known[0]}: npm install ${known[0]} (beside @modelstore/cli)`);
  }
  return [...found.filter((adapter): adapter is ModelAdapter => adapter !== undefined), new RawAdapter()];
}

/**
 * Imports a package installed beside the CLI (resolved from the CLI's own location), else
 * in the project the command runs in (`cwd`'s `node_modules`, as `npx modelstore` finds it).
 */
function importBeside(cwd: string): (name: string) => Promise<unknown> {
  return async (name) => {
    try {
      return await import(name);
    } catch {
      const resolved = createRequire(path.join(cwd, 'package.json')).resolve(name);
      return import(pathToFileURL(resolved).href);
    }
  };
}

/**
 * What to tell a user whose model was stored as plain files although it is (or a folder
 * holds) a format an adapter knows: the package to install, or how to pass it, and that
 * one part of a split set is only that part. `undefined` when there is nothing to say.
 */
async function plainFilesNote(paths: string[], installed: ModelAdapter[]): Promise<string | undefined> {
  const libraries = new Set(installed.map((adapter) => adapter.library));
  const byExtension: Array<[string, string]> = [
    ['.gguf', 'gguf'],
    ['.safetensors', 'safetensors'],
    ['.onnx', 'onnx'],
  ];
  const libraryOf = (name: string) => byExtension.find(([extension]) => name.toLowerCase().endsWith(extension))?.[1];
  for (const file of paths) {
    const isFolder = (await stat(file).catch(() => undefined))?.isDirectory() === true;
    const inside = isFolder ? await readdir(file).catch(() => [] as string[]) : [];
    const library = isFolder ? (inside.includes('config.json') ? 'transformers.js' : inside.map(libraryOf).find(Boolean)) : libraryOf(file);
    const known = uploadAdapters.find(([, , name]) => name === library);
    if (!known) continue;
    const part = /-\d{5}-of-\d{5}\.gguf$/i.test(file) ? ' Only this part of a split set was stored: the model cannot be loaded from it alone.' : '';
    if (!libraries.has(library!)) return `stored as plain files (model_file): install ${known[0]} beside the CLI to have this model's format checked and its header recorded.${part}`;
    if (isFolder) return `stored as plain files (model_file): the folder holds ${library} files, which ${known[0]} stores when given the file itself (for a split set, any part); pass that instead of the folder.`;
  }
  return undefined;
}

/** Whether a downloaded folder holds a signature bundle (`model.sig`, at the top or under `extras/`). */
async function signedFolder(directory: string): Promise<boolean> {
  for (const name of ['model.sig', path.join('extras', 'model.sig')]) {
    if ((await stat(path.join(directory, name)).catch(() => undefined))?.isFile()) return true;
  }
  return false;
}

/** The exit code for an error, and whether it is a usage error. */
function exitCodeOf(error: unknown): number {
  if (error instanceof PartialError) return exitCodeOf(error.inner);
  if (error instanceof CliError) return error.exitCode;
  // A bad store URI or option (unknown scheme or query option, file://relative) and missing store settings
  // (no store, MODEL_STORE_ROOT_PREFIX unset) are usage errors: the command line or the variables must change.
  if (error instanceof UsageError || InvalidNameError.isInstance(error) || InvalidArgumentError.isInstance(error) || StoreConfigurationError.isInstance(error)) return exitCodes.usage;
  if (DomainNotFoundError.isInstance(error) || ModelNotFoundError.isInstance(error) || StateNotFoundError.isInstance(error) || ModelDeletedError.isInstance(error)) return exitCodes.notFound;
  if (ModelExistsError.isInstance(error) || PreconditionFailedError.isInstance(error) || DestinationExistsError.isInstance(error)) return exitCodes.conflict;
  if (SignatureError.isInstance(error)) return exitCodes.signature;
  return exitCodes.failure;
}

/** The local path of a file:// URL, or undefined when it has none (a host other than localhost). */
function localPath(url: URL): string | undefined {
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

/** sha256 of a stored object's bytes, streamed. */
async function objectSha256(storage: Storage, key: string): Promise<string | undefined> {
  const object = await storage.get(key);
  if (!object) return undefined;
  return (await sha256Of(object.body as AsyncIterable<Uint8Array>, object.size)).sha256;
}

/** A view of `storage` whose reads of `key` report the bytes that pass (for `cp`'s progress bar). */
function countingReads(storage: Storage, key: string, onBytes: (bytes: number) => void): Storage {
  return {
    specificationVersion: storage.specificationVersion,
    capabilities: storage.capabilities,
    describe: (name) => storage.describe(name),
    put: (name, body, options) => storage.put(name, body, options),
    head: (name) => storage.head(name),
    list: (prefix, options) => storage.list(prefix, options),
    delete: (name) => storage.delete(name),
    get: async (name, options): Promise<StoredObject | undefined> => {
      const object = await storage.get(name, options);
      if (!object || name !== key) return object;
      let bytes = options?.range?.start ?? 0;
      // Counted as the consumer pulls, so no byte is read before it is wanted.
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          onBytes(bytes);
          done(null, chunk);
        },
      });
      object.body.on('error', (error) => counter.destroy(error));
      object.body.pipe(counter);
      return { ...object, body: counter };
    },
  };
}

const helpConfiguration = { showGlobalOptions: true, sortSubcommands: false } as const;

/** Runs the `modelstore` command with `argv` (without `node` and the script); resolves to the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const write = (text: string) => io.stdout.write(text);
  const note = (text: string) => io.stderr.write(`modelstore: ${text}\n`);
  const program = new Command('modelstore');
  // --json is known before commander parses, so that usage errors are JSON too.
  const ended = argv.indexOf('--');
  let json = (ended === -1 ? argv : argv.slice(0, ended)).includes('--json');
  let code: number = exitCodes.ok;
  let context: CommandContext = 'other';

  /** The store as given (`--store`, else `MODELSTORE_STORE`), or undefined when it comes from Python's MODEL_STORE_* variables. */
  const storeUri = (): string | undefined => program.opts<GlobalOptions>().store || io.env.MODELSTORE_STORE || undefined;
  const describeStore = (uri: string | undefined) => uri ?? `the store of MODEL_STORE_STORAGE=${io.env.MODEL_STORE_STORAGE ?? ''}`;

  /**
   * Checks a store URI before any I/O: it parses (scheme, options), it does not point inside
   * a registry (the `operatorai-model-store` folder Python users see), and a local path is not a file.
   */
  const checkStoreUri = (uri: string | undefined, option: string): void => {
    if (uri === undefined) return;
    const target = parseStoreUri(uri);
    const local = target.uri.protocol === 'file:' ? localPath(target.uri) : undefined;
    // A file:// URI with a host (file://relative) is refused by the store's opening, with its advice.
    if (target.uri.protocol === 'file:' && local === undefined) return;
    const segments = (local ?? decodeURIComponent(target.uri.pathname)).split(/[\\/]+/);
    if (segments.includes(registryRoot)) {
      const at = uri.indexOf(registryRoot);
      const parent = at > 0 ? uri.slice(0, at).replace(/[\\/]+$/, '') || '/' : '.';
      throw new UsageError(
        `${option} ${uri} points inside a registry (its ${registryRoot} folder): give the folder or prefix that holds ${registryRoot}, e.g. ${option} ${shellWord(parent)}${target.uri.search && at > 0 && !parent.includes('?') ? shellWord(target.uri.search) : ''}`,
        option,
      );
    }
    if (local !== undefined) {
      const info = inspectPath(local, option);
      if (info && !info.isDirectory()) throw new UsageError(`${option} ${uri} is a file, not a registry folder: give the folder that holds ${registryRoot}`, option);
    }
  };

  /** Opens a store (after `checkStoreUri`); `adapters` for an upload, RawAdapter alone otherwise (no other command needs one). */
  const openStore = (uri: string | undefined, adapters: ModelAdapter[] = [new RawAdapter()]): Promise<ModelStore> => {
    const options = program.opts<GlobalOptions>();
    return openModelStore(uri, {
      adapters,
      env: io.env,
      importer: (name) => import(name),
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    });
  };

  /** Whether the store holds a registry (any key under `operatorai-model-store/`). */
  const hasRegistry = async (store: ModelStore): Promise<boolean> => (await store.storage.list(`${registryRoot}/`, { limit: 1 })).objects.length > 0;

  /** Opens the store of a command that reads: a store that holds no registry is an error that says what is there instead. */
  const openExisting = async (uri: string | undefined = storeUri(), option = '--store'): Promise<ModelStore> => {
    checkStoreUri(uri, option);
    const store = await openStore(uri);
    if (await hasRegistry(store)) return store;
    const inner = await Promise.all(['domains/', 'model_states/'].map((prefix) => store.storage.list(prefix, { limit: 1 })));
    if (inner.some((page) => page.objects.length > 0)) {
      throw new UsageError(`${option} ${describeStore(uri)} is the inside of a registry (it holds domains/ and model_states/): give the folder or prefix above it`, option);
    }
    const target = uri === undefined ? undefined : parseStoreUri(uri);
    const local = target?.uri.protocol === 'file:' ? localPath(target.uri) : undefined;
    if (local !== undefined && inspectPath(local, option) === undefined) {
      throw new CliError(`${option} ${uri}: no such folder. Check the path; a first \`modelstore upload\` there creates a registry`, 'REGISTRY_NOT_FOUND', exitCodes.notFound);
    }
    throw new CliError(`No modelstore registry at ${describeStore(uri)}: it holds no ${registryRoot}/ folder. Check the path; a first \`modelstore upload\` there creates a registry`, 'REGISTRY_NOT_FOUND', exitCodes.notFound);
  };

  /** Opens the store of a command that writes; `announce()` says so on stderr when the command created the registry. */
  const openForWriting = async (uri: string | undefined = storeUri(), option = '--store', adapters?: ModelAdapter[]): Promise<{ store: ModelStore; announce(): void }> => {
    checkStoreUri(uri, option);
    const store = await openStore(uri, adapters);
    const existed = await hasRegistry(store);
    return { store, announce: () => (existed ? undefined : note(`created a new registry at ${describeStore(uri)}`)) };
  };

  /** Creates a state that does not exist yet; true when this call created it. */
  const ensureState = async (store: ModelStore, name: string): Promise<boolean> => {
    if ((await store.listModelStates()).includes(name)) return false;
    await store.createModelState(name);
    return true;
  };

  // Python's JSON dialect: metadata Python wrote (NaN, Infinity, integers of any size) is printed as stored.
  const output = (value: unknown, human: () => string) => write(json ? `${stringifyJson(value, { indent: 2 })}\n` : human());
  const repeatable = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

  program
    .name('modelstore')
    .description('Version, list, label, copy and download models in a modelstore registry (Python modelstore compatible).')
    .version(version)
    .option('--store <uri>', 'the registry: file:///path or a path, s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix (default: MODELSTORE_STORE, else MODEL_STORE_*)')
    .option('--json', 'machine-readable output on stdout, errors included')
    .option('--cache-dir <dir>', 'where loaded models are cached')
    .addHelpText('after', examples)
    .showHelpAfterError('(run modelstore --help for usage)')
    .exitOverride()
    .configureHelp(helpConfiguration)
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .hook('preAction', () => {
      json = program.opts<GlobalOptions>().json ?? false;
    });

  program
    .command('upload')
    .description('upload a model: one file, a directory, or several files; prints its id')
    .argument('<domain>', 'the domain (a model family, e.g. churn)')
    .argument('<paths...>', 'the model: a file, a directory, or several files')
    .option('--id <modelId>', 'model id (default: a new UUID)')
    .option('--extra <file>', 'an extra file, stored under extras/ (repeatable; files only)', repeatable)
    .option('--meta <key=value>', 'extra metadata, the value stored as a string (repeatable)', repeatable)
    .option('--meta-json <key=json>', 'extra metadata with a JSON value: a number, true, null, a list, an object (repeatable)', repeatable)
    .option('--state <state>', 'put the model in this state (created if it does not exist, as state set does)')
    .option('--adapter <library>', `store the model with this adapter: ${uploadAdapters.map(([, , library]) => library).join(', ')} or model_file (default: the first installed one that accepts the model, model_file last)`)
    .option('--sign-key <file>', 'sign the model (OpenSSF Model Signing) with this PEM private key (ECDSA P-256/P-384/P-521 verify with Python model_signing)')
    .option('--sign-certificate-chain <file>', 'with --sign-key: sign in certificate mode, PEM certificates (the signing certificate first, then intermediates)')
    .option('--passphrase-env <VARIABLE>', "with --sign-key: the environment variable that holds the key's passphrase")
    .action(
      async (domain: string, paths: string[], options: { id?: string; extra?: string[]; meta?: string[]; metaJson?: string[]; state?: string; adapter?: string; signKey?: string; signCertificateChain?: string; passphraseEnv?: string }) => {
        // Every argument is checked before the store is touched.
        context = 'upload';
        validateDomain(domain);
        if (options.id !== undefined) validateModelId(options.id);
        if (options.state !== undefined) validateStateName(options.state);
        const extraMetadata = parseMeta(options.meta ?? [], options.metaJson ?? []);
        const extras = options.extra ?? [];
        for (const file of paths) {
          if (!(await stat(file).catch(() => undefined))) throw new UsageError(`No such file or directory: ${file} (relative to ${process.cwd()}): check the path; nothing was uploaded`, 'paths');
        }
        for (const file of extras) {
          const info = await stat(file).catch(() => undefined);
          if (!info) throw new UsageError(`--extra ${file}: no such file`, '--extra');
          if (info.isDirectory()) throw new UsageError(`--extra ${file} is a directory: --extra takes files (give each file with its own --extra, or upload the directory as part of the model)`, '--extra');
          if (!info.isFile()) throw new UsageError(`--extra ${file} is not a regular file`, '--extra');
        }
        if (options.signKey === undefined && (options.signCertificateChain !== undefined || options.passphraseEnv !== undefined)) {
          throw new UsageError(
            `${options.signCertificateChain !== undefined ? '--sign-certificate-chain' : '--passphrase-env'} goes with --sign-key <private key PEM>`,
            options.signCertificateChain !== undefined ? '--sign-certificate-chain' : '--passphrase-env',
          );
        }
        const signer =
          options.signKey === undefined
            ? undefined
            : readSigner(
                { key: options.signKey, ...(options.passphraseEnv === undefined ? {} : { passphraseEnv: options.passphraseEnv }), ...(options.signCertificateChain === undefined ? {} : { certificateChain: options.signCertificateChain }) },
                io.env,
                {
                  key: '--sign-key',
                  passphraseEnv: '--passphrase-env',
                  certificateChain: '--sign-certificate-chain',
                },
              );
        const adapters = await installedAdapters(importBeside(process.cwd()), options.adapter);
        const { store, announce } = await openForWriting(undefined, '--store', adapters);
        // The total comes from core: the model's bytes, once the adapter has listed its files.
        const bar = progressBar(io, 'upload', 0);
        let metadata: ModelMetadata;
        try {
          metadata = await store.upload(domain, {
            model: paths.length === 1 ? paths[0]! : paths,
            ...(options.id ? { modelId: options.id } : {}),
            extraFiles: extras,
            ...(extraMetadata ? { extraMetadata } : {}),
            ...(options.adapter ? { adapter: options.adapter } : {}),
            ...(signer ? { sign: signer } : {}),
            onProgress: (progress) => bar.update(progress.bytes, progress.totalBytes),
          });
        } finally {
          bar.stop();
        }
        announce();
        const id = metadata.model.model_id;
        const plainNote = metadata.model.model_type?.library === 'model_file' && !options.adapter ? await plainFilesNote(paths, adapters) : undefined;
        if (plainNote) note(plainNote);
        if (options.state) {
          try {
            const created = await ensureState(store, options.state);
            await store.setModelState(domain, id, options.state);
            note(`${domain}/${id} is in state ${options.state}${created ? ` (state ${options.state} created)` : ''}`);
          } catch (error) {
            throw new PartialError(`uploaded model ${id} to ${domain}`, error);
          }
        }
        output(metadata, () => `${id}\n`);
      },
    );

  program
    .command('download')
    .description('download a model (default: the latest) and verify every file; prints the directory')
    .argument('<domain>', 'the domain')
    .argument('[modelId]', 'the model (default: the latest, or the newest in --state)')
    .option('--to <dir>', 'directory to create (default: ./<domain>-<modelId>, shortened when over 200 bytes)')
    .option('--overwrite', 'replace the directory if it exists and is not empty')
    .option('--state <state>', 'the newest model in this state (e.g. production) instead of the latest')
    .option('--verify-key <file>', "check the model's signature (OpenSSF Model Signing) against this PEM public key before anything is written; exit 5 when it does not hold (repeatable: any one of the keys)", repeatable)
    .option('--verify-certificate <file>', "check the model's signature against this trusted root CA certificate, PEM (certificate-signed models; repeatable)", repeatable)
    .option('--verify-identity <name>', 'with --verify-certificate: the email, URI or DNS name (or subject CN) the signing certificate must name')
    .option('--allow-unbound', 'with --verify-key/--verify-certificate: accept a signature not bound to this model (made by model_signing on a folder; see SECURITY.md)')
    .action(async (domain: string, modelId: string | undefined, options: { to?: string; overwrite?: boolean; state?: string; verifyKey?: string[]; verifyCertificate?: string[]; verifyIdentity?: string; allowUnbound?: boolean }) => {
      context = 'download';
      validateDomain(domain);
      if (modelId !== undefined) validateModelId(modelId);
      if (options.state !== undefined) validateStateName(options.state);
      if (modelId !== undefined && options.state !== undefined) throw new UsageError('give a model id or --state, not both: --state picks the newest model in that state', '--state');
      if (options.to !== undefined) {
        const info = inspectPath(options.to, '--to');
        if (info && !info.isDirectory()) throw new UsageError(`--to ${options.to} is a file: give a directory to create (or an empty one)`, '--to');
      }
      const verify = readVerification(
        {
          ...(options.verifyKey === undefined ? {} : { publicKey: options.verifyKey }),
          ...(options.verifyCertificate === undefined ? {} : { certificate: options.verifyCertificate }),
          ...(options.verifyIdentity === undefined ? {} : { identity: options.verifyIdentity }),
          ...(options.allowUnbound ? { allowUnbound: true } : {}),
        },
        { publicKey: '--verify-key', certificate: '--verify-certificate', identity: '--verify-identity' },
        false,
      );
      const store = await openExisting();
      const metadata = modelId !== undefined ? await store.getModelInfo(domain, modelId) : options.state !== undefined ? await store.getLatestModel(domain, { state: options.state }) : await store.getDomain(domain);
      const id = metadata.model.model_id;
      const bar = progressBar(io, 'download', metadata.archive?.size ?? 0);
      let directory: string;
      try {
        directory = await store.download(domain, {
          modelId: id,
          to: options.to ?? defaultDownloadFolder(domain, id),
          overwrite: options.overwrite ?? false,
          ...(verify ? { verify } : {}),
          onProgress: (progress) => bar.update(progress.bytes, progress.totalBytes),
        });
      } finally {
        bar.stop();
      }
      if (verify) note(`signature verified: ${domain}/${id} matches it`);
      else if (await signedFolder(directory)) note(`${domain}/${id} is signed, and this download did not verify it: pass --verify-key <public key PEM> (or --verify-certificate <root CA PEM>) to check it`);
      output({ domain, modelId: id, directory, ...(verify ? { verified: true } : {}) }, () => `${directory}\n`);
    });

  program
    .command('ls')
    .description('list the domains, or the models of a domain newest first (id, created, library, size, states)')
    .argument('[domain]', 'the domain whose models to list (default: list the domains)')
    .option('--state <state>', 'only models in this state')
    .option('--limit <n>', 'one page of at most n models (1 to 1000), newest first; prints how to get the next page')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed (with the same --limit)')
    .action(async (domain: string | undefined, options: { state?: string; limit?: string; cursor?: string }) => {
      if (domain !== undefined) validateDomain(domain);
      if (options.state !== undefined) validateStateName(options.state);
      if (domain === undefined && options.state) throw new UsageError('--state needs a domain: modelstore ls <domain> --state <state>', '--state');
      if (domain === undefined && (options.limit !== undefined || options.cursor !== undefined)) {
        throw new UsageError(`${options.limit !== undefined ? '--limit' : '--cursor'} pages the models of a domain: modelstore ls <domain> --limit 50`, options.limit !== undefined ? '--limit' : '--cursor');
      }
      const limit = options.limit === undefined ? undefined : Number(options.limit);
      if (options.limit !== undefined && !(/^\d+$/.test(options.limit) && limit! >= 1 && limit! <= 1000)) throw new UsageError(`--limit takes a number of models from 1 to 1000, got "${options.limit}"`, '--limit');
      if (options.cursor !== undefined && limit === undefined) throw new UsageError('--cursor needs --limit: pass the same --limit as for the previous page', '--cursor');
      const store = await openExisting();
      /** The creation time, reading the document's storage time only when the metadata has no precise time (Python-written models). */
      const created = async (metadata: ModelMetadata) => {
        if (typeof metadata.code?.created_at === 'string' && !Number.isNaN(Date.parse(metadata.code.created_at))) return createdIso(metadata);
        const info = await store.storage.head(layout.version(metadata.model.domain, metadata.model.model_id));
        return createdIso(metadata, info?.lastModified);
      };
      if (domain === undefined) {
        const domains = await store.listDomains();
        // One domain that cannot be read (a damaged pointer, every model deleted) does not hide the others.
        const latest = await pMap(
          domains,
          (name) =>
            store.getDomain(name).then(
              async (metadata) => ({ domain: name, latest: metadata.model.model_id, created: await created(metadata) }),
              (error: unknown) => {
                if (!ModelStoreError.isInstance(error) || StorageError.isInstance(error)) throw error;
                return { domain: name, latest: null, created: null, error: { code: (error as ModelStoreError).code, message: cliMessage(error) } };
              },
            ),
          { concurrency: 16 },
        );
        output(latest, () => table([['DOMAIN', 'LATEST MODEL', 'CREATED'], ...latest.map((row) => [row.domain, row.latest ?? `- (${row.error!.code.toLowerCase()})`, row.created ?? '-'])]));
        return;
      }
      const toRow = ({ modelId, createdAt, library, size, states }: ModelSummary) => ({ modelId, created: createdAt, library, size, states });
      const render = (rows: ReturnType<typeof toRow>[]) =>
        table([['MODEL ID', 'CREATED', 'LIBRARY', 'SIZE', 'STATES'], ...rows.map((row) => [row.modelId, row.created ?? '-', row.library ?? '-', row.size === null ? '-' : formatBytes(row.size), row.states.join(',') || '-'])]);
      if (limit !== undefined) {
        // One page from the domain's index: a few requests at any domain size.
        const page = await store.listModelSummaries(domain, { ...(options.state ? { state: options.state } : {}), limit, ...(options.cursor === undefined ? {} : { cursor: options.cursor }) }).catch((error: unknown) => {
          if (InvalidOptionError.isInstance(error) && (error as InvalidOptionError).option === 'cursor') {
            throw new UsageError(`--cursor ${options.cursor} is not the cursor of a previous page of this listing (same domain and --state): omit it for the first page`, '--cursor');
          }
          throw error;
        });
        const rows = page.models.map(toRow);
        output({ models: rows, ...(page.cursor === undefined ? {} : { cursor: page.cursor }) }, () => render(rows));
        if (page.cursor !== undefined && !json) {
          const store = program.opts<GlobalOptions>().store;
          note(`next page: modelstore${store ? ` --store ${shellWord(store)}` : ''} ls ${shellWord(domain)}${options.state ? ` --state ${shellWord(options.state)}` : ''} --limit ${limit} --cursor ${page.cursor}`);
        }
        return;
      }
      // From the listing, the index and the states: no read per model this library wrote.
      const rows = (await store.listModelSummaries(domain, options.state ? { state: options.state } : {})).map(toRow);
      output(rows, () => render(rows));
    });

  program
    .command('info')
    .description("show a model's summary: id, creation time, library, size, states, files, metadata (--json: the whole document)")
    .argument('<domain>', 'the domain')
    .argument('[modelId]', 'the model (default: the latest)')
    .action(async (domain: string, modelId: string | undefined) => {
      validateDomain(domain);
      if (modelId !== undefined) validateModelId(modelId);
      const store = await openExisting();
      const metadata = modelId === undefined ? await store.getDomain(domain) : await store.getModelInfo(domain, modelId);
      const id = metadata.model.model_id;
      const states = await store.getModelStates(domain, id);
      const signature = await signatureSummary(store, domain, id, metadata);
      if (json) {
        output({ ...metadata, states, signature: signature.json }, () => '');
        return;
      }
      const documentTime = metadata.code?.created_at ? undefined : (await store.storage.head(layout.version(domain, id)))?.lastModified;
      const archiveKey = archiveKeyFromLocation(metadata.storage);
      const size = metadata.archive?.size ?? (archiveKey ? (await store.storage.head(archiveKey).catch(() => undefined))?.size : undefined);
      const type = metadata.model.model_type;
      const summary = adapterSummary(metadata);
      const lines: Array<[string, string]> = [
        ['domain', domain],
        ['model id', id],
        ['created', createdIso(metadata, documentTime) ?? '-'],
        ['library', `${type?.library ?? '-'}${type?.type ? ` (${type.type})` : ''}`],
        ['size', size === undefined ? '-' : `${formatBytes(size)} archive${metadata.archive ? `, sha256 ${metadata.archive.sha256}` : ''}`],
        ['states', states.length ? states.join(', ') : '-'],
        ['written by', [metadata.modelstore ? `modelstore ${metadata.modelstore}` : '', metadata.code?.runtime ?? '', metadata.code?.user ? `user ${metadata.code.user}` : ''].filter(Boolean).join(', ') || '-'],
        ['storage', `${metadata.storage?.type ?? '-'}${archiveKey ? ` ${archiveKey}` : ''}`],
        ['signature', signature.line],
        ...summary.lines,
      ];
      const width = Math.max(...lines.map(([label]) => label.length)) + 1;
      let text = lines.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}\n`).join('');
      // The model's own files (not the archive's model-info.json, which this library writes), in columns.
      const files = Object.entries(metadata.archive?.files ?? {}).filter(([name]) => name !== 'model-info.json');
      const nameWidth = Math.max(0, ...files.map(([name]) => displayWidth(name)));
      if (files.length) text += `files:\n${files.map(([name, digest]) => `  ${padDisplay(name, nameWidth)}  ${formatBytes(digest.size).padStart(10)}\n`).join('')}`;
      for (const [label, value] of [
        ['parameters', metadata.model.parameters],
        ['data', metadata.model.data],
        ['extra', metadata.extra],
      ] as const) {
        if (value && typeof value === 'object' && Object.keys(value).length)
          text += `${label}:\n${Object.entries(value)
            .map(([key, item]) => (label === 'parameters' && summary.hide.includes(key) ? `  ${key}: ${Array.isArray(item) ? `${item.length} listed` : 'summarised above'} (--json prints them)\n` : `  ${key}: ${stringifyJson(item)}\n`))
            .join('')}`;
      }
      write(`${text}(modelstore --json info ${shellWord(domain)} ${shellWord(id)} prints the whole metadata document)\n`);
    });

  const state = program.command('state').description('create, remove and list model states; set and unset them on models');
  state
    .command('create')
    .description('create a model state (nothing happens if it exists)')
    .argument('<state>', 'the state name (at least 3 characters), e.g. production')
    .action(async (name: string) => {
      validateStateName(name);
      const { store, announce } = await openForWriting();
      const created = await ensureState(store, name);
      announce();
      output({ state: name, created }, () => (created ? `created state ${name}\n` : `state ${name} already exists\n`));
    });
  state
    .command('rm')
    .description('remove a model state (models keep their copies, but the state can no longer be listed or set)')
    .argument('<state>', 'the state name')
    .action(async (name: string) => {
      validateStateName(name);
      context = 'state rm';
      await (await openExisting()).deleteModelState(name);
      output({ state: name, removed: true }, () => `removed state ${name}\n`);
    });
  state
    .command('ls')
    .description('list the model states')
    .action(async () => {
      const states = (await (await openExisting()).listModelStates()).sort();
      output(states, () => (states.length ? `${states.join('\n')}\n` : ''));
    });
  /** `state set` and `state unset`: a model and a state, checked before the store is opened. */
  const modelStateCommand = (verb: string, description: string, run: (store: ModelStore, domain: string, modelId: string, name: string) => Promise<void>) =>
    state
      .command(verb)
      .description(description)
      .argument('<domain>', 'the domain')
      .argument('<modelId>', 'the model')
      .argument('<state>', 'the state name')
      .action(async (domain: string, modelId: string, name: string) => {
        validateDomain(domain);
        validateModelId(modelId);
        validateStateName(name);
        await run(await openExisting(), domain, modelId, name);
      });
  modelStateCommand('set', 'put a model in a state (the state is created if it does not exist, as upload --state does)', async (store, domain, modelId, name) => {
    // The model first: a missing model creates no state.
    await store.getModelInfo(domain, modelId);
    const stateCreated = await ensureState(store, name);
    await store.setModelState(domain, modelId, name);
    output({ domain, modelId, state: name, set: true, stateCreated }, () => `${domain}/${modelId} is in state ${name}${stateCreated ? ` (state ${name} created)` : ''}\n`);
  });
  modelStateCommand('unset', 'take a model out of a state', async (store, domain, modelId, name) => {
    const was = (await store.getModelStates(domain, modelId)).includes(name);
    await store.removeModelState(domain, modelId, name);
    output({ domain, modelId, state: name, set: false, wasSet: was }, () => (was ? `${domain}/${modelId} is no longer in state ${name}\n` : `${domain}/${modelId} was not in state ${name}\n`));
  });

  program
    .command('rm')
    .description('delete a model (soft delete, as Python modelstore does); asks on a terminal, --yes otherwise')
    .argument('<domain>', 'the domain')
    .argument('<modelId>', 'the model')
    .option('--yes', 'do not ask for confirmation')
    .action(async (domain: string, modelId: string, options: { yes?: boolean }) => {
      validateDomain(domain);
      validateModelId(modelId);
      if (!options.yes && !io.stdin.isTTY) throw new UsageError(`Deleting ${domain}/${modelId} needs confirmation: pass --yes`, '--yes');
      const store = await openExisting();
      await store.getModelInfo(domain, modelId);
      if (!options.yes) {
        const prompt = createInterface({ input: io.stdin, output: io.stderr });
        const answer = await prompt.question(`Delete model ${modelId} from ${domain}? [y/N] `).catch(() => '');
        prompt.close();
        if (!/^y(es)?$/i.test(answer.trim())) {
          output({ domain, modelId, deleted: false }, () => `not deleted: ${domain}/${modelId} is unchanged\n`);
          return;
        }
      }
      await store.deleteModel(domain, modelId);
      output({ domain, modelId, deleted: true }, () => `deleted ${domain}/${modelId}\n`);
    });

  program
    .command('cp')
    .description('copy a model to another store, hash-verified (any pair of backends); a copy already there with the same digests is not copied again')
    .argument('<domain>', 'the domain')
    .argument('<modelId>', 'the model')
    .requiredOption('--to <uri>', 'the target store (a URI or path, as --store; the same store with --id)')
    .option('--id <newId>', 'the id of the copy (default: the same id)')
    .option('--state <state>', 'put the copy in this state, created if needed (repeatable)', repeatable)
    .action(async (domain: string, modelId: string, options: { to: string; id?: string; state?: string[] }) => {
      validateDomain(domain);
      validateModelId(modelId);
      const copyId = options.id === undefined ? modelId : validateModelId(options.id);
      const states = options.state ?? [];
      for (const name of states) validateStateName(name);
      checkStoreUri(storeUri(), '--store');
      checkStoreUri(options.to, '--to');
      const source = await openExisting();
      const metadata = await source.getModelInfo(domain, modelId);
      const { store: target, announce } = await openForWriting(options.to, '--to');
      const archiveKey = archiveKeyFromLocation(metadata.storage);
      const existing = await target.getModelInfo(domain, copyId).catch((error: unknown) => {
        if (ModelNotFoundError.isInstance(error) || DomainNotFoundError.isInstance(error)) return undefined;
        throw error;
      });
      if (existing) {
        const theirs = existing.archive?.sha256 ?? (await objectSha256(target.storage, archiveKeyFromLocation(existing.storage) ?? ''));
        const ours = metadata.archive?.sha256 ?? (archiveKey ? await objectSha256(source.storage, archiveKey) : undefined);
        if (theirs === undefined || theirs !== ours) {
          throw new CliError(
            `Model "${copyId}" already exists in domain "${domain}" of ${options.to} with different contents (archive sha256 ${theirs ?? 'unknown'}, this one ${ours ?? 'unknown'}): model ids are never reused`,
            'MODEL_EXISTS',
            exitCodes.conflict,
          );
        }
        for (const name of states) {
          await ensureState(target, name);
          await target.setModelState(domain, copyId, name);
        }
        note(`${domain}/${copyId} is already there in ${options.to} (same archive sha256); nothing copied`);
        output(existing, () => `${copyId}\n`);
        return;
      }
      const size = metadata.archive?.size ?? (archiveKey ? (await source.storage.head(archiveKey))?.size : undefined) ?? 0;
      const bar = progressBar(io, 'copy', size);
      const counted = archiveKey && io.stderr.isTTY ? new ModelStore({ storage: countingReads(source.storage, archiveKey, (bytes) => bar.update(bytes)), adapters: [...source.adapters], cacheDir: source.cacheDir }) : source;
      let copy: ModelMetadata;
      try {
        copy = await counted.copyModel(domain, modelId, target, { states, ...(options.id === undefined ? {} : { targetModelId: copyId }) });
      } finally {
        bar.stop();
      }
      announce();
      output(copy, () => `${copyId}\n`);
    });

  program
    .command('gc')
    .description('remove archives that no metadata references (left by uploads that died)')
    .addOption(new Option('--older-than <duration>', 'grace period for archives without metadata').default('1h'))
    .option('--dry-run', 'list what would be removed')
    .option('--quiesced', 'allow --older-than below 15m: only when no upload is running and none was interrupted in the last 15 minutes')
    .option('--local', 'clean the local load cache instead (--cache-dir): staging folders of killed loads; the store is not touched')
    .action(async (options: { olderThan: string; dryRun?: boolean; quiesced?: boolean; local?: boolean }) => {
      if (options.local) {
        const cacheDir = path.resolve(program.opts<GlobalOptions>().cacheDir ?? defaultCacheDir());
        const dryRun = options.dryRun ?? false;
        const { removed } = await cleanModelCache(cacheDir, { dryRun });
        output({ cacheDir, removed, dryRun }, () => `${dryRun ? 'would remove' : 'removed'} ${removed.length} leftover(s) of killed loads from ${cacheDir}\n${removed.map((file) => `  ${file}\n`).join('')}`);
        return;
      }
      const olderThan = parseDuration(options.olderThan);
      const belowMinimum = () =>
        new UsageError(
          `--older-than ${options.olderThan} is below the minimum of 15m: an upload's commit still in flight could land after its archive was removed. Add --quiesced only when no upload is running and none was interrupted in the last 15 minutes`,
          '--older-than',
        );
      // Checked before the store is touched (core checks it again).
      if (olderThan < minimumGarbageAge && !options.quiesced) throw belowMinimum();
      const result = await (await openExisting()).collectGarbage({ olderThan, dryRun: options.dryRun ?? false, quiesced: options.quiesced ?? false }).catch((error: unknown) => {
        if (!InvalidOptionError.isInstance(error)) throw error;
        throw belowMinimum();
      });
      output(
        {
          dryRun: result.dryRun,
          removed: result.removed.map((object) => ({ key: object.key, size: object.size })),
          kept: result.kept.map((object) => ({ key: object.key, size: object.size })),
          unreadable: result.unreadable,
        },
        () =>
          `${result.dryRun ? 'would remove' : 'removed'} ${result.removed.length} archive(s), ${formatBytes(result.removed.reduce((sum, object) => sum + object.size, 0))}` +
          (result.kept.length ? `; ${result.kept.length} younger than ${options.olderThan} kept` : '') +
          '\n' +
          result.removed.map((object) => `  ${object.key}\n`).join('') +
          (result.unreadable.length ? `${result.unreadable.length} metadata document(s) could not be read; the archives of their models were kept:\n` + result.unreadable.map((key) => `  ${key}\n`).join('') : ''),
      );
    });

  program
    .command('doctor')
    .description('check that the store does what it claims (conditional writes, range reads, listings); exit 1 if not')
    .action(async () => {
      checkStoreUri(storeUri(), '--store');
      // A folder that does not exist is a mistyped path, not a store to probe (probing would create it).
      const target = storeUri() === undefined ? undefined : parseStoreUri(storeUri()!);
      const local = target?.uri.protocol === 'file:' ? localPath(target.uri) : undefined;
      if (local !== undefined && inspectPath(local, '--store') === undefined) {
        throw new CliError(`--store ${storeUri()}: no such folder. Check the path; a first \`modelstore upload\` there creates a registry`, 'REGISTRY_NOT_FOUND', exitCodes.notFound);
      }
      const store = await openStore(storeUri());
      const report = await checkStorage(store.storage);
      const uri = program.opts<GlobalOptions>().store ?? io.env.MODELSTORE_STORE ?? `MODEL_STORE_STORAGE=${io.env.MODEL_STORE_STORAGE ?? ''}`;
      output(report, () => formatStorageReport(report, uri));
      if (!report.ok) code = exitCodes.failure;
    });

  program
    .command('ui')
    .description('serve a web page over the store on 127.0.0.1 (domains, models, files, compare, download); read-only unless --allow-writes; prints its URL first')
    .option('--port <port>', 'the port to listen on (0: a free one)', '0')
    .option('--host <address>', 'listen on another address than 127.0.0.1 (warned: anyone who reaches it and learns the token sees the store)')
    .option('--open', 'open the page in the default browser')
    .option('--allow-writes', 'let the page set and unset states and delete models (each asks first)')
    .action(async (options: { port: string; host?: string; open?: boolean; allowWrites?: boolean }) => {
      const port = Number(options.port);
      if (!/^\d+$/.test(options.port) || port > 65535) throw new UsageError(`--port takes a number from 0 to 65535 (0: a free port), got "${options.port}"`, '--port');
      if (options.host !== undefined && options.host.trim() === '') throw new UsageError('--host is empty: give an address such as 127.0.0.1', '--host');
      const store = await openExisting();
      const { runUiCommand } = await import('./ui/command.js');
      await runUiCommand({ store, storeUri: storeUri(), ...(options.host === undefined ? {} : { host: options.host }), port, open: options.open ?? false, allowWrites: options.allowWrites ?? false, json, stdout: io.stdout, note });
    });

  registerSignCommands(program, { openExisting: () => openExisting(), output, env: io.env, signing: () => (context = 'sign') });

  registerCacheCommands(program, { cacheDir: () => path.resolve(program.opts<GlobalOptions>().cacheDir ?? defaultCacheDir()), output });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander has already printed its message on stderr.
      if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return exitCodes.ok;
      // Commander's own text for "help shown because a command is missing" is an internal marker.
      const usage = error.code === 'commander.help' ? 'a command is needed: see modelstore --help (or modelstore <command> --help)' : error.message.replace(/^error: /, '').replace(/\n/g, ' ');
      if (json) write(`${JSON.stringify({ error: { code: 'USAGE', message: usage } })}\n`);
      return exitCodes.usage;
    }
    code = exitCodeOf(error);
    const message = error instanceof PartialError ? `${error.done}, but ${cliMessage(error.inner, context)}` : cliMessage(error, context);
    const inner = error instanceof PartialError ? error.inner : error;
    const errorCode = ModelStoreError.isInstance(inner) ? inner.code : inner instanceof CliError ? inner.code : inner instanceof UsageError ? 'USAGE' : 'ERROR';
    if (json) write(`${JSON.stringify({ error: { code: errorCode, message, ...errorDetails(inner, context) } })}\n`);
    io.stderr.write(`modelstore: ${message}\n`);
  }
  return code;
}

/** The typed fields of an error that `--json` reports beside its code and message: what to install, set or fix. */
function errorDetails(error: unknown, context: CommandContext): Record<string, unknown> {
  if (MissingDependencyError.isInstance(error)) return { packageName: error.packageName };
  if (SignatureError.isInstance(error)) return { reason: error.reason, ...(error.files.length ? { files: error.files } : {}) };
  if (StoreConfigurationError.isInstance(error)) return { settings: error.settings };
  if (InvalidArgumentError.isInstance(error) && error.argument !== undefined) return { argument: signingOptionFlag(error.argument, context) ?? error.argument };
  if (error instanceof UsageError && error.argument !== undefined) return { argument: error.argument };
  return {};
}
