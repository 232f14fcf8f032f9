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
  StateNotFoundError,
  StorageError,
  stringifyJson,
  DestinationExistsError,
  openModelStore,
  checkStorage,
  cleanModelCache,
  defaultCacheDir,
  type ModelMetadata,
  type ModelStore,
} from '@modelstore/core';
import cliProgress from 'cli-progress';
import { Command, CommanderError, Option } from 'commander';
import ms from 'ms';
import { readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { version } from './version.js';
import { formatStorageReport } from './doctor.js';

/** Exit codes: what a script can tell apart. */
export const exitCodes = { ok: 0, failure: 1, usage: 2, notFound: 3, conflict: 4 } as const;

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

class UsageError extends Error {}

const examples = `
Examples:
  $ modelstore --store ./models upload churn model.bin --extra README.md --meta accuracy=0.93 --state production
  $ modelstore --store s3://my-bucket/registry?region=eu-west-1 ls churn
  $ modelstore ls churn --state production --json
  $ modelstore download churn --to ./churn-latest
  $ modelstore download churn --state production --to ./serving
  $ modelstore cp churn 1b2c... --to gs://prod-models/registry
  $ modelstore gc --older-than 2h --dry-run
  $ modelstore doctor --store s3://my-bucket/registry?endpoint=http://localhost:9000

The store is --store <uri> (file:///path or a path, s3://bucket/prefix, gs://bucket/prefix,
azure://container/prefix), else MODELSTORE_STORE, else Python modelstore's MODEL_STORE_* variables.

Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found, 4 already exists or lost a race.`;

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** A progress bar on stderr with speed and ETA, only when stderr is a terminal. */
function progressBar(io: CliIo, label: string, total: number): { update(bytes: number): void; stop(): void } {
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
    update(bytes: number) {
      const seconds = (Date.now() - started) / 1000;
      bar.update(Math.min(bytes, Math.max(total, 1)), { done: formatBytes(bytes), speed: seconds > 0 ? `${formatBytes(bytes / seconds)}/s` : '-' });
    },
    stop() {
      bar.stop();
    },
  };
}

