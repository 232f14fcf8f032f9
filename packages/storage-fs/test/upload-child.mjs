// One process uploading to a file system registry; prints its outcome as JSON.
// With "hang-before-commit", it stops for good just before the commit write, to be killed there.
import { ModelExistsError, ModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { FileSystemStorage } from '@modelstore/storage-fs';

const [root, domain, modelFile, modelId, startAt, mode] = process.argv.slice(2);
let storage = new FileSystemStorage({ root });
if (mode === 'hang-before-commit') {
  const inner = storage;
  storage = Object.create(inner, {
    put: {
      value: async (key, body, options) => {
        if (key.includes('/versions/')) {
          process.stdout.write('archive-written\n');
          await new Promise(() => setInterval(() => {}, 1000));
        }
        return inner.put(key, body, options);
      },
    },
  });
}
const store = new ModelStore({ storage, adapters: [new RawAdapter()] });
while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 1));
try {
  const metadata = await store.upload(domain, { model: modelFile, ...(modelId === '-' ? {} : { modelId }) });
  process.stdout.write(JSON.stringify({ ok: true, modelId: metadata.model.model_id, created: metadata.code.created_at }));
} catch (error) {
  if (!ModelExistsError.isInstance(error)) throw error;
  process.stdout.write(JSON.stringify({ ok: false, error: error.code }));
}
