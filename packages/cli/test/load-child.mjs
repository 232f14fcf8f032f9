// A real load process that holds its cached model until told to finish: it loads the
// latest model of a domain through an adapter that waits for a line on stdin.
import { createInterface } from 'node:readline';
import { ModelStore } from '@modelstore/core';
import { FileSystemStorage } from '@modelstore/storage-fs';

const [root, cacheDir, domain] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
const waitingAdapter = {
  specificationVersion: 'v1',
  library: 'model_file',
  matches: () => false,
  save: async () => {
    throw new Error('this adapter only loads');
  },
  load: async (directory) => {
    process.stdout.write(`loading ${directory}\n`);
    await new Promise((resolve) => lines.once('line', resolve));
    return directory;
  },
};
const directory = await new ModelStore({ storage: new FileSystemStorage({ root }), adapters: [waitingAdapter], cacheDir }).load(domain);
process.stdout.write(`loaded ${directory}\n`);
lines.close();