function parseMeta(pairs: string[]): Record<string, unknown> | undefined {
  if (pairs.length === 0) return undefined;
  const meta: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--meta takes key=value, got "${pair}"`);
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A plain string.
    }
    meta[pair.slice(0, at)] = value;
  }
  return meta;
}

function parseDuration(text: string): number {
  const value = ms(text as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new UsageError(`--older-than takes a duration such as 30m, 2h or 7d, got "${text}"`);
  return value;
}

function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
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

function createdOf(metadata: ModelMetadata): string {
  return metadata.code?.created_at ?? metadata.code?.created ?? '';
}

/** The exit code for an error, and whether it is a usage error. */
function exitCodeOf(error: unknown): number {
  // A bad store URI or option (unknown scheme or query option, file://relative) and missing store settings
  // (no store, MODEL_STORE_ROOT_PREFIX unset) are usage errors: the command line or the variables must change.
  if (error instanceof UsageError || InvalidNameError.isInstance(error) || InvalidArgumentError.isInstance(error) || StoreConfigurationError.isInstance(error)) return exitCodes.usage;
  if (DomainNotFoundError.isInstance(error) || ModelNotFoundError.isInstance(error) || StateNotFoundError.isInstance(error) || ModelDeletedError.isInstance(error)) return exitCodes.notFound;
  if (ModelExistsError.isInstance(error) || PreconditionFailedError.isInstance(error) || DestinationExistsError.isInstance(error)) return exitCodes.conflict;
  return exitCodes.failure;
}

/** Runs the `modelstore` command with `argv` (without `node` and the script); resolves to the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const write = (text: string) => io.stdout.write(text);
  const program = new Command('modelstore');
  let json = false;
  let code: number = exitCodes.ok;

  const open = async (target?: string): Promise<ModelStore> => {
    const options = program.opts<GlobalOptions>();
    // openModelStore reads MODELSTORE_STORE, then Python's MODEL_STORE_* variables, from io.env when no URI is given.
    return openModelStore(target ?? options.store, {
      adapters: [new RawAdapter()],
      env: io.env,
      importer: (name) => import(name),
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    });
  };
  // Python's JSON dialect: metadata Python wrote (NaN, Infinity, integers of any size) is printed as stored.
  const output = (value: unknown, human: () => string) => write(json ? `${stringifyJson(value, { indent: 2 })}\n` : human());

  program
    .name('modelstore')
    .description('Version, list, label, copy and download models in a modelstore registry (Python modelstore compatible).')
    .version(version)
    .option('--store <uri>', 'the registry: file:///path or a path, s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix')
    .option('--json', 'machine-readable output on stdout')
    .option('--cache-dir <dir>', 'where loaded models are cached')
    .addHelpText('after', examples)
    .showHelpAfterError('(run modelstore --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .hook('preAction', () => {
      json = program.opts<GlobalOptions>().json ?? false;
    });

  program
    .command('upload')
    .description('upload a model: one file, a directory, or several files')
    .argument('<domain>')
    .argument('<paths...>')
    .option('--id <modelId>', 'model id (default: a new UUID)')
    .option('--extra <file>', 'an extra file, stored under extras/ (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--meta <key=value>', 'extra metadata; values are JSON when they parse as JSON (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--state <state>', 'put the model in this state, creating the state if needed')
    .action(async (domain: string, paths: string[], options: { id?: string; extra: string[]; meta: string[]; state?: string }) => {
      const extraMetadata = parseMeta(options.meta);
      const store = await open();
      for (const file of [...paths, ...options.extra]) {
        if (!(await stat(file).catch(() => undefined))) throw new UsageError(`No such file or directory: ${file}`);
      }
      const total = paths.reduce((sum, file) => sum + sizeOf(file), 0) + options.extra.reduce((sum, file) => sum + sizeOf(file), 0);
      const bar = progressBar(io, 'upload', total);
      let metadata: ModelMetadata;
      try {
        metadata = await store.upload(domain, {
          model: paths.length === 1 ? paths[0]! : paths,
          ...(options.id ? { modelId: options.id } : {}),
          extraFiles: options.extra,
          ...(extraMetadata ? { extraMetadata } : {}),
          onProgress: (bytes) => bar.update(bytes),
        });
      } finally {
        bar.stop();
      }
      if (options.state) {
        await store.createModelState(options.state);
        await store.setModelState(domain, metadata.model.model_id, options.state);
      }
      output(metadata, () => `${metadata.model.model_id}\n`);
    });

  program
    .command('download')
    .description('download a model (default: the latest) and verify it')
    .argument('<domain>')
    .argument('[modelId]')
    .option('--to <dir>', 'directory to create (default: ./<domain>-<modelId>, shortened when over 200 bytes)')
    .option('--overwrite', 'replace the directory if it exists and is not empty')
    .option('--state <state>', 'the newest model in this state (e.g. production) instead of the latest')
    .action(async (domain: string, modelId: string | undefined, options: { to?: string; overwrite?: boolean; state?: string }) => {
      if (modelId !== undefined && options.state !== undefined) throw new UsageError('give a model id or --state, not both: --state picks the newest model in that state');
      const store = await open();
      const metadata = modelId !== undefined ? await store.getModelInfo(domain, modelId) : options.state !== undefined ? await store.getLatestModel(domain, { state: options.state }) : await store.getDomain(domain);
      const id = metadata.model.model_id;
      const bar = progressBar(io, 'download', metadata.archive?.size ?? 0);
      let directory: string;
      try {
        directory = await store.download(domain, { modelId: id, to: options.to ?? defaultDownloadFolder(domain, id), overwrite: options.overwrite ?? false, onProgress: (bytes) => bar.update(bytes) });
      } finally {
        bar.stop();
      }
      output({ domain, modelId: id, directory }, () => `${directory}\n`);
    });

  program
    .command('ls')
    .description('list domains, or the models of a domain (newest first)')
    .argument('[domain]')
    .option('--state <state>', 'only models in this state')
    .action(async (domain: string | undefined, options: { state?: string }) => {
      const store = await open();
      if (domain === undefined) {
        if (options.state) throw new UsageError('--state needs a domain: modelstore ls <domain> --state <state>');
        const domains = await store.listDomains();
        // One domain that cannot be read (a damaged pointer, every model deleted) does not hide the others.
        const latest = await Promise.all(
          domains.map((name) =>
            store.getDomain(name).then(
              (metadata) => ({ domain: name, latest: metadata.model.model_id, created: createdOf(metadata) }),
              (error: unknown) => {
                if (!ModelStoreError.isInstance(error) || StorageError.isInstance(error)) throw error;
                return { domain: name, latest: null, created: null, error: { code: (error as ModelStoreError).code, message: (error as Error).message } };
              },
            ),
          ),
        );
        output(latest, () => table([['DOMAIN', 'LATEST MODEL', 'CREATED'], ...latest.map((row) => [row.domain, row.latest ?? `- (${row.error!.code.toLowerCase()})`, row.created ?? '-'])]));
        return;
      }
      const ids = await store.listModels(domain, options.state ? { state: options.state } : {});
      const infos = await Promise.all(ids.map((id) => store.getModelInfo(domain, id)));
      output(
        infos.map((metadata) => ({ modelId: metadata.model.model_id, created: createdOf(metadata), library: metadata.model.model_type.library, size: metadata.archive?.size ?? null })),
        () => table([['MODEL ID', 'CREATED', 'LIBRARY', 'SIZE'], ...infos.map((metadata) => [metadata.model.model_id, createdOf(metadata), metadata.model.model_type.library, metadata.archive ? formatBytes(metadata.archive.size) : '-'])]),
      );
    });

  program
    .command('info')
    .description("show a model's metadata (default: the latest)")
    .argument('<domain>')
    .argument('[modelId]')
    .action(async (domain: string, modelId: string | undefined) => {
      const store = await open();
      const metadata = modelId === undefined ? await store.getDomain(domain) : await store.getModelInfo(domain, modelId);
      const states = await store.getModelStates(domain, metadata.model.model_id);
      output({ ...metadata, states }, () => `${stringifyJson({ ...metadata, states }, { indent: 2 })}\n`);
    });

  const state = program.command('state').description('create, remove and list model states; set and unset them on models');
  state
    .command('create')
    .argument('<state>')
    .action(async (name: string) => {
      await (await open()).createModelState(name);
      output({ state: name, created: true }, () => '');
    });
  state
    .command('rm')
    .argument('<state>')
    .action(async (name: string) => {
      await (await open()).deleteModelState(name);
      output({ state: name, removed: true }, () => '');
    });
  state.command('ls').action(async () => {
    const states = (await (await open()).listModelStates()).sort();
    output(states, () => (states.length ? `${states.join('\n')}\n` : ''));
  });
  state
    .command('set')
    .argument('<domain>')
    .argument('<modelId>')
    .argument('<state>')
    .action(async (domain: string, modelId: string, name: string) => {
      await (await open()).setModelState(domain, modelId, name);
      output({ domain, modelId, state: name, set: true }, () => '');
    });
  state
    .command('unset')
    .argument('<domain>')
    .argument('<modelId>')
    .argument('<state>')
    .action(async (domain: string, modelId: string, name: string) => {
      await (await open()).removeModelState(domain, modelId, name);
      output({ domain, modelId, state: name, set: false }, () => '');
    });

  program
    .command('rm')
    .description('delete a model (soft delete, as Python modelstore does)')
    .argument('<domain>')
    .argument('<modelId>')
    .option('--yes', 'do not ask for confirmation')
    .action(async (domain: string, modelId: string, options: { yes?: boolean }) => {
      const store = await open();
      await store.getModelInfo(domain, modelId);
      if (!options.yes) {
        if (!io.stdin.isTTY) throw new UsageError(`Deleting ${domain}/${modelId} needs confirmation: pass --yes`);
        const prompt = createInterface({ input: io.stdin, output: io.stderr });
        const answer = await prompt.question(`Delete model ${modelId} from ${domain}? [y/N] `);
        prompt.close();
        if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('Not deleted');
      }
      await store.deleteModel(domain, modelId);
      output({ domain, modelId, deleted: true }, () => '');
    });

  program
    .command('cp')
    .description('copy a model to another store, verified (any pair of backends)')
    .argument('<domain>')
    .argument('<modelId>')
    .requiredOption('--to <uri>', 'the target store')
    .option('--state <state>', 'put the copy in this state (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .action(async (domain: string, modelId: string, options: { to: string; state: string[] }) => {
      const [source, target] = await Promise.all([open(), open(options.to)]);
      const copy = await source.copyModel(domain, modelId, target, { states: options.state });
      output(copy, () => `${modelId}\n`);
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
        const { removed } = await cleanModelCache(cacheDir);
        output({ cacheDir, removed }, () => `removed ${removed.length} leftover(s) of killed loads from ${cacheDir}\n${removed.map((file) => `  ${file}\n`).join('')}`);
        return;
      }
      const olderThan = parseDuration(options.olderThan);
      const result = await (await open()).collectGarbage({ olderThan, dryRun: options.dryRun ?? false, quiesced: options.quiesced ?? false }).catch((error: unknown) => {
        if (!InvalidOptionError.isInstance(error)) throw error;
        throw new UsageError(
          `--older-than ${options.olderThan} is below the minimum of 15m: an upload's commit still in flight could land after its archive was removed. Add --quiesced only when no upload is running and none was interrupted in the last 15 minutes`,
        );
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
      const store = await open();
      const report = await checkStorage(store.storage);
      const uri = program.opts<GlobalOptions>().store ?? io.env.MODELSTORE_STORE ?? `MODEL_STORE_STORAGE=${io.env.MODEL_STORE_STORAGE ?? ''}`;
      output(report, () => formatStorageReport(report, uri));
      if (!report.ok) code = exitCodes.failure;
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander has already printed its message.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    code = exitCodeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    const errorCode = ModelStoreError.isInstance(error) ? error.code : error instanceof UsageError ? 'USAGE' : 'ERROR';
    if (json) write(`${JSON.stringify({ error: { code: errorCode, message, ...errorDetails(error) } })}\n`);
    io.stderr.write(`modelstore: ${message}\n`);
  }
  return code;
}

/** The typed fields of an error that `--json` reports beside its code and message: what to install, set or fix. */
function errorDetails(error: unknown): Record<string, unknown> {
  if (MissingDependencyError.isInstance(error)) return { packageName: error.packageName };
  if (StoreConfigurationError.isInstance(error)) return { settings: error.settings };
  if (InvalidArgumentError.isInstance(error) && error.argument !== undefined) return { argument: error.argument };
  return {};
}

/** Bytes under a file or directory, for the progress bar's total. */
function sizeOf(file: string): number {
  try {
    const info = statSync(file);
    if (info.isFile()) return info.size;
    if (!info.isDirectory()) return 0;
    return readdirSync(file).reduce((sum, name) => sum + sizeOf(path.join(file, name)), 0);
  } catch {
    return 0;
  }
}
