import { ModelStore, type Storage } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { S3Storage } from '@modelstore/storage-s3';
/** Every key in a storage, following cursors. */
export { allKeys } from '@modelstore/test-servers';
import { adapterTestEnv, adapterWorkDir, minioStorageOptions } from '@modelstore/test-servers';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SafetensorsAdapter } from '../src/index.js';

/** What test/global-setup.mjs prepared: `paths.models` holds the models and expected.json. */
export const testEnv = () => adapterTestEnv<'models'>('safetensors');

/** What make_models.py computed with numpy and the json module. */
export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
  parameters: number;
  values: Array<number | string | boolean>;
  nbytes: number;
}
export interface ExpectedFile {
  header_size: number;
  file_size: number;
  metadata: Record<string, string> | null;
  tensors: Record<string, ExpectedTensor>;
  parameters: number;
}
export interface Expected {
  single: ExpectedFile;
  sharded: { files: Record<string, ExpectedFile>; total_size: number; weight_map: Record<string, string>; parameters: number };
  many: { tensor_count: number; parameters: number; header_size: number; first_names: string[] };
}

export function expected(): Expected {
  return JSON.parse(readFileSync(path.join(testEnv().paths.models, 'expected.json'), 'utf8')) as Expected;
}

/** A new folder under the run's work folder. */
export function workDir(name: string): string {
  return adapterWorkDir(testEnv(), name);
}

export interface Backend {
  name: string;
  storage: () => Storage;
}

/** The file system and MinIO, each test on a registry of its own. */
export function backends(): Backend[] {
  return [
    { name: 'file system', storage: () => new FileSystemStorage({ root: workDir('registry') }) },
    {
      name: 'MinIO',
      storage: () => new S3Storage({ ...minioStorageOptions(testEnv(), `run-${randomUUID().slice(0, 8)}`), minio: true }),
    },
  ];
}

export function store(storage: Storage, adapter = new SafetensorsAdapter()): ModelStore {
  return new ModelStore({ storage, adapters: [adapter], cacheDir: workDir('cache') });
}

/**
 * A safetensors file made byte by byte (for hostile inputs): the 8-byte size (`declared`,
 * default the header's length), the header (JSON of `header`, or the string as is), then
 * `data` (bytes, or that many zero bytes). `header` may also be the header's bytes.
 */
export function craft(dir: string, name: string, header: unknown, data: Buffer | number, declared?: bigint): string {
  const text = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declared ?? BigInt(text.length));
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([prefix, text, typeof data === 'number' ? Buffer.alloc(data) : data]));
  return file;
}

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * A tensor's little-endian bytes as the JSON values make_models.py wrote: floats (F16 and
 * BF16 widened), integers as decimal strings, booleans. Test code, independent of the adapter.
 */
export function decode(dtype: string, bytes: Buffer): Array<number | string | boolean> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Array<number | string | boolean> = [];
  const step = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 }[dtype];
  if (!step) throw new Error(`decode: no decoder for ${dtype}`);
  for (let offset = 0; offset < bytes.length; offset += step) {
    if (dtype === 'F32') out.push(view.getFloat32(offset, true));
    else if (dtype === 'F64') out.push(view.getFloat64(offset, true));
    else if (dtype === 'F16') out.push(half(view.getUint16(offset, true)));
    else if (dtype === 'BF16') {
      const widened = new DataView(new ArrayBuffer(4));
      widened.setUint32(0, view.getUint16(offset, true) << 16);
      out.push(widened.getFloat32(0));
    } else if (dtype === 'I64') out.push(view.getBigInt64(offset, true).toString());
    else if (dtype === 'I32') out.push(String(view.getInt32(offset, true)));
    else if (dtype === 'U8') out.push(String(view.getUint8(offset)));
    else out.push(view.getUint8(offset) !== 0);
  }
  return out;
}
