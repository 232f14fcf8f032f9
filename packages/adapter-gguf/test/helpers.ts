import { ModelStore } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { S3Storage } from '@modelstore/storage-s3';
import { adapterTestEnv, adapterWorkDir, minioStorageOptions } from '@modelstore/test-servers';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GgufAdapter, type GgufAdapterOptions } from '../src/index.js';

/** What test/global-setup.mjs prepared: `paths.models` holds the models and expected.json. */
export const testEnv = () => adapterTestEnv<'models'>('gguf');

/** What the Python script wrote and computed with numpy. */
export interface Expected {
  architecture: string;
  name: string;
  parameter_count: number;
  tensor_count: number;
  context_length: number;
  embedding_length: number;
  block_count: number;
  vocab_size: number;
  tokenizer_model: string;
  file_type: string;
  chat_template: string;
  split_files: string[];
  prompt: number[];
  generated: number[];
  probabilities: number[];
  gguf_version: number;
}

export function expected(): Expected {
  return JSON.parse(readFileSync(path.join(testEnv().paths.models, 'expected.json'), 'utf8')) as Expected;
}

export function model(name: string): string {
  return path.join(testEnv().paths.models, name);
}

/** A fresh folder inside the run's folder (removed by globalTeardown). */
export function workDir(name: string): string {
  return adapterWorkDir(testEnv(), name);
}

/** CPU only, one thread: on a busy two-core machine more threads spin-wait (8 tokens: 3 ms with one thread, 5.7 s with four). */
export const cpuOptions: GgufAdapterOptions = { llamaOptions: { gpu: false, maxThreads: 1 } };

export type BackendName = 'fs' | 'minio';

/** A store on a fresh registry of `backend` (its own folder, or its own prefix in the MinIO bucket). */
export function createStore(backend: BackendName, adapter = new GgufAdapter(cpuOptions)): { store: ModelStore; root: string } {
  const cacheDir = workDir('cache');
  if (backend === 'fs') {
    const root = workDir('registry');
    return { store: new ModelStore({ storage: new FileSystemStorage({ root }), adapters: [adapter], cacheDir }), root };
  }
  const prefix = `gguf-${randomBytes(5).toString('hex')}`;
  const storage = new S3Storage({ ...minioStorageOptions(testEnv(), prefix), minio: true });
  return { store: new ModelStore({ storage, adapters: [adapter], cacheDir }), root: prefix };
}
