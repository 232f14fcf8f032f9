import { type ModelAdapter, ModelStore, type SavedModel, type Storage } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { S3Storage } from '@modelstore/storage-s3';
import { type AdapterTestEnv, adapterTestEnv, minioStorageOptions } from '@modelstore/test-servers';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TransformersAdapter, type TransformersAdapterOptions } from '../src/index.js';

type Fixture = 'model' | 'expected' | 'parentRelative' | 'absolute';

/** What test/global-setup.mjs prepared. */
export interface TestEnvironment extends AdapterTestEnv<Fixture> {
  fixtures: Record<Fixture, string>;
  /** The interop venv's python (Python modelstore 0.0.82). */
  python: string;
}

export function testEnvironment(): TestEnvironment {
  const env = adapterTestEnv<Fixture>('transformers');
  return { ...env, fixtures: env.paths, python: env.modelstorePython };
}

/** What numpy computed for the sentence (test/python/make_tiny_bert.py). */
export interface Expected {
  sentence: string;
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
  hidden_size: number;
  variants: Record<'fp32' | 'q8', { last_hidden_state: number[][]; mean_pooled_normalized: number[] }>;
}

let folders = 0;
/** A new folder inside the run's work folder. */
export function freshFolder(env: TestEnvironment, name: string): string {
  return mkdtempSync(path.join(env.work, `${name}-${folders++}-`));
}

export type Backend = 'file system' | 'minio';

/** A storage of `backend`, empty (a new root folder or prefix). */
export function storageFor(env: TestEnvironment, backend: Backend): Storage {
  if (backend === 'file system') return new FileSystemStorage({ root: freshFolder(env, 'registry') });
  return new S3Storage(minioStorageOptions(env, `run-${process.pid}-${folders++}`));
}

export function storeFor(env: TestEnvironment, storage: Storage, options: TransformersAdapterOptions = {}): ModelStore {
  return new ModelStore({ storage, adapters: [new TransformersAdapter(options)], cacheDir: freshFolder(env, 'cache') });
}

/** Every file under `directory`, relative, `/`-separated, sorted. */
export function listFiles(directory: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...listFiles(path.join(directory, entry.name), `${prefix}${entry.name}/`));
    else out.push(`${prefix}${entry.name}`);
  }
  return out.sort();
}

export function sizeOf(file: string): number {
  return statSync(file).size;
}

/** Runs Python code with the interop venv; resolves with stdout. */
export function runPython(python: string, code: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', code, ...args], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const loopback = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

/**
 * Fails every outbound TCP connection attempt to anything but 127.0.0.1 / ::1 / localhost
 * (MinIO runs there), before a packet is sent: `net.Socket.prototype.connect` is what
 * http, https, tls and undici's fetch all end up calling. Attempts are recorded.
 */
export function guardNetwork(): { attempts: string[]; restore(): void } {
  const attempts: string[] = [];
  const original = net.Socket.prototype.connect;
  const patched = function (this: net.Socket, ...args: unknown[]) {
    // net.connect passes its normalised arguments as one array: [options, callback].
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    let host: string | undefined;
    let port: unknown;
    if (typeof first === 'object' && first !== null) {
      const options = first as { host?: string; port?: unknown; path?: string };
      if (options.path !== undefined) return (original as (...a: unknown[]) => net.Socket).apply(this, args);
      host = options.host;
      port = options.port;
    } else {
      port = first;
      host = typeof args[1] === 'string' ? args[1] : undefined;
    }
    if (host !== undefined && !loopback.has(host)) {
      attempts.push(`${host}:${String(port)}`);
      throw new Error(`test network guard: outbound connection to ${host}:${String(port)} refused`);
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  };
  net.Socket.prototype.connect = patched as typeof net.Socket.prototype.connect;
  return {
    attempts,
    restore: () => {
      net.Socket.prototype.connect = original;
    },
  };
}

/** The largest absolute difference between two equal-length number lists (Infinity when lengths differ). */
export function maxDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let max = 0;
  for (let i = 0; i < actual.length; i++) max = Math.max(max, Math.abs(Number(actual[i]) - Number(expected[i])));
  return max;
}

/** An adapter that stores a folder unchecked, as a tampered archive or another writer could. */
export const uncheckedAdapter: ModelAdapter<string> = {
  specificationVersion: 'v1',
  library: 'transformers.js',
  matches: () => true,
  async save(folder: string): Promise<SavedModel> {
    return { files: listFiles(folder).map((name) => ({ path: name, source: path.join(folder, name) })) };
  },
  load: async () => undefined,
};
