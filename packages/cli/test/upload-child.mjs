// A real upload process that stops for good just before its commit, to be killed there.
import { ModelStore } from '@modelstore/core';
import { RawAdapter } from '@modelstore/adapter-raw';
import { FileSystemStorage } from '@modelstore/storage-fs';

const [root, domain, modelFile] = process.argv.slice(2);
const inner = new FileSystemStorage({ root });
const storage = Object.create(inner, {
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
await new ModelStore({ storage, adapters: [new RawAdapter()] }).upload(domain, { model: modelFile, modelId: 'killed' });
