import { RawAdapter } from '@modelstore/adapter-raw';
import { ModelStore, type Storage } from '@modelstore/core';
import { layout } from '@modelstore/core/internal';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface LargeModelResult {
  /** sha256 of the file uploaded, of the file downloaded, and as recorded in the metadata. */
  original: string;
  downloaded: string;
  recorded: string;
  /** The archive as the storage lists it. */
  archiveEtag: string;
  archiveSize: number;
  /** Peak resident set size of this process (Linux VmHWM), in bytes. */
  peakRss: number;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Writes a model of `sizeMiB` random mebibytes in `work`, uploads it to `storage`
 * through `ModelStore`, downloads it back, and reports digests and this process's
 * peak RSS. Run it in a process of its own, so the peak is the round trip's.
 */
export async function largeModelRoundTrip(options: { storage: Storage; sizeMiB: number; work: string }): Promise<LargeModelResult> {
  const modelFile = path.join(options.work, 'weights.bin');
  // One buffer refilled for every mebibyte: the peak reported is the round trip's, not
  // the garbage of writing the model (a fresh buffer per MiB left ~30 MiB of it).
  const block = Buffer.allocUnsafe(1024 * 1024);
  const fd = openSync(modelFile, 'w');
  try {
    for (let i = 0; i < options.sizeMiB; i++) writeSync(fd, randomFillSync(block));
  } finally {
    closeSync(fd);
  }
  const store = new ModelStore({ storage: options.storage, adapters: [new RawAdapter()], cacheDir: path.join(options.work, 'cache') });
  const metadata = await store.upload('large', { model: modelFile });
  const archive = (await options.storage.list(layout.domainPrefix('large'))).objects.find((object) => object.key.endsWith('.tar.gz'));
  if (!archive) throw new Error('the archive is not listed');
  const to = await store.download('large', { to: path.join(options.work, 'downloaded') });
  const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
  return {
    original: await sha256(modelFile),
    downloaded: await sha256(path.join(to, 'weights.bin')),
    recorded: metadata.archive!.files['weights.bin']!.sha256,
    archiveEtag: archive.etag,
    archiveSize: archive.size,
    peakRss,
  };
}
