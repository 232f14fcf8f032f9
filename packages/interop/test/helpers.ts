import { ModelStore, parseJson, stringifyJson, type Storage } from '@modelstore/core';
import { OnnxAdapter } from '@modelstore/adapter-onnx';
import { RawAdapter } from '@modelstore/adapter-raw';
import { AzureBlobStorage } from '@modelstore/storage-azure';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { GcsStorage } from '@modelstore/storage-gcs';
import { S3Storage } from '@modelstore/storage-s3';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface InteropEnv {
  python: string;
  python081: string;
  /** The venv with model-signing 1.1.1 (OpenSSF Model Signing), for `python -m model_signing`. */
  pythonSigning: string;
  minio: { endpoint: string; accessKeyId: string; secretAccessKey: string; bucket: string };
  gcs: { endpoint: string; bucket: string };
  azure: { connectionString: string; container: string };
}

export function interopEnv(): InteropEnv {
  const raw = process.env.MODELSTORE_INTEROP;
  if (!raw) throw new Error('MODELSTORE_INTEROP is not set: run these tests through `pnpm test` in packages/interop (its globalSetup starts the servers)');
  return JSON.parse(raw) as InteropEnv;
}

/** The request sent to python/driver.py for a backend. */
export type PythonBackend = Record<string, string | undefined> & { type: string };

/** One registry, seen from both sides: Node's Storage and the Python driver's backend spec. */
export interface Registry {
  name: string;
  node: Storage;
  python: PythonBackend;
  /** Python modelstore's MODEL_STORE_* variables (and the SDKs' own) that name this registry, for its CLI. */
  env: Record<string, string>;
}

export interface Backend {
  name: 'fs' | 'minio' | 'fake-gcs-server' | 'azurite';
  /** A fresh, empty registry (its own folder or root prefix). */
  create(): Registry;
}

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A fresh temporary folder inside the run's folder (removed when the run ends). */
export function workDir(name: string): string {
  const parent = process.env.MODELSTORE_INTEROP_WORK ?? tmpdir();
  return mkdtempSync(path.join(parent, `${name}-`));
}

