// Uploads and downloads a large model through AzureBlobStorage in a fresh process and reports
// its peak RSS, so the measurement is of this work alone.
import { ModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { AzureBlobStorage } from "@modelstore/storage-azure";
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';

const [work, sizeMiB] = process.argv.slice(2);
const info = JSON.parse(process.env.MODELSTORE_TEST_AZURE);
const modelFile = path.join(work, 'weights.bin');
const out = createWriteStream(modelFile);
for (let i = 0; i < Number(sizeMiB); i++) if (!out.write(randomBytes(1024 * 1024))) await once(out, 'drain');
out.end();
await once(out, 'finish');

async function sha256(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

const storage = new AzureBlobStorage({ container: info.container, rootPrefix: `large-${process.pid}`, connectionString: info.connectionString });
const store = new ModelStore({ storage, adapters: [new RawAdapter()], cacheDir: path.join(work, 'cache') });
const metadata = await store.upload('large', { model: modelFile });
const archive = (await storage.list('operatorai-model-store/large/')).objects.find((object) => object.key.endsWith('.tar.gz'));
const to = await store.download('large', { to: path.join(work, 'downloaded') });
const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
process.stdout.write(
  JSON.stringify({
    original: await sha256(modelFile),
    downloaded: await sha256(path.join(to, 'weights.bin')),
    recorded: metadata.archive.files['weights.bin'].sha256,
    archiveEtag: archive.etag,
    archiveSize: archive.size,
    peakRss,
  }),
);
