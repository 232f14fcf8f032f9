// One benchmark scenario, run in its own process so its peak RSS is its own.
// Prints one JSON line. Usage: node scenario.mjs <name> <json arguments>
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { CountingStorage } from '@modelstore/storage-conformance/counting-storage';
import { FileSystemStorage } from '@modelstore/storage-fs';
import { S3Storage } from '@modelstore/storage-s3';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';

const [name, rawArguments] = process.argv.slice(2);
const args = JSON.parse(rawArguments ?? '{}');

function peakRss() {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
  } catch {
    return process.memoryUsage().rss;
  }
}

const time = async (action) => {
  const started = performance.now();
  const result = await action();
  return { seconds: (performance.now() - started) / 1000, result };
};

function s3Options() {
  return { endpoint: args.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: args.credentials };
}

const scenarios = {
  /** ModelStore upload then download of one file on the file system backend. */
  async 'fs-roundtrip'() {
    const store = new ModelStore({ storage: new FileSystemStorage({ root: path.join(args.work, 'registry') }), adapters: [new RawAdapter()], cacheDir: path.join(args.work, 'cache') });
    const upload = await time(() => store.upload('bench', { model: args.file }));
    const download = await time(() => store.download('bench', { modelId: upload.result.model.model_id, to: path.join(args.work, `out-${Date.now()}`) }));
    return { uploadSeconds: upload.seconds, downloadSeconds: download.seconds, archiveBytes: upload.result.archive.size, downloaded: path.join(download.result, path.basename(args.file)) };
  },

  /** ModelStore upload then download through S3Storage (MinIO in `pnpm bench`). */
  async 's3-modelstore'() {
    const storage = new S3Storage({ bucket: args.bucket, rootPrefix: `run-${Date.now()}`, ...s3Options() });
    const store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(args.work, 'cache') });
    const upload = await time(() => store.upload('bench', { model: args.file }));
    const download = await time(() => store.download('bench', { modelId: upload.result.model.model_id, to: path.join(args.work, `s3-out-${Date.now()}`) }));
    storage.client.destroy();
    return { uploadSeconds: upload.seconds, downloadSeconds: download.seconds, downloaded: path.join(download.result, path.basename(args.file)) };
  },

  /** The baseline: a bare lib-storage Upload of a read stream and a GetObject piped to a file, same bytes, same server. */
  async 's3-bare'() {
    const client = new S3Client(s3Options());
    const Key = `bare-${Date.now()}`;
    const upload = await time(() => new Upload({ client, params: { Bucket: args.bucket, Key, Body: createReadStream(args.file) } }).done());
    // Written to a file, as a download must be.
    const downloaded = path.join(args.work, `bare-out-${Date.now()}.bin`);
    const download = await time(async () => {
      const object = await client.send(new GetObjectCommand({ Bucket: args.bucket, Key }));
      await pipeline(object.Body, createWriteStream(downloaded));
    });
    client.destroy();
    return { uploadSeconds: upload.seconds, downloadSeconds: download.seconds, downloaded };
  },

  /** Registry reads on a domain of many models: wall time and storage requests. */
  async scale() {
    const inner = args.backend === 's3' ? new S3Storage({ bucket: args.bucket, rootPrefix: args.rootPrefix, ...s3Options() }) : new FileSystemStorage({ root: args.root });
    const storage = new CountingStorage(inner);
    const store = new ModelStore({ storage, cacheDir: path.join(args.work, 'cache') });
    const results = {};
    for (const [operation, action] of [
      ['listModels', () => store.listModels('scale')],
      ['listModelSummaries', () => store.listModelSummaries('scale')],
      ['getDomain', () => store.getDomain('scale')],
      ['getModelInfo', () => store.getModelInfo('scale', args.someId)],
      ['getLatestModel({ state })', () => store.getLatestModel('scale', { state: 'production' })],
    ]) {
      storage.reset();
      const { seconds, result } = await time(action);
      results[operation] = { seconds, requests: storage.calls.length, count: Array.isArray(result) ? result.length : undefined };
    }
    return results;
  },
};

const result = await scenarios[name]();
process.stdout.write(`${JSON.stringify({ ...result, peakRssBytes: peakRss() })}\n`);
