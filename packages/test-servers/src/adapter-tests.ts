// One test environment for the adapter packages (gguf, safetensors, transformers, ...): their
// jest globalSetup calls prepareAdapterTests, their globalTeardown teardownAdapterTests, and
// their test workers read what was prepared with adapterTestEnv.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startMinio, type MinioHandle } from './minio.js';
import { ensurePythonEnv } from './python-env.js';

/** What prepareAdapterTests hands to the test workers (JSON in `MODELSTORE_<NAME>_TEST`). */
export interface AdapterTestEnv<Paths extends string = string> {
  /** The run's folder (absolute); removed by teardownAdapterTests. */
  work: string;
  /** Each name of `paths` given to prepareAdapterTests, as an absolute path inside `work`. */
  paths: Record<Paths, string>;
  /** The interpreter of the `models` venv (python/requirements-models.txt). */
  modelsPython: string;
  /** The interpreter of the interop venv: Python modelstore 0.0.82 (python/requirements.txt). */
  modelstorePython: string;
  /** The run's MinIO server, its root user's keys, and the first bucket created on it. */
  minio: { endpoint: string; accessKeyId: string; secretAccessKey: string; bucket: string };
}

export interface PrepareAdapterTestsOptions<Paths extends string> {
  /** The package's short name (`gguf`): names the work folder and the variable `MODELSTORE_GGUF_TEST`. */
  name: string;
  /** Buckets created on MinIO (at least one; `minio.bucket` is the first). */
  buckets: [string, ...string[]];
  /** Names for files or folders inside the work folder (`{ models: 'models' }`); nothing is created. */
  paths: Record<Paths, string>;
  /**
   * The scripts that write the test models, run one after the other with the `models` venv's
   * interpreter: each entry is `[script, ...arguments]`, given the absolute `paths`.
   */
  pythonScripts: (paths: Record<Paths, string>) => string[][];
  /** Per script, in milliseconds (default 120 000). */
  scriptTimeoutMs?: number;
}

interface RunState {
  work: string;
  servers: MinioHandle[];
}

const runs = new Map<string, RunState>();

/** The environment variable that carries `name`'s AdapterTestEnv: `MODELSTORE_<NAME>_TEST`. */
export function adapterTestVariable(name: string): string {
  return `MODELSTORE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_TEST`;
}

function runScript(python: string, argv: string[], timeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(python, argv, { timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(argv[0] ?? 'python')} ${argv.slice(1).join(' ')} failed (${error.message}):\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
}

/**
 * For a jest globalSetup: makes a work folder under the system's temporary folder, builds
 * (or reuses) both Python venvs and starts one MinIO with `buckets`, all at once, then runs
 * `pythonScripts` in order and sets `MODELSTORE_<NAME>_TEST` to the JSON of the result, which
 * the workers inherit. Throws (after stopping MinIO and removing the folder) when a venv,
 * MinIO or a script fails; the message carries the script's output.
 */
export async function prepareAdapterTests<Paths extends string>(options: PrepareAdapterTestsOptions<Paths>): Promise<AdapterTestEnv<Paths>> {
  const work = mkdtempSync(path.join(tmpdir(), `modelstore-${options.name}-`));
  const state: RunState = { work, servers: [] };
  runs.set(options.name, state);
  try {
    const [models, modelstore, minio] = await Promise.all([
      ensurePythonEnv({ variant: 'models' }),
      ensurePythonEnv(),
      startMinio({ buckets: options.buckets }).then((server) => {
        state.servers.push(server);
        return server;
      }),
    ]);
    const paths = Object.fromEntries(Object.entries<string>(options.paths).map(([key, relative]) => [key, path.join(work, relative)])) as Record<Paths, string>;
    for (const argv of options.pythonScripts(paths)) await runScript(models.python, argv, options.scriptTimeoutMs ?? 120_000);
    const env: AdapterTestEnv<Paths> = {
      work,
      paths,
      modelsPython: models.python,
      modelstorePython: modelstore.python,
      minio: { endpoint: minio.endpoint, ...minio.credentials, bucket: options.buckets[0] },
    };
    process.env[adapterTestVariable(options.name)] = JSON.stringify(env);
    return env;
  } catch (error) {
    await teardownAdapterTests(options.name);
    throw error;
  }
}

/** For a jest globalTeardown: stops the MinIO of `name`'s run and removes its work folder. */
export async function teardownAdapterTests(name: string): Promise<void> {
  const state = runs.get(name);
  if (!state) return;
  runs.delete(name);
  await Promise.allSettled(state.servers.map((server) => server.close()));
  rmSync(state.work, { recursive: true, force: true });
}

/**
 * In a test worker: the AdapterTestEnv that `name`'s globalSetup prepared. Throws an Error
 * saying how to run the tests when `MODELSTORE_<NAME>_TEST` is not set.
 */
export function adapterTestEnv<Paths extends string = string>(name: string): AdapterTestEnv<Paths> {
  const variable = adapterTestVariable(name);
  const raw = process.env[variable];
  if (!raw) throw new Error(`${variable} is not set: run these tests with \`pnpm test\` in packages/adapter-${name} (its jest globalSetup builds the models and starts MinIO)`);
  return JSON.parse(raw) as AdapterTestEnv<Paths>;
}

/** A new empty folder named `<name>-<random>` inside the run's work folder. */
export function adapterWorkDir(env: AdapterTestEnv, name: string): string {
  return mkdtempSync(path.join(env.work, `${name}-`));
}

/**
 * The options of an `S3Storage` (@modelstore/storage-s3) on the run's MinIO bucket under
 * `rootPrefix`: path-style addressing, region `us-east-1`, the root user's keys.
 */
export function minioStorageOptions(env: AdapterTestEnv, rootPrefix: string) {
  return {
    bucket: env.minio.bucket,
    rootPrefix,
    endpoint: env.minio.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: env.minio.accessKeyId, secretAccessKey: env.minio.secretAccessKey },
  };
}

/** Every key a storage holds (any `Storage` of @modelstore/core), following list cursors. */
export async function allKeys(storage: { list(prefix: string, options?: { cursor?: string }): Promise<{ objects: Array<{ key: string }>; cursor?: string | undefined }> }): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.list('', cursor === undefined ? {} : { cursor });
    keys.push(...page.objects.map((object) => object.key));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return keys;
}