export function backends(): Backend[] {
  const env = interopEnv();
  return [
    {
      name: 'fs',
      create() {
        const root = workDir('fs');
        return { name: 'fs', node: new FileSystemStorage({ root }), python: { type: 'fs', root }, env: { MODEL_STORE_STORAGE: 'filesystem', MODEL_STORE_ROOT_PREFIX: root } };
      },
    },
    {
      name: 'minio',
      create() {
        const prefix = unique('minio');
        return {
          name: 'minio',
          node: new S3Storage({
            bucket: env.minio.bucket,
            rootPrefix: prefix,
            endpoint: env.minio.endpoint,
            forcePathStyle: true,
            region: 'us-east-1',
            credentials: { accessKeyId: env.minio.accessKeyId, secretAccessKey: env.minio.secretAccessKey },
            minio: true,
          }),
          python: {
            type: 'minio',
            endpoint: env.minio.endpoint.replace(/^https?:\/\//, ''),
            access_key: env.minio.accessKeyId,
            secret_key: env.minio.secretAccessKey,
            bucket: env.minio.bucket,
            prefix,
          },
          // Python's `minio` storage always speaks https from the environment (secure=True): its CLI reaches
          // a plain-http MinIO through `aws-s3`, whose boto3 client takes AWS_ENDPOINT_URL.
          env: {
            MODEL_STORE_STORAGE: 'aws-s3',
            MODEL_STORE_AWS_BUCKET: env.minio.bucket,
            MODEL_STORE_AWS_ROOT_PREFIX: prefix,
            MODEL_STORE_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: env.minio.accessKeyId,
            AWS_SECRET_ACCESS_KEY: env.minio.secretAccessKey,
            AWS_ENDPOINT_URL: env.minio.endpoint,
          },
        };
      },
    },
    {
      name: 'fake-gcs-server',
      create() {
        const prefix = unique('gcs');
        return {
          name: 'fake-gcs-server',
          node: new GcsStorage({ bucket: env.gcs.bucket, rootPrefix: prefix, apiEndpoint: env.gcs.endpoint, projectId: 'modelstore-test' }),
          python: { type: 'gcs', endpoint: env.gcs.endpoint, bucket: env.gcs.bucket, prefix },
          env: {
            MODEL_STORE_STORAGE: 'google-cloud-storage',
            MODEL_STORE_GCP_PROJECT: 'modelstore-test',
            MODEL_STORE_GCP_BUCKET: env.gcs.bucket,
            MODEL_STORE_GCP_ROOT_PREFIX: prefix,
            STORAGE_EMULATOR_HOST: env.gcs.endpoint,
          },
        };
      },
    },
    {
      name: 'azurite',
      create() {
        const prefix = unique('azure');
        return {
          name: 'azurite',
          node: new AzureBlobStorage({ container: env.azure.container, rootPrefix: prefix, connectionString: env.azure.connectionString }),
          python: { type: 'azure', connection_string: env.azure.connectionString, container: env.azure.container, prefix },
          env: {
            MODEL_STORE_STORAGE: 'azure-container',
            MODEL_STORE_AZURE_CONTAINER: env.azure.container,
            MODEL_STORE_AZURE_ROOT_PREFIX: prefix,
            AZURE_STORAGE_CONNECTION_STRING: env.azure.connectionString,
            // Python's CLI checks these are set; the connection string is what it uses.
            AZURE_ACCOUNT_NAME: 'devstoreaccount1',
            AZURE_ACCESS_KEY: 'unused-the-connection-string-is-used',
          },
        };
      },
    },
  ];
}

export function nodeStore(storage: Storage, cacheDir = workDir('cache')): ModelStore {
  return new ModelStore({ storage, adapters: [new OnnxAdapter(), new RawAdapter()], cacheDir });
}

export type PyResult = { ok: any } | { error: { type: string; message: string; trace: string } };

const driver = path.resolve(__dirname, '../python/driver.py');

/** Runs ops with the real Python modelstore (python/driver.py); one result per op. */
export async function py(backend: PythonBackend, ops: Array<Record<string, unknown>>, options: { python?: string; env?: NodeJS.ProcessEnv } = {}): Promise<PyResult[]> {
  const dir = workDir('py');
  const request = path.join(dir, 'request.json');
  const response = path.join(dir, 'response.json');
  // Python's JSON dialect both ways: NaN, Infinity and big integers (bigint) reach Python and come back exactly.
  writeFileSync(request, stringifyJson({ backend, ops }));
  const python = options.python ?? interopEnv().python;
  await new Promise<void>((resolve, reject) => {
    execFile(python, [driver, request, response], { env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: 170_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python driver failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
  return parseJson(readFileSync(response, 'utf8')) as PyResult[];
}

/** The value of a driver result, or a thrown Error carrying Python's exception and trace. */
export function ok<T = any>(result: PyResult | undefined): T {
  if (!result) throw new Error('no result');
  if ('error' in result) throw new Error(`Python raised ${result.error.type}: ${result.error.message}\n${result.error.trace}`);
  return result.ok as T;
}

/** Runs ops and returns their values, failing on the first Python exception. */
export async function pyOk(backend: PythonBackend, ops: Array<Record<string, unknown>>, options: { python?: string } = {}): Promise<any[]> {
  return (await py(backend, ops, options)).map((result) => ok(result));
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file under `directory`, relative, `/`-separated, with its sha256, keys sorted. */
export function treeDigest(directory: string): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (current: string, prefix: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`);
      else result[`${prefix}${entry.name}`] = sha256(readFileSync(full));
    }
  };
  walk(directory, '');
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Deterministic pseudo-random bytes. */
export function seeded(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = Buffer.from(seed);
  for (let offset = 0; offset < size; offset += 32) {
    block = createHash('sha256').update(block).digest();
    block.copy(out, offset, 0, Math.min(32, size - offset));
  }
  return out;
}

/** Writes files under a fresh folder; returns the folder. */
export function writeFiles(files: Record<string, Buffer | string>): string {
  const dir = workDir('files');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** The exact bytes stored at `key` (undefined when missing), read through Node's Storage. */
export async function objectBytes(storage: Storage, key: string): Promise<Buffer | undefined> {
  const object = await storage.get(key);
  if (!object) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of object.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Every key under `prefix` (all pages), in listing order. */
export async function allKeys(storage: Storage, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.list(prefix, cursor === undefined ? {} : { cursor });
    keys.push(...page.objects.map((object) => object.key));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return keys;
}

const cliBin = path.resolve(__dirname, '../../cli/dist/bin.js');

/** Runs the built `modelstore` CLI (`pnpm --filter @modelstore/cli build` first); its exit code and output. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!existsSync(cliBin)) throw new Error(`The modelstore CLI is not built (${cliBin} is missing): run \`pnpm --filter @modelstore/cli... build\` (turbo's test task builds it first)`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliBin, ...args], { env: { PATH: process.env.PATH ?? '', HOME: workDir('home') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
